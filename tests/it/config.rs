//! `ddb-guard.toml` through the binary: discovery, precedence against flags, every key,
//! errors that name the key and its line, and `ddb-guard init`.

use crate::common;

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
    let (_, mut with_file) = check_json(dir.path(), &["t.yaml"]);
    let (_, isolated) = check_json(dir.path(), &["t.yaml", "--isolated"]);
    // The same findings; only the config they name differs.
    for finding in with_file["findings"].as_array_mut().into_iter().flatten() {
        let config = finding.as_object_mut().and_then(|f| f.remove("config"));
        assert_eq!(config, Some(serde_json::json!("ddb-guard.toml")));
    }
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

/// A repository with two services: the root's config runs DDB001 and DDB002, service
/// `a`'s own config only DDB002 and excludes its `gen/`; service `b` has none.
fn monorepo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join(".git")).expect("mkdir .git");
    write(
        dir.path(),
        "ddb-guard.toml",
        "select = [\"DDB001\", \"DDB002\"]\n",
    );
    write(
        dir.path(),
        "services/a/ddb-guard.toml",
        "select = [\"DDB002\"]\nexclude = [\"gen/\"]\n",
    );
    write(dir.path(), "services/a/t.yaml", UNRETAINED);
    write(dir.path(), "services/a/gen/x.yaml", UNRETAINED);
    write(dir.path(), "services/b/t.yaml", UNRETAINED);
    dir
}

/// (path, rule, config) of every finding.
fn governed(report: &serde_json::Value) -> Vec<(String, String, String)> {
    common::findings(report)
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap_or_default().to_string(),
                f["rule"].as_str().unwrap_or_default().to_string(),
                f["config"].as_str().unwrap_or("none").to_string(),
            )
        })
        .collect()
}

fn g(path: &str, rule: &str, config: &str) -> (String, String, String) {
    (path.into(), rule.into(), config.into())
}

#[test]
fn each_file_is_checked_with_its_nearest_config_from_the_root() {
    let dir = monorepo();
    let (code, report) = check_json(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        governed(&report),
        [
            g("services/a/t.yaml", "DDB002", "services/a/ddb-guard.toml"),
            g("services/b/t.yaml", "DDB001", "ddb-guard.toml"),
            g("services/b/t.yaml", "DDB002", "ddb-guard.toml"),
        ]
    );
}

#[test]
fn each_file_is_checked_with_its_nearest_config_from_a_service() {
    let dir = monorepo();
    let service = dir.path().join("services/a");
    let root_config = dir.path().join("ddb-guard.toml").display().to_string();
    let (code, report) = check_json(&service, &[".", "../b"]);
    assert_eq!(code, 1);
    assert_eq!(
        governed(&report),
        [
            g("../b/t.yaml", "DDB001", &root_config),
            g("../b/t.yaml", "DDB002", &root_config),
            g("./t.yaml", "DDB002", "ddb-guard.toml"),
        ]
    );
    // Named on the command line, the excluded file is checked, with its config's rules;
    // with --force-exclude its config's `exclude` applies to it too.
    let (_, report) = check_json(&service, &["gen/x.yaml"]);
    assert_eq!(
        governed(&report),
        [g("gen/x.yaml", "DDB002", "ddb-guard.toml")]
    );
    let (code, report) = check_json(
        dir.path(),
        &[
            "services/a/gen/x.yaml",
            "services/b/t.yaml",
            "--force-exclude",
        ],
    );
    assert_eq!(code, 1);
    assert_eq!(paths(&report), ["services/b/t.yaml"]);
}

#[test]
fn show_files_names_the_config_of_each_file() {
    let dir = monorepo();
    let output = ddb_guard()
        .current_dir(dir.path())
        .args(["check", "--show-files"])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("check  services/a/t.yaml  (config: services/a/ddb-guard.toml)"),
        "{text}"
    );
    assert!(
        text.contains("check  services/b/t.yaml  (config: ddb-guard.toml)"),
        "{text}"
    );
    assert!(
        text.contains(
            "skip   services/a/gen/x.yaml  (excluded by `exclude` (the config's or `--exclude`)"
        ),
        "{text}"
    );
}

#[test]
fn config_and_isolated_give_every_file_one_set_of_settings() {
    let dir = monorepo();
    let (_, report) = check_json(dir.path(), &["--config", "ddb-guard.toml"]);
    let rules: Vec<_> = governed(&report)
        .into_iter()
        .map(|(p, r, c)| (p, r, c == "ddb-guard.toml"))
        .collect();
    assert_eq!(
        rules,
        [
            (
                "services/a/gen/x.yaml".to_string(),
                "DDB001".to_string(),
                true
            ),
            (
                "services/a/gen/x.yaml".to_string(),
                "DDB002".to_string(),
                true
            ),
            ("services/a/t.yaml".to_string(), "DDB001".to_string(), true),
            ("services/a/t.yaml".to_string(), "DDB002".to_string(), true),
            ("services/b/t.yaml".to_string(), "DDB001".to_string(), true),
            ("services/b/t.yaml".to_string(), "DDB002".to_string(), true),
        ]
    );
    let (_, report) = check_json(dir.path(), &["--isolated"]);
    let found = common::findings(&report);
    assert!(found.iter().all(|f| f.get("config").is_none()), "{report}");
    assert!(
        found
            .iter()
            .any(|f| f["path"] == "services/a/gen/x.yaml" && f["rule"] == "DDB001"),
        "{report}"
    );
}

#[test]
fn the_search_for_a_config_stops_at_the_repository_root() {
    let outer = tempfile::tempdir().expect("tempdir");
    write(outer.path(), "ddb-guard.toml", "select = [\"DDB002\"]\n");
    std::fs::create_dir_all(outer.path().join("repo/.git")).expect("mkdir .git");
    write(outer.path(), "repo/stacks/t.yaml", UNRETAINED);
    let (_, report) = check_json(&outer.path().join("repo/stacks"), &["t.yaml"]);
    assert!(codes(&report).contains(&"DDB001".to_string()), "{report}");
    // Outside a repository the search goes up to the filesystem root.
    write(outer.path(), "loose/t.yaml", UNRETAINED);
    let (_, report) = check_json(&outer.path().join("loose"), &["t.yaml"]);
    assert_eq!(codes(&report), ["DDB002"]);
}

#[test]
fn a_services_config_that_does_not_load_stops_the_run_naming_it() {
    let dir = monorepo();
    write(dir.path(), "services/b/ddb-guard.toml", "selcet = []\n");
    let (code, stderr) = stderr_of(dir.path(), &["check"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("services/b/ddb-guard.toml:1:1"), "{stderr}");
    assert!(stderr.contains("selcet"), "{stderr}");
}

#[test]
fn exclude_on_the_command_line_adds_to_the_configs() {
    let dir = monorepo();
    let (_, report) = check_json(dir.path(), &["--exclude", "services/b/"]);
    assert_eq!(paths(&report), ["services/a/t.yaml"]);
    // Like the config's, it spares named files unless --force-exclude.
    let (_, report) = check_json(dir.path(), &["services/b/t.yaml", "--exclude", "b/"]);
    assert_eq!(paths(&report), ["services/b/t.yaml"]);
    let (code, report) = check_json(
        dir.path(),
        &[
            "services/b/t.yaml",
            "--exclude",
            "b/",
            "--force-exclude",
            "--allow-no-templates",
        ],
    );
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["summary"]["files"], 0);
}
