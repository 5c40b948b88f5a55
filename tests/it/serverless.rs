//! Serverless Framework `serverless.yml`: `resources.Resources` is a CloudFormation
//! Resources map, checked with exact spans, after `resources.extensions`, anchors and merge
//! keys, and `${file(...)}` fragments are applied as the Framework applies them; every
//! other `${...}` variable stays opaque (and fails closed where it could hide a table).

use crate::common;

use common::{check_json, ddb_guard, findings, rule_hits, write};

const SERVICE: &str = "\
service: orders
provider:
  name: aws
  environment:
    TABLE: ${self:custom.tableName}
custom:
  tableName: orders-${sls:stage}
resources:
  Conditions:
    IsProd: !Equals [\"${sls:stage}\", prod]
  Resources:
    OrdersTable:
      Type: AWS::DynamoDB::Table
      DeletionPolicy: ${self:custom.policy}
      UpdateReplacePolicy: Retain
      Properties:
        TableName: ${self:custom.tableName}
    CartTable:
      Type: AWS::DynamoDB::Table
      DeletionPolicy: !If [IsProd, Retain, Delete]
      UpdateReplacePolicy: Retain
    KeptTable:
      Type: AWS::DynamoDB::Table
      DeletionPolicy: Retain
      UpdateReplacePolicy: Retain
";

fn run(name: &str, text: &str) -> (i32, serde_json::Value) {
    run_selecting(name, text, "DDB001,DDB002")
}

/// Check a directory that holds only `name` with `text`, with the rules `select`.
fn run_selecting(name: &str, text: &str, select: &str) -> (i32, serde_json::Value) {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), name, text);
    check_json(dir.path(), &[".", "--isolated", "--select", select])
}

#[test]
fn serverless_yml_tables_are_checked_with_exact_spans() {
    let (code, report) = run("serverless.yml", SERVICE);
    assert_eq!(code, 1);
    assert_eq!(report["summary"]["templates"], 1);
    assert_eq!(report["summary"]["tables"], 3);
    let hits = rule_hits(&report, "DDB001");
    let places: Vec<(&str, u64, u64)> = hits.iter().map(|h| (h.0.as_str(), h.1, h.2)).collect();
    assert_eq!(places, [("OrdersTable", 14, 23), ("CartTable", 20, 44)]);
    assert!(
        hits[0]
            .3
            .contains("Serverless variable `${self:custom.policy}`"),
        "{}",
        hits[0].3
    );
    assert!(
        hits[1].3.contains("condition `IsProd` is false"),
        "{}",
        hits[1].3
    );
    let f = &common::findings(&report)[0];
    assert_eq!(
        (f["end_line"].as_u64(), f["end_column"].as_u64()),
        (Some(14), Some(44))
    );
}

#[test]
fn serverless_yaml_is_recognized_too() {
    let (code, report) = run("serverless.yaml", SERVICE);
    assert_eq!(code, 1);
    assert_eq!(report["summary"]["tables"], 3);
}

#[test]
fn a_resources_list_is_merged_and_a_missing_fragment_fails_closed() {
    let text = "\
service: orders
resources:
  - Resources:
      Orders:
        Type: AWS::DynamoDB::Table
  - ${file(resources/tables.yml)}
";
    let (code, report) = run("serverless.yml", text);
    // The fragment is not there: an error at the variable, never a pass.
    assert_eq!(code, 2, "{report}");
    let error = &report["errors"][0];
    assert_eq!(
        (error["line"].as_u64(), error["column"].as_u64()),
        (Some(6), Some(5))
    );
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("${file(resources/tables.yml)}")),
        "{error}"
    );
    // Without it, the list is merged and its table checked.
    let (code, report) = run(
        "serverless.yml",
        &text.replace("  - ${file(resources/tables.yml)}\n", ""),
    );
    assert_eq!(code, 1);
    assert_eq!(report["summary"]["tables"], 1);
    let hits = rule_hits(&report, "DDB001");
    assert_eq!((hits[0].1, hits[0].2), (4, 7));
}

#[test]
fn a_serverless_file_without_resources_or_statements_is_not_a_template() {
    let text = "service: api\nprovider:\n  name: aws\n  runtime: nodejs20.x\n";
    let (code, report) = run("serverless.yml", text);
    // Not a template, and nothing else was checked: a guard never passes on nothing.
    assert_eq!(code, 2, "{report}");
    assert_eq!(report["summary"]["templates"], 0);
    // Its role's statements alone make it a service to check.
    let text = "service: api\nprovider:\n  name: aws\n  iam:\n    role:\n      statements:\n        - Effect: Allow\n          Action: dynamodb:GetItem\n          Resource: '*'\n";
    let (code, report) = run("serverless.yml", text);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["summary"]["templates"], 1);
    assert_eq!(common::findings(&report), Vec::<serde_json::Value>::new());
}

#[test]
fn top_level_resources_in_a_serverless_file_are_not_cloudformation() {
    // Only `resources.Resources` is a template; a top-level `Resources` in serverless.yml
    // is not (the framework ignores it), while the same text in another file is a template.
    let text = "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n";
    let (_, report) = run("serverless.yml", text);
    assert_eq!(report["summary"]["not_templates"], 1);
    let (_, report) = run("stack.yml", text);
    assert_eq!(report["summary"]["templates"], 1);
}

/// A service whose tables `--fix` can retain: one without any policy, one that deletes.
const UNRETAINED: &str = "\
service: orders
resources:
  Resources:
    OrdersTable:
      Type: AWS::DynamoDB::Table
      Properties:
        TableName: orders
    CartTable:
      Type: AWS::DynamoDB::Table
      DeletionPolicy: Delete
      UpdateReplacePolicy: Delete
";

fn policy_hits(report: &serde_json::Value) -> usize {
    rule_hits(report, "DDB001").len() + rule_hits(report, "DDB002").len()
}

