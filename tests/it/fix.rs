//! `check --fix`, `--diff` and `--unsafe-fixes` through the real binary, on template files
//! written into temporary directories. The binary runs inside the directory and gets
//! relative paths, so no snapshot holds a temporary path.

use std::path::Path;

use assert_cmd::Command;

fn ddb_guard(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("ddb-guard").unwrap();
    cmd.current_dir(dir)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .arg("check")
        .arg("--color")
        .arg("never");
    cmd
}

fn dir_with(name: &str, text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, text).unwrap();
    dir
}

/// `--diff` of one file: stdout (the diff) and stderr (the count), and the exit code.
fn diff(name: &str, text: &str, extra: &[&str]) -> String {
    let dir = dir_with(name, text);
    let out = ddb_guard(dir.path())
        .arg("--diff")
        .args(extra)
        .arg(name)
        .output()
        .unwrap();
    let after = std::fs::read_to_string(dir.path().join(name)).unwrap();
    assert_eq!(after, text, "--diff must not write");
    format!(
        "exit: {:?}\n{}--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Carriage returns made visible, so that a snapshot shows CRLF lines as such.
fn show_cr(text: &str) -> String {
    text.replace('\r', "␍")
}

/// The summary line ends with the elapsed time; cut it.
fn untimed(text: &str) -> String {
    text.lines()
        .map(|l| match l.rfind(" in ") {
            Some(i) if l.ends_with('s') && l.contains("checked") => &l[..i],
            _ => l,
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

const YAML_BLOCK: &str = r#"AWSTemplateFormatVersion: "2010-09-09"
Resources:
  # No policy at all.
  SessionsTable:
    Type: AWS::DynamoDB::Table # sessions expire, the table does not
    Properties:
      BillingMode: PAY_PER_REQUEST
  # Wrong literals: only the values change, comments stay.
  AuditTable:
    Type: AWS::DynamoDB::Table
    DeletionPolicy: Snapshot # an RDS habit
    UpdateReplacePolicy: 'retain'
    Properties:
      BillingMode: PAY_PER_REQUEST
  # Indented one level too deep.
  TokensTable:
    Type: AWS::DynamoDB::Table
    UpdateReplacePolicy: Retain
    Properties:
      DeletionPolicy: Retain
      BillingMode: PAY_PER_REQUEST
  # The misplaced policy is the only property.
  NotesTable:
    Properties:
      DeletionPolicy: Retain
    Type: AWS::DynamoDB::Table
    UpdateReplacePolicy: Retain
  Queue:
    Type: AWS::SQS::Queue
"#;

#[test]
fn diff_of_a_yaml_block_template_inserts_after_type_with_sibling_indent() {
    insta::assert_snapshot!("yaml_block", diff("template.yaml", YAML_BLOCK, &[]));
}

#[test]
fn diff_of_a_four_space_yaml_template_uses_four_spaces() {
    let text = "Resources:\n    Table:\n        Type: AWS::DynamoDB::Table\n        Properties:\n            BillingMode: PAY_PER_REQUEST\n";
    insta::assert_snapshot!("yaml_block_4", diff("t.yml", text, &[]));
}

#[test]
fn diff_of_yaml_flow_mappings_stays_on_one_line() {
    let text = r#"Resources:
  Orders: {Type: AWS::DynamoDB::Table, Properties: {BillingMode: PAY_PER_REQUEST}}
  Carts: {Type: "AWS::DynamoDB::Table", DeletionPolicy: Delete, UpdateReplacePolicy: Retain}
  Tokens: {Type: AWS::DynamoDB::Table, UpdateReplacePolicy: Retain, Properties: {DeletionPolicy: Retain, BillingMode: PAY_PER_REQUEST}}
"#;
    insta::assert_snapshot!("yaml_flow", diff("flow.yaml", text, &[]));
}

/// The layout `cdk synth` writes: one space per level (without `aws:cdk:path`, which
/// would make it a synthesized template that `--fix` leaves to the CDK app).
const CDK_JSON: &str = r#"{
 "Resources": {
  "CartTableB8A5A2E6": {
   "Type": "AWS::DynamoDB::Table",
   "Properties": {
    "BillingMode": "PAY_PER_REQUEST"
   },
   "UpdateReplacePolicy": "Delete",
   "DeletionPolicy": "Delete",
   "Metadata": {
    "owner": "cart-team"
   }
  },
  "OrdersTable0A1B2C3D": {
   "Type": "AWS::DynamoDB::Table",
   "Properties": {
    "BillingMode": "PAY_PER_REQUEST"
   }
  }
 }
}
"#;

#[test]
fn diff_of_cdk_json_matches_one_space_indent_and_trailing_commas() {
    insta::assert_snapshot!("json_cdk", diff("AppStack.template.json", CDK_JSON, &[]));
}

#[test]
fn a_synthesized_template_is_left_to_the_cdk_app() {
    let text = CDK_JSON.replace(
        "\"owner\": \"cart-team\"",
        "\"aws:cdk:path\": \"AppStack/CartTable/Resource\"",
    );
    let out = diff("AppStack.template.json", &text, &[]);
    assert!(!out.contains("+++"), "{out}");
    assert!(
        out.contains("AppStack.template.json: not edited: synthesized by the CDK"),
        "{out}"
    );
    assert!(
        out.contains(
            "0 fixes would be applied in 0 files; 1 synthesized template left to the CDK app"
        ),
        "{out}"
    );
    let dir = dir_with("AppStack.template.json", &text);
    let out = ddb_guard(dir.path()).arg("--fix").output().unwrap();
    let after = std::fs::read_to_string(dir.path().join("AppStack.template.json")).unwrap();
    assert_eq!(after, text, "--fix must not edit a synthesized template");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("0 fixes applied in 0 files; 1 synthesized template left to the CDK app"),
        "{stderr}"
    );
}

#[test]
fn diff_of_two_and_four_space_json_matches_each_indent() {
    let two = "{\n  \"Resources\": {\n    \"T\": {\n      \"Type\": \"AWS::DynamoDB::Table\"\n    }\n  }\n}\n";
    insta::assert_snapshot!("json_2", diff("two.json", two, &[]));
    let four = "{\n    \"Resources\": {\n        \"T\": {\n            \"Properties\": {\n                \"DeletionPolicy\": \"Retain\"\n            },\n            \"Type\": \"AWS::DynamoDB::Table\"\n        }\n    }\n}\n";
    insta::assert_snapshot!("json_4", diff("four.json", four, &[]));
}

#[test]
fn diff_of_minified_json_stays_minified() {
    let text = r#"{"Resources":{"T":{"Type":"AWS::DynamoDB::Table","DeletionPolicy":"Snapshot"}}}"#;
    insta::assert_snapshot!("json_minified", diff("min.json", text, &[]));
}

#[test]
fn diff_of_a_crlf_file_with_a_bom_keeps_both() {
    let text = "\u{feff}Resources:\r\n  T:\r\n    Type: AWS::DynamoDB::Table\r\n    DeletionPolicy: Delete\r\n";
    insta::assert_snapshot!("yaml_crlf_bom", show_cr(&diff("crlf.yaml", text, &[])));
}

const CONDITIONAL: &str = r#"Parameters:
  Policy:
    Type: String
    AllowedValues: [Retain, Delete]
Conditions:
  IsProd: !Equals [!Ref "AWS::AccountId", "111111111111"]
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    DeletionPolicy: !If [IsProd, Retain, Delete]
    UpdateReplacePolicy:
      Ref: Policy
"#;

#[test]
fn conditional_policies_have_no_safe_fix() {
    insta::assert_snapshot!("conditional_safe", diff("c.yaml", CONDITIONAL, &[]));
}

#[test]
fn unsafe_fixes_replace_conditional_policies_by_retain() {
    insta::assert_snapshot!(
        "conditional_unsafe",
        diff("c.yaml", CONDITIONAL, &["--unsafe-fixes"])
    );
}

#[test]
fn unsafe_fixes_without_fix_or_diff_is_an_error() {
    let dir = dir_with("t.yaml", YAML_BLOCK);
    ddb_guard(dir.path())
        .args(["--unsafe-fixes", "t.yaml"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "--unsafe-fixes needs --fix or --diff",
        ));
}

#[test]
fn fix_writes_reports_what_remains_and_a_second_fix_is_a_no_op() {
    let dir = dir_with("template.yaml", YAML_BLOCK);
    std::fs::write(dir.path().join("c.yaml"), CONDITIONAL).unwrap();
    let out = ddb_guard(dir.path()).arg("--fix").output().unwrap();
    assert_eq!(out.status.code(), Some(1), "conditional findings remain");
    insta::assert_snapshot!(
        "fix_output",
        format!(
            "{}--- stderr\n{}",
            untimed(&String::from_utf8_lossy(&out.stdout)),
            String::from_utf8_lossy(&out.stderr)
        )
    );
    let fixed = std::fs::read_to_string(dir.path().join("template.yaml")).unwrap();
    insta::assert_snapshot!("fix_written", fixed);

    let again = ddb_guard(dir.path()).arg("--fix").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&again.stderr),
        "0 fixes applied in 0 files\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("template.yaml")).unwrap(),
        fixed
    );
}

#[test]
fn fix_with_json_output_keeps_stdout_machine_readable() {
    let dir = dir_with("template.yaml", YAML_BLOCK);
    let out = ddb_guard(dir.path())
        .args(["--fix", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report.is_object());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "6 fixes applied in 1 file\n"
    );
}

#[test]
fn a_file_that_does_not_parse_is_reported_and_the_others_are_still_fixed() {
    let dir = dir_with("good.yaml", YAML_BLOCK);
    let broken = "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties: [\n";
    std::fs::write(dir.path().join("bad.yaml"), broken).unwrap();
    let out = ddb_guard(dir.path()).arg("--fix").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("bad.yaml")).unwrap(),
        broken
    );
    assert_ne!(
        std::fs::read_to_string(dir.path().join("good.yaml")).unwrap(),
        YAML_BLOCK
    );
}

