//! The `check` command end to end: exit codes, discovery, ordering, load errors, and
//! snapshots of the human and JSON reports on the bundled examples.

use crate::common;

use std::path::Path;

use common::{check_json, check_one, ddb_guard, write};

/// Retained, deletion-protected and recoverable: no rule has anything to say.
const RETAINED: &str = "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: Retain\n    UpdateReplacePolicy: Retain\n    Properties:\n      DeletionProtectionEnabled: true\n      PointInTimeRecoverySpecification: {PointInTimeRecoveryEnabled: true}\n";
const UNRETAINED: &str = "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n";

fn examples() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn human_report_on_examples() {
    let output = ddb_guard()
        .current_dir(examples())
        .args(["check", "templates-examples"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8_lossy(&output.stdout);
    insta::with_settings!({filters => vec![(r" in \d+\.\d+s", " in [elapsed]")]}, {
        insta::assert_snapshot!("human_examples", text);
    });
}

#[test]
fn json_report_on_examples() {
    let (code, report) = check_json(examples(), &["templates-examples"]);
    assert_eq!(code, 1);
    insta::assert_json_snapshot!("json_examples", report);
}

#[test]
fn json_report_has_the_documented_shape() {
    let (_, report) = check_json(examples(), &["templates-examples"]);
    assert_eq!(report["version"], 1);
    for key in ["files", "templates", "tables", "findings", "errors"] {
        assert!(report["summary"][key].is_u64(), "summary.{key}");
    }
    let finding = &report["findings"][0];
    for key in [
        "rule",
        "name",
        "severity",
        "path",
        "resource",
        "resource_type",
        "message",
    ] {
        assert!(finding[key].is_string(), "finding.{key}");
    }
    for key in ["line", "column", "end_line", "end_column"] {
        assert!(
            finding[key].as_u64().is_some_and(|n| n >= 1),
            "finding.{key}"
        );
    }
}

#[test]
fn exit_code_is_zero_when_every_table_is_retained() {
    let (code, report) = check_one("t.yaml", RETAINED);
    assert_eq!(code, 0);
    assert_eq!(report["summary"]["findings"], 0);
}

#[test]
fn load_error_wins_over_findings_and_other_files_are_still_checked() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "a-broken.yaml",
        "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Bad: [\n",
    );
    write(dir.path(), "b-table.yaml", UNRETAINED);
    let (code, report) = check_json(dir.path(), &["."]);
    assert_eq!(code, 2);
    assert_eq!(report["summary"]["errors"], 1);
    assert_eq!(report["errors"][0]["path"], "./a-broken.yaml");
    assert!(report["errors"][0]["line"].as_u64().is_some());
    assert_eq!(report["findings"][0]["path"], "./b-table.yaml");
}

#[test]
fn bad_usage_exits_two() {
    ddb_guard()
        .args(["check", "--format", "nope"])
        .assert()
        .code(2);
    ddb_guard().arg("frobnicate").assert().code(2);
}

#[test]
fn missing_path_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, report) = check_json(dir.path(), &["nowhere.yaml"]);
    assert_eq!(code, 2);
    assert!(report["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("no such file"));
}

#[test]
fn non_templates_are_skipped_and_counted() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "package.json", "{\"name\": \"dynamodb-app\"}");
    write(
        dir.path(),
        "k8s.yaml",
        "apiVersion: v1\nkind: ConfigMap\ndata: {table: dynamodb}\n",
    );
    write(
        dir.path(),
        "openapi.yaml",
        "openapi: 3.0.0\npaths: {}\ninfo: {title: DynamoDB API}\n",
    );
    // Nothing here is a template: a guard never passes on nothing (exit 2) unless the
    // pipeline says it may have none.
    let (code, _) = check_json(dir.path(), &["."]);
    assert_eq!(code, 2);
    let (code, report) = check_json(dir.path(), &[".", "--allow-no-templates"]);
    assert_eq!(code, 0);
    assert_eq!(report["summary"]["files"], 3);
    assert_eq!(report["summary"]["not_templates"], 3);
    assert_eq!(report["summary"]["templates"], 0);
}

#[test]
fn default_path_is_the_current_directory_printed_without_dot_slash() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "sub/t.yaml", UNRETAINED);
    let (_, report) = check_json(dir.path(), &[]);
    assert_eq!(report["findings"][0]["path"], "sub/t.yaml");
}

