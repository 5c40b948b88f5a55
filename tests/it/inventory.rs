//! `ddb-guard inventory` end to end: the JSON shape, snapshots of the human, Markdown and
//! CSV views on the bundled examples, the 80-column limit, and the same discovery,
//! prefilter and fail-closed loading as `check`.

use crate::common;

use std::path::Path;

use common::{ddb_guard, write};
use serde_json::Value;

fn examples() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn inventory(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let output = ddb_guard()
        .current_dir(dir)
        .env("COLUMNS", "80")
        .arg("inventory")
        .args(args)
        .output()
        .expect("runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn inventory_json(dir: &Path, args: &[&str]) -> (i32, Value) {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let (code, stdout, stderr) = inventory(dir, &all);
    let json = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("stdout is JSON ({e}): {stdout}\nstderr: {stderr}"));
    (code, json)
}

fn table<'a>(json: &'a Value, path_end: &str, resource: &str) -> &'a Value {
    json["tables"]
        .as_array()
        .expect("tables is a list")
        .iter()
        .find(|t| {
            t["resource"] == resource && t["path"].as_str().is_some_and(|p| p.ends_with(path_end))
        })
        .unwrap_or_else(|| panic!("{path_end} {resource} is listed"))
}

#[test]
fn human_inventory_of_the_examples_fits_80_columns() {
    let (code, stdout, _) = inventory(examples(), &["templates-examples"]);
    assert_eq!(code, 0);
    for line in stdout.lines() {
        assert!(line.chars().count() <= 80, "too wide: {line:?}");
    }
    insta::assert_snapshot!("inventory_human", stdout);
}

