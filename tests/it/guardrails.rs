//! The guardrail rules through the real binary: DDB003 deletion-protection, DDB004
//! point-in-time-recovery, DDB010/DDB011/DDB012 IAM grants, the prefilter's soundness for
//! them, and a snapshot of the human report.

use crate::common;

use std::path::{Path, PathBuf};

use common::{check_json, check_one, ddb_guard, rule_hits};
use ddb_guard::check::{Checker, Settings};
use ddb_guard::report::data::Status;
use ddb_guard::rules;

type Hit = (String, u64, u64, String);

fn hits(rule: &str, text: &str) -> Vec<Hit> {
    let (_, report) = check_one("t.yaml", text);
    rule_hits(&report, rule)
}

/// A retained table (so DDB001/DDB002 stay quiet) whose `Properties` lines are `props`
/// (indented by 6). The resource key `Orders` is on line 9.
fn table(props: &str) -> String {
    format!(
        "Parameters:\n  Flag:\n    Type: String\n    AllowedValues: [\"true\", \"false\"]\n  Free:\n    Type: String\nConditions:\n  IsProd: !Equals [!Ref \"AWS::Region\", us-east-1]\nResources:\n  Orders:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: Retain\n    UpdateReplacePolicy: Retain\n    Properties:\n      BillingMode: PAY_PER_REQUEST\n{props}"
    )
}

const TABLE_LINE: u64 = 10;
const PITR: &str =
    "      PointInTimeRecoverySpecification:\n        PointInTimeRecoveryEnabled: true\n";

// ---------------------------------------------------------------------------------------
// DDB003 deletion-protection and DDB004 point-in-time-recovery: the exit code and the
// summary. What each rule finds, where and with which message (every spelling of true,
// `Fn::If` branches, parameters, `AWS::NoValue`, every replica of a global table,
// SimpleTable, JSON) is pinned by the rules' fixtures, run in process:
// `tests/fixtures/rules/DDB003/`, `tests/fixtures/rules/DDB004/`.

#[test]
fn missing_deletion_protection_is_a_warning_at_the_logical_id() {
    let (code, report) = check_one("t.yaml", &table(PITR));
    assert_eq!(code, 0, "a warning does not fail the run");
    let hits = rule_hits(&report, "DDB003");
    assert_eq!(hits.len(), 1);
    assert_eq!((hits[0].1, hits[0].2), (TABLE_LINE, 3));
    assert!(
        hits[0].3.contains("is not set, so it defaults to false"),
        "{}",
        hits[0].3
    );
    assert_eq!(report["findings"][0]["severity"], "warning");
}

fn global_table(replicas: &str) -> String {
    format!(
        "Resources:\n  Global:\n    Type: AWS::DynamoDB::GlobalTable\n    DeletionPolicy: Retain\n    UpdateReplacePolicy: Retain\n    Properties:\n      Replicas:\n{replicas}"
    )
}

const PROTECTED_REPLICA: &str = "        - Region: eu-west-1\n          DeletionProtectionEnabled: true\n          PointInTimeRecoverySpecification:\n            PointInTimeRecoveryEnabled: true\n";

#[test]
fn global_table_with_every_replica_protected_has_no_finding() {
    let text = global_table(
        &PROTECTED_REPLICA
            .repeat(2)
            .replacen("eu-west-1", "us-east-1", 1),
    );
    let (code, report) = check_one("t.yaml", &text);
    assert_eq!(code, 0);
    assert_eq!(report["summary"]["findings"], 0, "{report}");
}

#[test]
fn point_in_time_recovery_enabled_is_proven() {
    let props = format!("      DeletionProtectionEnabled: true\n{PITR}");
    let (code, report) = check_one("t.yaml", &table(&props));
    assert_eq!(code, 0);
    assert_eq!(report["summary"]["findings"], 0, "{report}");
}
// ---------------------------------------------------------------------------------------
// Unsafe fixes for DDB003 / DDB004

/// Run `check --fix` (plus `extra`) on `text` as `name`; the exit code and the file after.
fn fix(name: &str, text: &str, extra: &[&str]) -> (i32, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    common::write(dir.path(), name, text);
    let output = ddb_guard()
        .current_dir(dir.path())
        .args(["check", "--fix"])
        .args(extra)
        .arg(name)
        .output()
        .expect("runs");
    let after = std::fs::read_to_string(dir.path().join(name)).expect("read back");
    (output.status.code().unwrap_or(-1), after)
}

