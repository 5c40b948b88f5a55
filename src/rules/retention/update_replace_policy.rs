//! DDB002 update-replace-policy
//!
//! ## What it checks
//! Every DynamoDB table must have an `UpdateReplacePolicy` that is `Retain` in every case
//! (every `Fn::If` branch, every allowed parameter value).
//!
//! ## Why it matters
//! When an update requires replacement (a new `TableName`, a changed `KeySchema`, ...),
//! CloudFormation creates a new table and deletes the old one with its data, unless
//! `UpdateReplacePolicy` is `Retain`. `RetainExceptOnCreate` is valid only for
//! `DeletionPolicy`, and `Snapshot` is not supported for DynamoDB.
//!
//! ## Example
//! ```yaml
//! OrdersTable:
//!   Type: AWS::DynamoDB::Table
//!   DeletionPolicy: Retain
//! ```
//!
//! ## Use instead
//! ```yaml
//! OrdersTable:
//!   Type: AWS::DynamoDB::Table
//!   DeletionPolicy: Retain
//!   UpdateReplacePolicy: Retain
//! ```
//!
//! ## Fix safety
//! Inserting a missing `UpdateReplacePolicy: Retain` or replacing a wrong literal is safe;
//! replacing a conditional value is applied only with `--unsafe-fixes`.

use super::policy::{check_policy, policy_state, PolicySpec};
use crate::finding::{Finding, Severity};
use crate::rules::layers::LayerState;
use crate::rules::{Check, ResourceView, Rule};

pub const RULE: Rule = Rule {
    code: "DDB002",
    name: "update-replace-policy",
    severity: Severity::Error,
    summary: "DynamoDB table must have UpdateReplacePolicy Retain in every case",
    needles: &[&["dynamodb"], &["simpletable"]],
    default_enabled: true,
    per_table: true,
    check: Check::Resource(check),
    source: include_str!("update_replace_policy.rs"),
};

pub(in crate::rules) const SPEC: PolicySpec = PolicySpec {
    attribute: "UpdateReplacePolicy",
    retains: &["Retain"],
    consequence:
        "when an update replaces the table, CloudFormation deletes the old table and its data",
    explain,
};

fn explain(value: &str) -> Option<&'static str> {
    match value {
        "RetainExceptOnCreate" => Some("which is valid only for DeletionPolicy"),
        "Snapshot" => Some("which DynamoDB tables do not support"),
        _ => None,
    }
}

fn check(view: &ResourceView) -> Vec<Finding> {
    check_policy(view, &RULE, &SPEC)
}

/// Retained on replace, as this rule decides it (for the inventory).
pub(in crate::rules) fn state(view: &ResourceView) -> LayerState {
    policy_state(view, &SPEC)
}
