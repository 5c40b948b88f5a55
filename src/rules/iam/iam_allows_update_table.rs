//! DDB012 iam-allows-update-table
//!
//! ## What it checks
//! Off by default; enable it with `--select DDB012`. Every identity policy in the template
//! (the same resources as DDB010) must not allow `dynamodb:UpdateTable` on a resource that
//! can be a table ARN, unless a `Deny` in the same document takes it back. Matching follows
//! the same IAM semantics as DDB010, and the rule reads the same files.
//!
//! ## Why it matters
//! `UpdateTable` does not delete the table, but it can delete its global secondary indexes,
//! remove replicas of a global table (deleting the data in that Region), turn off streams
//! that downstream consumers depend on, change throughput and billing, and turn off
//! deletion protection, which is the step before a `DeleteTable`. Teams that manage tables
//! only through CloudFormation can enable this rule to keep that power with the stack.
//! It is off by default because many applications legitimately scale their own tables.
//!
//! ## Example
//! ```yaml
//! OpsPolicy:
//!   Type: AWS::IAM::Policy
//!   Properties:
//!     PolicyName: ops
//!     Roles: [!Ref OpsRole]
//!     PolicyDocument:
//!       Statement:
//!         Effect: Allow
//!         Action: dynamodb:Update*
//!         Resource: arn:aws:dynamodb:*:*:table/*
//! ```
//!
//! ## Use instead
//! ```yaml
//! OpsPolicy:
//!   Type: AWS::IAM::Policy
//!   Properties:
//!     PolicyName: ops
//!     Roles: [!Ref OpsRole]
//!     PolicyDocument:
//!       Statement:
//!         Effect: Allow
//!         Action: dynamodb:UpdateItem
//!         Resource: arn:aws:dynamodb:*:*:table/*
//! ```
//!
//! ## Fix safety
//! No automatic fix: narrow the actions, or add a `Deny` for `dynamodb:UpdateTable` to the
//! same policy.

use super::grant::{check_grants, GrantSpec, NEEDLES};
use crate::finding::{Finding, Severity};
use crate::model::iam::UPDATE_TABLE;
use crate::rules::{Check, ResourceView, Rule};

pub const RULE: Rule = Rule {
    code: "DDB012",
    name: "iam-allows-update-table",
    severity: Severity::Warning,
    summary: "IAM policy must not allow dynamodb:UpdateTable on a table (opt-in)",
    needles: NEEDLES,
    default_enabled: false,
    per_table: false,
    check: Check::Resource(check),
    source: include_str!("iam_allows_update_table.rs"),
};

const SPEC: GrantSpec = GrantSpec {
    guarded: &[UPDATE_TABLE],
    target: "a table ARN",
    report_invalid: false,
    consequence: "it can delete indexes and replicas, change streams and throughput, and turn off deletion protection",
    help: "list only the actions the principal needs (e.g. `dynamodb:UpdateItem`, not `dynamodb:Update*`), or scope `Resource` away from tables",
};

fn check(view: &ResourceView) -> Vec<Finding> {
    check_grants(view, &RULE, &SPEC)
}