#[cfg(unix)]
#[test]
fn fix_keeps_the_file_mode() {
    use std::os::unix::fs::PermissionsExt;
    let dir = dir_with("t.yaml", YAML_BLOCK);
    let path = dir.path().join("t.yaml");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    ddb_guard(dir.path())
        .args(["--fix", "t.yaml"])
        .assert()
        .code(0);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
    assert_ne!(std::fs::read_to_string(&path).unwrap(), YAML_BLOCK);
}

#[cfg(unix)]
#[test]
fn fix_through_a_symlink_rewrites_the_target_and_keeps_the_link() {
    let dir = dir_with("real/t.yaml", YAML_BLOCK);
    let link = dir.path().join("link.yaml");
    std::os::unix::fs::symlink(dir.path().join("real/t.yaml"), &link).unwrap();
    ddb_guard(dir.path())
        .args(["--fix", "link.yaml"])
        .assert()
        .code(0);
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_ne!(
        std::fs::read_to_string(dir.path().join("real/t.yaml")).unwrap(),
        YAML_BLOCK
    );
}

#[test]
fn fix_leaves_no_temporary_file_behind() {
    let dir = dir_with("t.yaml", YAML_BLOCK);
    ddb_guard(dir.path())
        .args(["--fix", "t.yaml"])
        .assert()
        .code(0);
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["t.yaml".to_string()]);
}

