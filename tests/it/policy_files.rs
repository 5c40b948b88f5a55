//! Policy documents kept as files (issue 22): bare IAM documents and the AWS CLI shapes
//! around them are checked by DDB010-DDB012 like template policies, with positions in the
//! file (also inside JSON and URL-encoded strings); invalid shapes are errors; other JSON
//! files are skipped as before.

use crate::common;

use std::path::Path;

use common::{check_json, ddb_guard, findings, rule_hits, write};

fn examples() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Check files given as (name, text) in one temp dir.
fn check_files(files: &[(&str, &str)]) -> (i32, serde_json::Value) {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        write(dir.path(), name, text);
    }
    check_json(dir.path(), &["."])
}

/// The text a finding's span covers, from its line and columns (one-line spans only).
fn covered(text: &str, f: &serde_json::Value) -> String {
    let line = f["line"].as_u64().expect("line") as usize;
    let (c0, c1) = (
        f["column"].as_u64().expect("column") as usize,
        f["end_column"].as_u64().expect("end_column") as usize,
    );
    assert_eq!(f["end_line"], f["line"], "one-line span");
    let l = text.lines().nth(line - 1).expect("line exists");
    l.chars().skip(c0 - 1).take(c1 - c0).collect()
}

const BARE: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": "dynamodb:Delete*", "Resource": "*"},
    {"Effect": "Deny", "Action": "dynamodb:DeleteBackup", "Resource": "*"}
  ]
}
"#;

#[test]
fn a_bare_policy_document_is_checked_at_the_granting_action() {
    let (code, report) = check_files(&[("ops.json", BARE)]);
    assert_eq!(code, 0, "warnings only: {report:#}");
    let hits = rule_hits(&report, "DDB010");
    assert_eq!(hits.len(), 1, "{report:#}");
    assert_eq!(hits[0].0, "ops");
    assert_eq!((hits[0].1, hits[0].2), (4, 35));
    // The deny in the same document takes DeleteBackup back.
    assert!(rule_hits(&report, "DDB011").is_empty(), "{report:#}");
    let f = &findings(&report)[0];
    assert_eq!(covered(BARE, f), "\"dynamodb:Delete*\"");
}

#[test]
fn a_yaml_policy_document_is_checked_too() {
    let text =
        "Version: '2012-10-17'\nStatement:\n  Effect: Allow\n  NotAction: iam:*\n  Resource: '*'\n";
    let (_, report) = check_files(&[("ops.yaml", text)]);
    let hits = rule_hits(&report, "DDB010");
    assert_eq!(hits.len(), 1, "{report:#}");
    assert_eq!((hits[0].1, hits[0].2), (4, 3), "at the NotAction key");
    assert!(hits[0].3.contains("on `*`"), "{}", hits[0].3);
}

#[test]
fn get_policy_version_output_is_checked_as_an_object_or_url_encoded() {
    let object = r#"{"PolicyVersion": {"Document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "dynamodb:DeleteTable", "Resource": "arn:aws:dynamodb:us-east-1:1:table/Orders"}]}, "VersionId": "v3", "IsDefaultVersion": true}}"#;
    let encoded = r#"{"PolicyVersion": {"Document": "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22dynamodb%3ADeleteTable%22%2C%22Resource%22%3A%22*%22%7D%5D%7D", "VersionId": "v1", "IsDefaultVersion": true}}"#;
    let (_, report) = check_files(&[("a.json", object), ("b.json", encoded)]);
    let delete: Vec<serde_json::Value> = findings(&report)
        .into_iter()
        .filter(|f| f["rule"] == "DDB010")
        .collect();
    assert_eq!(delete.len(), 2, "{report:#}");
    assert!(delete[0]["message"]
        .as_str()
        .is_some_and(|m| m.contains("table/Orders")));
    // The span is the action's own text inside the URL-encoded string.
    assert_eq!(covered(encoded, &delete[1]), "%22dynamodb%3ADeleteTable%22");
}