#[test]
fn fix_retains_every_serverless_table() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "svc/serverless.yml", UNRETAINED);
    let output = ddb_guard()
        .current_dir(dir.path())
        .args(["check", ".", "--isolated", "--fix", "--format", "json"])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "stderr: {stderr}");
    assert!(stderr.contains("4 fixes applied in 1 file"), "{stderr}");
    let fixed = std::fs::read_to_string(dir.path().join("svc/serverless.yml")).expect("reads");
    assert_eq!(
        fixed.matches("DeletionPolicy: Retain").count(),
        2,
        "{fixed}"
    );
    assert_eq!(
        fixed.matches("UpdateReplacePolicy: Retain").count(),
        2,
        "{fixed}"
    );
    assert!(!fixed.contains("Delete\n"), "{fixed}");
    // The re-check from disk agrees: nothing left to retain.
    let (code, report) = check_json(dir.path(), &[".", "--isolated"]);
    assert_eq!(code, 0);
    assert_eq!(report["summary"]["tables"], 2);
    assert_eq!(policy_hits(&report), 0);
}

#[test]
fn diff_shows_the_serverless_fixes_and_exits_as_the_check() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "serverless.yml", UNRETAINED);
    let output = ddb_guard()
        .current_dir(dir.path())
        .args(["check", "serverless.yml", "--isolated", "--diff"])
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stderr: {stderr}");
    assert!(
        stderr.contains("4 fixes would be applied in 1 file"),
        "{stderr}"
    );
    // One inserted for OrdersTable, one replacing CartTable's `Delete`.
    assert_eq!(
        stdout.matches("+      DeletionPolicy: Retain").count(),
        2,
        "{stdout}"
    );
    assert!(stdout.contains("-      DeletionPolicy: Delete"), "{stdout}");
    // Nothing was written.
    let text = std::fs::read_to_string(dir.path().join("serverless.yml")).expect("reads");
    assert_eq!(text, UNRETAINED);
}

