//! DDB001 deletion-policy
//!
//! ## What it checks
//! Every DynamoDB table (`AWS::DynamoDB::Table`, `AWS::DynamoDB::GlobalTable`,
//! `AWS::Serverless::SimpleTable`, also inside `Fn::ForEach`) must have a `DeletionPolicy`
//! that is `Retain` or `RetainExceptOnCreate` in every case: every `Fn::If` branch, every
//! allowed value of a referenced parameter, every mapping entry it can select.
//!
//! ## Why it matters
//! Without `DeletionPolicy`, CloudFormation deletes the table, with all its data, when the
//! stack is deleted or when the resource is removed from the template. `Snapshot` is not
//! supported for DynamoDB tables, and values are case-sensitive (`retain` is invalid).
//!
//! ## Example
//! ```yaml
//! OrdersTable:
//!   Type: AWS::DynamoDB::Table
//!   DeletionPolicy: !If [IsProd, Retain, Delete]
//! ```
//!
//! ## Use instead
//! ```yaml
//! OrdersTable:
//!   Type: AWS::DynamoDB::Table
//!   DeletionPolicy: Retain
//! ```
//!
//! ## Fix safety
//! Inserting a missing `DeletionPolicy: Retain` or replacing a wrong literal is safe.
//! Replacing a conditional (`Fn::If`, `Ref`) value changes intended behaviour and is
//! applied only with `--unsafe-fixes`.

use super::policy::{check_policy, PolicySpec};
use super::{ResourceView, Rule};
use crate::finding::{Finding, Severity};

pub const RULE: Rule = Rule {
    code: "DDB001",
    name: "deletion-policy",
    severity: Severity::Error,
    summary: "DynamoDB table must have DeletionPolicy Retain in every case",
    needles: &["dynamodb", "simpletable"],
    check,
    source: include_str!("deletion_policy.rs"),
};

const SPEC: PolicySpec = PolicySpec {
    attribute: "DeletionPolicy",
    retains: &["Retain", "RetainExceptOnCreate"],
    consequence: "CloudFormation deletes the table and its data when the stack is deleted or the resource is removed",
    explain,
};

fn explain(value: &str) -> Option<&'static str> {
    (value == "Snapshot").then_some("which DynamoDB tables do not support")
}

fn check(view: &ResourceView) -> Vec<Finding> {
    check_policy(view, &RULE, &SPEC)
}