#[test]
fn only_template_extensions_are_walked_but_explicit_paths_are_always_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "a.YAML", UNRETAINED);
    write(dir.path(), "b.yml", UNRETAINED);
    write(dir.path(), "c.template", UNRETAINED);
    write(
        dir.path(),
        "d.json",
        "{\"Resources\": {\"T\": {\"Type\": \"AWS::DynamoDB::Table\"}}}",
    );
    write(dir.path(), "e.txt", UNRETAINED);
    let (_, report) = check_json(dir.path(), &["."]);
    assert_eq!(report["summary"]["files"], 4);
    let (_, report) = check_json(dir.path(), &["e.txt"]);
    assert_eq!(report["summary"]["tables"], 1);
}

#[test]
fn gitignored_files_are_skipped_unless_no_ignore() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join(".git")).expect("git dir");
    write(dir.path(), ".gitignore", "cdk.out/\n");
    write(
        dir.path(),
        "cdk.out/Stack.template.json",
        "{\"Resources\": {\"T\": {\"Type\": \"AWS::DynamoDB::Table\"}}}",
    );
    write(dir.path(), "app.yaml", RETAINED);
    let (code, report) = check_json(dir.path(), &["."]);
    assert_eq!((code, report["summary"]["files"].as_u64()), (0, Some(1)));
    let output = ddb_guard()
        .current_dir(dir.path())
        .args(["check", ".", "--no-ignore", "--format", "json"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
}

#[cfg(unix)]
#[test]
fn symlink_loops_neither_hang_nor_fail() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "d/t.yaml", RETAINED);
    std::os::unix::fs::symlink("..", dir.path().join("d/loop")).expect("symlink");
    let (code, report) = check_json(dir.path(), &["."]);
    assert_eq!((code, report["summary"]["files"].as_u64()), (0, Some(1)));
    let output = ddb_guard()
        .current_dir(dir.path())
        .args(["check", ".", "--follow", "--format", "json"])
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn output_order_is_the_same_whatever_the_thread_count() {
    let dir = tempfile::tempdir().expect("tempdir");
    for i in 0..40 {
        write(dir.path(), &format!("t{i:02}.yaml"), UNRETAINED);
    }
    let run = |threads: &str| {
        ddb_guard()
            .current_dir(dir.path())
            .args(["check", ".", "--format", "json", "--threads", threads])
            .output()
            .expect("runs")
            .stdout
    };
    let one = run("1");
    assert_eq!(one, run("2"));
    assert_eq!(one, run("8"));
}

#[test]
fn prefilter_skips_files_that_cannot_hold_a_table() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "bucket.yaml",
        "Resources:\n  B:\n    Type: AWS::S3::Bucket\n",
    );
    write(dir.path(), "broken-bucket.yaml", "Resources: [\n");
    let (code, report) = check_json(dir.path(), &["."]);
    assert_eq!(code, 0, "a file that cannot hold a table is never parsed");
    assert_eq!(report["summary"]["skipped"], 2);
}

#[test]
fn no_color_and_piped_output_have_no_escape_codes() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "t.yaml", UNRETAINED);
    let output = ddb_guard()
        .current_dir(dir.path())
        .args(["check", "t.yaml"])
        .output()
        .expect("runs");
    assert!(!output.stdout.contains(&0x1b));
    let colored = ddb_guard()
        .current_dir(dir.path())
        .args(["check", "t.yaml", "--color", "always"])
        .output()
        .expect("runs");
    assert!(colored.stdout.contains(&0x1b));
}

