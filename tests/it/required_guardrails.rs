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

/// The message of the one DDB013 finding of a run that must have exactly one.
fn only_message(report: &Value) -> String {
    let hits = ddb013(report);
    assert_eq!(hits.len(), 1, "{report:#}");
    hits[0]["message"].as_str().unwrap_or_default().to_string()
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
    let message = only_message(&report);
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
    let message = only_message(&report);
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
    let message = only_message(&report);
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

/// An SCP template whose one statement denies `action` on `resource` (YAML), with `extra`
/// lines appended to the statement (indented for it).
fn scp_template(action: &str, resource: &str, extra: &str) -> String {
    format!(
        "Resources:\n  Scp:\n    Type: AWS::Organizations::Policy\n    Properties:\n      Name: guardrails\n      Type: SERVICE_CONTROL_POLICY\n      TargetIds: [r-abcd]\n      Content:\n        Statement:\n          - Effect: Deny\n            Action: {action}\n            Resource: {resource}\n{extra}"
    )
}

#[test]
fn a_deny_on_the_stack_s_own_region_says_so_not_that_a_value_cannot_be_resolved() {
    let cases = [
        (
            "!Sub arn:${AWS::Partition}:dynamodb:${AWS::Region}:*:table/*",
            "only in the stack's own Region `${AWS::Region}`",
        ),
        (
            "!Join ['', ['arn:aws:dynamodb:', !Ref AWS::Region, ':', !Ref AWS::AccountId, ':table/*']]",
            "only in the stack's own Region `${AWS::Region}`; only in the stack's own account `${AWS::AccountId}`",
        ),
    ];
    for (resource, said) in cases {
        let template = scp_template("dynamodb:DeleteTable", resource, "");
        let (code, report) = run(&["deny-delete-table"], &[("scp.yaml", &template)]);
        assert_eq!(code, 1, "{resource}: {report:#}");
        let message = only_message(&report);
        assert!(message.contains(said), "{resource}: {message}");
        assert!(
            message.contains("denies only on `arn:"),
            "{resource}: {message}"
        );
        assert!(
            !message.contains("cannot be resolved"),
            "{resource}: {message}"
        );
        assert!(!message.contains("dynamodb:*:"), "{resource}: {message}");
    }
}

#[test]
fn a_region_condition_says_the_deny_is_region_scoped_and_where_it_holds() {
    let cases = [
        (
            "StringEquals",
            "[us-east-1, eu-west-1]",
            "condition `aws:RequestedRegion` (`StringEquals`) makes it Region-scoped: it denies only in `us-east-1`, `eu-west-1`",
        ),
        (
            "StringNotEqualsIfExists",
            "!Ref AWS::Region",
            "condition `aws:RequestedRegion` (`StringNotEqualsIfExists`) makes it Region-scoped: it denies only outside the stack's own Region `${AWS::Region}`",
        ),
        (
            "ForAnyValue:StringLike",
            "!Ref Regions",
            "condition `aws:RequestedRegion` (`ForAnyValue:StringLike`) makes it Region-scoped: it denies only in the Regions the condition lets through",
        ),
    ];
    for (operator, value, said) in cases {
        let extra = format!(
            "            Condition:\n              {operator}:\n                aws:RequestedRegion: {value}\n"
        );
        let template = scp_template("dynamodb:DeleteTable", "'*'", &extra);
        let (code, report) = run(&["deny-delete-table"], &[("scp.yaml", &template)]);
        assert_eq!(code, 1, "{operator}: {report:#}");
        let message = only_message(&report);
        assert!(message.contains(said), "{operator}: {message}");
        assert!(!message.contains("cannot be resolved"), "{message}");
    }
    // Beside another key, each is named with what it does.
    let policy = deny(
        "dynamodb:DeleteTable",
        "*",
        r#", "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1", "aws:PrincipalTag/team": "dba"}}"#,
    );
    let (_, report) = run(&["deny-delete-table"], &[("protect.json", &policy)]);
    let message = only_message(&report);
    assert!(
        message.contains("makes it Region-scoped: it denies only in `us-east-1`; condition `aws:PrincipalTag/team` (`StringEquals`) lets it lapse"),
        "{message}"
    );
}

#[test]
fn a_policy_variable_in_a_resource_is_named_as_what_proves_no_deny() {
    let policy = deny(
        "dynamodb:DeleteTable",
        "arn:aws:dynamodb:${aws:RequestedRegion}:*:table/*",
        "",
    );
    let (code, report) = run(&["deny-delete-table"], &[("protect.json", &policy)]);
    assert_eq!(code, 1, "{report:#}");
    let message = only_message(&report);
    assert!(
        message.contains("denies only on `arn:aws:dynamodb:${aws:RequestedRegion}:*:table/*` (the IAM policy variable `${aws:RequestedRegion}` is known only per request, so it proves no deny)"),
        "{message}"
    );
}

#[test]
fn a_deny_in_the_stack_s_own_partition_covers_every_table() {
    for resource in [
        "!Sub arn:${AWS::Partition}:dynamodb:*:*:table/*",
        "!Join ['', ['arn:', !Ref AWS::Partition, ':dynamodb:*:*:*']]",
    ] {
        let template = scp_template("dynamodb:DeleteTable", resource, "");
        let (code, report) = run(&["scp:deny-delete-table"], &[("scp.yaml", &template)]);
        assert!(ddb013(&report).is_empty(), "{resource}: {report:#}");
        assert_eq!(code, 0, "{resource}: {report:#}");
    }
    // The partition is not a wildcard for the other fields.
    let template = scp_template(
        "dynamodb:DeleteTable",
        "!Sub arn:${AWS::Partition}:dynamodb:*:*:table/prod-*",
        "",
    );
    let (code, _) = run(&["deny-delete-table"], &[("scp.yaml", &template)]);
    assert_eq!(code, 1);
}