#[test]
fn markdown_inventory_of_the_examples() {
    let (code, stdout, _) = inventory(examples(), &["templates-examples", "--format", "markdown"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!("inventory_markdown", stdout);
}

#[test]
fn csv_inventory_of_the_examples() {
    let (code, stdout, _) = inventory(examples(), &["templates-examples", "--format", "csv"]);
    assert_eq!(code, 0);
    let width = stdout.lines().next().map(|h| h.split(',').count());
    assert_eq!(width, Some(9));
    insta::assert_snapshot!("inventory_csv", stdout);
}

#[test]
fn json_inventory_of_the_examples() {
    let (code, json) = inventory_json(examples(), &["templates-examples"]);
    assert_eq!(code, 0);
    insta::assert_json_snapshot!("inventory_json", json);
}

#[test]
fn json_has_the_documented_shape() {
    let (_, json) = inventory_json(examples(), &["templates-examples"]);
    assert_eq!(json["version"], 1);
    let tables = json["tables"].as_array().expect("tables");
    assert!(!tables.is_empty());
    for t in tables {
        for key in ["path", "resource", "resource_type"] {
            assert!(t[key].is_string(), "{key} in {t}");
        }
        for key in [
            "retained_on_delete",
            "retained_on_replace",
            "deletion_protection",
            "pitr",
            "backup_plan",
        ] {
            assert!(t[key].is_boolean(), "{key} in {t}");
        }
    }
    let guardrails = json["guardrails"].as_array().expect("guardrails");
    assert!(!guardrails.is_empty());
    for g in guardrails {
        assert!(g["path"].is_string() && g["resource"].is_string());
        assert!([
            "scp",
            "vault-lock",
            "vault-policy",
            "identity-policy",
            "table-policy"
        ]
        .contains(&g["kind"].as_str().unwrap_or("")));
        assert!(g["denies"]
            .as_array()
            .is_some_and(|d| d.iter().all(Value::is_string)));
    }
}

#[test]
fn the_backup_example_has_every_layer_and_every_kind_of_guardrail() {
    let (_, json) = inventory_json(examples(), &["templates-examples/backup"]);
    let orders = table(&json, "orders-data.yaml", "OrdersTable");
    for layer in [
        "retained_on_delete",
        "retained_on_replace",
        "deletion_protection",
        "pitr",
        "backup_plan",
    ] {
        assert_eq!(orders[layer], true, "{layer}");
    }
    assert_eq!(
        table(&json, "orders-data.yaml", "CustomersTable")["backup_plan"],
        true
    );
    // Tagged for the plan in production only: false, with the reason.
    let audit = table(&json, "orders-data.yaml", "AuditTable");
    assert_eq!(audit["backup_plan"], false);
    let why = audit["conditional"]["backup_plan"].as_str().unwrap_or("");
    assert!(why.contains("condition `IsProd` is true"), "{why}");
    let kinds: Vec<&str> = json["guardrails"]
        .as_array()
        .expect("guardrails")
        .iter()
        .filter_map(|g| g["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["vault-lock", "vault-policy", "scp"]);
}

#[test]
fn a_conditional_layer_is_false_in_json_and_explained_in_the_human_view() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "t.yaml",
        "Conditions:\n  IsProd: !Equals [!Ref AWS::AccountId, '123456789012']\nResources:\n  T:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: !If [IsProd, Retain, Delete]\n    UpdateReplacePolicy: Retain\n",
    );
    let (_, json) = inventory_json(dir.path(), &["t.yaml"]);
    let t = table(&json, "t.yaml", "T");
    assert_eq!(t["retained_on_delete"], false);
    assert_eq!(t["retained_on_replace"], true);
    assert!(t["conditional"]["retained_on_delete"]
        .as_str()
        .is_some_and(|w| w.contains("`Delete` when condition `IsProd` is false")));
    let (_, human, _) = inventory(dir.path(), &["t.yaml"]);
    assert!(human.contains("cond 1"), "{human}");
    assert!(
        human.contains("1. T retained on delete: DeletionPolicy is `Delete` when"),
        "{human}"
    );
}

#[test]
fn a_file_that_does_not_load_exits_two_and_the_others_are_still_listed() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "a-broken.yaml",
        "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Bad: [\n",
    );
    write(
        dir.path(),
        "b-good.yaml",
        "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n",
    );
    let (code, json) = inventory_json(dir.path(), &[]);
    assert_eq!(code, 2);
    assert_eq!(json["tables"].as_array().map(Vec::len), Some(1));
    assert_eq!(json["errors"][0]["path"], "a-broken.yaml");
    assert!(json["errors"][0]["line"].is_u64());
    let (code, human, _) = inventory(dir.path(), &[]);
    assert_eq!(code, 2);
    assert!(human.contains("error: a-broken.yaml:"), "{human}");
    let (code, _, stderr) = inventory(dir.path(), &["--format", "csv"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("1 file could not be read"), "{stderr}");
}

#[test]
fn limits_apply_as_in_check() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "t.yaml",
        "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n",
    );
    let (code, json) = inventory_json(dir.path(), &["t.yaml", "--max-file-size", "8"]);
    assert_eq!(code, 2);
    assert!(json["errors"][0]["message"]
        .as_str()
        .is_some_and(|m| m.contains("byte limit")));
}

#[test]
fn the_prefilter_skips_files_without_tables_or_guardrails_but_keeps_a_lone_vault() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Not YAML at all, but nothing in it can be a table or a guardrail: never parsed.
    write(
        dir.path(),
        "queue.yaml",
        "Resources: [unclosed\n  Q: {Type: AWS::SQS::Queue}\n",
    );
    write(
        dir.path(),
        "vault.yaml",
        "Resources:\n  Vault:\n    Type: AWS::Backup::BackupVault\n    Properties:\n      BackupVaultName: v\n      LockConfiguration: {MinRetentionDays: 7}\n",
    );
    let (code, json) = inventory_json(dir.path(), &[]);
    assert_eq!(code, 0);
    assert_eq!(json["errors"].as_array().map(Vec::len), Some(0));
    assert_eq!(json["guardrails"][0]["kind"], "vault-lock");
    assert_eq!(json["guardrails"][0]["path"], "vault.yaml");
}

#[test]
fn no_tables_is_said_plainly() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "q.yaml",
        "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n",
    );
    let (code, human, _) = inventory(dir.path(), &[]);
    assert_eq!(code, 0);
    assert!(human.starts_with("No DynamoDB tables found."), "{human}");
}

