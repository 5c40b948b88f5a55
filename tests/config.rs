//! `ddb-guard.toml` through the binary: discovery, precedence against flags, every key,
//! errors that name the key and its line, and `ddb-guard init`.

mod common;

use std::path::Path;

use common::{check_json, ddb_guard, write};

const UNRETAINED: &str = "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n";
const EXCEPT_ON_CREATE: &str = "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: RetainExceptOnCreate\n    UpdateReplacePolicy: Retain\n";

/// The DDB001/DDB002 findings: the test templates leave other rules' concerns unaddressed.
fn codes(report: &serde_json::Value) -> Vec<String> {
    common::findings(report)
        .iter()
        .map(|f| f["rule"].as_str().unwrap_or_default().to_string())
        .filter(|c| c == "DDB001" || c == "DDB002")
        .collect()
}

fn paths(report: &serde_json::Value) -> Vec<String> {
    let mut paths: Vec<String> = common::findings(report)
        .iter()
        .map(|f| f["path"].as_str().unwrap_or_default().to_string())
        .collect();
    paths.dedup();
    paths
}

fn project(config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "ddb-guard.toml", config);
    write(dir.path(), "t.yaml", UNRETAINED);
    dir
}

fn stderr_of(dir: &Path, args: &[&str]) -> (i32, String) {
    let output = ddb_guard()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn config_in_the_current_directory_selects_rules() {
    let dir = project("select = [\"DDB002\"]\n");
    let (_, report) = check_json(dir.path(), &["t.yaml"]);
    assert_eq!(codes(&report), ["DDB002"]);
}

#[test]
fn config_is_found_in_a_parent_directory() {
    let dir = project("ignore = [\"DDB001\"]\n");
    write(dir.path(), "stacks/app/t.yaml", UNRETAINED);
    let (_, report) = check_json(&dir.path().join("stacks/app"), &["t.yaml"]);
    assert_eq!(codes(&report), ["DDB002"]);
}

#[test]
fn the_nearest_config_wins_over_one_further_up() {
    let dir = project("ignore = [\"DDB001\"]\n");
    write(dir.path(), "app/ddb-guard.toml", "ignore = [\"DDB002\"]\n");
    write(dir.path(), "app/t.yaml", UNRETAINED);
    let (_, report) = check_json(&dir.path().join("app"), &["t.yaml"]);
    assert_eq!(codes(&report), ["DDB001"]);
}

#[test]
fn command_line_select_overrides_the_file_ignore() {
    let dir = project("ignore = [\"DDB001\"]\n");
    let (_, report) = check_json(dir.path(), &["t.yaml", "--select", "DDB001"]);
    assert_eq!(codes(&report), ["DDB001"]);
}

#[test]
fn command_line_ignore_adds_to_the_file_select() {
    let dir = project("select = [\"DDB001\", \"DDB002\"]\n");
    let (_, report) = check_json(dir.path(), &["t.yaml", "--ignore", "DDB002"]);
    assert_eq!(codes(&report), ["DDB001"]);
}

#[test]
fn explicit_config_path_is_used_and_isolated_ignores_every_file() {
    let dir = project("select = [\"DDB002\"]\n");
    write(dir.path(), "other.toml", "select = [\"DDB001\"]\n");
    let (_, report) = check_json(dir.path(), &["t.yaml", "--config", "other.toml"]);
    assert_eq!(codes(&report), ["DDB001"]);
    let (_, report) = check_json(dir.path(), &["t.yaml", "--isolated"]);
    assert_eq!(codes(&report), ["DDB001", "DDB002"]);
}

#[test]
fn missing_explicit_config_is_a_usage_error() {
    let dir = project("");
    let (code, stderr) = stderr_of(dir.path(), &["check", "--config", "nope.toml"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("nope.toml: cannot read config file"),
        "{stderr}"
    );
}

#[test]
fn unknown_key_is_an_error_naming_the_key_file_and_line() {
    let dir = project("select = [\"DDB001\"]\nignroe = [\"DDB002\"]\n");
    let (code, stderr) = stderr_of(dir.path(), &["check", "t.yaml"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("ddb-guard.toml:2:1:"), "{stderr}");
    assert!(stderr.contains("unknown field `ignroe`"), "{stderr}");
}

#[test]
fn unknown_rule_in_the_file_points_at_it() {
    let dir = project("[severity]\nDDB0001 = \"warning\"\n");
    let (code, stderr) = stderr_of(dir.path(), &["check", "t.yaml"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("ddb-guard.toml:2:1: unknown rule `DDB0001`"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `DDB001`"), "{stderr}");
}

#[test]
fn invalid_toml_is_an_error_with_a_position() {
    let dir = project("select = [\"DDB001\"\n");
    let (code, stderr) = stderr_of(dir.path(), &["check", "t.yaml"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("ddb-guard.toml:"), "{stderr}");
}

#[test]
fn severity_override_changes_findings_and_exit_code() {
    let dir = project("[severity]\nDDB001 = \"warning\"\nupdate-replace-policy = \"note\"\n");
    let (code, report) = check_json(dir.path(), &["t.yaml"]);
    assert_eq!(code, 0, "warnings and notes do not fail the run");
    let severities: Vec<_> = common::findings(&report)
        .iter()
        .filter(|f| f["rule"] == "DDB001" || f["rule"] == "DDB002")
        .map(|f| f["severity"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(severities, ["warning", "note"]);
}

#[test]
fn exclude_skips_walked_paths_relative_to_the_config_file() {
    let dir = project("exclude = [\"generated/\", \"/root-only.yaml\"]\n");
    write(dir.path(), "generated/x.yaml", UNRETAINED);
    write(dir.path(), "app/generated/y.yaml", UNRETAINED);
    write(dir.path(), "root-only.yaml", UNRETAINED);
    write(dir.path(), "app/root-only.yaml", UNRETAINED);
    let (_, report) = check_json(&dir.path().join("app"), &[]);
    assert_eq!(paths(&report), ["root-only.yaml"]);
    let (_, report) = check_json(dir.path(), &["."]);
    assert_eq!(paths(&report), ["./app/root-only.yaml", "./t.yaml"]);
}

#[test]
fn exclude_spares_named_files_unless_force_exclude() {
    let dir = project("exclude = [\"generated/\"]\n");
    write(dir.path(), "generated/x.yaml", UNRETAINED);
    let (_, report) = check_json(dir.path(), &["generated/x.yaml"]);
    assert_eq!(paths(&report), ["generated/x.yaml"]);
    let (_, report) = check_json(
        dir.path(),
        &[
            "generated/x.yaml",
            "--force-exclude",
            "--allow-no-templates",
        ],
    );
    assert_eq!(report["summary"]["files"], 0);
}

#[test]
fn extensions_replace_the_walked_extensions() {
    let dir = project("extensions = [\"cfn\", \".yaml\"]\n");
    write(dir.path(), "stack.cfn", UNRETAINED);
    write(
        dir.path(),
        "stack.json",
        "{\"Resources\": {\"T\": {\"Type\": \"AWS::DynamoDB::Table\"}}}",
    );
    let (_, report) = check_json(dir.path(), &["."]);
    assert_eq!(paths(&report), ["./stack.cfn", "./t.yaml"]);
}

#[test]
fn respect_gitignore_false_walks_ignored_files() {
    let dir = project("respect_gitignore = false\n");
    std::fs::create_dir(dir.path().join(".git")).expect("mkdir .git");
    write(dir.path(), ".gitignore", "cdk.out/\n");
    write(dir.path(), "cdk.out/x.yaml", UNRETAINED);
    let (_, report) = check_json(dir.path(), &["."]);
    assert_eq!(paths(&report), ["./cdk.out/x.yaml", "./t.yaml"]);
}

#[test]
fn allow_retain_except_on_create_false_accepts_only_retain() {
    let dir = project("allow_retain_except_on_create = false\n");
    write(dir.path(), "t.yaml", EXCEPT_ON_CREATE);
    let (code, report) = check_json(dir.path(), &["t.yaml"]);
    assert_eq!(code, 1);
    let hits = common::rule_hits(&report, "DDB001");
    assert_eq!(hits.len(), 1);
    assert!(
        hits[0].3.contains("allow_retain_except_on_create"),
        "{}",
        hits[0].3
    );
    let (code, _) = check_json(dir.path(), &["t.yaml", "--isolated"]);
    assert_eq!(code, 0);
}

#[test]
fn init_writes_a_commented_default_that_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, _) = stderr_of(dir.path(), &["init"]);
    assert_eq!(code, 0);
    let text = std::fs::read_to_string(dir.path().join("ddb-guard.toml")).expect("written");
    assert_eq!(text, ddb_guard::config::DEFAULT_FILE);
    write(dir.path(), "t.yaml", UNRETAINED);
    let (_, with_file) = check_json(dir.path(), &["t.yaml"]);
    let (_, isolated) = check_json(dir.path(), &["t.yaml", "--isolated"]);
    assert_eq!(with_file, isolated);
}

#[test]
fn init_refuses_to_overwrite() {
    let dir = project("select = [\"DDB001\"]\n");
    let (code, stderr) = stderr_of(dir.path(), &["init"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("already exists"), "{stderr}");
    let text = std::fs::read_to_string(dir.path().join("ddb-guard.toml")).expect("kept");
    assert_eq!(text, "select = [\"DDB001\"]\n");
}
