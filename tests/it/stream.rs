//! Streamed reports (`report::stream`): a plain `check` whose reports can be written file
//! by file keeps no file's report to the end, and its output is byte for byte what
//! rendering the whole report gives. Adding `--format junit=FILE` makes the run keep
//! every report (JUnit lists passing checks), so the same binary renders the same
//! reports both ways and the two are compared, over trees whose files a step across
//! files changes (nested templates, Serverless fragments, cycles, DDB013).

use std::path::Path;

use crate::common::{ddb_guard, write};

/// stdout and the exit code of `check ARGS` in `dir`; with `whole`, the run also writes
/// a JUnit report, which keeps every file's report (the unstreamed path).
fn run(dir: &Path, args: &[&str], whole: bool) -> (i32, String) {
    let scratch = tempfile::tempdir().expect("tempdir");
    let junit = scratch.path().join("junit.xml");
    let mut cmd = ddb_guard();
    cmd.current_dir(dir).arg("check").args(args);
    if whole {
        cmd.arg("--format")
            .arg(format!("junit={}", junit.display()));
    }
    let output = cmd.output().expect("runs");
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    // The human summary ends with the run's duration.
    (output.status.code().unwrap_or(-1), without_time(&stdout))
}

/// A tree where a step across files changes files that come before the file causing it:
/// an included template (with findings) before the template that includes it, a
/// Serverless fragment (with findings of its own) before its service, a nested cycle,
/// a file that does not load, and passing files between them.
fn tree() -> tempfile::TempDir {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("tree");
    let table = |id: &str| {
        format!("  {id}:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      BillingMode: PAY_PER_REQUEST\n")
    };
    write(
        &dir,
        "a/child.yaml",
        &format!("Resources:\n{}", table("Child")),
    );
    write(
        &dir,
        "a/parent.yaml",
        &format!(
            "Resources:\n  Nested:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n      TemplateURL: ./child.yaml\n{}",
            table("Parent")
        ),
    );
    write(
        &dir,
        "a/zz-also-parent.yaml",
        "Resources:\n  Again:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n      TemplateURL: ./child.yaml\n",
    );
    write(
        &dir,
        "b/resources.yml",
        &format!("Resources:\n{}", table("FragmentTable")),
    );
    write(
        &dir,
        "b/serverless.yml",
        "service: orders\nprovider:\n  name: aws\nresources:\n  - ${file(./resources.yml)}\n",
    );
    write(
        &dir,
        "c/x.yaml",
        "Resources:\n  Y:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n      TemplateURL: ./y.yaml\n",
    );
    write(
        &dir,
        "c/y.yaml",
        &format!(
            "Resources:\n  X:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n      TemplateURL: ./x.yaml\n{}",
            table("InCycle")
        ),
    );
    write(&dir, "d/broken.yaml", "Resources:\n  T: [\n");
    write(
        &dir,
        "d/retained.yaml",
        "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: Retain\n    UpdateReplacePolicy: Retain\n    Properties:\n      DeletionProtectionEnabled: true\n",
    );
    // Names that sort differently by name than as paths: `f/x.yaml` (a directory's file)
    // comes after `f/x-y.yaml` and `f/x.b.yaml` and before `f/xa.yaml`.
    for name in [
        "f/x/in.yaml",
        "f/x-y.yaml",
        "f/x.b.yaml",
        "f/xa.yaml",
        "f/x.yaml",
    ] {
        write(&dir, name, &format!("Resources:\n{}", table("Ordered")));
    }
    for i in 0..40 {
        write(
            &dir,
            &format!("e/t{i:02}.yaml"),
            &format!("Resources:\n{}", table(&format!("T{i}"))),
        );
    }
    root
}

fn tree_dir(root: &tempfile::TempDir) -> std::path::PathBuf {
    root.path().join("tree")
}

fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