/// `audit` is always a command; a build without the cargo feature says how to get one
/// that has it, and exits 2 (nothing was audited). The feature build is tested against
/// an emulator by scripts/test-audit.sh.
#[cfg(not(feature = "audit"))]
#[test]
fn audit_without_the_feature_exits_2_and_says_how_to_get_it() {
    let output = ddb_guard()
        .args(["audit", "--region", "us-east-1"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "this build has no audit support; install a release binary or build with --features audit"
        ),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
}

#[test]
fn usage_errors_found_by_a_command_print_its_usage_like_clap() {
    for (args, usage) in [
        (
            &["check", "--unsafe-fixes", "."][..],
            "Usage: ddb-guard check ",
        ),
        (
            &["inventory", "--format", "json", "--format", "csv"][..],
            "Usage: ddb-guard inventory ",
        ),
        (
            &["diff", "--base", "HEAD", "a", "b"][..],
            "Usage: ddb-guard diff ",
        ),
        (&["changeset", "-", "-"][..], "Usage: ddb-guard changeset "),
    ] {
        let out = ddb_guard().args(args).output().expect("runs");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
        assert!(stderr.contains(usage), "{args:?}: {stderr}");
        assert!(stderr.contains("--help"), "{args:?}: {stderr}");
    }
    // Errors that are not about the arguments use the same prefix, without a usage line.
    let out = ddb_guard()
        .args(["check", "--config", "no-such.toml", "."])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("error: no-such.toml"), "{stderr}");
    assert!(!stderr.contains("Usage:"), "{stderr}");
}

#[test]
fn the_summary_counts_notes() {
    let dir = tempfile::tempdir().expect("temp dir");
    // A remote nested stack's template cannot be seen: a note, and no error or warning.
    write(
        dir.path(),
        "t.yaml",
        "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: Retain\n    UpdateReplacePolicy: Retain\n    Properties:\n      DeletionProtectionEnabled: true\n      PointInTimeRecoverySpecification: {PointInTimeRecoveryEnabled: true}\n  Set:\n    Type: AWS::CloudFormation::StackSet\n    Properties:\n      TemplateURL: https://example.com/t.yaml\n",
    );
    let out = ddb_guard()
        .current_dir(dir.path())
        .args(["check", "--select", "ALL", "t.yaml"])
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json = check_json(dir.path(), &["--select", "ALL", "t.yaml"]).1;
    let notes = common::findings(&json)
        .iter()
        .filter(|f| f["severity"] == "note")
        .count();
    assert!(notes > 0, "the template has a note: {json:#}");
    let want = format!(", {notes} note");
    assert!(stdout.contains(&want), "{stdout}");
}

/// `DDB_GUARD_TIMINGS=1` (issue 23's profile) adds a table of every stage's time to stderr
/// and nothing else: stdout and the exit code are those of the run without it.
#[test]
fn timings_print_every_stage_on_stderr_and_leave_stdout_alone() {
    let run = |timings: bool| {
        let mut command = ddb_guard();
        command
            .current_dir(examples())
            .args(["check", "--format", "json", "templates-examples"]);
        if timings {
            command.env("DDB_GUARD_TIMINGS", "1");
        } else {
            command.env_remove("DDB_GUARD_TIMINGS");
        }
        command.output().expect("runs")
    };
    let plain = run(false);
    let timed = run(true);
    assert_eq!(timed.status.code(), plain.status.code());
    assert_eq!(
        String::from_utf8_lossy(&timed.stdout),
        String::from_utf8_lossy(&plain.stdout)
    );
    let stderr = String::from_utf8_lossy(&timed.stderr);
    assert!(
        !String::from_utf8_lossy(&plain.stderr).contains("timings"),
        "no timings without the variable"
    );
    let stages = [
        "walk",
        "read",
        "prefilter",
        "parse",
        "fast YAML path",
        "fast JSON path",
        "tokenizer",
        "tree building",
        "dialect checks",
        "model",
        "rules: retention",
        "rules: protection",
        "rules: backup",
        "rules: iam",
        "rules: meta",
        "rules: pr_guard",
        "suppressions",
        "after rules",
        "output",
        "total",
    ];
    for stage in stages {
        let line = stderr
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{stage} ")))
            .unwrap_or_else(|| panic!("no `{stage}` line in:\n{stderr}"));
        assert!(line.contains(" ms"), "{line}");
    }
    // The examples are parsed and hold tables, so the parse and the retention rules took
    // some time, and the header counts the files.
    let millis = |stage: &str| -> f64 {
        let line = stderr
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{stage} ")))
            .unwrap_or_default();
        line.trim_start()[stage.len()..]
            .split_whitespace()
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0.0)
    };
    assert!(millis("parse") > 0.0, "{stderr}");
    // The examples' YAML lies in the fast path's subset.
    assert!(millis("fast YAML path") > 0.0, "{stderr}");
    assert!(millis("rules: retention") > 0.0, "{stderr}");
    assert!(stderr.contains(" parsed;"), "{stderr}");
}