#[test]
fn ddb005_is_off_by_default_and_agrees_with_the_backup_column_when_selected() {
    let run = |extra: &[&str]| {
        let output = ddb_guard()
            .current_dir(examples())
            .args(["check", "templates-examples/backup", "--format", "json"])
            .args(extra)
            .output()
            .expect("runs");
        let json: Value = serde_json::from_slice(&output.stdout).expect("JSON");
        let mut tables: Vec<String> = json["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["rule"] == "DDB005")
            .filter_map(|f| f["resource"].as_str().map(str::to_string))
            .collect();
        tables.sort();
        tables
    };
    assert!(run(&[]).is_empty());
    assert_eq!(run(&["--extend-select", "DDB005"]), ["AuditTable"]);
    let (_, json) = inventory_json(examples(), &["templates-examples/backup"]);
    let uncovered: Vec<&str> = json["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .filter(|t| t["backup_plan"] == false)
        .filter_map(|t| t["resource"].as_str())
        .collect();
    assert_eq!(uncovered, ["AuditTable"]);
}

#[test]
fn the_config_file_applies_as_in_check() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "ddb-guard.toml",
        "exclude = [\"generated/\"]\nallow_retain_except_on_create = false\n",
    );
    write(
        dir.path(),
        "stack.yaml",
        "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: RetainExceptOnCreate\n    UpdateReplacePolicy: Retain\n",
    );
    write(
        dir.path(),
        "generated/other.yaml",
        "Resources:\n  G:\n    Type: AWS::DynamoDB::Table\n",
    );
    let (code, json) = inventory_json(dir.path(), &[]);
    assert_eq!(code, 0);
    let tables = json["tables"].as_array().expect("tables");
    assert_eq!(tables.len(), 1, "generated/ is excluded: {tables:?}");
    assert_eq!(tables[0]["retained_on_delete"], false);
    let (_, json) = inventory_json(dir.path(), &["--isolated"]);
    assert_eq!(json["tables"].as_array().map(Vec::len), Some(2));
    assert_eq!(table(&json, "stack.yaml", "T")["retained_on_delete"], true);
}

/// The guardrails column never shows protection that is not there: `NotResource` denies
/// everything but what it lists, a `Deny` for named principals or behind `NotPrincipal` is
/// conditional with who it leaves out, a lock that may lack `ChangeableForDays` is in
/// governance mode, and an SCP with no `TargetIds` is not attached.
#[test]
fn guardrails_show_only_the_protection_that_is_there() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "t.yaml",
        "Parameters:
  Env: {Type: String, AllowedValues: [prod, dev]}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Resources:
  NothingDenied:
    Type: AWS::Organizations::Policy
    Properties:
      Name: a
      Type: SERVICE_CONTROL_POLICY
      TargetIds: [r-root]
      Content:
        Statement:
          - {Effect: Deny, Action: 'dynamodb:DeleteTable', NotResource: '*'}
  TablesLeftOut:
    Type: AWS::Organizations::Policy
    Properties:
      Name: b
      Type: SERVICE_CONTROL_POLICY
      TargetIds: [r-root]
      Content:
        Statement:
          - Effect: Deny
            Action: [dynamodb:DeleteTable, dynamodb:DeleteBackup]
            NotResource: 'arn:aws:dynamodb:*:*:table/*'
  Detached:
    Type: AWS::Organizations::Policy
    Properties:
      Name: c
      Type: SERVICE_CONTROL_POLICY
      Content:
        Statement:
          - {Effect: Deny, Action: 'dynamodb:DeleteTable', Resource: '*'}
  Vault:
    Type: AWS::Backup::BackupVault
    Properties:
      BackupVaultName: v
      LockConfiguration:
        MinRetentionDays: 35
        ChangeableForDays: !If [IsProd, 3, !Ref AWS::NoValue]
      AccessPolicy:
        Statement:
          - Effect: Deny
            Principal: {AWS: 'arn:aws:iam::123456789012:role/app'}
            Action: backup:DeleteRecoveryPoint
            Resource: '*'
