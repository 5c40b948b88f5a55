//! DDB001 deletion-policy and DDB002 update-replace-policy through the real binary: every
//! case of the Retain proof, with the exact location of each finding.

use crate::common;

use common::{check_one, rule_hits};

/// A template with one table whose attribute lines are `attrs` (indented by 4).
fn table(attrs: &str) -> String {
    format!(
        "Parameters:\n  Free:\n    Type: String\n  Choice:\n    Type: String\n    AllowedValues: [Retain, Delete]\n  OnlyRetain:\n    Type: String\n    AllowedValues: [Retain]\n  Env:\n    Type: String\n    AllowedValues: [prod, dev]\nMappings:\n  Policies:\n    prod: {{Deletion: Retain}}\n    dev: {{Deletion: Delete}}\n  AllRetain:\n    prod: {{Deletion: Retain}}\n    dev: {{Deletion: Retain}}\nConditions:\n  IsProd: !Equals [!Ref Env, prod]\n  Always: !Equals [a, a]\n  Never: !Not [{{Condition: Always}}]\nResources:\n  Orders:\n    Type: AWS::DynamoDB::Table\n{attrs}"
    )
}

const RESOURCE_LINE: u64 = 25;

fn ddb001(attrs: &str) -> Vec<(String, u64, u64, String)> {
    let (_, report) = check_one("t.yaml", &table(attrs));
    rule_hits(&report, "DDB001")
}

fn ddb002(attrs: &str) -> Vec<(String, u64, u64, String)> {
    let (_, report) = check_one("t.yaml", &table(attrs));
    rule_hits(&report, "DDB002")
}

#[test]
fn missing_deletion_policy_points_at_the_logical_id() {
    let hits = ddb001("    UpdateReplacePolicy: Retain\n");
    assert_eq!(hits.len(), 1);
    let (resource, line, column, message) = &hits[0];
    assert_eq!(
        (resource.as_str(), *line, *column),
        ("Orders", RESOURCE_LINE, 3)
    );
    assert!(message.contains("has no DeletionPolicy"), "{message}");
}

#[test]
fn retained_table_has_no_finding_and_exits_zero() {
    let (code, report) = check_one(
        "t.yaml",
        &table("    DeletionPolicy: Retain\n    UpdateReplacePolicy: Retain\n    Properties:\n      DeletionProtectionEnabled: true\n      PointInTimeRecoverySpecification: {PointInTimeRecoveryEnabled: true}\n"),
    );
    assert_eq!(code, 0);
    assert_eq!(report["findings"].as_array().map(Vec::len), Some(0));
    assert_eq!(report["summary"]["tables"], 1);
}

#[test]
fn retain_except_on_create_proves_deletion_policy() {
    assert!(ddb001("    DeletionPolicy: RetainExceptOnCreate\n").is_empty());
}

#[test]
fn delete_literal_is_a_finding_at_the_value() {
    let hits = ddb001("    DeletionPolicy: Delete\n");
    assert_eq!((hits[0].1, hits[0].2), (RESOURCE_LINE + 2, 21));
    assert!(
        hits[0].3.starts_with("DeletionPolicy is `Delete`"),
        "{}",
        hits[0].3
    );
}

#[test]
fn snapshot_is_not_supported_for_dynamodb() {
    let hits = ddb001("    DeletionPolicy: Snapshot\n");
    assert!(
        hits[0]
            .3
            .contains("`Snapshot`, which DynamoDB tables do not support"),
        "{}",
        hits[0].3
    );
    let hits = ddb002("    UpdateReplacePolicy: Snapshot\n");
    assert!(hits[0].3.contains("do not support"), "{}", hits[0].3);
}

#[test]
fn values_are_case_sensitive() {
    let hits = ddb001("    DeletionPolicy: retain\n");
    assert!(
        hits[0]
            .3
            .contains("case-sensitive (did you mean `Retain`?)"),
        "{}",
        hits[0].3
    );
}

#[test]
fn retain_except_on_create_is_not_valid_for_update_replace_policy() {
    let hits = ddb002("    UpdateReplacePolicy: RetainExceptOnCreate\n");
    assert_eq!(hits.len(), 1);
    assert!(
        hits[0].3.contains("valid only for DeletionPolicy"),
        "{}",
        hits[0].3
    );
}

#[test]
fn retain_on_one_if_branch_only_is_a_finding_at_that_branch() {
    let hits = ddb001("    DeletionPolicy: !If [IsProd, Retain, Delete]\n");
    assert_eq!(hits.len(), 1);
    assert_eq!((hits[0].1, hits[0].2), (RESOURCE_LINE + 2, 42));
    assert!(
        hits[0]
            .3
            .contains("`Delete` when condition `IsProd` is false"),
        "{}",
        hits[0].3
    );
}