#[test]
fn inventory_lists_serverless_tables_as_check_sees_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "serverless.yml", SERVICE);
    // A top-level `Resources` in serverless.yml is not a template: not listed either.
    write(
        dir.path(),
        "other/serverless.yml",
        "Resources:\n  Ignored:\n    Type: AWS::DynamoDB::Table\n",
    );
    let output = ddb_guard()
        .current_dir(dir.path())
        .args(["inventory", ".", "--isolated", "--format", "json"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let mut listed: Vec<(&str, &str)> = json["tables"]
        .as_array()
        .expect("tables is a list")
        .iter()
        .map(|t| {
            (
                t["path"].as_str().unwrap_or_default(),
                t["resource"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    listed.sort();
    assert_eq!(
        listed,
        [
            ("./serverless.yml", "CartTable"),
            ("./serverless.yml", "KeptTable"),
            ("./serverless.yml", "OrdersTable"),
        ]
    );
    let (_, report) = check_json(dir.path(), &[".", "--isolated"]);
    assert_eq!(report["summary"]["tables"], 3);
}

#[test]
fn a_serverless_service_moved_and_rewritten_pairs_by_its_tables() {
    let dir = tempfile::tempdir().expect("tempdir");
    let retained = "\
service: orders
resources:
  Resources:
    OrdersTable:
      Type: AWS::DynamoDB::Table
      DeletionPolicy: Retain
      UpdateReplacePolicy: Retain
";
    write(dir.path(), "old/a/serverless.yml", retained);
    // Moved to another directory and rewritten: only its tables say it is the same file.
    let rewritten = retained.replace(
        "service: orders\n",
        "service: orders\nprovider:\n  name: aws\n  runtime: nodejs20.x\n",
    );
    write(dir.path(), "new/b/serverless.yml", &rewritten);
    let output = ddb_guard()
        .current_dir(dir.path())
        .args(["diff", "old", "new", "--isolated", "--format", "json"])
        .args(["--select", "DDB020,DDB021,DDB022"])
        .output()
        .expect("runs");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(common::findings(&report), Vec::<serde_json::Value>::new());
    assert_eq!(output.status.code(), Some(0));
}

/// A `Type` written as a Serverless variable is resolved only at deploy time: it may be a
/// table, so DDB008 reports it (in a plain template the same text is simply not a table
/// type, which CloudFormation rejects).
#[test]
fn a_type_that_is_a_variable_is_unresolved() {
    let text = "service: s\nresources:\n  Resources:\n    Store:\n      Type: ${self:custom.storeType}\n      DeletionPolicy: Delete\n";
    let (code, report) = run_selecting("serverless.yml", text, "DDB008");
    assert_eq!(code, 1, "{report}");
    let hits = rule_hits(&report, "DDB008");
    assert_eq!(hits.len(), 1, "{report}");
    let f = &common::findings(&report)[0];
    assert!(f["message"]
        .as_str()
        .is_some_and(|m| m.contains("Serverless variable `${self:custom.storeType}`")));
    let start = f["byte_offset"].as_u64().expect("offset") as usize;
    assert!(text[start..].starts_with("${self:custom.storeType}"));
}

// ---------------------------------------------------------------------------------------
// The service role's statements (`provider.iam.role.statements`, legacy
// `provider.iamRoleStatements`) are a policy of the service for DDB010-DDB012.

const IAM_RULES: &str = "DDB010,DDB011,DDB012";

fn check_fixture(dir: &str) -> (i32, serde_json::Value) {
    check_fixture_with(dir, IAM_RULES)
}

fn check_fixture_with(dir: &str, select: &str) -> (i32, serde_json::Value) {
    let root = env!("CARGO_MANIFEST_DIR");
    let path = format!("tests/fixtures/serverless/{dir}");
    check_json(
        std::path::Path::new(root),
        &[path.as_str(), "--isolated", "--select", select],
    )
}

fn fixture_text(path: &str) -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(root.join("tests/fixtures/serverless").join(path)).expect("fixture")
}

/// The one DDB010 finding, checked to start at the `dynamodb:DeleteTable` action.
fn delete_table_at_action(report: &serde_json::Value, file: &str, policy: &str, line: u64) {
    let hits = rule_hits(report, "DDB010");
    assert_eq!(hits.len(), 1, "{report}");
    assert_eq!((hits[0].0.as_str(), hits[0].1), (policy, line), "{report}");
    assert!(
        hits[0].3.contains("allows `dynamodb:DeleteTable` on `*`"),
        "{}",
        hits[0].3
    );
    let f = common::findings(report)
        .into_iter()
        .find(|f| f["rule"] == "DDB010")
        .expect("a DDB010 finding");
    let start = f["byte_offset"].as_u64().expect("offset") as usize;
    let text = fixture_text(file);
    assert!(
        text[start..].starts_with("dynamodb:DeleteTable"),
        "{}",
        &text[start..]
    );
}

#[test]
fn role_statements_granting_delete_table_are_reported_at_the_action() {
    let (_, report) = check_fixture("role_statements");
    delete_table_at_action(
        &report,
        "role_statements/serverless.yml",
        "provider.iam.role.statements",
        10,
    );
}

#[test]
fn legacy_iam_role_statements_are_read_too_without_resources() {
    let (_, report) = check_fixture("legacy_statements");
    // No `resources`: the service is still checked, for its role's statements.
    assert_eq!(report["summary"]["templates"], 1, "{report}");
    delete_table_at_action(
        &report,
        "legacy_statements/serverless.yml",
        "provider.iamRoleStatements",
        6,
    );
}

#[test]
fn a_service_without_statements_or_with_an_existing_role_is_clean() {
    for dir in ["no_statements", "role_arn"] {
        // DDB001 too, so that the file is read (and its table retained), not skipped.
        let (code, report) = check_fixture_with(dir, "DDB001,DDB010,DDB011,DDB012");
        assert_eq!(code, 0, "{dir}: {report}");
        assert_eq!(report["summary"]["tables"], 1, "{dir}: {report}");
        assert_eq!(
            common::findings(&report),
            Vec::<serde_json::Value>::new(),
            "{dir}"
        );
    }
}

#[test]
fn a_statement_list_that_is_a_variable_fails_closed() {
    let (_, report) = check_fixture("variable_statements");
    let hits = rule_hits(&report, "DDB010");
    assert_eq!(hits.len(), 1, "{report}");
    assert!(
        hits[0].3.contains("may allow `dynamodb:DeleteTable`"),
        "{}",
        hits[0].3
    );
    let f = common::findings(&report)
        .into_iter()
        .find(|f| f["rule"] == "DDB010")
        .expect("a DDB010 finding");
    let start = f["byte_offset"].as_u64().expect("offset") as usize;
    let text = fixture_text("variable_statements/serverless.yml");
    assert!(text[start..].starts_with("${self:custom.iam}"));
    // The backup rule cannot prove anything about it either.
    assert_eq!(rule_hits(&report, "DDB011").len(), 1, "{report}");
}

#[test]
fn a_provider_iam_that_is_a_variable_fails_closed_and_is_not_prefiltered_away() {
    // Nothing here names a table, DynamoDB or a statement: the prefilter must still read it.
    let text = "service: s\nprovider:\n  name: aws\n  iam: ${self:custom.iam}\n";
    let (_, report) = run_selecting("serverless.yml", text, "DDB010");
    let hits = rule_hits(&report, "DDB010");
    assert_eq!(hits.len(), 1, "{report}");
    assert_eq!(
        (hits[0].0.as_str(), hits[0].1, hits[0].2),
        ("provider.iam", 4, 8)
    );
}

#[test]
fn a_variable_statement_or_action_in_the_list_fails_closed() {
    let text = "\
service: s
provider:
  iam:
    role:
      statements:
        - ${self:custom.statement}
        - Effect: Allow
          Action: dynamodb:${self:custom.op}
          Resource: '*'
        - Effect: Allow
          Action: s3:${self:custom.op}
          Resource: '*'
";
    let (starts, report) = ddb010_offsets(text);
    // The variable statement and the `dynamodb:` action; an `s3:` action never matches.
    assert_eq!(starts.len(), 2, "{report}");
    assert!(text[starts[0]..].starts_with("${self:custom.statement}"));
    assert!(text[starts[1]..].starts_with("dynamodb:${self:custom.op}"));
}

/// A policy under `resources` is a Serverless string like any other: `${...}` in an action
/// is resolved at deploy time, so `dynamodb:${self:custom.op}` may be `DeleteTable`.
#[test]
fn a_variable_action_in_a_resources_policy_may_be_any_action_of_its_service() {
    let text = "\
service: s
resources:
  Resources:
    Role:
      Type: AWS::IAM::Role
      Properties:
        AssumeRolePolicyDocument: {}
        Policies:
          - PolicyName: p
            PolicyDocument:
              Statement:
                - Effect: Allow
                  Action: dynamodb:${self:custom.op}
                  Resource: '*'
                - Effect: Allow
                  Action: s3:${self:custom.op}
                  Resource: '*'
";
    let (starts, report) = ddb010_offsets(text);
    assert_eq!(starts.len(), 1, "{report}");
    assert!(text[starts[0]..].starts_with("dynamodb:${self:custom.op}"));
}

#[test]
fn serverless_json_is_laid_out_as_a_service() {
    let root = env!("CARGO_MANIFEST_DIR");
    let (code, report) = check_json(
        std::path::Path::new(root),
        &[
            "tests/fixtures/serverless/json_service",
            "--isolated",
            "--select",
            "DDB001,DDB010",
        ],
    );
    assert_eq!(code, 1, "{report}");
    assert_eq!(report["summary"]["tables"], 1, "{report}");
    assert_eq!(rule_hits(&report, "DDB001")[0].0, "OrdersTable");
    let hits = rule_hits(&report, "DDB010");
    assert_eq!((hits.len(), hits[0].1), (1, 8), "{report}");
}

/// Where DDB010 reports in `text`, checked as `serverless.yml`, with the JSON report.
fn ddb010_offsets(text: &str) -> (Vec<usize>, serde_json::Value) {
    let (_, report) = run_selecting("serverless.yml", text, "DDB010");
    let starts = common::findings(&report)
        .iter()
        .map(|f| f["byte_offset"].as_u64().expect("offset") as usize)
        .collect();
    (starts, report)
}

// `resources.extensions` (Framework v3+): applied before checking, as the Framework's
// merge-custom-provider-resources.js does.

/// A table retained in `resources.Resources`, one retained only by its extension, and one
/// whose extension deletes it and turns its deletion protection off.
const EXTENDED: &str = "\
service: orders
resources:
  Resources:
    KeptTable:
      Type: AWS::DynamoDB::Table
      DeletionPolicy: Retain
      UpdateReplacePolicy: Retain
      Properties:
        DeletionProtectionEnabled: true
    ExtendedTable:
      Type: AWS::DynamoDB::Table
      Properties:
        DeletionProtectionEnabled: true
    DeletedTable:
      Type: AWS::DynamoDB::Table
      DeletionPolicy: Retain
      UpdateReplacePolicy: Retain
      Properties:
        TableName: deleted
        DeletionProtectionEnabled: true
  extensions:
    ExtendedTable:
      DeletionPolicy: Retain
      UpdateReplacePolicy: Retain
    DeletedTable:
      DeletionPolicy: Delete
      Properties:
        DeletionProtectionEnabled: false
    ServerlessDeploymentBucket:
      DeletionPolicy: Delete
";

fn hits_at(report: &serde_json::Value, rule: &str) -> Vec<(String, u64, u64)> {
    rule_hits(report, rule)
        .into_iter()
        .map(|(resource, line, column, _)| (resource, line, column))
        .collect()
}

#[test]
fn extensions_override_policies_and_merge_properties_before_the_check() {
    let (code, report) = run_selecting("serverless.yml", EXTENDED, "DDB001,DDB002,DDB003");
    assert_eq!(code, 1, "{report}");
    assert_eq!(report["summary"]["tables"], 3);
    // Retained by its extension alone: no finding. Deleted by its extension: the finding
    // points at the extension's line, not at the `Retain` it overrides.
    assert_eq!(
        hits_at(&report, "DDB001"),
        [("DeletedTable".to_string(), 26, 23)]
    );
    assert_eq!(hits_at(&report, "DDB002"), []);
    // `Properties` are merged key by key: the extension's `false` wins.
    assert_eq!(
        hits_at(&report, "DDB003"),
        [("DeletedTable".to_string(), 28, 36)]
    );
}

#[test]
fn the_inventory_shows_tables_as_their_extensions_leave_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "serverless.yml", EXTENDED);
    let output = ddb_guard()
        .current_dir(dir.path())
        .args(["inventory", ".", "--isolated", "--format", "json"])
        .output()
        .expect("runs");
    let inventory: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let row = |name: &str| {
        inventory["tables"]
            .as_array()
            .and_then(|rows| rows.iter().find(|r| r["resource"] == name))
            .cloned()
            .unwrap_or_else(|| panic!("{name} in {inventory}"))
    };
    assert_eq!(row("KeptTable")["retained_on_delete"], true);
    assert_eq!(row("ExtendedTable")["retained_on_delete"], true);
    assert_eq!(row("ExtendedTable")["retained_on_replace"], true);
    assert_eq!(row("DeletedTable")["retained_on_delete"], false);
    assert_eq!(row("DeletedTable")["deletion_protection"], false);
}

#[test]
fn fix_edits_the_extension_that_deletes_the_table() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "serverless.yml", EXTENDED);
    let output = ddb_guard()
        .current_dir(dir.path())
        .args([
            "check",
            ".",
            "--isolated",
            "--fix",
            "--unsafe-fixes",
            "--select",
            "DDB001,DDB002,DDB003",
        ])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let fixed = std::fs::read_to_string(dir.path().join("serverless.yml")).expect("reads");
    // Exactly the extension's two values changed; the resources themselves are untouched.
    let expected = EXTENDED.replace(
        "    DeletedTable:\n      DeletionPolicy: Delete\n      Properties:\n        DeletionProtectionEnabled: false",
        "    DeletedTable:\n      DeletionPolicy: Retain\n      Properties:\n        DeletionProtectionEnabled: true",
    );
    assert_ne!(expected, EXTENDED);
    assert_eq!(fixed, expected);
    let (_, report) = check_json(
        dir.path(),
        &[".", "--isolated", "--select", "DDB001,DDB002,DDB003"],
    );
    assert_eq!(common::findings(&report), Vec::<serde_json::Value>::new());
}