",
    );
    let (code, json) = inventory_json(dir.path(), &["t.yaml"]);
    assert_eq!(code, 0);
    let guardrails = json["guardrails"].as_array().expect("guardrails");
    let find = |name: &str, kind: &str| {
        guardrails
            .iter()
            .find(|g| g["resource"] == name && g["kind"] == kind)
            .cloned()
    };
    assert_eq!(find("NothingDenied", "scp"), None, "{json}");
    let left_out = find("TablesLeftOut", "scp");
    assert!(
        left_out.as_ref().is_none_or(|g| !g["denies"]
            .as_array()
            .is_some_and(|d| d.iter().any(|a| a == "dynamodb:DeleteTable"))),
        "{left_out:?}"
    );
    let detached = find("Detached", "scp").expect("the detached SCP is listed");
    assert!(
        detached["conditional"]
            .as_str()
            .is_some_and(|c| c.starts_with("not attached")),
        "{detached}"
    );
    let lock = find("Vault", "vault-lock").expect("lock");
    assert!(
        lock["conditional"]
            .as_str()
            .is_some_and(|c| c.contains("(governance mode) when condition `IsProd` is false")),
        "{lock}"
    );
    let policy = find("Vault", "vault-policy").expect("policy");
    assert!(
        policy["conditional"].as_str().is_some_and(|c| c
            .contains("only for the principals it names")
            && c.contains("role/app")),
        "{policy}"
    );
}

/// A guardrail written with intrinsics shows what it may leave out: a `Principal` chosen by
/// `Fn::If` names everyone in one case only, and a `TargetIds` list whose every item may be
/// removed attaches the SCP to no account in that case.
#[test]
fn guardrails_chosen_by_intrinsics_are_conditional() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "t.yaml",
        "Parameters:
  Env: {Type: String, AllowedValues: [prod, dev]}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Resources:
  MaybeAttached:
    Type: AWS::Organizations::Policy
    Properties:
      Name: a
      Type: SERVICE_CONTROL_POLICY
      TargetIds: [!If [IsProd, r-root, !Ref AWS::NoValue]]
      Content:
        Statement:
          - {Effect: Deny, Action: 'dynamodb:DeleteTable', Resource: '*'}
  Attached:
    Type: AWS::Organizations::Policy
    Properties:
      Name: b
      Type: SERVICE_CONTROL_POLICY
      TargetIds: [!If [IsProd, r-root, !Ref AWS::NoValue], ou-abcd-12345678]
      Content:
        Statement:
          - {Effect: Deny, Action: 'dynamodb:DeleteTable', Resource: '*'}
  Vault:
    Type: AWS::Backup::BackupVault
    Properties:
      BackupVaultName: v
      AccessPolicy:
        Statement:
          - Effect: Deny
            Principal: {AWS: !If [IsProd, '*', 'arn:aws:iam::123456789012:role/app']}
            Action: backup:DeleteRecoveryPoint
            Resource: '*'
",
    );
    let (code, json) = inventory_json(dir.path(), &["t.yaml"]);
    assert_eq!(code, 0);
    let guardrails = json["guardrails"].as_array().expect("guardrails");
    let find = |name: &str| {
        guardrails
            .iter()
            .find(|g| g["resource"] == name)
            .cloned()
            .unwrap_or_default()
    };
    assert!(
        find("MaybeAttached")["conditional"]
            .as_str()
            .is_some_and(|c| c.starts_with("not attached when every `TargetIds` item is removed")),
        "{json}"
    );
    assert_eq!(find("Attached")["conditional"], Value::Null, "{json}");
    assert!(
        find("Vault")["conditional"]
            .as_str()
            .is_some_and(|c| c.contains("only for the principals it names")),
        "{json}"
    );
}

/// The backup column of each table of `template`, through `inventory --format json`.
fn backup_column(template: &str) -> Vec<(String, Value)> {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "t.yaml", template);
    let (code, json) = inventory_json(dir.path(), &["t.yaml"]);
    assert_eq!(code, 0, "{json}");
    json["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .map(|t| {
            (
                t["resource"].as_str().unwrap_or_default().to_string(),
                t["backup_plan"].clone(),
            )
        })
        .collect()
}

fn selection(body: &str) -> String {
    format!(
        "  Selection:\n    Type: AWS::Backup::BackupSelection\n    Properties:\n      BackupPlanId: plan\n      BackupSelection:\n        SelectionName: s\n        IamRoleArn: role\n{body}"
    )
}

