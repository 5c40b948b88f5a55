//! DDB004 point-in-time-recovery
//!
//! ## What it checks
//! `PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled` must be provably true on
//! every `AWS::DynamoDB::Table`, every `AWS::Serverless::SimpleTable` (SAM passes the
//! property through to the table it creates), and every replica of every
//! `AWS::DynamoDB::GlobalTable` (all replicas, not only the first). Booleans, `Fn::If`
//! branches, parameters and mappings are evaluated as for DDB003; a value that cannot be
//! resolved before deployment proves nothing.
//!
//! ## Why it matters
//! Retention and deletion protection keep the table; point-in-time recovery keeps its data.
//! Without it, items deleted or overwritten by a bad deploy, a bug or a mistaken script are
//! gone: PITR restores a table to any second of the recovery period (35 days by default),
//! and a deleted table with PITR enabled leaves a system backup behind. It is off by default,
//! and each replica of a global table has its own setting.
//!
//! The rule can only fire on a file that names a DynamoDB table type, so its prefilter
//! patterns are `dynamodb` and `simpletable`.
//!
//! ## Example
//! ```yaml
//! OrdersTable:
//!   Type: AWS::DynamoDB::GlobalTable
//!   Properties:
//!     Replicas:
//!       - Region: eu-west-1
//!         PointInTimeRecoverySpecification:
//!           PointInTimeRecoveryEnabled: true
//!       - Region: us-east-1
//! ```
//!
//! ## Use instead
//! ```yaml
//! OrdersTable:
//!   Type: AWS::DynamoDB::GlobalTable
//!   Properties:
//!     Replicas:
//!       - Region: eu-west-1
//!         PointInTimeRecoverySpecification:
//!           PointInTimeRecoveryEnabled: true
//!       - Region: us-east-1
//!         PointInTimeRecoverySpecification:
//!           PointInTimeRecoveryEnabled: true
//! ```
//!
//! ## Fix safety
//! Unsafe (`--fix --unsafe-fixes`): on an `AWS::DynamoDB::Table` or a SimpleTable the fix
//! sets `PointInTimeRecoveryEnabled: true`, inside an existing
//! `PointInTimeRecoverySpecification` mapping (its `RecoveryPeriodInDays` is kept) or as a
//! new one. It is unsafe because point-in-time recovery is billed by table size, and
//! because it overrules a conditional value. Replicas of a global table get no fix.
//! Changing the property is an in-place update, never a replacement.

use super::flag::{check_flag, flag_state, FlagSpec};
use crate::finding::{Finding, Severity};
use crate::rules::layers::LayerState;
use crate::rules::{Check, ResourceView, Rule};

pub const RULE: Rule = Rule {
    code: "DDB004",
    name: "point-in-time-recovery",
    severity: Severity::Warning,
    summary:
        "DynamoDB table must have point-in-time recovery enabled on the table and every replica",
    needles: &[&["dynamodb"], &["simpletable"]],
    default_enabled: true,
    per_table: true,
    check: Check::Resource(check),
    source: include_str!("point_in_time_recovery.rs"),
};

const SPEC: FlagSpec = FlagSpec {
    path: &[
        "PointInTimeRecoverySpecification",
        "PointInTimeRecoveryEnabled",
    ],
    consequence: "items deleted or overwritten by mistake cannot be restored",
    fix: "PointInTimeRecoverySpecification: {PointInTimeRecoveryEnabled: true}",
    simple_table: None,
};

fn check(view: &ResourceView) -> Vec<Finding> {
    check_flag(view, &RULE, &SPEC)
}

/// The layer as this rule decides it (for the inventory).
pub(in crate::rules) fn state(view: &ResourceView) -> LayerState {
    flag_state(view, &SPEC)
}