const UNGUARDED: &str = "Conditions:\n  IsProd: !Equals [!Ref \"AWS::Region\", us-east-1]\nResources:\n  Bare:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: Retain\n    UpdateReplacePolicy: Retain\n  Partial:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: Retain\n    UpdateReplacePolicy: Retain\n    Properties:\n      BillingMode: PAY_PER_REQUEST # on demand\n      DeletionProtectionEnabled: !If [IsProd, true, false]\n      PointInTimeRecoverySpecification:\n        RecoveryPeriodInDays: 7\n";

#[test]
fn protection_fixes_are_unsafe_and_not_applied_by_fix_alone() {
    let (_, after) = fix("t.yaml", UNGUARDED, &[]);
    assert_eq!(after, UNGUARDED);
}

#[test]
fn unsafe_fixes_enable_deletion_protection_and_recovery_keeping_the_rest() {
    let (code, after) = fix("t.yaml", UNGUARDED, &["--unsafe-fixes"]);
    assert_eq!(code, 0);
    assert_eq!(
        after,
        "Conditions:\n  IsProd: !Equals [!Ref \"AWS::Region\", us-east-1]\nResources:\n  Bare:\n    Type: AWS::DynamoDB::Table\n    Properties: {DeletionProtectionEnabled: true, PointInTimeRecoverySpecification: {PointInTimeRecoveryEnabled: true}}\n    DeletionPolicy: Retain\n    UpdateReplacePolicy: Retain\n  Partial:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: Retain\n    UpdateReplacePolicy: Retain\n    Properties:\n      BillingMode: PAY_PER_REQUEST # on demand\n      DeletionProtectionEnabled: true\n      PointInTimeRecoverySpecification:\n        RecoveryPeriodInDays: 7\n        PointInTimeRecoveryEnabled: true\n"
    );
    let (_, report) = check_one("t.yaml", &after);
    assert_eq!(report["summary"]["findings"], 0, "{report}");
}

#[test]
fn unsafe_fix_replaces_a_false_recovery_flag_in_json() {
    let text = "{\"Resources\": {\"T\": {\"Type\": \"AWS::DynamoDB::Table\", \"DeletionPolicy\": \"Retain\",\n  \"UpdateReplacePolicy\": \"Retain\", \"Properties\": {\"DeletionProtectionEnabled\": true,\n  \"PointInTimeRecoverySpecification\": {\"PointInTimeRecoveryEnabled\": \"false\"}}}}}\n";
    let (_, after) = fix("t.json", text, &["--unsafe-fixes"]);
    assert_eq!(after, text.replace("\"false\"", "true"));
}

#[test]
fn global_table_replicas_get_no_fix() {
    let text = global_table("        - Region: us-east-1\n");
    let (_, after) = fix("t.yaml", &text, &["--unsafe-fixes"]);
    assert_eq!(after, text);
}

// ---------------------------------------------------------------------------------------
// DDB010 / DDB011 / DDB012: IAM

/// A template with a retained, protected table `Orders` (so table rules stay quiet), an
/// SQS queue, and the given IAM resources (indented by 2).
fn iam(resources: &str) -> String {
    format!(
        "Conditions:\n  IsProd: !Equals [!Ref \"AWS::Region\", us-east-1]\nResources:\n  Orders:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: Retain\n    UpdateReplacePolicy: Retain\n    Properties:\n      DeletionProtectionEnabled: true\n      PointInTimeRecoverySpecification: {{PointInTimeRecoveryEnabled: true}}\n  Queue:\n    Type: AWS::SQS::Queue\n{resources}"
    )
}

const IAM_LINE: u64 = 13;

/// An `AWS::IAM::Policy` named `P` whose statement list is `statements` (indented by 10).
fn policy(statements: &str) -> String {
    iam(&format!(
        "  P:\n    Type: AWS::IAM::Policy\n    Properties:\n      PolicyName: app\n      Roles: [app]\n      PolicyDocument:\n        Statement:\n{statements}"
    ))
}

fn allow(action: &str, resource: &str) -> String {
    format!("          - Effect: Allow\n            Action: {action}\n            Resource: {resource}\n")
}