/// `NotResources` excludes a table whenever it *can* name one of the table's ARNs: a
/// literal Region or account names it when the stack runs there, and a pattern can match
/// the name CloudFormation generates (`<stack>-<LogicalId>-<random>`).
#[test]
fn not_resources_exclude_a_table_they_can_name() {
    let tables = "Resources:\n  Named:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      TableName: orders\n  Generated:\n    Type: AWS::DynamoDB::Table\n";
    let resources = "        Resources: [!GetAtt Named.Arn, !GetAtt Generated.Arn]\n";
    let covered = backup_column(&format!("{tables}{}", selection(resources)));
    assert!(covered.iter().all(|(_, c)| c == true), "{covered:?}");
    for (exclusion, excluded) in [
        (
            "arn:aws:dynamodb:us-east-1:123456789012:table/orders",
            "Named",
        ),
        (
            "!Sub 'arn:${AWS::Partition}:dynamodb:eu-west-1:${AWS::AccountId}:table/orders'",
            "Named",
        ),
        ("'arn:aws:dynamodb:*:*:table/prod-*'", "Generated"),
        ("'arn:aws:dynamodb:*:*:table/*-Generated-*'", "Generated"),
    ] {
        let body = format!("{resources}        NotResources: [{exclusion}]\n");
        let got = backup_column(&format!("{tables}{}", selection(&body)));
        for (table, column) in &got {
            let expected = table != excluded;
            assert_eq!(column == true, expected, "{exclusion}: {table} {column}");
        }
    }
}

/// A `TableName` written with intrinsics is each name it can take (any name where it
/// cannot be known), not the generated one: an exclusion of one of them leaves the table
/// uncovered in the inventory as in DDB005.
#[test]
fn not_resources_exclude_a_table_whose_name_is_not_literal() {
    let tables = "Parameters:\n  Name: {Type: String}\n  Env: {Type: String, AllowedValues: [prod, dev]}\nConditions:\n  IsProd: !Equals [!Ref Env, prod]\nResources:\n  FromParameter:\n    Type: AWS::DynamoDB::Table\n    Properties: {TableName: !Ref Name}\n  ChosenByIf:\n    Type: AWS::DynamoDB::Table\n    Properties: {TableName: !If [IsProd, legacy_orders, orders]}\n  Prefixed:\n    Type: AWS::DynamoDB::Table\n    Properties: {TableName: !Sub 'legacy_${Env}'}\n";
    for (exclusion, excluded) in [
        ("legacy_orders", &["FromParameter", "ChosenByIf"][..]),
        ("legacy_dev", &["FromParameter", "Prefixed"][..]),
        ("other", &["FromParameter"][..]),
    ] {
        let body = format!("        Resources: ['*']\n        NotResources: [!Sub 'arn:${{AWS::Partition}}:dynamodb:${{AWS::Region}}:${{AWS::AccountId}}:table/{exclusion}']\n");
        for (table, column) in backup_column(&format!("{tables}{}", selection(&body))) {
            assert_eq!(
                column == true,
                !excluded.contains(&table.as_str()),
                "{exclusion}: {table} {column}"
            );
        }
    }
}

/// `Conditions` written with short-form `!If` (or any intrinsic) are evaluated or fail
/// closed, never read as "no test".
#[test]
fn short_form_if_in_conditions_is_evaluated_or_fails_closed() {
    let head = "Parameters:\n  Env: {Type: String, AllowedValues: [prod, dev]}\nConditions:\n  IsProd: !Equals [!Ref Env, prod]\nResources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      Tags: [{Key: backup, Value: daily}]\n";
    let body = "        Resources: ['*']\n        Conditions: !If\n          - IsProd\n          - StringEquals: [{ConditionKey: 'aws:ResourceTag/backup', ConditionValue: never}]\n          - StringEquals: [{ConditionKey: 'aws:ResourceTag/backup', ConditionValue: never}]\n";
    let got = backup_column(&format!("{head}{}", selection(body)));
    assert_eq!(got[0].1, false, "{got:?}");
    let body = "        Resources: ['*']\n        Conditions: !Ref AWS::NoValue\n";
    let got = backup_column(&format!("{head}{}", selection(body)));
    assert_eq!(
        got[0].1, true,
        "a removed Conditions tests nothing: {got:?}"
    );
    let body = "        Resources: ['*']\n        Conditions: !FindInMap [M, k, v]\n";
    let got = backup_column(&format!("{head}{}", selection(body)));
    assert_eq!(got[0].1, false, "{got:?}");
}