#[test]
fn an_scp_from_describe_policy_filters_and_never_grants() {
    // FullAWSAccess plus a deny: the `Allow *` of an SCP grants nothing.
    let scp = r#"{
    "Policy": {
        "PolicySummary": {"Id": "p-1", "Name": "ProtectTables", "Type": "SERVICE_CONTROL_POLICY"},
        "Content": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"},{\"Effect\":\"Deny\",\"Action\":\"dynamodb:DeleteTable\",\"Resource\":\"*\"}]}"
    }
}"#;
    let (code, report) = check_files(&[("scp.json", scp)]);
    assert_eq!(code, 0);
    assert!(findings(&report).is_empty(), "{report:#}");
    assert_eq!(report["summary"]["templates"], 1, "{report:#}");
    // A bare document under `scps/` is an SCP too; the same text elsewhere is an
    // identity policy whose `Allow *` grants everything.
    let full = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}"#;
    let (_, report) = check_files(&[("scps/full-access.json", full), ("roles/admin.json", full)]);
    let paths: Vec<String> = findings(&report)
        .iter()
        .map(|f| f["path"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(!paths.is_empty());
    assert!(
        paths.iter().all(|p| p.contains("roles/admin.json")),
        "{paths:?}"
    );
}

#[test]
fn an_scp_written_inside_a_string_is_placed_inside_it() {
    // get-role-policy output with its document written as a JSON string.
    let role = r#"{"RoleName": "Ops", "PolicyName": "inline", "PolicyDocument": "{\"Statement\": {\"Effect\": \"Allow\", \"Action\": \"dynamodb:*\", \"Resource\": \"*\"}}"}"#;
    let (_, report) = check_files(&[("role.json", role)]);
    let f = findings(&report)
        .into_iter()
        .find(|f| f["rule"] == "DDB010")
        .unwrap_or_else(|| panic!("{report:#}"));
    assert_eq!(f["resource"], "Ops/inline");
    assert_eq!(covered(role, &f), r#"\"dynamodb:*\""#);
}

#[test]
fn account_authorization_details_check_every_inline_and_managed_document() {
    let details = r#"{
  "UserDetailList": [{"UserName": "alice", "UserPolicyList": [{"PolicyName": "tables", "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "dynamodb:DeleteTable", "Resource": "*"}]}}]}],
  "GroupDetailList": [],
  "RoleDetailList": [{"RoleName": "ci", "RolePolicyList": [{"PolicyName": "read", "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*"}]}}],
                      "AssumeRolePolicyDocument": {"Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}}],
  "Policies": [{"PolicyName": "backups", "DefaultVersionId": "v2", "PolicyVersionList": [
      {"Document": {"Statement": [{"Effect": "Allow", "Action": "backup:DeleteRecoveryPoint", "Resource": "*"}]}, "VersionId": "v1", "IsDefaultVersion": false},
      {"Document": {"Statement": [{"Effect": "Allow", "Action": "backup:List*", "Resource": "*"}]}, "VersionId": "v2", "IsDefaultVersion": true}
  ]}]
}"#;
    let (_, report) = check_files(&[("account.json", details)]);
    let mut resources: Vec<(String, String)> = findings(&report)
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default().to_string(),
                f["resource"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    resources.sort();
    assert_eq!(
        resources,
        vec![
            ("DDB010".to_string(), "alice/tables".to_string()),
            // A version that is not the default one can be made the default.
            ("DDB011".to_string(), "backups@v1".to_string()),
        ],
        "{report:#}"
    );
}

#[test]
fn an_invalid_policy_shape_that_touches_a_guarded_action_is_an_error_with_its_position() {
    let cases = [
        (
            r#"{"Version": "2012-10-17", "Statement": "dynamodb:DeleteTable"}"#,
            "`Statement` must be an object or a list",
            40,
        ),
        (
            r#"{"Version": "2012-10-17", "Statement": [{"Effect": "allow", "Action": "dynamodb:*", "Resource": "*"}]}"#,
            "`Effect` must be `Allow` or `Deny`",
            52,
        ),
        (
            r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": {"dynamodb": "DeleteTable"}, "Resource": "*"}]}"#,
            "`Action` must be a string or a list of strings",
            70,
        ),
        (
            r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": ["dynamodb:DeleteTable", 7], "Resource": "*"}]}"#,
            "`Action` must be a string or a list of strings",
            95,
        ),
        (
            r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "dynamodb:DeleteTable", "Resource": {"Ref": "T"}}]}"#,
            "`Resource` must be a string or a list of strings",
            106,
        ),
    ];
    for (text, message, column) in cases {
        let (code, report) = check_files(&[("p.json", text)]);
        assert_eq!(code, 2, "{text}");
        let error = &report["errors"][0];
        assert!(
            error["message"]
                .as_str()
                .unwrap_or_default()
                .contains(message),
            "{text}: {error:#}"
        );
        assert_eq!(error["line"], 1, "{text}");
        assert_eq!(error["column"], column, "{text}: {error:#}");
    }
}

#[test]
fn an_invalid_statement_about_other_services_is_not_an_error() {
    let text = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "permit", "Action": "s3:GetObject", "Resource": "*"}]}"#;
    let (code, report) = check_files(&[("p.json", text)]);
    assert_eq!(code, 0, "{report:#}");
    assert!(report["errors"].as_array().is_some_and(Vec::is_empty));
}