#[test]
fn star_action_on_star_resource_grants_delete_table_at_the_action() {
    let text = policy(&allow("\"*\"", "\"*\""));
    let (code, report) = check_one("t.yaml", &text);
    assert_eq!(code, 0, "a warning does not fail the run");
    let hits = rule_hits(&report, "DDB010");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].0, "P");
    assert_eq!((hits[0].1, hits[0].2), (IAM_LINE + 8, 21));
    assert!(
        hits[0]
            .3
            .starts_with("policy `app` allows `dynamodb:DeleteTable` on `*`"),
        "{}",
        hits[0].3
    );
    let finding = common::findings(&report)
        .into_iter()
        .find(|f| f["rule"] == "DDB010")
        .unwrap_or_default();
    assert_eq!(finding["resource_type"], "AWS::IAM::Policy");
}

#[test]
fn action_wildcards_and_case_follow_iam() {
    for action in [
        "dynamodb:*",
        "dynamodb:Delete*",
        "DynamoDB:deletetable",
        "dynamodb:Delete?able",
        "\"*:*\"",
    ] {
        assert_eq!(
            hits("DDB010", &policy(&allow(action, "\"*\""))).len(),
            1,
            "{action}"
        );
    }
    for action in [
        "dynamodb:DeleteItem",
        "dynamodb:Describe*",
        "dynamodb:Delete?",
        "s3:*",
    ] {
        assert!(
            hits("DDB010", &policy(&allow(action, "\"*\""))).is_empty(),
            "{action}"
        );
    }
}

#[test]
fn the_offending_action_in_a_list_is_labelled() {
    let text = policy(&allow("[dynamodb:GetItem, dynamodb:Delete*]", "\"*\""));
    let (_, report) = check_one("t.yaml", &text);
    let finding = common::findings(&report)
        .into_iter()
        .find(|f| f["rule"] == "DDB010")
        .unwrap_or_default();
    assert_eq!(
        (finding["line"].as_u64(), finding["column"].as_u64()),
        (Some(IAM_LINE + 8), Some(40))
    );
    assert_eq!(finding["end_column"], 56);
}

#[test]
fn single_statement_mapping_and_string_action_are_read() {
    let text = iam("  P:\n    Type: AWS::IAM::ManagedPolicy\n    Properties:\n      PolicyDocument:\n        Statement:\n          Effect: Allow\n          Action: dynamodb:DeleteTable\n          Resource: arn:aws:dynamodb:*:*:table/*\n");
    let hits = hits("DDB010", &text);
    assert_eq!(hits.len(), 1);
    assert!(hits[0].3.contains("policy `P`"), "{}", hits[0].3);
}

#[test]
fn inline_policies_of_roles_users_and_groups_are_checked() {
    for kind in ["Role", "User", "Group"] {
        let text = iam(&format!(
            "  P:\n    Type: AWS::IAM::{kind}\n    Properties:\n      Policies:\n        - PolicyName: inline\n          PolicyDocument:\n            Statement:\n              - Effect: Allow\n                Action: dynamodb:*\n                Resource: !GetAtt Orders.Arn\n"
        ));
        let hits = hits("DDB010", &text);
        assert_eq!(hits.len(), 1, "{kind}");
        assert!(hits[0].3.contains("policy `inline`"), "{}", hits[0].3);
    }
}

#[test]
fn sam_function_inline_policy_documents_are_checked() {
    let text = iam("  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: app.handler\n      Policies:\n        - DynamoDBCrudPolicy:\n            TableName: !Ref Orders\n        - AWSLambdaBasicExecutionRole\n        - Statement:\n            - Effect: Allow\n              Action: dynamodb:DeleteTable\n              Resource: !GetAtt Orders.Arn\n");
    let hits = hits("DDB010", &text);
    assert_eq!(hits.len(), 1);
    assert_eq!((hits[0].0.as_str(), hits[0].1), ("Fn", IAM_LINE + 10));
    let single = iam("  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Policies:\n        Statement:\n          Effect: Allow\n          Action: \"*\"\n          Resource: \"*\"\n");
    assert_eq!(
        hits_in(&single, "DDB010").len(),
        1,
        "a single document, not a list"
    );
    let templates_only = iam("  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Policies:\n        - DynamoDBCrudPolicy: {TableName: !Ref Orders}\n");
    assert!(hits_in(&templates_only, "DDB010").is_empty());
}