#[test]
fn an_extension_that_cannot_be_read_fails_closed() {
    for (extension, line) in [
        ("  extensions: ${self:custom.extensions}\n", 8),
        ("  extensions:\n    T: ${self:custom.ext}\n", 9),
        (
            "  extensions:\n    T:\n      Properties: ${self:custom.props}\n",
            10,
        ),
    ] {
        let text = format!(
            "service: s\nresources:\n  Resources:\n    T:\n      Type: AWS::DynamoDB::Table\n      DeletionPolicy: Retain\n      UpdateReplacePolicy: Retain\n{extension}"
        );
        let (code, report) = run("serverless.yml", &text);
        assert_eq!(code, 2, "{extension}: {report}");
        let error = &report["errors"][0];
        assert!(
            error["message"]
                .as_str()
                .is_some_and(|m| m.contains("Serverless variable")),
            "{error}"
        );
        assert_eq!(error["line"], line, "{error}");
    }
}

// Anchors, aliases and merge keys: the Framework's js-yaml expands them.

#[test]
fn a_deletion_policy_through_a_merge_key_retains_the_table() {
    let text = "\
service: orders
custom:
  retained: &retained
    DeletionPolicy: Retain
    UpdateReplacePolicy: Retain
  deleted: &deleted
    DeletionPolicy: Delete
resources:
  Resources:
    OrdersTable:
      Type: AWS::DynamoDB::Table
      <<: *retained
    CartTable:
      <<: [*deleted, *retained]
      Type: AWS::DynamoDB::Table
    UsersTable:
      <<: *retained
      Type: AWS::DynamoDB::Table
      DeletionPolicy: Delete
    LogTable: &log
      Type: AWS::DynamoDB::Table
      <<: *retained
    LogCopy: *log
";
    let (code, report) = run("serverless.yml", text);
    assert_eq!(code, 1, "{report}");
    assert_eq!(report["summary"]["tables"], 5);
    // The first merged mapping wins over the later one; a key written in the mapping wins
    // over every merged one.
    assert_eq!(
        hits_at(&report, "DDB001"),
        [
            ("CartTable".to_string(), 7, 21),
            ("UsersTable".to_string(), 19, 23)
        ]
    );
    assert_eq!(hits_at(&report, "DDB002"), []);
}