#[test]
fn json_that_is_neither_template_nor_policy_is_skipped() {
    let files = [
        ("package.json", r#"{"name": "x", "version": "1.0.0"}"#),
        // `Statement` beside keys a policy document cannot have: not a policy.
        ("notes.json", r#"{"Statement": 3, "Author": "me"}"#),
        (
            "tags.json",
            r#"{"Policy": {"PolicySummary": {"Type": "TAG_POLICY"}, "Content": "{\"tags\": {}}"}}"#,
        ),
    ];
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in &files {
        write(dir.path(), name, text);
    }
    // Nothing here is a template or a policy: a guard never passes on nothing.
    let (code, _) = check_json(dir.path(), &["."]);
    assert_eq!(code, 2);
    let (code, report) = check_json(dir.path(), &[".", "--allow-no-templates"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["summary"]["templates"], 0, "{report:#}");
    assert!(report["errors"].as_array().is_some_and(Vec::is_empty));
}

#[test]
fn the_bundled_policy_example_is_reported_for_the_allow_only() {
    let (code, report) = check_json(examples(), &["templates-examples/policies"]);
    assert_eq!(code, 0);
    let rules: Vec<String> = findings(&report)
        .iter()
        .map(|f| f["rule"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(rules, vec!["DDB010"], "{report:#}");
    let output = ddb_guard()
        .current_dir(examples())
        .args(["check", "templates-examples/policies"])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&output.stdout);
    insta::with_settings!({filters => vec![(r" in \d+\.\d+s", " in [elapsed]")]}, {
        insta::assert_snapshot!("policy_example_check", text);
    });
}

fn inventory(dir: &Path, args: &[&str]) -> (i32, String) {
    let output = ddb_guard()
        .current_dir(dir)
        .arg("inventory")
        .args(args)
        .output()
        .expect("runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn the_inventory_lists_policy_file_guardrails_with_their_scope_in_every_format() {
    let dir = tempfile::tempdir().expect("tempdir");
    // An SCP as describe-policy prints it, and a bare identity policy.
    write(
        dir.path(),
        "org/protect.json",
        r#"{"Policy": {"PolicySummary": {"Name": "ProtectTables", "Type": "SERVICE_CONTROL_POLICY"}, "Content": "{\"Statement\": [{\"Effect\": \"Deny\", \"Action\": \"dynamodb:DeleteTable\", \"Resource\": \"arn:aws:dynamodb:*:*:table/*\"}]}"}}"#,
    );
    write(
        dir.path(),
        "iam/keep-backups.json",
        r#"{"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Action": "backup:DeleteRecoveryPoint", "NotResource": "arn:aws:backup:*:*:recovery-point:scratch-*", "Condition": {"StringNotEquals": {"aws:PrincipalTag/role": "dba"}}}}"#,
    );
    let (code, json) = inventory(dir.path(), &["--format", "json", "."]);
    assert_eq!(code, 0);
    let json: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    let rows = json["guardrails"].as_array().expect("guardrails");
    assert_eq!(rows.len(), 2, "{json:#}");
    let keep = &rows[0];
    assert_eq!(keep["resource"], "keep-backups");
    assert_eq!(keep["kind"], "identity-policy");
    assert_eq!(
        keep["denies"],
        serde_json::json!(["backup:DeleteRecoveryPoint"])
    );
    assert_eq!(
        keep["scope"],
        serde_json::json!(["not arn:aws:backup:*:*:recovery-point:scratch-*"])
    );
    assert!(keep["conditional"]
        .as_str()
        .is_some_and(|c| c.contains("Condition")));
    let scp = &rows[1];
    assert_eq!(scp["resource"], "ProtectTables");
    assert_eq!(scp["kind"], "scp");
    assert_eq!(
        scp["scope"],
        serde_json::json!(["arn:aws:dynamodb:*:*:table/*"])
    );
    for format in ["human", "markdown", "csv"] {
        let (_, text) = inventory(dir.path(), &["--format", format, "."]);
        for needle in [
            "ProtectTables",
            "keep-backups",
            "identity-policy",
            "arn:aws:dynamodb:*:*:table/*",
        ] {
            assert!(text.contains(needle), "{format}: {needle}\n{text}");
        }
    }
}

#[test]
fn the_bundled_policy_example_shows_its_deny_as_a_guardrail() {
    let (code, text) = inventory(examples(), &["templates-examples/policies"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!("policy_example_inventory", text);
}