#[test]
fn not_action_grants_what_it_does_not_list() {
    let text = policy("          - Effect: Allow\n            NotAction: [iam:*, s3:*]\n            Resource: \"*\"\n");
    let (_, report) = check_one("t.yaml", &text);
    let hits = rule_hits(&report, "DDB010");
    assert_eq!(hits.len(), 1);
    assert_eq!(
        (hits[0].1, hits[0].2),
        (IAM_LINE + 8, 13),
        "at the NotAction key"
    );
    assert_eq!(rule_hits(&report, "DDB011").len(), 1);
    let listed = policy("          - Effect: Allow\n            NotAction: dynamodb:Delete*\n            Resource: \"*\"\n");
    assert!(hits_in(&listed, "DDB010").is_empty());
}

fn hits_in(text: &str, rule: &str) -> Vec<Hit> {
    hits(rule, text)
}

#[test]
fn deny_in_the_same_document_wins() {
    let deny = "          - Effect: Deny\n            Action: dynamodb:DeleteTable\n            Resource: \"*\"\n";
    let text = policy(&format!("{}{deny}", allow("dynamodb:*", "\"*\"")));
    assert!(hits("DDB010", &text).is_empty());
    // The deny covers DeleteTable only: DeleteBackup is still granted.
    assert_eq!(hits("DDB011", &text).len(), 1);
}

#[test]
fn deny_only_under_a_condition_does_not_cancel_an_unconditional_allow() {
    let deny = "          - !If\n            - IsProd\n            - Effect: Deny\n              Action: dynamodb:DeleteTable\n              Resource: \"*\"\n            - !Ref AWS::NoValue\n";
    let text = policy(&format!("{}{deny}", allow("dynamodb:*", "\"*\"")));
    assert_eq!(hits("DDB010", &text).len(), 1);
    // The other way round: an Allow under a condition, a Deny always.
    let allow_if = "          - !If\n            - IsProd\n            - Effect: Allow\n              Action: \"*\"\n              Resource: \"*\"\n            - !Ref AWS::NoValue\n          - Effect: Deny\n            Action: dynamodb:DeleteTable\n            Resource: \"*\"\n";
    assert!(hits("DDB010", &policy(allow_if)).is_empty());
}

#[test]
fn deny_with_an_iam_condition_does_not_win() {
    let deny = "          - Effect: Deny\n            Action: dynamodb:DeleteTable\n            Resource: \"*\"\n            Condition: {Bool: {aws:MultiFactorAuthPresent: false}}\n";
    let text = policy(&format!("{}{deny}", allow("dynamodb:*", "\"*\"")));
    assert_eq!(hits("DDB010", &text).len(), 1);
}

#[test]
fn deny_on_a_narrower_resource_does_not_win() {
    let deny = "          - Effect: Deny\n            Action: dynamodb:DeleteTable\n            Resource: arn:aws:dynamodb:*:*:table/Orders\n";
    let text = policy(&format!("{}{deny}", allow("dynamodb:*", "\"*\"")));
    assert_eq!(hits("DDB010", &text).len(), 1);
    let deny = "          - Effect: Deny\n            Action: dynamodb:Delete*\n            Resource: arn:*:dynamodb:*\n";
    let text = policy(&format!("{}{deny}", allow("dynamodb:*", "\"*\"")));
    assert!(
        hits("DDB010", &text).is_empty(),
        "a deny on every DynamoDB ARN covers tables"
    );
}

#[test]
fn resources_that_cannot_be_tables_are_not_findings() {
    for resource in [
        "arn:aws:s3:::bucket/*",
        "arn:aws:dynamodb:*:*:table/Orders/stream/*",
        "arn:aws:dynamodb:*:*:table/Orders/index/*",
        "!GetAtt Queue.Arn",
        "!Ref Queue",
        "!Sub \"${Orders.Arn}/index/*\"",
    ] {
        assert!(
            hits("DDB010", &policy(&allow("\"*\"", resource))).is_empty(),
            "{resource}"
        );
    }
}

#[test]
fn resources_built_from_a_table_in_the_template_are_tables() {
    for resource in [
        "!GetAtt Orders.Arn",
        "!GetAtt [Orders, Arn]",
        "!Sub \"${Orders.Arn}\"",
        "!Sub \"arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${Orders}\"",
        "!Join [\"\", [\"arn:aws:dynamodb:\", !Ref \"AWS::Region\", \":\", !Ref \"AWS::AccountId\", \":table/\", !Ref Orders]]",
        "!Sub [\"arn:aws:dynamodb:*:*:table/${T}\", {T: !Ref Orders}]",
        "!ImportValue shared-table-arn",
    ] {
        assert_eq!(hits("DDB010", &policy(&allow("dynamodb:DeleteTable", resource))).len(), 1, "{resource}");
    }
}