#[test]
fn retain_on_every_if_branch_is_proven() {
    assert!(ddb001(
        "    DeletionPolicy: !If [IsProd, Retain, !If [Always, RetainExceptOnCreate, Retain]]\n"
    )
    .is_empty());
}

#[test]
fn nested_if_names_both_conditions() {
    let hits = ddb001("    DeletionPolicy: !If [IsProd, Retain, !If [Always, Retain, Delete]]\n");
    assert!(hits.is_empty(), "Always is provably true: {hits:?}");
    let hits = ddb001("    DeletionPolicy: {\"Fn::If\": [IsProd, {\"Fn::If\": [Always, Retain, Retain]}, {\"Fn::If\": [Never, Retain, Delete]}]}\n");
    assert_eq!(hits.len(), 1);
    assert!(
        hits[0]
            .3
            .contains("condition `IsProd` is false and condition `Never` is false"),
        "{}",
        hits[0].3
    );
}

#[test]
fn provably_false_condition_prunes_its_branch() {
    assert!(ddb001("    DeletionPolicy: !If [Never, Delete, Retain]\n").is_empty());
}

#[test]
fn no_value_branch_falls_back_to_delete() {
    let hits = ddb001("    DeletionPolicy: !If [IsProd, Retain, !Ref AWS::NoValue]\n");
    assert!(hits[0].3.contains("AWS::NoValue"), "{}", hits[0].3);
}

#[test]
fn parameter_without_allowed_values_proves_nothing() {
    let hits = ddb001("    DeletionPolicy: !Ref Free\n");
    assert!(
        hits[0].3.contains("parameter `Free` has no AllowedValues"),
        "{}",
        hits[0].3
    );
}

#[test]
fn parameter_allowed_values_are_each_checked() {
    let hits = ddb001("    DeletionPolicy: !Ref Choice\n");
    assert!(
        hits[0].3.contains("when parameter `Choice` is `Delete`"),
        "{}",
        hits[0].3
    );
    assert!(ddb001("    DeletionPolicy: !Ref OnlyRetain\n").is_empty());
}

#[test]
fn find_in_map_over_literal_mappings() {
    let hits = ddb001("    DeletionPolicy: !FindInMap [Policies, !Ref Env, Deletion]\n");
    assert_eq!(hits.len(), 1);
    assert_eq!(
        (hits[0].1, hits[0].2),
        (RESOURCE_LINE + 2, 21),
        "points at the table, not the mapping"
    );
    assert!(
        hits[0].3.contains("parameter `Env` is `dev`"),
        "{}",
        hits[0].3
    );
    assert!(
        ddb001("    DeletionPolicy: !FindInMap [AllRetain, !Ref \"AWS::Region\", Deletion]\n")
            .is_empty()
    );
}

#[test]
fn literal_sub_join_and_select_resolve() {
    assert!(ddb001(
        "    DeletionPolicy: !Sub 'Ret${X}'\n"
            .replace("${X}", "ain")
            .as_str()
    )
    .is_empty());
    assert!(ddb001("    DeletionPolicy: !Sub ['Ret${X}', {X: ain}]\n").is_empty());
    assert!(ddb001("    DeletionPolicy: !Join ['', [Ret, ain]]\n").is_empty());
    assert!(ddb001("    DeletionPolicy: !Select [1, [Delete, Retain]]\n").is_empty());
    let hits = ddb001("    DeletionPolicy: !Select [0, [Delete, Retain]]\n");
    assert_eq!(hits.len(), 1);
}

#[test]
fn unresolvable_intrinsic_cannot_be_proven() {
    let hits = ddb001("    DeletionPolicy: !ImportValue SharedPolicy\n");
    assert!(
        hits[0].3.contains("cannot be proven `Retain`"),
        "{}",
        hits[0].3
    );
}

#[test]
fn deletion_policy_under_properties_gets_its_own_help() {
    let (_, report) = check_one(
        "t.yaml",
        &table("    UpdateReplacePolicy: Retain\n    Properties:\n      DeletionPolicy: Retain\n"),
    );
    let ddb001 = common::findings(&report)
        .into_iter()
        .find(|f| f["rule"] == "DDB001")
        .unwrap_or_default();
    let finding = &ddb001;
    assert_eq!(finding["rule"], "DDB001");
    assert_eq!(
        (finding["line"].as_u64(), finding["column"].as_u64()),
        (Some(RESOURCE_LINE + 4), Some(7))
    );
    assert!(finding["help"]
        .as_str()
        .unwrap_or_default()
        .contains("resource attribute, not a property"));
}