#[test]
fn streamed_reports_are_byte_identical_to_whole_reports() {
    let root = tree();
    let formats: [&[&str]; 7] = [
        &["--format", "json"],
        &["--format", "compact"],
        &["--format", "human", "--color", "never"],
        &["--format", "human", "--color", "never", "--show-suppressed"],
        &["--format", "gitlab"],
        &["--format", "human", "--statistics"],
        &["--format", "human", "--statistics", "--quiet"],
    ];
    for dir in [tree_dir(&root), fixtures()] {
        for format in formats {
            let (streamed_code, streamed) = run(&dir, format, false);
            let (whole_code, whole) = run(&dir, format, true);
            assert_eq!(streamed_code, whole_code, "{format:?} in {}", dir.display());
            assert!(!streamed.is_empty(), "{format:?}");
            assert_eq!(streamed, whole, "{format:?} in {}", dir.display());
        }
    }
}

#[test]
fn cross_file_steps_still_change_files_emitted_before_them() {
    let root = tree();
    let (_, json) = run(&tree_dir(&root), &["--format", "json"], false);
    let report: serde_json::Value = serde_json::from_str(&json).expect("json");
    let findings = report["findings"].as_array().expect("findings");
    let paths: Vec<&str> = findings.iter().filter_map(|f| f["path"].as_str()).collect();
    // The included template names both templates that include it.
    let child: Vec<&serde_json::Value> = findings
        .iter()
        .filter(|f| f["path"] == "a/child.yaml")
        .collect();
    assert!(!child.is_empty());
    for finding in child {
        let message = finding["message"].as_str().unwrap_or_default();
        assert!(
            message.starts_with("(included by `a/parent.yaml`"),
            "{message}"
        );
        assert!(message.contains("a/zz-also-parent.yaml"), "{message}");
    }
    // The fragment is reported as part of its service, never on its own.
    assert!(!paths.contains(&"b/resources.yml"), "{paths:?}");
    assert!(paths.contains(&"b/serverless.yml"), "{paths:?}");
    // Findings are in path order.
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted);
    // The cycle is an error of the templates in it.
    let errors = report["errors"].as_array().expect("errors");
    assert!(
        errors.iter().any(|e| e["message"]
            .as_str()
            .unwrap_or_default()
            .contains("includes `c/")),
        "{errors:?}"
    );
    assert_eq!(
        report["summary"]["findings"].as_u64(),
        Some(findings.len() as u64)
    );
}

#[test]
fn streamed_output_does_not_depend_on_the_thread_count() {
    let root = tree();
    let dir = tree_dir(&root);
    for format in ["json", "compact", "human"] {
        let (_, one) = run(&dir, &["--format", format, "--threads", "1"], false);
        for threads in ["2", "4", "8"] {
            let (_, many) = run(&dir, &["--format", format, "--threads", threads], false);
            assert_eq!(one, many, "{format} with {threads} threads");
        }
    }
}

#[test]
fn a_streamed_report_into_a_file_and_one_on_stdout_agree_with_whole_reports() {
    let root = tree();
    let dir = tree_dir(&root);
    let formats = ["json", "compact", "human", "gitlab"];
    for (stdout, file) in formats.iter().zip(formats.iter().cycle().skip(1)) {
        let out = root.path().join(format!("report.{file}"));
        let args = [
            "--format",
            stdout,
            "--format",
            &format!("{file}={}", out.display()),
        ];
        let (code, on_stdout) = run(&dir, &args, false);
        let streamed_file = std::fs::read_to_string(&out).expect("report written");
        let (whole_code, whole_stdout) = run(&dir, &args, true);
        let whole_file = std::fs::read_to_string(&out).expect("report written");
        assert_eq!((code, on_stdout), (whole_code, whole_stdout), "{stdout}");
        assert_eq!(
            without_time(&streamed_file),
            without_time(&whole_file),
            "{file}"
        );
    }
    // `--statistics` into a file, `human` on stdout.
    let out = root.path().join("statistics.txt");
    let args = [
        "--statistics",
        "--format",
        &format!("human={}", out.display()),
    ];
    run(&dir, &args, false);
    let streamed_file = std::fs::read_to_string(&out).expect("report written");
    run(&dir, &args, true);
    let whole_file = std::fs::read_to_string(&out).expect("report written");
    assert_eq!(without_time(&streamed_file), without_time(&whole_file));
}