#[test]
fn not_resource_grants_unless_it_excludes_every_table() {
    let stmt = |not: &str| {
        policy(&format!("          - Effect: Allow\n            Action: dynamodb:DeleteTable\n            NotResource: {not}\n"))
    };
    let hits_s3 = hits("DDB010", &stmt("arn:aws:s3:::*"));
    assert_eq!(hits_s3.len(), 1);
    assert!(
        hits_s3[0]
            .3
            .contains("every resource that `NotResource` does not exclude"),
        "{}",
        hits_s3[0].3
    );
    assert!(hits("DDB010", &stmt("\"arn:*:dynamodb:*:*:table/*\"")).is_empty());
}

#[test]
fn statement_chosen_by_if_is_a_finding_under_its_condition() {
    let text = policy("          - !If\n            - IsProd\n            - !Ref AWS::NoValue\n            - Effect: Allow\n              Action: \"*\"\n              Resource: \"*\"\n");
    let hits = hits("DDB010", &text);
    assert_eq!(hits.len(), 1);
    assert!(
        hits[0].3.contains("when condition `IsProd` is false"),
        "{}",
        hits[0].3
    );
}

#[test]
fn action_chosen_by_if_is_evaluated() {
    let text = policy(&allow(
        "!If [IsProd, dynamodb:GetItem, dynamodb:DeleteTable]",
        "\"*\"",
    ));
    let hits = hits("DDB010", &text);
    assert_eq!(hits.len(), 1);
    assert!(
        hits[0].3.contains("when condition `IsProd` is false"),
        "{}",
        hits[0].3
    );
    let text = policy(&allow(
        "!If [IsProd, [dynamodb:GetItem], [dynamodb:Query]]",
        "\"*\"",
    ));
    assert!(hits_in(&text, "DDB010").is_empty());
}

#[test]
fn long_action_lists_are_read_item_by_item() {
    let mut actions: Vec<String> = (0..150).map(|i| format!("s3:Action{i}")).collect();
    let narrow = policy(&allow(&format!("[{}]", actions.join(", ")), "\"*\""));
    assert!(
        hits("DDB010", &narrow).is_empty(),
        "150 harmless actions are no finding"
    );
    actions.push("dynamodb:DeleteTable".into());
    let wide = policy(&allow(&format!("[{}]", actions.join(", ")), "\"*\""));
    let found = hits("DDB010", &wide);
    assert_eq!(found.len(), 1);
    assert!(
        found[0].3.starts_with("policy `app` allows"),
        "{}",
        found[0].3
    );
}

#[test]
fn statements_that_cannot_be_resolved_may_grant() {
    let text = iam("  P:\n    Type: AWS::IAM::ManagedPolicy\n    Properties:\n      PolicyDocument:\n        Statement: !Split [\",\", x]\n");
    let found = hits("DDB010", &text);
    assert_eq!(found.len(), 1);
    assert!(found[0].3.contains("may allow"), "{}", found[0].3);
}

#[test]
fn service_control_policies_never_grant() {
    let text = iam("  Scp:\n    Type: AWS::Organizations::Policy\n    Properties:\n      Name: all\n      Type: SERVICE_CONTROL_POLICY\n      Content:\n        Statement:\n          - Effect: Allow\n            Action: \"*\"\n            Resource: \"*\"\n  Boundary:\n    Type: AWS::IAM::Policy\n    Properties:\n      PolicyName: b\n      PolicyDocument:\n        Statement:\n          - Effect: Deny\n            Action: \"*\"\n            Resource: \"*\"\n");
    let (code, report) = check_one("t.yaml", &text);
    assert_eq!(code, 0);
    assert_eq!(report["summary"]["findings"], 0, "{report}");
}

#[test]
fn backup_deletions_are_listed_in_one_finding() {
    let text = policy(&allow("backup:Delete*", "\"*\""));
    let hits = hits("DDB011", &text);
    assert_eq!(hits.len(), 1);
    for action in [
        "backup:DeleteRecoveryPoint",
        "backup:DeleteBackupVault",
        "backup:DeleteBackupSelection",
        "backup:DeleteBackupPlan",
    ] {
        assert!(hits[0].3.contains(action), "{action}: {}", hits[0].3);
    }
    assert!(
        !hits[0].3.contains("dynamodb:DeleteBackup"),
        "{}",
        hits[0].3
    );
}