#[test]
fn plain_check_hints_at_fixable_findings() {
    let dir = dir_with("t.yaml", YAML_BLOCK);
    ddb_guard(dir.path())
        .arg("t.yaml")
        .assert()
        .code(1)
        .stderr("6 findings are fixable with `ddb-guard check --fix` (8 more with `--fix --unsafe-fixes`)\n");
}

#[test]
fn diff_exits_as_fail_on_says_like_a_plain_check() {
    let dir = dir_with("t.yaml", YAML_BLOCK);
    let code = |extra: &[&str]| {
        ddb_guard(dir.path())
            .arg("--isolated")
            .args(extra)
            .arg("t.yaml")
            .output()
            .unwrap()
            .status
            .code()
    };
    for fail_on in ["never", "error", "warning"] {
        let plain = code(&["--format", "compact", "--fail-on", fail_on]);
        let diff = code(&["--diff", "--fail-on", fail_on]);
        assert_eq!(diff, plain, "--diff --fail-on {fail_on}");
    }
    assert_eq!(code(&["--diff", "--fail-on", "never"]), Some(0));
    assert_eq!(code(&["--diff"]), Some(1));
    // The config file's `fail_on` counts as the flag does.
    std::fs::write(dir.path().join("ddb-guard.toml"), "fail_on = \"never\"\n").unwrap();
    let configured = ddb_guard(dir.path())
        .args(["--diff", "t.yaml"])
        .output()
        .unwrap();
    assert_eq!(configured.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("t.yaml")).unwrap(),
        YAML_BLOCK,
        "--diff must not write"
    );
}

