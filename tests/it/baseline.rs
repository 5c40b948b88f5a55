//! `--write-baseline` / `--baseline` through the binary: the round trip, what a new finding
//! does, stale entries, and that entries survive edits that move lines.

use crate::common;

use std::path::Path;

use common::{check_json, ddb_guard, write};

const TWO_TABLES: &str = "\
Resources:
  Orders:
    Type: AWS::DynamoDB::Table
  Carts:
    Type: AWS::DynamoDB::Table
    DeletionPolicy: Retain
";

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "stacks/app.yaml", TWO_TABLES);
    dir
}

fn json(dir: &Path, args: &[&str]) -> (i32, serde_json::Value) {
    let mut all = vec!["--isolated", "--select", "DDB001,DDB002"];
    all.extend_from_slice(args);
    check_json(dir, &all)
}

fn baseline_text(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("ddb-guard-baseline.json")).expect("written")
}

fn read_baseline(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&baseline_text(dir)).expect("baseline is JSON")
}

#[test]
fn write_baseline_records_rule_path_and_resource_sorted_without_lines() {
    let dir = project();
    let (code, report) = json(dir.path(), &["--write-baseline", "ddb-guard-baseline.json"]);
    assert_eq!(code, 0, "everything recorded is baselined");
    assert_eq!(report["summary"]["baselined"], 3);
    insta::assert_snapshot!("written_baseline", baseline_text(dir.path()));
}

#[test]
fn baseline_round_trip_passes_until_a_new_finding_appears() {
    let dir = project();
    json(dir.path(), &["--write-baseline", "ddb-guard-baseline.json"]);
    let (code, report) = json(dir.path(), &["--baseline", "ddb-guard-baseline.json"]);
    assert_eq!(code, 0);
    assert!(common::findings(&report).is_empty());
    assert_eq!(report["summary"]["baselined"], 3);

    // A new table is a new finding; the old ones stay baselined even though lines moved.
    let grown = format!(
        "# a comment that moves every line\n{TWO_TABLES}  Events:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: Retain\n    UpdateReplacePolicy: Retain\n  Sessions:\n    Type: AWS::DynamoDB::Table\n    UpdateReplacePolicy: Retain\n"
    );
    write(dir.path(), "stacks/app.yaml", &grown);
    let (code, report) = json(dir.path(), &["--baseline", "ddb-guard-baseline.json"]);
    assert_eq!(code, 1);
    let new: Vec<String> = common::findings(&report)
        .iter()
        .map(|f| {
            format!(
                "{} {}",
                f["rule"].as_str().unwrap_or_default(),
                f["resource"].as_str().unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(new, ["DDB001 Sessions"]);
    assert_eq!(report["summary"]["baselined"], 3);
}

#[test]
fn entries_that_no_longer_match_are_reported_but_do_not_fail() {
    let dir = project();
    json(dir.path(), &["--write-baseline", "ddb-guard-baseline.json"]);
    let fixed = TWO_TABLES.replace(
        "  Orders:\n    Type: AWS::DynamoDB::Table\n",
        "  Orders:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: Retain\n    UpdateReplacePolicy: Retain\n",
    );
    write(dir.path(), "stacks/app.yaml", &fixed);
    let (code, report) = json(dir.path(), &["--baseline", "ddb-guard-baseline.json"]);
    assert_eq!(code, 0);
    assert_eq!(report["summary"]["stale_baseline"], 2);
    assert_eq!(
        report["stale_baseline"][0],
        serde_json::json!({"path": "stacks/app.yaml", "resource": "Orders", "rule": "DDB001"})
    );

    let output = ddb_guard()
        .current_dir(dir.path())
        .args([
            "check",
            "--isolated",
            "--select",
            "DDB001,DDB002",
            "--baseline",
            "ddb-guard-baseline.json",
        ])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("note: baseline entry DDB001 for `Orders` in stacks/app.yaml matches no finding any more"),
        "{text}"
    );
    assert!(
        text.contains("1 in the baseline, 2 stale baseline entries"),
        "{text}"
    );
}

#[test]
fn entries_are_keyed_relative_to_the_baseline_file_whatever_the_arguments() {
    let dir = project();
    json(dir.path(), &["--write-baseline", "ddb-guard-baseline.json"]);
    for args in [
        &["."][..],
        &["stacks"][..],
        &["stacks/app.yaml"][..],
        &[][..],
    ] {
        let mut all = args.to_vec();
        all.extend(["--baseline", "ddb-guard-baseline.json"]);
        let (code, report) = json(dir.path(), &all);
        assert_eq!(code, 0, "{args:?}");
        assert_eq!(report["summary"]["baselined"], 3, "{args:?}");
    }
    // From a subdirectory, with the baseline one level up.
    let (code, report) = json(
        &dir.path().join("stacks"),
        &["--baseline", "../ddb-guard-baseline.json"],
    );
    assert_eq!(code, 0);
    assert_eq!(report["summary"]["baselined"], 3);
}

#[test]
fn entries_for_files_not_checked_in_this_run_are_not_stale() {
    let dir = project();
    write(dir.path(), "other.yaml", TWO_TABLES);
    json(dir.path(), &["--write-baseline", "ddb-guard-baseline.json"]);
    let (_, report) = json(
        dir.path(),
        &["stacks", "--baseline", "ddb-guard-baseline.json"],
    );
    assert_eq!(report["summary"]["stale_baseline"], 0);
}

#[test]
fn a_missing_or_broken_baseline_is_a_usage_error() {
    let dir = project();
    let output = ddb_guard()
        .current_dir(dir.path())
        .args(["check", "--isolated", "--baseline", "nope.json"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        output.stdout.is_empty(),
        "no report without the baseline it was asked for"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("nope.json: cannot read baseline"),
        "{stderr}"
    );
    write(
        dir.path(),
        "broken.json",
        "{\"version\": 1, \"findings\": [}",
    );
    let output = ddb_guard()
        .current_dir(dir.path())
        .args(["check", "--isolated", "--baseline", "broken.json"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("broken.json:1:"), "{stderr}");
}

#[test]
fn rewriting_a_baseline_keeps_its_permissions() {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let dir = project();
        let path = dir.path().join("ddb-guard-baseline.json");
        write(dir.path(), "ddb-guard-baseline.json", "{}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        json(dir.path(), &["--write-baseline", "ddb-guard-baseline.json"]);
        let mode = std::fs::metadata(&path)
            .expect("exists")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o640);
        assert_eq!(read_baseline(dir.path())["version"], 1);
    }
}

#[test]
fn sarif_leaves_baselined_findings_out_and_keeps_new_ones() {
    let dir = project();
    json(dir.path(), &["--write-baseline", "ddb-guard-baseline.json"]);
    write(
        dir.path(),
        "stacks/app.yaml",
        &format!("{TWO_TABLES}  Sessions:\n    Type: AWS::DynamoDB::Table\n    UpdateReplacePolicy: Retain\n"),
    );
    let output = ddb_guard()
        .current_dir(dir.path())
        .args(["check", "--isolated", "--select", "DDB001,DDB002"])
        .args(["--baseline", "ddb-guard-baseline.json", "--format", "sarif"])
        .output()
        .expect("runs");
    let sarif: serde_json::Value = serde_json::from_slice(&output.stdout).expect("SARIF is JSON");
    let results: Vec<String> = sarif["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r["ruleId"].as_str().unwrap_or_default(),
                r["properties"]["resource"].as_str().unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(results, ["DDB001 Sessions"]);
}
