//! `ddb-guard rule` and `--select` / `--extend-select` / `--ignore` through the binary.

use crate::common;

use common::{check_json, ddb_guard, write};

const UNRETAINED: &str = "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n";

/// The DDB001/DDB002 findings: the test templates leave other rules' concerns unaddressed.
fn codes(report: &serde_json::Value) -> Vec<String> {
    common::findings(report)
        .iter()
        .map(|f| f["rule"].as_str().unwrap_or_default().to_string())
        .filter(|c| c == "DDB001" || c == "DDB002")
        .collect()
}

fn run(args: &[&str]) -> (i32, serde_json::Value) {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "t.yaml", UNRETAINED);
    let mut all = vec!["t.yaml", "--isolated"];
    all.extend_from_slice(args);
    check_json(dir.path(), &all)
}

#[test]
fn rule_without_argument_lists_every_rule() {
    let output = ddb_guard().arg("rule").output().expect("runs");
    assert_eq!(output.status.code(), Some(0));
    insta::assert_snapshot!("rule_listing", String::from_utf8_lossy(&output.stdout));
}

#[test]
fn rule_prints_the_page_from_the_rule_source_by_code_or_name() {
    let by_code = ddb_guard().args(["rule", "DDB001"]).output().expect("runs");
    let by_name = ddb_guard()
        .args(["rule", "deletion-policy"])
        .output()
        .expect("runs");
    assert_eq!(by_code.status.code(), Some(0));
    assert_eq!(by_code.stdout, by_name.stdout);
    let page = String::from_utf8_lossy(&by_code.stdout);
    assert_eq!(
        page,
        ddb_guard::ruleset::doc::page(ddb_guard::rules::find("DDB001").expect("DDB001"))
    );
    for heading in [
        "## What it checks",
        "## Why it matters",
        "## Example",
        "## Use instead",
    ] {
        assert!(page.contains(heading), "{heading}");
    }
}

#[test]
fn unknown_rule_exits_two_with_a_suggestion() {
    let output = ddb_guard()
        .args(["rule", "DDB0001"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("did you mean `DDB001`"), "{stderr}");
}

#[test]
fn select_runs_only_the_named_rules() {
    let (code, report) = run(&["--select", "DDB002"]);
    assert_eq!(code, 1);
    assert_eq!(codes(&report), ["DDB002"]);
}

#[test]
fn select_accepts_names_and_comma_separated_lists() {
    let (_, report) = run(&["--select", "deletion-policy,DDB002"]);
    assert_eq!(codes(&report), ["DDB001", "DDB002"]);
}

#[test]
fn ignore_removes_rules_and_can_make_a_run_pass() {
    let (code, report) = run(&[
        "--select",
        "DDB001,DDB002",
        "--ignore",
        "DDB001",
        "--ignore",
        "update-replace-policy",
    ]);
    assert_eq!(code, 0);
    assert!(codes(&report).is_empty());
}

#[test]
fn unknown_selector_is_a_usage_error_naming_the_flag() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "t.yaml", UNRETAINED);
    let output = ddb_guard()
        .current_dir(dir.path())
        .args([
            "check",
            "t.yaml",
            "--isolated",
            "--ignore",
            "deletion-polcy",
        ])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--ignore: unknown rule `deletion-polcy`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("did you mean `deletion-policy`"),
        "{stderr}"
    );
}

#[test]
fn fewer_rules_mean_fewer_prefilter_needles() {
    // With no rule enabled nothing can fire, so nothing is parsed: not even a broken file.
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "broken.yaml", "Resources: [DynamoDB\n");
    let (code, report) = check_json(
        dir.path(),
        &[
            "broken.yaml",
            "--isolated",
            "--ignore",
            "ALL",
            "--allow-no-templates",
        ],
    );
    assert_eq!(code, 0);
    assert_eq!(report["summary"]["skipped"], 1);
}