#[test]
fn every_table_type_is_checked_and_types_are_case_sensitive() {
    let text = "Resources:\n  A:\n    Type: AWS::DynamoDB::GlobalTable\n  B:\n    Type: AWS::Serverless::SimpleTable\n  C:\n    Type: AWS::DynamoDB::table\n  D:\n    Type: AWS::S3::Bucket\n";
    let (code, report) = check_one("t.yaml", text);
    assert_eq!(code, 1);
    assert_eq!(report["summary"]["tables"], 2);
    let resources: Vec<_> = rule_hits(&report, "DDB001")
        .into_iter()
        .map(|h| h.0)
        .collect();
    assert_eq!(resources, ["A", "B"]);
    let simple = common::findings(&report)
        .into_iter()
        .find(|f| f["resource"] == "B");
    assert_eq!(
        simple.map(|f| f["resource_type"].clone()),
        Some("AWS::Serverless::SimpleTable".into())
    );
}

#[test]
fn tables_inside_for_each_report_against_the_fragment_key() {
    let text = "Transform: AWS::LanguageExtensions\nResources:\n  Fn::ForEach::Tenants:\n    - Tenant\n    - [a, b]\n    - ${Tenant}Table:\n        Type: AWS::DynamoDB::Table\n        DeletionPolicy: !If [IsA, Retain, Delete]\n        UpdateReplacePolicy: Retain\n";
    let (_, report) = check_one("t.yaml", text);
    let hits = rule_hits(&report, "DDB001");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].0, "${Tenant}Table");
}

#[test]
fn loop_identifier_resolves_to_each_collection_item() {
    let text = "Resources:\n  Fn::ForEach::P:\n    - Policy\n    - [Retain, Delete]\n    - T${Policy}:\n        Type: AWS::DynamoDB::Table\n        DeletionPolicy: !Ref Policy\n        UpdateReplacePolicy: Retain\n";
    let (_, report) = check_one("t.yaml", text);
    let hits = rule_hits(&report, "DDB001");
    assert!(hits[0].3.contains("`Policy` is `Delete`"), "{}", hits[0].3);
}

#[test]
fn json_templates_are_checked_with_exact_positions() {
    let text = "{\n \"Resources\": {\n  \"T\": {\n   \"Type\": \"AWS::DynamoDB::Table\",\n   \"DeletionPolicy\": \"Delete\",\n   \"UpdateReplacePolicy\": \"Retain\"\n  }\n }\n}\n";
    let (_, report) = check_one("stack.template.json", text);
    let hits = rule_hits(&report, "DDB001");
    assert_eq!((hits[0].1, hits[0].2), (5, 22));
    let ddb001 = common::findings(&report)
        .into_iter()
        .find(|f| f["rule"] == "DDB001")
        .unwrap_or_default();
    assert_eq!(ddb001["end_column"], 30);
}

#[test]
fn escaped_table_type_is_not_skipped_by_the_prefilter() {
    let text = r#"{"Resources": {"T": {"Type": "AWS::Dynamo\u0044B::Table"}}}"#;
    let (code, report) = check_one("t.json", text);
    assert_eq!(code, 1);
    assert_eq!(report["summary"]["tables"], 1);
    assert_eq!(rule_hits(&report, "DDB001").len(), 1);
    let yaml = "Resources:\n  T:\n    Type: \"AWS::Dynamo\\x44B::Table\"\n";
    let (_, report) = check_one("t.yaml", yaml);
    assert_eq!(report["summary"]["tables"], 1);
}

#[test]
fn conditions_referring_to_each_other_many_times_per_level_stay_linear() {
    let mut conditions = String::from("Conditions:\n");
    // Eight references per level, fifteen levels: 8^15 evaluations without memoization.
    for i in 0..15 {
        let next = format!("{{Condition: C{}}}", i + 1);
        conditions.push_str(&format!("  C{i}: !Or [{}]\n", vec![next; 8].join(", ")));
    }
    conditions.push_str("  C15: !Equals [a, b]\n  Loop: !Not [{Condition: Loop}]\n");
    let text = format!(
        "{conditions}Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: !If [C0, Delete, Retain]\n    UpdateReplacePolicy: !If [Loop, Retain, Delete]\n"
    );
    let (_, report) = check_one("t.yaml", &text);
    assert!(
        rule_hits(&report, "DDB001").is_empty(),
        "C0 is provably false"
    );
    assert_eq!(
        rule_hits(&report, "DDB002").len(),
        1,
        "a cyclic condition can be either"
    );
}