#[test]
fn fix_never_edits_a_value_other_places_share() {
    let text = "\
service: orders
custom:
  deleted: &deleted
    DeletionPolicy: Delete
    UpdateReplacePolicy: Retain
resources:
  Resources:
    OrdersTable:
      Type: AWS::DynamoDB::Table
      <<: *deleted
    CartTable:
      Type: AWS::DynamoDB::Table
      <<: *deleted
";
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "serverless.yml", text);
    let output = ddb_guard()
        .current_dir(dir.path())
        .args(["check", ".", "--isolated", "--fix", "--select", "DDB001"])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Both findings stay (their fix would edit the anchor both tables merge): no error,
    // nothing written.
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("refused"), "{stderr}");
    let after = std::fs::read_to_string(dir.path().join("serverless.yml")).expect("reads");
    assert_eq!(after, text);
}

#[test]
fn an_alias_bomb_in_serverless_yml_is_still_refused() {
    let mut text = String::from(
        "service: s\nresources:\n  Resources:\n    T:\n      Type: AWS::DynamoDB::Table\na: &a [x, x, x, x, x, x, x, x, x, x]\n",
    );
    let names = ["a", "b", "c", "d", "e", "f", "g", "h"];
    for pair in names.windows(2) {
        let items = vec![format!("*{}", pair[0]); 10].join(", ");
        text.push_str(&format!("{}: &{} [{items}]\n", pair[1], pair[1]));
    }
    let (code, report) = run("serverless.yml", &text);
    assert_eq!(code, 2, "{report}");
    let error = &report["errors"][0];
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("alias bomb")),
        "{error}"
    );
    // The same anchors in a CloudFormation template are refused as CloudFormation does.
    let (code, report) = run(
        "template.yml",
        "Resources:\n  T: &t {Type: AWS::DynamoDB::Table}\n  U: *t\n",
    );
    assert_eq!(code, 2, "{report}");
}

// A role or policy given as a variable cannot be read: DDB010-DDB012 cannot be proven.

#[test]
fn a_role_given_as_a_variable_cannot_be_proven_safe() {
    for (iam, line, column) in [
        ("  iam:\n    role: ${self:custom.role}\n", 4, 11),
        ("  iam: ${self:custom.iam}\n", 3, 8),
        (
            "  iam:\n    role:\n      statements:\n        - ${self:custom.statement}\n",
            6,
            11,
        ),
        ("  iamRoleStatements: ${self:custom.statements}\n", 3, 22),
    ] {
        let text = format!(
            "service: s\nprovider:\n{iam}resources:\n  Resources:\n    T:\n      Type: AWS::DynamoDB::Table\n"
        );
        let (_, report) = run_selecting("serverless.yml", &text, "DDB010,DDB011,DDB012");
        for rule in ["DDB010", "DDB011", "DDB012"] {
            let hits = rule_hits(&report, rule);
            assert_eq!(hits.len(), 1, "{rule} {iam}: {report}");
            assert_eq!((hits[0].1, hits[0].2), (line, column), "{rule} {iam}");
        }
    }
}

// `${file(path)}` and `${file(path):key}` fragments: resolved relative to the service
// file, loaded through the same loader, checked in place.

/// The service of the fragment tests: a resources list item, a resource and a statement
/// each brought in from another file, and an extension (in the service) of a table that
/// a fragment declares.
const WITH_FRAGMENTS: &str = "\
service: orders
provider:
  name: aws
  iam:
    role:
      statements:
        - ${file(iam/statement.yml)}
resources:
  - ${file(resources/tables.yml)}
  - Resources:
      Orders: ${file(resources/orders.json):tables.orders}
  - extensions:
      Kept:
        DeletionPolicy: Retain
";

fn fragment_service(dir: &std::path::Path) {
    write(dir, "svc/serverless.yml", WITH_FRAGMENTS);
    write(
        dir,
        "svc/iam/statement.yml",
        "Effect: Allow\nAction: dynamodb:DeleteTable\nResource: '*'\n",
    );
    write(
        dir,
        "svc/resources/tables.yml",
        "Resources:\n  Kept:\n    Type: AWS::DynamoDB::Table\n    UpdateReplacePolicy: Retain\n  Deleted:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: Delete\n    UpdateReplacePolicy: Retain\n",
    );
    write(
        dir,
        "svc/resources/orders.json",
        "{\"tables\": {\"orders\": {\"Type\": \"AWS::DynamoDB::Table\",\n  \"DeletionPolicy\": \"Delete\", \"UpdateReplacePolicy\": \"Retain\"}}}\n",
    );
}

/// (rule, resource, line, column in the service file, fragment path, line, column).
fn placed(report: &serde_json::Value) -> Vec<(String, String, u64, u64, String, u64, u64)> {
    common::findings(report)
        .iter()
        .map(|f| {
            let t = &f["template"];
            (
                f["rule"].as_str().unwrap_or_default().to_string(),
                f["resource"].as_str().unwrap_or_default().to_string(),
                f["line"].as_u64().unwrap_or_default(),
                f["column"].as_u64().unwrap_or_default(),
                t["path"].as_str().unwrap_or_default().replace('\\', "/"),
                t["line"].as_u64().unwrap_or_default(),
                t["column"].as_u64().unwrap_or_default(),
            )
        })
        .collect()
}

