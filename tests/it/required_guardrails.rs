//! DDB013 required-guardrail end to end (issue 22): `require_guardrails` in ddb-guard.toml
//! or `--require-guardrail`, satisfied by policy files or template policies, and a
//! missing, too narrow or conditional guardrail reported at the entry that asks for it.

use crate::common;

use common::{check_json, ddb_guard, findings, write};
use serde_json::Value;

/// Write `files` and a config requiring `required`, then check the directory.
fn run(required: &[&str], files: &[(&str, &str)]) -> (i32, Value) {
    let dir = tempfile::tempdir().expect("tempdir");
    let list: Vec<String> = required.iter().map(|r| format!("\"{r}\"")).collect();
    write(
        dir.path(),
        "ddb-guard.toml",
        &format!("# guardrails\nrequire_guardrails = [{}]\n", list.join(", ")),
    );
    for (name, text) in files {
        write(dir.path(), name, text);
    }
    check_json(dir.path(), &["."])
}

fn ddb013(report: &Value) -> Vec<Value> {
    findings(report)
        .into_iter()
        .filter(|f| f["rule"] == "DDB013")
        .collect()
}

fn deny(action: &str, resource: &str, extra: &str) -> String {
    format!(
        r#"{{"Version": "2012-10-17", "Statement": [{{"Effect": "Deny", "Action": "{action}", "Resource": "{resource}"{extra}}}]}}"#
    )
}

#[test]
fn a_deny_on_every_table_satisfies_the_requirement() {
    for resource in ["*", "arn:aws:dynamodb:*:*:table/*", "arn:*:dynamodb:*:*:*"] {
        let policy = deny("dynamodb:DeleteTable", resource, "");
        let (code, report) = run(&["deny-delete-table"], &[("scps/protect.json", &policy)]);
        assert_eq!(code, 0, "{resource}: {report:#}");
        assert!(ddb013(&report).is_empty(), "{resource}: {report:#}");
    }
}

#[test]
fn a_deny_in_one_region_is_too_narrow_and_reported_at_the_config_entry() {
    let policy = deny(
        "dynamodb:DeleteTable",
        "arn:aws:dynamodb:us-west-2:*:table/*",
        "",
    );
    let (code, report) = run(&["deny-delete-table"], &[("protect.json", &policy)]);
    assert_eq!(code, 1, "{report:#}");
    let hits = ddb013(&report);
    assert_eq!(hits.len(), 1, "{report:#}");
    let f = &hits[0];
    assert_eq!(f["severity"], "error");
    assert_eq!(f["path"], "ddb-guard.toml");
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(2), Some(23))
    );
    let message = f["message"].as_str().unwrap_or_default();
    assert!(message.contains("only in Region `us-west-2`"), "{message}");
    assert!(message.contains("protect.json:1:"), "{message}");
}

#[test]
fn a_condition_lets_the_guardrail_lapse() {
    let policy = deny(
        "dynamodb:DeleteTable",
        "*",
        r#", "Condition": {"StringNotEquals": {"aws:PrincipalTag/team": "dba"}}"#,
    );
    let (code, report) = run(&["deny-delete-table"], &[("protect.json", &policy)]);
    assert_eq!(code, 1);
    let message = ddb013(&report)[0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        message.contains("condition `aws:PrincipalTag/team` (`StringNotEquals`) lets it lapse"),
        "{message}"
    );
}

#[test]
fn not_resource_that_leaves_tables_out_is_named() {
    let policy = r#"{"Statement": {"Effect": "Deny", "Action": "dynamodb:Delete*", "NotResource": "arn:aws:dynamodb:*:*:table/legacy-*"}}"#;
    let (code, report) = run(&["deny-delete-table"], &[("protect.json", policy)]);
    assert_eq!(code, 1);
    let message = ddb013(&report)[0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        message.contains("`NotResource` leaves `arn:aws:dynamodb:*:*:table/legacy-*` out"),
        "{message}"
    );
}

