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
    let stdout: String = stdout
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
        .collect();
    (output.status.code().unwrap_or(-1), stdout)
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
    let formats: [&[&str]; 4] = [
        &["--format", "json"],
        &["--format", "compact"],
        &["--format", "human", "--color", "never"],
        &["--format", "human", "--color", "never", "--show-suppressed"],
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
    let out = root.path().join("report.json");
    let args = [
        "--format",
        "compact",
        "--format",
        &format!("json={}", out.display()),
    ];
    let (code, compact) = run(&dir, &args, false);
    let streamed_json = std::fs::read_to_string(&out).expect("json written");
    let (whole_code, whole_compact) = run(&dir, &args, true);
    let whole_json = std::fs::read_to_string(&out).expect("json written");
    assert_eq!((code, compact), (whole_code, whole_compact));
    assert_eq!(streamed_json, whole_json);
}
