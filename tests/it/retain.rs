//! DDB001 deletion-policy and DDB002 update-replace-policy through the real binary: what
//! only the command shows (the exit code, the summary). Every case of the Retain proof,
//! with the exact position and message of each finding, is a fixture of the rule, run in
//! process: `tests/fixtures/rules/DDB001/`, `tests/fixtures/rules/DDB002/`
//! (`src/ruleset/fixtures_test.rs`).

use crate::common;

use common::{check_one, rule_hits};

#[test]
fn retained_table_has_no_finding_and_exits_zero() {
    let (code, report) = check_one(
        "t.yaml",
        "Resources:\n  Orders:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: Retain\n    UpdateReplacePolicy: Retain\n    Properties:\n      DeletionProtectionEnabled: true\n      PointInTimeRecoverySpecification: {PointInTimeRecoveryEnabled: true}\n",
    );
    assert_eq!(code, 0);
    assert_eq!(report["findings"].as_array().map(Vec::len), Some(0));
    assert_eq!(report["summary"]["tables"], 1);
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