#[test]
fn delete_backup_needs_a_resource_that_can_be_a_backup() {
    // The table's own ARN is not one of its backups.
    assert!(hits(
        "DDB011",
        &policy(&allow("dynamodb:*", "!GetAtt Orders.Arn"))
    )
    .is_empty());
    let on_backups = policy(&allow(
        "dynamodb:DeleteBackup",
        "!Sub \"${Orders.Arn}/backup/*\"",
    ));
    assert_eq!(hits("DDB011", &on_backups).len(), 1);
    let on_vault = policy(&allow(
        "backup:DeleteBackupVault",
        "arn:aws:backup:*:*:backup-vault:orders",
    ));
    assert_eq!(hits("DDB011", &on_vault).len(), 1);
    let on_plan = policy(&allow(
        "backup:DeleteBackupVault",
        "arn:aws:backup:*:*:backup-plan:*",
    ));
    assert!(
        hits("DDB011", &on_plan).is_empty(),
        "a plan ARN is not a vault"
    );
}

#[test]
fn update_table_is_off_by_default() {
    let text = policy(&allow("dynamodb:UpdateTable", "\"*\""));
    let (code, report) = check_one("t.yaml", &text);
    assert_eq!(code, 0);
    assert!(rule_hits(&report, "DDB012").is_empty());
    assert_eq!(report["summary"]["findings"], 0, "{report}");
}

/// Check `text` with only `codes` enabled, through the library's per-file pipeline.
fn check_with(codes: &[&str], name: &str, text: &str) -> ddb_guard::report::data::FileReport {
    let settings = Settings {
        rules: codes.iter().filter_map(|c| rules::find(c)).collect(),
        ..Settings::default()
    };
    assert_eq!(settings.rules.len(), codes.len(), "every code is a rule");
    Checker::new(settings).check_bytes(name, &PathBuf::from(name), text.as_bytes())
}

#[test]
fn update_table_is_found_when_selected() {
    let report = check_with(
        &["DDB012"],
        "t.yaml",
        &policy(&allow("dynamodb:Update*", "\"*\"")),
    );
    assert_eq!(report.findings.len(), 1);
    assert_eq!(report.findings[0].code, "DDB012");
    assert!(
        report.findings[0]
            .message
            .contains("`dynamodb:UpdateTable`"),
        "{}",
        report.findings[0].message
    );
    let narrow = check_with(
        &["DDB012"],
        "t.yaml",
        &policy(&allow("dynamodb:UpdateItem", "\"*\"")),
    );
    assert!(narrow.findings.is_empty());
}

#[test]
fn guardrail_rules_are_on_by_default_except_update_table() {
    let defaults: Vec<&str> = Settings::default().rules.iter().map(|r| r.code).collect();
    for code in ["DDB003", "DDB004", "DDB010", "DDB011"] {
        assert!(defaults.contains(&code), "{code} in {defaults:?}");
    }
    assert!(!defaults.contains(&"DDB012"));
    assert!(rules::find("DDB012").is_some_and(|r| !r.default_enabled));
}

// ---------------------------------------------------------------------------------------
// Prefilter soundness

/// A policy that grants everything and mentions neither DynamoDB nor AWS Backup.
const WILDCARD_ONLY: &str = "Resources:\n  Admin:\n    Type: AWS::IAM::ManagedPolicy\n    Properties:\n      PolicyDocument:\n        Statement:\n          - Effect: Allow\n            NotAction: iam:*\n            Resource: \"*\"\n";

#[test]
fn wildcard_only_policy_is_not_skipped_by_the_prefilter() {
    assert!(!WILDCARD_ONLY.to_ascii_lowercase().contains("dynamodb"));
    assert!(!WILDCARD_ONLY.to_ascii_lowercase().contains("backup"));
    let (_, report) = check_one("t.yaml", WILDCARD_ONLY);
    assert_eq!(report["summary"]["skipped"], 0);
    assert_eq!(rule_hits(&report, "DDB010").len(), 1);
    assert_eq!(rule_hits(&report, "DDB011").len(), 1);
}