#[test]
fn file_fragments_are_checked_in_place_with_their_own_positions() {
    let dir = tempfile::tempdir().expect("tempdir");
    fragment_service(dir.path());
    let (code, report) = check_json(
        dir.path(),
        &[
            "svc/serverless.yml",
            "--isolated",
            "--select",
            "DDB001,DDB002,DDB010",
        ],
    );
    assert_eq!(code, 1, "{report}");
    assert_eq!(report["summary"]["tables"], 3);
    let mut got = placed(&report);
    got.sort();
    let s = |t: &str| t.to_string();
    assert_eq!(
        got,
        [
            // `Deleted` in the resources fragment; `Kept` is retained by the service's
            // extension; `Orders` is the value at `tables.orders` of a JSON file.
            (
                s("DDB001"),
                s("Deleted"),
                9,
                5,
                s("svc/resources/tables.yml"),
                7,
                21
            ),
            (
                s("DDB001"),
                s("Orders"),
                11,
                15,
                s("svc/resources/orders.json"),
                2,
                21
            ),
            (
                s("DDB010"),
                s("provider.iam.role.statements"),
                7,
                11,
                s("svc/iam/statement.yml"),
                2,
                9
            ),
        ]
    );
}

#[test]
fn fragments_count_for_the_prefilter_and_the_inventory() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The service file itself names no table type and no policy.
    write(
        dir.path(),
        "serverless.yml",
        "service: s\nresources: ${file(resources.yml)}\n",
    );
    write(
        dir.path(),
        "resources.yml",
        "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: Retain\n    UpdateReplacePolicy: Retain\n",
    );
    let (code, report) = check_json(
        dir.path(),
        &["serverless.yml", "--isolated", "--select", "DDB001,DDB002"],
    );
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["summary"]["tables"], 1);
    let output = ddb_guard()
        .current_dir(dir.path())
        .args([
            "inventory",
            "serverless.yml",
            "--isolated",
            "--format",
            "json",
        ])
        .output()
        .expect("runs");
    let inventory: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(inventory["tables"][0]["resource"], "T", "{inventory}");
    assert_eq!(inventory["tables"][0]["retained_on_delete"], true);
    // Walked, the fragment (a template on its own) is listed and checked with its service
    // only, not a second time.
    let output = ddb_guard()
        .current_dir(dir.path())
        .args(["inventory", ".", "--isolated", "--format", "json"])
        .output()
        .expect("runs");
    let inventory: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(
        inventory["tables"].as_array().map(Vec::len),
        Some(1),
        "{inventory}"
    );
    assert_eq!(inventory["tables"][0]["path"], "./serverless.yml");
    let (_, report) = check_json(dir.path(), &[".", "--isolated"]);
    assert_eq!(report["summary"]["files"], 1, "{report}");
    assert_eq!(report["summary"]["tables"], 1, "{report}");
}

#[test]
fn a_fragment_that_cannot_be_read_is_an_error_at_the_variable() {
    for (fragment, files, why) in [
        ("${file(missing.yml)}", vec![], "no such file"),
        (
            "${file(bad.yml)}",
            vec![("bad.yml", "Resources: [\n")],
            "does not load",
        ),
        (
            "${file(t.yml):nope}",
            vec![("t.yml", "Resources: {}\n")],
            "no value at `nope`",
        ),
        (
            "${file(tables.js)}",
            vec![("tables.js", "module.exports = {}\n")],
            "JavaScript or TypeScript",
        ),
        (
            "${file(tables.ts):resources}",
            vec![("tables.ts", "export const resources = {}\n")],
            "function's result",
        ),
        (
            "${file(self.yml)}",
            vec![("self.yml", "- ${file(self.yml)}\n")],
            "nest more than",
        ),
        ("${file(${opt:stage}.yml)}", vec![], "another variable"),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let text = format!("service: s\nresources:\n  Resources:\n    T:\n      Type: AWS::DynamoDB::Table\n  Outputs: {{}}\n  extensions:\n    T: {fragment}\n");
        write(dir.path(), "serverless.yml", &text);
        for (name, body) in files {
            write(dir.path(), name, body);
        }
        let (code, report) = check_json(dir.path(), &["serverless.yml", "--isolated"]);
        assert_eq!(code, 2, "{fragment}: {report}");
        let error = &report["errors"][0];
        assert_eq!(
            (error["line"].as_u64(), error["column"].as_u64()),
            (Some(8), Some(8)),
            "{fragment}: {error}"
        );
        assert!(
            error["message"].as_str().is_some_and(|m| m.contains(why)),
            "{fragment}: {error}"
        );
    }
}

#[test]
fn a_variable_that_stands_for_resources_fails_closed() {
    for (resources, line) in [
        ("resources: ${self:custom.resources}\n", 2),
        ("resources:\n  - ${self:custom.more}\n", 3),
        ("resources:\n  Resources: ${self:custom.tables}\n", 3),
    ] {
        let (code, report) = run("serverless.yml", &format!("service: s\n{resources}"));
        assert_eq!(code, 2, "{resources}: {report}");
        assert_eq!(report["errors"][0]["line"], line, "{resources}");
    }
}

#[test]
fn fix_leaves_fragments_alone_and_fixes_the_service_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    fragment_service(dir.path());
    let before =
        std::fs::read_to_string(dir.path().join("svc/resources/tables.yml")).expect("reads");
    let output = ddb_guard()
        .current_dir(dir.path())
        .args([
            "check",
            "svc",
            "--isolated",
            "--fix",
            "--select",
            "DDB001,DDB002",
        ])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("refused"), "{stderr}");
    // The findings in fragments stay (their fix would edit another file); nothing there
    // nor in the service was written.
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let after =
        std::fs::read_to_string(dir.path().join("svc/resources/tables.yml")).expect("reads");
    assert_eq!(after, before);
    let service = std::fs::read_to_string(dir.path().join("svc/serverless.yml")).expect("reads");
    assert_eq!(service, WITH_FRAGMENTS);
}