#[test]
fn fixable_and_unfixable_choose_which_rules_are_fixed() {
    let text = "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n";
    let only_replace = diff("t.yaml", text, &["--fixable", "update-replace-policy"]);
    assert!(
        only_replace.contains("+    UpdateReplacePolicy: Retain"),
        "{only_replace}"
    );
    assert!(
        !only_replace.contains("+    DeletionPolicy"),
        "{only_replace}"
    );
    let not_delete = diff("t.yaml", text, &["--unfixable", "DDB001"]);
    assert_eq!(
        not_delete, only_replace,
        "--unfixable DDB001 leaves DDB002's fix alone"
    );
    let nothing = diff(
        "t.yaml",
        text,
        &["--fixable", "DDB00", "--unfixable", "DDB001,DDB002"],
    );
    assert!(!nothing.contains("+    "), "{nothing}");
    let with_unsafe = diff("t.yaml", text, &["--unsafe-fixes", "--fixable", "DDB003"]);
    assert!(
        with_unsafe.contains("DeletionProtectionEnabled: true"),
        "{with_unsafe}"
    );
    assert!(
        !with_unsafe.contains("+    DeletionPolicy"),
        "{with_unsafe}"
    );
}

#[test]
fn fixable_needs_fix_and_known_rules() {
    let dir = dir_with(
        "t.yaml",
        "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n",
    );
    let out = ddb_guard(dir.path())
        .args(["--fixable", "DDB001", "t.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error: --fixable needs --fix or --diff"),
        "{stderr}"
    );
    assert!(stderr.contains("Usage: ddb-guard check"), "{stderr}");
    let out = ddb_guard(dir.path())
        .args(["--fix", "--unfixable", "DDB1O1", "t.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--unfixable: unknown rule `DDB1O1`"),
        "{stderr}"
    );
    let after = std::fs::read_to_string(dir.path().join("t.yaml")).unwrap();
    assert!(!after.contains("Retain"), "a refused run writes nothing");
}

/// A template that loads but has another error (its nested stack's template does not
/// exist) still gets its own tables retained; the error stays and the run exits 2.
#[test]
fn fix_retains_the_tables_of_a_template_with_a_missing_nested_template() {
    let text = "Resources:\n  Child:\n    Type: AWS::CloudFormation::Stack\n    Properties: {TemplateURL: ./missing.yaml}\n  Orders:\n    Type: AWS::DynamoDB::Table\n    Properties: {BillingMode: PAY_PER_REQUEST}\n";
    let dir = dir_with("t.yaml", text);
    let out = ddb_guard(dir.path())
        .args([
            "--fix",
            "--select",
            "DDB001,DDB002",
            "--format",
            "json",
            "t.yaml",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "the missing template is still an error"
    );
    let after = std::fs::read_to_string(dir.path().join("t.yaml")).unwrap();
    assert!(
        after.contains("    DeletionPolicy: Retain\n    UpdateReplacePolicy: Retain\n"),
        "{after}"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["summary"]["findings"], 0, "{report}");
    assert!(
        report["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("does not exist")),
        "{report}"
    );
}