#[test]
fn a_missing_guardrail_says_nothing_denies_it() {
    let (code, report) = run(&["deny-update-table"], &[("other.json", r#"{"a": 1}"#)]);
    assert_eq!(code, 1);
    let hits = ddb013(&report);
    assert_eq!(hits.len(), 1);
    let message = hits[0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("`dynamodb:UpdateTable`"), "{message}");
    assert!(message.contains("denies it at all"), "{message}");
}

#[test]
fn deny_delete_backup_needs_both_actions() {
    let policy = deny("dynamodb:DeleteBackup", "*", "");
    let (_, report) = run(&["deny-delete-backup"], &[("keep.json", &policy)]);
    let hits = ddb013(&report);
    assert_eq!(hits.len(), 1, "{report:#}");
    let message = hits[0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("`backup:DeleteRecoveryPoint`"),
        "{message}"
    );
    let both = r#"{"Statement": [{"Effect": "Deny", "Action": ["dynamodb:DeleteBackup", "backup:DeleteRecoveryPoint"], "Resource": "*"}]}"#;
    let (code, report) = run(&["deny-delete-backup"], &[("keep.json", both)]);
    assert_eq!(code, 0, "{report:#}");
}

#[test]
fn an_scp_requirement_is_not_met_by_an_identity_policy() {
    let policy = deny("dynamodb:DeleteTable", "*", "");
    let (code, report) = run(&["scp:deny-delete-table"], &[("iam/protect.json", &policy)]);
    assert_eq!(code, 1);
    let message = ddb013(&report)[0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(message.contains("identity policy"), "{message}");
    // The same document as an SCP meets it, also written in a template.
    let (code, _) = run(
        &["scp:deny-delete-table"],
        &[("scps/protect.json", &policy)],
    );
    assert_eq!(code, 0);
    let template = "Resources:\n  Guard:\n    Type: AWS::Organizations::Policy\n    Properties:\n      Name: g\n      Type: SERVICE_CONTROL_POLICY\n      Content:\n        Statement:\n          - {Effect: Deny, Action: 'dynamodb:DeleteTable', Resource: '*'}\n";
    let (code, report) = run(&["scp:deny-delete-table"], &[("org.yaml", template)]);
    assert_eq!(code, 0, "{report:#}");
}

#[test]
fn the_command_line_flag_replaces_the_config_and_points_at_itself() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "p.json", &deny("dynamodb:DeleteTable", "*", ""));
    let output = ddb_guard()
        .current_dir(dir.path())
        .args(["check", ".", "--isolated", "--format", "json"])
        .args([
            "--require-guardrail",
            "deny-delete-table,deny-delete-backup-selection",
        ])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let hits = ddb013(&report);
    assert_eq!(hits.len(), 1, "{report:#}");
    assert_eq!(hits[0]["path"], "(command line)");
    assert!(hits[0]["message"]
        .as_str()
        .is_some_and(|m| m.contains("backup:DeleteBackupSelection")));
}

#[test]
fn an_unknown_guardrail_name_is_a_config_error_with_its_position() {
    let (code, _) = {
        let dir = tempfile::tempdir().expect("tempdir");
        write(
            dir.path(),
            "ddb-guard.toml",
            "require_guardrails = [\"deny-everything\"]\n",
        );
        let output = ddb_guard()
            .current_dir(dir.path())
            .args(["check", "."])
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(stderr.contains("deny-everything"), "{stderr}");
        assert!(stderr.contains(":1:"), "{stderr}");
        (output.status.code().unwrap_or(-1), stderr)
    };
    assert_eq!(code, 2);
}

#[test]
fn the_human_report_shows_the_config_entry() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "ddb-guard.toml",
        "require_guardrails = [\"deny-delete-table\"]\n",
    );
    write(
        dir.path(),
        "scps/protect.json",
        &deny(
            "dynamodb:DeleteTable",
            "arn:aws:dynamodb:us-west-2:*:table/*",
            "",
        ),
    );
    let output = ddb_guard()
        .current_dir(dir.path())
        .args(["check", "."])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&output.stdout);
    insta::with_settings!({filters => vec![(r" in \d+\.\d+s", " in [elapsed]")]}, {
        insta::assert_snapshot!("required_guardrail_human", text);
    });
}

/// A policy made by `Fn::ForEach` over `items` with identifier `X`, whose one statement
/// denies `action` on `resource` (both may read `${X}`).
fn for_each_policy(items: &str, action: &str, resource: &str) -> String {
    format!(
        "Transform: AWS::LanguageExtensions\nResources:\n  Fn::ForEach::Guards:\n    - X\n    - {items}\n    - Guard${{X}}:\n        Type: AWS::IAM::ManagedPolicy\n        Properties:\n          PolicyDocument:\n            Version: '2012-10-17'\n            Statement:\n              - Effect: Deny\n                Action: !Sub '{action}'\n                Resource: !Sub '{resource}'\n"
    )
}

#[test]
fn each_for_each_copy_of_a_policy_is_judged_on_its_own() {
    // The copy for `DeleteTable` is the guardrail, whatever the other copy denies.
    let template = for_each_policy("[DeleteTable, UpdateTable]", "dynamodb:${X}", "*");
    let (code, report) = run(
        &["deny-delete-table", "deny-update-table"],
        &[("stack.yaml", &template)],
    );
    assert!(ddb013(&report).is_empty(), "{report:#}");
    assert_eq!(code, 0, "{report:#}");
    // Each copy denies only its own tables: no copy is the guardrail.
    let template = for_each_policy(
        "[orders, invoices]",
        "dynamodb:DeleteTable",
        "arn:aws:dynamodb:*:*:table/${X}*",
    );
    let (code, report) = run(&["deny-delete-table"], &[("stack.yaml", &template)]);
    assert_eq!(code, 1, "{report:#}");
    let hits = ddb013(&report);
    assert_eq!(hits.len(), 1, "{report:#}");
    let message = hits[0]["message"].as_str().unwrap_or_default();
    // Each copy is named with what it alone denies.
    for copy in ["orders", "invoices"] {
        let said = format!(
            "copy when `X` is `{copy}`, denies only on `arn:aws:dynamodb:*:*:table/{copy}*`"
        );
        assert!(message.contains(&said), "{said}: {message}");
    }
}