#[test]
fn an_extension_condition_is_the_resources_own_condition() {
    // The table exists only when `IsProd` (its extension's `Condition`), so the `Delete`
    // branch of its DeletionPolicy never applies; without the extension it does.
    let service = |extension: &str| {
        format!(
            "service: s\nresources:\n  Conditions:\n    IsProd: !Equals [\"${{sls:stage}}\", prod]\n  Resources:\n    T:\n      Type: AWS::DynamoDB::Table\n      DeletionPolicy: !If [IsProd, Retain, Delete]\n      UpdateReplacePolicy: Retain\n{extension}"
        )
    };
    let (code, report) = run(
        "serverless.yml",
        &service("  extensions:\n    T:\n      Condition: IsProd\n"),
    );
    assert_eq!(code, 0, "{report}");
    assert_eq!(hits_at(&report, "DDB001"), []);
    let (code, report) = run("serverless.yml", &service(""));
    assert_eq!(code, 1, "{report}");
    assert_eq!(hits_at(&report, "DDB001").len(), 1);
}

/// `provider.iam.role.managedPolicies` attaches managed policies to the service's role:
/// an AWS managed policy that grants deleting tables is a DDB010 finding at its ARN, one
/// written as a Serverless variable cannot be proven safe, and a harmless one is nothing.
#[test]
fn managed_policies_of_the_service_role_are_grants() {
    let service = "service: orders
provider:
  name: aws
  iam:
    role:
      managedPolicies:
        - arn:aws:iam::aws:policy/ReadOnlyAccess
        - arn:aws:iam::aws:policy/AdministratorAccess
        - ${self:custom.extraPolicy}
resources:
  Resources:
    Orders:
      Type: AWS::DynamoDB::Table
      DeletionPolicy: Retain
      UpdateReplacePolicy: Retain
";
    let (code, report) = run_selecting("serverless.yml", service, "DDB010");
    assert_eq!(code, 0, "DDB010 is a warning: {report:#}");
    let hits = rule_hits(&report, "DDB010");
    let lines: Vec<u64> = hits.iter().map(|h| h.1).collect();
    assert_eq!(lines, vec![8, 9], "{hits:?}");
    assert!(hits[0].3.contains("AdministratorAccess"), "{}", hits[0].3);
    assert!(hits[1].3.contains("cannot be resolved"), "{}", hits[1].3);

    // Without managed policies (or with harmless ones only) there is nothing to report.
    let harmless = service
        .replace(
            "        - arn:aws:iam::aws:policy/AdministratorAccess\n",
            "",
        )
        .replace("        - ${self:custom.extraPolicy}\n", "");
    let (_, report) = run_selecting("serverless.yml", &harmless, "DDB010");
    assert!(rule_hits(&report, "DDB010").is_empty(), "{report:#}");
}

/// A service whose `${file(...)}` fragments hold its tables, and an extension in the
/// service that retains them: a fragment checked on its own would report them.
const SERVICE_WITH_EXTENDED_FRAGMENT: &str = "\
service: s
provider:
  name: aws
resources:
  - ${file(resources/tables.yml)}
  - extensions:
      Orders:
        DeletionPolicy: Retain
";