/// Run `check ARGS --threads 1` in `dir` with stdout on a pipe that this test reads: it
/// reads the first line, then rewrites `late` (a file at least 336 files into the walk,
/// each with about 2 KB of compact output), then reads the rest. With one thread the
/// checker runs at most 64 files ahead of the writer (`ordered::WINDOW_PER_THREAD`), the
/// writer blocks once the pipe is full (64 KiB), and waits for the read-ahead (`reach`)
/// after 256 files at most: so `late` is read before the rewrite only if the first line
/// came after the check of (nearly) every file. No timing is involved. (A FIFO cannot
/// hold the run up instead: the walk lists regular files only, and the reader refuses
/// anything else without opening it.)
fn first_line_then_rewrite(dir: &Path, args: &[&str], late: &Path, rewrite: &str) -> (i32, String) {
    use std::io::Read;
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("ddb-guard"))
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("FORCE_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env("COLUMNS", "100")
        .arg("check")
        .args(args)
        .args(["--threads", "1"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("runs");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut out = Vec::new();
    let mut chunk = [0u8; 512];
    while !out.contains(&b'\n') {
        let n = stdout.read(&mut chunk).expect("read");
        assert!(n > 0, "the run ended before its first line");
        out.extend_from_slice(&chunk[..n]);
    }
    std::fs::write(late, rewrite).expect("rewrite");
    stdout.read_to_end(&mut out).expect("read the rest");
    let status = child.wait().expect("exits");
    (
        status.code().unwrap_or(-1),
        String::from_utf8(out).expect("utf-8"),
    )
}

/// `count` templates `t000.yaml`... in `dir`, each with four tables (four findings each),
/// the last one's tables named `Before*`.
fn many_templates(dir: &Path, count: usize) {
    for i in 0..count {
        let prefix = if i + 1 == count { "Before" } else { "T" };
        let mut text = String::from("Resources:\n");
        for t in 0..4 {
            text.push_str(&format!(
                "  {prefix}{i}x{t}:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      BillingMode: PAY_PER_REQUEST\n"
            ));
        }
        write(dir, &format!("t{i:03}.yaml"), &text);
    }
}

fn after(count: usize) -> String {
    let mut text = String::from("Resources:\n");
    for t in 0..4 {
        text.push_str(&format!(
            "  After{count}x{t}:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      BillingMode: PAY_PER_REQUEST\n"
        ));
    }
    text
}

#[test]
fn the_first_reports_print_before_the_last_file_is_read() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("tree");
    many_templates(&dir, 400);
    for format in ["compact", "human"] {
        let late = dir.join("t399.yaml");
        many_templates(&dir, 400);
        let args = ["--format", format];
        let (code, streamed) = first_line_then_rewrite(&dir, &args, &late, &after(400));
        assert!(
            streamed.starts_with("t000.yaml") || streamed.contains("t000.yaml:2:"),
            "{format}: {}",
            &streamed[..streamed.len().min(300)]
        );
        // The last file was read after the first line had gone out.
        assert!(streamed.contains("After400x0"), "{format}");
        assert!(!streamed.contains("Before"), "{format}");
        // And the whole output is the whole report's, for the tree as it now is.
        let (whole_code, whole) = run(&dir, &[&args[..], &["--threads", "1"]].concat(), true);
        assert_eq!(code, whole_code, "{format}");
        assert_eq!(without_time(&streamed), whole, "{format}");
    }
}

/// Nested templates and a Serverless service at the end of the walk hold back only the
/// reports they can change, and what comes after them: the files before them go out at
/// once.
#[test]
fn files_before_the_first_file_a_step_across_files_can_change_print_at_once() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("tree");
    many_templates(&dir, 400);
    let table = "  T:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      BillingMode: PAY_PER_REQUEST\n";
    write(&dir, "zz/child.yaml", &format!("Resources:\n{table}"));
    write(
        &dir,
        "zz/parent.yaml",
        &format!("Resources:\n  N:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n      TemplateURL: ./child.yaml\n{table}"),
    );
    write(&dir, "zz/s/resources.yml", &format!("Resources:\n{table}"));
    write(
        &dir,
        "zz/s/serverless.yml",
        "service: orders\nprovider:\n  name: aws\nresources:\n  - ${file(./resources.yml)}\n",
    );
    let late = dir.join("t399.yaml");
    let args = ["--format", "compact"];
    let (code, streamed) = first_line_then_rewrite(&dir, &args, &late, &after(400));
    assert!(streamed.contains("After400x0"));
    assert!(
        streamed.contains("(included by `zz/parent.yaml`"),
        "{streamed}"
    );
    // The fragment is reported as part of its service, not on its own.
    assert!(!streamed
        .lines()
        .any(|l| l.starts_with("zz/s/resources.yml")));
    assert!(streamed
        .lines()
        .any(|l| l.starts_with("zz/s/serverless.yml")));
    let (whole_code, whole) = run(&dir, &[&args[..], &["--threads", "1"]].concat(), true);
    assert_eq!((code, streamed), (whole_code, whole));
}