/// A negated test cannot be proven when a tag key cannot be resolved (it may be the one
/// tested), and a pass that rests on a tag being absent is not proven either (a stack can
/// tag every resource).
#[test]
fn negated_tag_tests_are_not_proven_by_unknown_or_absent_tags() {
    let body = "        Resources: ['*']\n        Conditions:\n          StringNotEquals: [{ConditionKey: 'aws:ResourceTag/backup', ConditionValue: skip}]\n";
    let unknown = "Parameters:\n  K: {Type: String}\nResources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      Tags: [{Key: !Ref K, Value: skip}]\n";
    let got = backup_column(&format!("{unknown}{}", selection(body)));
    assert_eq!(got[0].1, false, "{got:?}");
    let tagged = "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      Tags: [{Key: backup, Value: daily}]\n";
    let got = backup_column(&format!("{tagged}{}", selection(body)));
    assert_eq!(got[0].1, true, "{got:?}");
    let untagged = "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n";
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "t.yaml",
        &format!("{untagged}{}", selection(body)),
    );
    let (_, json) = inventory_json(dir.path(), &["t.yaml"]);
    let t = table(&json, "t.yaml", "T");
    assert_eq!(t["backup_plan"], false, "{json}");
    assert!(
        t["conditional"]["backup_plan"]
            .as_str()
            .is_some_and(|why| why.contains("stack-level tags")),
        "{json}"
    );
}

/// A parent (no table of its own) with a local nested stack, remote ones, and stack sets:
/// one inline body that loads and one that cannot be read.
const PARENT: &str = "Resources:
  Storage:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: ./db/tables.yaml
  Remote:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: https://bucket.s3.amazonaws.com/t.yaml
  Everywhere:
    Type: AWS::CloudFormation::StackSet
    Properties:
      TemplateBody: |
        Resources:
          Events:
            Type: AWS::DynamoDB::Table
            DeletionPolicy: Retain
            UpdateReplacePolicy: Retain
  Joined:
    Type: AWS::CloudFormation::StackSet
    Properties:
      TemplateBody: !Join ['', [a, b]]
";

const NESTED_TABLE: &str = "Resources:
  Orders:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
";

#[test]
fn nested_stacks_and_stack_set_bodies_are_inventoried_and_hidden_templates_listed() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "stacks/main.yaml", PARENT);
    write(dir.path(), "stacks/db/tables.yaml", NESTED_TABLE);
    let (code, json) = inventory_json(dir.path(), &["stacks/main.yaml"]);
    assert_eq!(code, 0, "{json}");
    let orders = table(&json, "stacks/db/tables.yaml", "Orders");
    assert_eq!(orders["retained_on_delete"], false);
    let events = table(&json, "stacks/main.yaml", "Everywhere/Events");
    assert_eq!(events["retained_on_delete"], true);
    assert_eq!(events["stack_set"], "Everywhere");
    let hidden: Vec<(String, String)> = json["not_visible"]
        .as_array()
        .expect("not_visible")
        .iter()
        .map(|n| {
            (
                n["resource"].as_str().unwrap_or_default().to_string(),
                n["reason"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let ids: Vec<&str> = hidden.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["Joined", "Remote"], "{hidden:?}");
    assert!(hidden[1].1.contains("URL"), "{hidden:?}");
    let (_, text, _) = inventory(dir.path(), &["stacks/main.yaml"]);
    assert!(text.contains("Not visible"), "{text}");
    assert!(text.contains("deployed to every target account"), "{text}");
    let (_, csv, _) = inventory(dir.path(), &["stacks/main.yaml", "--format", "csv"]);
    assert!(
        csv.contains(
            "stacks/main.yaml,Remote,not-visible:AWS::CloudFormation::Stack,,,,,,at a URL"
        ),
        "{csv}"
    );
    let (_, md, _) = inventory(dir.path(), &["stacks/main.yaml", "--format", "markdown"]);
    assert!(md.contains("### Not visible"), "{md}");
}

#[test]
fn a_missing_nested_template_makes_the_inventory_incomplete() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "stacks/main.yaml", PARENT);
    let (code, json) = inventory_json(dir.path(), &["stacks/main.yaml"]);
    assert_eq!(code, 2, "{json}");
    let errors = json["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["line"], 5);
    assert!(errors[0]["message"]
        .as_str()
        .is_some_and(|m| m.contains("stacks/db/tables.yaml")));
}

#[test]
fn several_formats_go_to_their_files_in_one_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let json_path = dir.path().join("inventory.json");
    let csv_path = dir.path().join("inventory.csv");
    let (code, stdout, stderr) = inventory(
        examples(),
        &[
            "--format",
            &format!("json={}", json_path.display()),
            "--format",
            &format!("csv={}", csv_path.display()),
            "templates-examples",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "", "nothing on stdout when every format has a file");
    let (_, json_alone) = inventory_json(examples(), &["templates-examples"]);
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&json_path).expect("json"))
        .expect("the file is JSON");
    assert_eq!(written, json_alone, "the file holds what stdout would");
    let (_, csv_alone, _) = inventory(examples(), &["--format", "csv", "templates-examples"]);
    assert_eq!(std::fs::read_to_string(&csv_path).expect("csv"), csv_alone);

    let (code, _, stderr) = inventory(examples(), &["--format", "json", "--format", "csv"]);
    assert_eq!(code, 2, "two formats on stdout are refused: {stderr}");
    assert!(stderr.contains("at most one --format"), "{stderr}");
    let (code, _, stderr) = inventory(examples(), &["--format", "sarif"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("possible formats: human, json, markdown, csv"),
        "{stderr}"
    );
}

