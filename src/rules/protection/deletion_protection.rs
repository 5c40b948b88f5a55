//! DDB003 deletion-protection
//!
//! ## What it checks
//! `DeletionProtectionEnabled` must be provably true on every `AWS::DynamoDB::Table` and on
//! every replica of every `AWS::DynamoDB::GlobalTable` (`Replicas[].DeletionProtectionEnabled`;
//! all replicas, not only the first). `true` and `"true"` (any case) prove it, as do the YAML
//! 1.1 booleans `yes` and `on` written unquoted. `Fn::If` branches, parameter
//! `AllowedValues` and mapping entries are followed as for DDB001; a value that cannot be
//! resolved before deployment proves nothing. `AWS::Serverless::SimpleTable` has no such
//! property, so a SimpleTable is always a finding.
//!
//! ## Why it matters
//! `DeletionPolicy: Retain` protects a table from CloudFormation; deletion protection
//! protects it from everyone else. With it enabled, DynamoDB rejects every `DeleteTable`
//! call (the console, the CLI, a script, another stack that takes the table over) until
//! someone first turns it off, which is a separate, auditable `UpdateTable`. The property
//! defaults to false, and a global table's replicas are protected one by one.
//!
//! The rule can only fire on a file that names a DynamoDB table type, so its prefilter
//! patterns are `dynamodb` and `simpletable`.
//!
//! ## Example
//! ```yaml
//! OrdersTable:
//!   Type: AWS::DynamoDB::Table
//!   DeletionPolicy: Retain
//!   UpdateReplacePolicy: Retain
//!   Properties:
//!     DeletionProtectionEnabled: !If [IsProd, true, false]
//! ```
//!
//! ## Use instead
//! ```yaml
//! OrdersTable:
//!   Type: AWS::DynamoDB::Table
//!   DeletionPolicy: Retain
//!   UpdateReplacePolicy: Retain
//!   Properties:
//!     DeletionProtectionEnabled: true
//! ```
//!
//! ## Fix safety
//! Unsafe (`--fix --unsafe-fixes`): on an `AWS::DynamoDB::Table` the fix sets
//! `DeletionProtectionEnabled: true`, adding it (and `Properties`, if missing) or replacing
//! the value, a conditional one included. It is unsafe because tear-down scripts and test
//! stacks must then turn protection off before they delete the table, and because it
//! overrules a per-environment choice. Replicas of a global table and SimpleTables get no
//! fix. Changing the property is an in-place update, never a replacement.

use super::flag::{check_flag, flag_state, FlagSpec};
use crate::finding::{Finding, Severity};
use crate::rules::layers::LayerState;
use crate::rules::{Check, ResourceView, Rule};

pub const RULE: Rule = Rule {
    code: "DDB003",
    name: "deletion-protection",
    severity: Severity::Warning,
    summary:
        "DynamoDB table must have DeletionProtectionEnabled true on the table and every replica",
    needles: &[&["dynamodb"], &["simpletable"]],
    default_enabled: true,
    per_table: true,
    check: Check::Resource(check),
    source: include_str!("deletion_protection.rs"),
};

const SPEC: FlagSpec = FlagSpec {
    path: &["DeletionProtectionEnabled"],
    consequence: "any principal allowed `dynamodb:DeleteTable` can delete the table and its data",
    fix: "DeletionProtectionEnabled: true",
    simple_table: Some("SAM has no deletion protection for it"),
};

fn check(view: &ResourceView) -> Vec<Finding> {
    check_flag(view, &RULE, &SPEC)
}

/// The layer as this rule decides it (for the inventory).
pub(in crate::rules) fn state(view: &ResourceView) -> LayerState {
    flag_state(view, &SPEC)
}