/// The files `check` walks, in its order, from `dir` with `args` (`check --show-files`).
fn walked(dir: &Path, args: &[&str]) -> Vec<String> {
    let output = ddb_guard()
        .current_dir(dir)
        .args(["check", "--show-files"])
        .args(args)
        .output()
        .expect("runs");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("check  "))
        .filter_map(|l| l.split("  (config").next())
        .map(str::to_string)
        .collect()
}

/// The `ignore` crate's sorted walk of `root` (absolute): the template files, relative to
/// `root`, as `check` orders them.
fn crate_walk(root: &Path, respect_ignore: bool, hidden: bool) -> Vec<String> {
    let mut files: Vec<String> = ignore::WalkBuilder::new(root)
        .standard_filters(respect_ignore)
        .hidden(!hidden)
        .build()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
        .filter(|e| {
            e.path()
                .extension()
                .and_then(|x| x.to_str())
                .is_some_and(|x| ["yaml", "yml", "json", "template"].contains(&x))
        })
        .filter_map(|e| {
            let rel = e.path().strip_prefix(root).ok()?;
            Some(rel.to_str()?.to_string())
        })
        .collect();
    // `check`'s order: by path, a directory's name read as followed by `/`.
    files.sort();
    files
}

/// Run from the directory it walks (no path, `.`) or from below a repository's root, the
/// walk keeps what the `ignore` crate keeps walking the same directory by its absolute
/// path: nested `.gitignore` and `.ignore` files, a whitelist, hidden files, git's
/// exclude file, a nested repository (whose root the rules above do not cross), an
/// `.ignore` above the walked directory.
#[test]
fn the_walk_from_the_current_directory_keeps_what_the_ignore_crate_keeps() {
    let top = tempfile::tempdir().expect("tempdir");
    let tree = top.path().join("repo");
    write(top.path(), ".ignore", "above.yaml\n");
    std::fs::create_dir_all(tree.join(".git/info")).expect("git dir");
    write(&tree, ".git/info/exclude", "excluded.yaml\n");
    write(&tree, ".gitignore", "*.json\n!keep.json\nbuild/\n");
    write(&tree, "sub/.gitignore", "!*.json\nlocal.yaml\n");
    write(&tree, "sub/.ignore", "by-ignore.yaml\n");
    std::fs::create_dir_all(tree.join("nested/.git")).expect("nested repository");
    write(&tree, "nested/.gitignore", "n.yaml\n");
    for file in [
        "a.yaml",
        "above.yaml",
        "excluded.yaml",
        "x.json",
        "keep.json",
        "build/b.yaml",
        ".hidden/h.yaml",
        ".h.yaml",
        "sub/s.json",
        "sub/local.yaml",
        "sub/by-ignore.yaml",
        "sub/deeper/above.yaml",
        "sub/deeper/d.json",
        "nested/n.yaml",
        "nested/x.json",
        "nested/other.yaml",
        "a b/c.yml",
        "a.b/t.template",
    ] {
        write(&tree, file, "Resources: {}\n");
    }
    for (respect_ignore, hidden) in [(true, false), (false, false), (true, true)] {
        let mut flags = Vec::new();
        if !respect_ignore {
            flags.push("--no-ignore");
        }
        if hidden {
            flags.push("--hidden");
        }
        let expected = crate_walk(&tree, respect_ignore, hidden);
        assert!(expected.contains(&"a.yaml".to_string()), "{expected:?}");
        assert_eq!(walked(&tree, &flags), expected, "{flags:?}");
        let dot: Vec<_> = [".".to_string()]
            .into_iter()
            .chain(flags.iter().map(|f| f.to_string()))
            .collect();
        let dot: Vec<&str> = dot.iter().map(String::as_str).collect();
        let with_dot: Vec<String> = walked(&tree, &dot)
            .into_iter()
            .map(|f| f.strip_prefix("./").unwrap_or(&f).to_string())
            .collect();
        assert_eq!(with_dot, expected, "{dot:?}");
        let sub = tree.join("sub");
        assert_eq!(
            walked(&sub, &flags),
            crate_walk(&sub, respect_ignore, hidden),
            "sub {flags:?}"
        );
    }
}