#[test]
fn paths_cut_to_fit_stay_distinct_and_wide_characters_are_measured() {
    let dir = tempfile::tempdir().expect("temp dir");
    let table = "Resources:\n  注文テーブル注文テーブル:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      KeySchema: [{AttributeName: id, KeyType: HASH}]\n";
    let deep = "a-very-long-directory-name/that-keeps-going/and-going";
    write(dir.path(), &format!("{deep}/orders/template.yaml"), table);
    write(dir.path(), &format!("{deep}/billing/template.yaml"), table);
    let output = ddb_guard()
        .current_dir(dir.path())
        .env("COLUMNS", "70")
        .args(["inventory", "."])
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let rows: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains("template.yaml"))
        .collect();
    assert_eq!(rows.len(), 2, "{stdout}");
    let path_cell = |row: &str| row.split("  ").next().unwrap_or_default().to_string();
    assert_ne!(path_cell(rows[0]), path_cell(rows[1]), "{stdout}");
    for line in stdout.lines() {
        let columns = unicode_width::UnicodeWidthStr::width(line);
        assert!(columns <= 70, "{columns} columns: {line:?}");
    }
    for row in &rows {
        assert!(
            row.contains('…'),
            "the table is narrower than the paths: {row:?}"
        );
    }
}

/// A global table whose replicas are `replicas` (indented by 8), and a selection by the tag
/// `backup: daily` (or by `body`), through `inventory` and `check --select DDB005`.
fn global_backup(replicas: &str, body: &str) -> (Value, Vec<Value>) {
    let template = format!(
        "Resources:\n  Global:\n    Type: AWS::DynamoDB::GlobalTable\n    Properties:\n      Replicas:\n{replicas}{}",
        selection(body)
    );
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "t.yaml", &template);
    let (_, json) = inventory_json(dir.path(), &["t.yaml"]);
    let row = table(&json, "t.yaml", "Global").clone();
    let output = ddb_guard()
        .current_dir(dir.path())
        .args(["check", "t.yaml", "--select", "DDB005", "--format", "json"])
        .output()
        .expect("runs");
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let found = report["findings"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|f| f["rule"] == "DDB005")
        .collect();
    (row, found)
}

const BY_TAG: &str = "        ListOfTags: [{ConditionType: STRINGEQUALS, ConditionKey: backup, ConditionValue: daily}]\n";
const DAILY_TAG: &str = "          Tags: [{Key: backup, Value: daily}]\n";