/// The human summary's duration, as [`run`] writes it.
fn without_time(stdout: &str) -> String {
    stdout
        .split_inclusive('\n')
        .map(|line| match line.rsplit_once(" in ") {
            Some((head, time))
                if time.trim_end().ends_with('s')
                    && time
                        .trim_end()
                        .trim_end_matches('s')
                        .chars()
                        .all(|c| c.is_ascii_digit() || c == '.') =>
            {
                format!("{head} in <time>\n")
            }
            _ => line.to_string(),
        })
        .collect()
}

/// stdout, stderr and the exit code of `inventory ARGS` in `dir` (80 columns).
fn inventory(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let output = ddb_guard()
        .current_dir(dir)
        .env("COLUMNS", "80")
        .arg("inventory")
        .args(args)
        .output()
        .expect("runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).expect("utf-8"),
        String::from_utf8(output.stderr).expect("utf-8"),
    )
}

/// `inventory` walks the tree one file at a time and walks again for the steps across
/// files (nested templates, Serverless fragments): every format is byte for byte what
/// the inventory gave when it listed the whole tree first (the snapshots were taken
/// from the binary before the change, 4c0e5dc, and agree with it), on a tree whose
/// files those steps change, and it does not depend on the thread count.
#[test]
fn a_walked_inventory_is_byte_identical_in_every_format() {
    let root = tree();
    let dir = tree_dir(&root);
    for format in ["human", "json", "markdown", "csv"] {
        let (code, stdout, stderr) = inventory(&dir, &["--format", format, "--threads", "1"]);
        insta::assert_snapshot!(
            format!("walked_inventory_{format}"),
            format!("exit {code}\n--- stderr\n{stderr}--- stdout\n{stdout}")
        );
        for threads in ["2", "4"] {
            let many = inventory(&dir, &["--format", format, "--threads", threads]);
            assert_eq!(
                many,
                (code, stdout.clone(), stderr.clone()),
                "{format} with {threads} threads"
            );
        }
    }
    // The fixtures: every format the same with one thread and with several.
    for format in ["human", "json", "markdown", "csv"] {
        let one = inventory(&fixtures(), &["--format", format, "--threads", "1"]);
        assert!(!one.1.is_empty(), "{format}");
        let many = inventory(&fixtures(), &["--format", format, "--threads", "4"]);
        assert_eq!(one, many, "{format} on the fixtures");
    }
}
