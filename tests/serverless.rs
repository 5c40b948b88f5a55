//! Serverless Framework `serverless.yml`: `resources.Resources` is a CloudFormation
//! Resources map, checked with exact spans; `${...}` variables stay opaque.

mod common;

use common::{check_json, rule_hits, write};

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
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), name, text);
    check_json(
        dir.path(),
        &[".", "--isolated", "--select", "DDB001,DDB002"],
    )
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
fn a_resources_list_is_merged_and_file_variables_are_opaque() {
    let text = "\
service: orders
resources:
  - ${file(resources/tables.yml)}
  - Resources:
      Orders:
        Type: AWS::DynamoDB::Table
  - Resources: ${file(resources/more.yml)}
";
    let (code, report) = run("serverless.yml", text);
    assert_eq!(code, 1);
    assert_eq!(report["summary"]["tables"], 1);
    let hits = rule_hits(&report, "DDB001");
    assert_eq!((hits[0].1, hits[0].2), (5, 7));
}

#[test]
fn a_serverless_file_without_resources_is_not_a_template() {
    let text = "service: api\nprovider:\n  name: aws\n  iam:\n    role:\n      statements:\n        - Effect: Allow\n          Action: dynamodb:GetItem\n";
    let (code, report) = run("serverless.yml", text);
    assert_eq!(code, 0);
    assert_eq!(report["summary"]["not_templates"], 1);
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