#[test]
fn escaped_iam_type_is_not_skipped_by_the_prefilter() {
    // `\u0049` is `I`: the bytes never spell `AWS::IAM::` nor DynamoDB.
    let text = r#"{"Resources": {"P": {"Type": "AWS::\u0049AM::Policy", "Properties": {"PolicyName": "p",
  "PolicyDocument": {"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}}}}}"#;
    let (_, report) = check_one("t.json", text);
    assert_eq!(report["summary"]["skipped"], 0);
    assert_eq!(rule_hits(&report, "DDB010").len(), 1);
}

#[test]
fn wildcard_only_sam_function_policy_is_not_skipped_by_the_prefilter() {
    let text = "Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Policies:\n        - Statement:\n            - Effect: Allow\n              NotAction: s3:*\n              Resource: \"*\"\n";
    assert!(!text.to_ascii_lowercase().contains("dynamodb"));
    assert!(!text.to_ascii_lowercase().contains("aws::iam::"));
    let (_, report) = check_one("t.yaml", text);
    assert_eq!(report["summary"]["skipped"], 0);
    assert_eq!(rule_hits(&report, "DDB010").len(), 1);
}

#[test]
fn selecting_only_table_rules_skips_an_iam_only_file() {
    let report = check_with(&["DDB001", "DDB003"], "t.yaml", WILDCARD_ONLY);
    assert_eq!(report.status, Status::Skipped);
    let report = check_with(&["DDB010"], "t.yaml", WILDCARD_ONLY);
    assert!(matches!(report.status, Status::Checked { .. }));
    assert_eq!(report.findings.len(), 1);
}

// ---------------------------------------------------------------------------------------
// Human output

fn fixtures() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn human_report_on_the_guardrail_fixture() {
    let output = ddb_guard()
        .current_dir(fixtures())
        .args(["check", "tests/fixtures/guardrails/stack.yaml"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(0), "warnings only");
    let text = String::from_utf8_lossy(&output.stdout);
    insta::with_settings!({filters => vec![(r" in \d+\.\d+s", " in [elapsed]")]}, {
        insta::assert_snapshot!("human_guardrails", text);
    });
}

#[test]
fn json_report_on_the_guardrail_example_lists_every_guardrail_rule() {
    let (code, report) = check_json(fixtures(), &["templates-examples/guardrails"]);
    assert_eq!(code, 0);
    let mut codes: Vec<String> = common::findings(&report)
        .iter()
        .map(|f| f["rule"].as_str().unwrap_or_default().to_string())
        .collect();
    codes.sort();
    codes.dedup();
    assert_eq!(codes, ["DDB003", "DDB004", "DDB010", "DDB011"]);
}

/// Every policy-bearing type the IAM rules read, granting `"*"` in the shape the rule reads
/// it: its file must survive the prefilter (whose groups are narrower than "any IAM type").
#[test]
fn every_identity_document_type_passes_the_prefilter_with_a_wildcard_grant() {
    use ddb_guard::model::iam::{Where, IDENTITY_DOCUMENTS};
    const STATEMENT: &str =
        "Statement:\n  - Effect: Allow\n    Action: \"*\"\n    Resource: \"*\"\n";
    let indent = |text: &str, by: usize| -> String {
        text.lines()
            .map(|l| format!("{}{l}\n", " ".repeat(by)))
            .collect()
    };
    for (type_name, place) in IDENTITY_DOCUMENTS {
        let properties = match place {
            Where::PolicyDocument => {
                format!("PolicyName: p\nPolicyDocument:\n{}", indent(STATEMENT, 2))
            }
            Where::InlinePolicies => format!(
                "Policies:\n  - PolicyName: p\n    PolicyDocument:\n{}",
                indent(STATEMENT, 6)
            ),
            Where::SamPolicies => format!("Policies:\n  - {}", indent(STATEMENT, 4).trim_start()),
            Where::InlinePolicy => format!("InlinePolicy:\n{}", indent(STATEMENT, 2)),
            Where::ResourcePolicy => format!(
                "ResourcePolicy:\n  PolicyDocument:\n{}",
                indent(STATEMENT, 4)
            ),
            Where::ReplicaResourcePolicies => format!(
                "Replicas:\n  - Region: us-east-1\n    ResourcePolicy:\n      PolicyDocument:\n{}",
                indent(STATEMENT, 8)
            ),
        };
        let text = format!(
            "Resources:\n  Grant:\n    Type: {type_name}\n    Properties:\n{}",
            indent(&properties, 6)
        );
        let report = check_with(&["DDB010"], "t.yaml", &text);
        assert!(
            matches!(report.status, Status::Checked { .. }),
            "{type_name} was skipped:\n{text}"
        );
        assert_eq!(report.findings.len(), 1, "{type_name}:\n{text}");
    }
}

#[test]
fn a_role_without_inline_policies_is_not_reported_by_the_iam_rules() {
    // Trust policy and managed policy ARNs only: nothing the IAM rules read. (The file is
    // parsed: a file that holds `Statement` may be a policy file, issue 22.)
    let text = "Resources:\n  Role:\n    Type: AWS::IAM::Role\n    Properties:\n      AssumeRolePolicyDocument:\n        Statement:\n          - Effect: Allow\n            Principal: {Service: lambda.amazonaws.com}\n            Action: \"sts:AssumeRole\"\n      ManagedPolicyArns: [arn:aws:iam::aws:policy/ReadOnlyAccess]\n";
    let report = check_with(&["DDB010", "DDB011"], "t.yaml", text);
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    // Without `Statement`, a role's managed policies are still read (an AWS managed
    // policy such as `AdministratorAccess` grants), and `ReadOnlyAccess` grants nothing.
    let text = "Resources:\n  Role:\n    Type: AWS::IAM::Role\n    Properties:\n      ManagedPolicyArns: [arn:aws:iam::aws:policy/ReadOnlyAccess]\n";
    let report = check_with(&["DDB010", "DDB011"], "t.yaml", text);
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    let admin = text.replace("ReadOnlyAccess", "AdministratorAccess");
    let report = check_with(&["DDB010"], "t.yaml", &admin);
    assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
    // Without `Statement` or managed policies, the IAM rules cannot fire: not parsed.
    let text = "Resources:\n  Role:\n    Type: AWS::IAM::Role\n    Properties:\n      Path: /\n";
    let report = check_with(&["DDB010", "DDB011"], "t.yaml", text);
    assert_eq!(report.status, Status::Skipped);
}

/// Whether a rule runs on a file depends on its own needles only: an untyped resource in a
/// file parsed for its IAM policy is not DDB008's business unless the file names a table
/// type, as DDB008's documentation says.
#[test]
fn a_rule_runs_only_on_files_that_hold_its_own_needles() {
    let iam_only = format!("{WILDCARD_ONLY}  Untyped:\n    Properties: {{}}\n");
    let report = check_with(&["DDB008", "DDB010"], "t.yaml", &iam_only);
    let codes: Vec<&str> = report.findings.iter().map(|f| f.code).collect();
    assert_eq!(codes, ["DDB010"], "{codes:?}");
    let with_table = format!("# an AWS::DynamoDB::Table lives elsewhere\n{iam_only}");
    let report = check_with(&["DDB008", "DDB010"], "t.yaml", &with_table);
    let mut codes: Vec<&str> = report.findings.iter().map(|f| f.code).collect();
    codes.sort_unstable();
    assert_eq!(codes, ["DDB008", "DDB010"], "{codes:?}");
}

/// `!GetAtt X.Outputs.Y` of a nested application or provisioned product (and any attribute
/// the model cannot type) can be a table's ARN: a grant on it is a finding. Only a plain
/// `...Arn` attribute of another service's resource narrows a grant away.
#[test]
fn an_attribute_the_model_cannot_type_can_be_a_table_arn() {
    let nested = "  App:\n    Type: AWS::Serverless::Application\n    Properties:\n      Location: {ApplicationId: app, SemanticVersion: 1.0.0}\n  Product:\n    Type: AWS::ServiceCatalog::CloudFormationProvisionedProduct\n    Properties:\n      ProductName: p\n  Custom:\n    Type: Custom::Tables\n    Properties:\n      ServiceToken: arn:aws:lambda:us-east-1:123456789012:function:f\n  Backups:\n    Type: AWS::Backup::BackupVault\n    Properties:\n      BackupVaultName: v\n";
    let with = |resource: &str| {
        let text = policy(&allow("dynamodb:DeleteTable", resource));
        let at = text.find("  P:\n").unwrap_or(text.len());
        let text = format!("{}{nested}{}", &text[..at], &text[at..]);
        hits("DDB010", &text)
    };
    for unknown in [
        "!GetAtt App.Outputs.TableArn",
        "!GetAtt [App, Outputs.TableArn]",
        "!Sub '${App.Outputs.TableArn}'",
        "!GetAtt Product.Outputs.TableArn",
        "!GetAtt Custom.TableArn",
        "!GetAtt Backups.SomeOtherArn",
    ] {
        let found = with(unknown);
        assert_eq!(found.len(), 1, "{unknown}: {found:?}");
    }
    for foreign in ["!GetAtt Queue.Arn", "!Sub '${Queue.Arn}'"] {
        assert!(with(foreign).is_empty(), "{foreign}");
    }
}