#[test]
fn a_service_that_does_not_load_fails_and_its_fragments_are_not_checked_alone() {
    for (broken, line) in [
        // A variable that stands for resources fails closed.
        ("  - ${self:custom.more}\n", 9),
        // The service's YAML does not parse.
        ("  - [unclosed\n", 10),
        // An extension written as a variable.
        ("  - extensions: ${self:custom.extensions}\n", 9),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        write(
            dir.path(),
            "svc/serverless.yml",
            &format!("{SERVICE_WITH_EXTENDED_FRAGMENT}{broken}"),
        );
        // The fragment names another fragment: neither is a template of its own.
        write(
            dir.path(),
            "svc/resources/tables.yml",
            "Resources:\n  Orders:\n    Type: AWS::DynamoDB::Table\n    UpdateReplacePolicy: Retain\n  Events: ${file(resources/events.yml)}\n",
        );
        write(
            dir.path(),
            "svc/resources/events.yml",
            "Type: AWS::DynamoDB::Table\nUpdateReplacePolicy: Retain\n",
        );
        // A template no service names is checked as ever.
        write(
            dir.path(),
            "svc/loose.yml",
            "Resources:\n  Loose:\n    Type: AWS::DynamoDB::Table\n    UpdateReplacePolicy: Retain\n",
        );
        let (code, report) = check_json(
            dir.path(),
            &[".", "--isolated", "--select", "DDB001,DDB002"],
        );
        assert_eq!(code, 2, "{broken}: {report}");
        let errors = report["errors"].as_array().cloned().unwrap_or_default();
        assert_eq!(errors.len(), 1, "{broken}: {report}");
        assert_eq!(errors[0]["path"], "./svc/serverless.yml", "{broken}");
        assert_eq!(errors[0]["line"], line, "{broken}: {}", errors[0]);
        let hits: Vec<(String, String)> = findings(&report)
            .iter()
            .map(|f| {
                (
                    f["path"].as_str().unwrap_or_default().to_string(),
                    f["resource"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        assert_eq!(
            hits,
            [("./svc/loose.yml".to_string(), "Loose".to_string())],
            "{broken}"
        );
        // The inventory agrees: the service is an error, its fragments list no table.
        let output = ddb_guard()
            .current_dir(dir.path())
            .args(["inventory", ".", "--isolated", "--format", "json"])
            .output()
            .expect("runs");
        let inventory: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
        let tables: Vec<&str> = inventory["tables"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t["resource"].as_str())
            .collect();
        assert_eq!(tables, ["Loose"], "{broken}: {inventory}");
        assert_eq!(
            inventory["errors"][0]["path"], "./svc/serverless.yml",
            "{broken}: {inventory}"
        );
    }
}

#[test]
fn a_fragment_outside_the_directory_ddb_guard_runs_in_is_not_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "secret.yml", "password: hunter2\n");
    write(
        dir.path(),
        "svc/serverless.yml",
        "service: s\nresources:\n  Resources: ${file(../secret.yml)}\n",
    );
    // From the service's directory, `../secret.yml` is outside: an error, and the file's
    // text is not quoted.
    let output = ddb_guard()
        .current_dir(dir.path().join("svc"))
        .args(["check", "serverless.yml", "--isolated", "--format", "json"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    let message = report["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("outside the directory"), "{report}");
    assert!(!stdout.contains("hunter2"), "{stdout}");
    // From above, it is read (and holds no table).
    let (code, report) = check_json(dir.path(), &["svc/serverless.yml", "--isolated"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["summary"]["templates"], 1, "{report}");
}

/// A service whose tables and deny statement are all in fragments, with suppressions.
fn suppressing_service(dir: &std::path::Path) {
    write(
        dir,
        "serverless.yml",
        "service: s\nprovider:\n  name: aws\n  iam:\n    role:\n      statements:\n        - ${file(deny.yml)}\nresources:\n  Resources: ${file(tables.yml)}\n",
    );
    write(
        dir,
        "tables.yml",
        "Orders:
  Type: AWS::DynamoDB::Table
  DeletionPolicy: Delete
  UpdateReplacePolicy: Retain
  Metadata:
    ddb-guard:
      ignore:
        - rule: DDB001
          reason: scratch table
        - rule: DDB003
          reason: no longer needed
        - rule: DDB004
          reason: ''
  Properties:
    DeletionProtectionEnabled: true
",
    );
    write(
        dir,
        "deny.yml",
        "Effect: Deny\nAction: dynamodb:DeleteTable\nResource: arn:aws:dynamodb:*:*:table/x\n",
    );
}

#[test]
fn suppressions_and_guardrail_facts_in_fragments_are_placed_in_the_fragment() {
    let dir = tempfile::tempdir().expect("tempdir");
    suppressing_service(dir.path());
    let args = [
        "serverless.yml",
        "--isolated",
        "--require-guardrail",
        "deny-delete-table",
    ];
    let (code, report) = check_json(dir.path(), &args);
    assert_eq!(code, 1, "{report}");
    // The suppression entry of DDB001 is at line 8 of the fragment (`- rule: DDB001`).
    let suppressed = &report["suppressed"][0];
    assert_eq!(suppressed["rule"], "DDB001", "{report}");
    assert_eq!(suppressed["suppression"]["path"], "tables.yml", "{report}");
    assert_eq!(suppressed["suppression"]["line"], 8, "{report}");
    assert_eq!(suppressed["suppression"]["column"], 11, "{report}");
    // The unused (DDB901) and invalid (DDB900) entries are findings placed there too.
    let placed = placed(&report);
    for (rule, line) in [("DDB901", 10), ("DDB900", 13)] {
        assert!(
            placed
                .iter()
                .any(|p| p.0 == rule && p.4 == "tables.yml" && p.5 == line),
            "{rule}: {placed:#?}"
        );
    }
    // DDB013 names the deny statement where it is written.
    let ddb013 = common::findings(&report)
        .into_iter()
        .find(|f| f["rule"] == "DDB013")
        .expect("DDB013");
    let message = ddb013["message"].as_str().unwrap_or_default();
    assert!(message.contains("(deny.yml:1:1)"), "{message}");
    // SARIF: the suppression's location is the fragment's line.
    let output = ddb_guard()
        .current_dir(dir.path())
        .arg("check")
        .args(args)
        .args(["--format", "sarif"])
        .output()
        .expect("runs");
    let sarif: serde_json::Value = serde_json::from_slice(&output.stdout).expect("sarif");
    let result = sarif["runs"][0]["results"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["ruleId"] == "DDB001")
        .expect("DDB001 result");
    let location = &result["suppressions"][0]["location"]["physicalLocation"];
    assert_eq!(
        location["artifactLocation"]["uri"], "tables.yml",
        "{result}"
    );
    assert_eq!(location["region"]["startLine"], 8, "{result}");
    // Text: the suppression is shown at the variable, and named in the fragment.
    let output = ddb_guard()
        .current_dir(dir.path())
        .arg("check")
        .args(args)
        .args(["--show-suppressed", "--color", "never"])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("suppressed at tables.yml:8:11"), "{text}");
    assert!(!text.contains("OutOfBounds"), "{text}");
    // `--fix` edits neither the fragment nor the service.
    let before: Vec<String> = ["serverless.yml", "tables.yml", "deny.yml"]
        .iter()
        .map(|f| std::fs::read_to_string(dir.path().join(f)).expect("reads"))
        .collect();
    ddb_guard()
        .current_dir(dir.path())
        .args(["check", "serverless.yml", "--isolated", "--fix"])
        .output()
        .expect("runs");
    let after: Vec<String> = ["serverless.yml", "tables.yml", "deny.yml"]
        .iter()
        .map(|f| std::fs::read_to_string(dir.path().join(f)).expect("reads"))
        .collect();
    assert_eq!(before, after);
}

/// A file that passes is only counted unless a report lists passing checks (JUnit) or a
/// baseline judges it: the report is the same either way, including a fragment that
/// passes on its own (counted with its service only, never as a file of its own).
#[test]
fn passing_files_are_counted_alike_whether_kept_or_not() {
    let dir = tempfile::tempdir().expect("tempdir");
    fragment_service(dir.path());
    write(
        dir.path(),
        "other/policy.yaml",
        "Effect: Allow\nAction: dynamodb:DeleteTable\nResource: '*'\n",
    );
    write(
        dir.path(),
        "other/topic.yaml",
        "Resources:\n  Events:\n    Type: AWS::SNS::Topic\n    Properties:\n      DisplayName: dynamodb-events\n",
    );
    let out = tempfile::tempdir().expect("tempdir");
    let junit = out.path().join("junit.xml");
    let junit = format!("junit={}", junit.display());
    let json = |extra: &[&str]| {
        let output = ddb_guard()
            .current_dir(dir.path())
            .args(["check", ".", "--format", "json"])
            .args(extra)
            .output()
            .expect("runs");
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    };
    let (code, counted) = json(&[]);
    let (kept_code, kept) = json(&["--format", &junit]);
    assert_eq!((code, &counted), (kept_code, &kept));
    let report: serde_json::Value = serde_json::from_str(&counted).expect("JSON report");
    let summary = &report["summary"];
    // The service and the topic are templates; the standalone policy is not one.
    assert_eq!(summary["templates"], 2, "{summary}");
    assert_eq!(summary["not_templates"], 1, "{summary}");
    assert_eq!(summary["files"], 3, "{summary}");
}