/// AWS Backup selects resources in the stack's Region, and a replica's tags are that
/// replica's: tags on a replica in another Region cover nothing here.
#[test]
fn tags_on_a_remote_replica_cover_nothing() {
    let replicas =
        format!("        - Region: !Ref AWS::Region\n        - Region: eu-west-1\n{DAILY_TAG}");
    let (row, found) = global_backup(&replicas, BY_TAG);
    assert_eq!(row["backup_plan"], false, "{row}");
    assert!(row["conditional"]["backup_plan"].is_null(), "{row}");
    let [finding] = found.as_slice() else {
        panic!("one DDB005 finding: {found:?}")
    };
    assert_eq!(finding["severity"], "warning", "{finding}");
    let message = finding["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("covered by no AWS Backup selection")
            && message.contains("`eu-west-1`")
            && message.contains("need a backup plan in their Region"),
        "{message}"
    );
    // A negated test does not pass on the remote replica's tags either way.
    let not_skip = "        Resources: ['*']\n        Conditions:\n          StringNotEquals: [{ConditionKey: 'aws:ResourceTag/backup', ConditionValue: daily}]\n";
    let (row, _) = global_backup(&replicas, not_skip);
    assert_eq!(row["backup_plan"], false, "{row}");
}

/// Tags on the replica in the stack's Region (`!Ref AWS::Region`) cover that replica; the
/// replicas elsewhere need a plan in their Region, which the note says.
#[test]
fn tags_on_the_local_replica_cover_it_with_a_note_on_other_regions() {
    let replicas =
        format!("        - Region: !Ref AWS::Region\n{DAILY_TAG}        - Region: eu-west-1\n");
    let (row, found) = global_backup(&replicas, BY_TAG);
    assert_eq!(row["backup_plan"], false, "not every replica: {row}");
    let why = row["conditional"]["backup_plan"]
        .as_str()
        .unwrap_or_default();
    assert!(
        why.contains("only for the replica in the stack's Region")
            && why.contains("`eu-west-1`")
            && why.contains("need a backup plan in their Region"),
        "{row}"
    );
    let [finding] = found.as_slice() else {
        panic!("one DDB005 note: {found:?}")
    };
    assert_eq!(finding["severity"], "note", "{finding}");
    assert!(
        finding["message"]
            .as_str()
            .is_some_and(|m| m.contains("`eu-west-1`")),
        "{finding}"
    );
    // A global table with its one replica in the stack's Region is covered outright.
    let alone = format!("        - Region: !Sub '${{AWS::Region}}'\n{DAILY_TAG}");
    let (row, found) = global_backup(&alone, BY_TAG);
    assert_eq!(row["backup_plan"], true, "{row}");
    assert!(found.is_empty(), "{found:?}");
}

/// With literal Regions only, which replica is in the stack's Region cannot be decided:
/// no replica's tags prove coverage, even when every replica has them. The table's own ARN
/// (`!GetAtt Global.Arn`) still names the local replica, whichever it is.
#[test]
fn literal_regions_leave_the_local_replica_unknown_and_tags_unproven() {
    for replicas in [
        format!("        - Region: us-east-1\n{DAILY_TAG}        - Region: eu-west-1\n"),
        format!("        - Region: us-east-1\n{DAILY_TAG}        - Region: eu-west-1\n{DAILY_TAG}"),
    ] {
        let (row, found) = global_backup(&replicas, BY_TAG);
        assert_eq!(row["backup_plan"], false, "{replicas}: {row}");
        assert!(row["conditional"]["backup_plan"].is_null(), "{row}");
        let [finding] = found.as_slice() else {
            panic!("one DDB005 finding: {found:?}")
        };
        assert_eq!(finding["severity"], "warning", "{finding}");
        assert!(
            finding["message"]
                .as_str()
                .is_some_and(|m| m.contains("cannot be decided")),
            "{finding}"
        );
    }
    let replicas = "        - Region: us-east-1\n        - Region: eu-west-1\n";
    let (row, found) = global_backup(replicas, "        Resources: [!GetAtt Global.Arn]\n");
    assert_eq!(row["backup_plan"], false, "{row}");
    assert!(
        row["conditional"]["backup_plan"]
            .as_str()
            .is_some_and(
                |why| why.contains("only for the replica in the stack's Region")
                    && why.contains("`us-east-1`")
            ),
        "{row}"
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["severity"], "note", "{found:?}");
}
