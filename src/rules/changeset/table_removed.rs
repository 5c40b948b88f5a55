//! DDB030 changeset-table-removed
//!
//! ## What it checks
//! In a change set (`ddb-guard changeset`), a DynamoDB table (`AWS::DynamoDB::Table`,
//! `AWS::DynamoDB::GlobalTable`) whose `ResourceChange` has `Action: Remove`. It is an
//! error when the `PolicyAction` is `Delete`, `Snapshot` (DynamoDB has no snapshot on
//! delete: CloudFormation deletes) or absent, and a note when it is `Retain` (the table
//! survives, orphaned).
//!
//! ## Why it matters
//! A change set is CloudFormation's own answer to what a deployment will do, after
//! macros, the SAM transform, CDK and deploy-time parameters. `Remove` with
//! `PolicyAction: Delete` means that executing it deletes the table and every item in it.
//! A retained table survives but leaves the stack: nothing manages or alarms on it, and a
//! later stack may fail to create a table of the same name.
//!
//! ## Example
//! ```json
//! {"ResourceChange": {"Action": "Remove", "LogicalResourceId": "OrdersTable",
//!   "ResourceType": "AWS::DynamoDB::Table", "PolicyAction": "Delete"}}
//! ```
//!
//! ## Use instead
//! Deploy `DeletionPolicy: Retain` on the table first (the policy of the *deployed*
//! version decides), then remove it in a later change set, which then shows
//! `"PolicyAction": "Retain"`.
//!
//! ## Fix safety
//! No automatic fix: a change set is CloudFormation's output, not a file to edit.

use super::{finding, PageView};
use crate::finding::{Finding, Severity};
use crate::model::changeset::{Action, PolicyAction};
use crate::rules::{Check, Rule};

pub const RULE: Rule = Rule {
    code: "DDB030",
    name: "changeset-table-removed",
    severity: Severity::Error,
    summary: "Change set removes a DynamoDB table without retaining it",
    needles: &[],
    default_enabled: true,
    per_table: false,
    check: Check::ChangeSet(check),
    source: include_str!("table_removed.rs"),
};

fn check(view: &PageView) -> Vec<Finding> {
    let mut findings = Vec::new();
    for change in view.tables() {
        if change.action.value != Action::Remove {
            continue;
        }
        let table = view.named("table", change);
        let policy = change.policy_action.as_ref().map(|p| p.value);
        let (severity, message, label) = match policy {
            Some(PolicyAction::Retain) => (
                Severity::Note,
                format!("{table} is removed from the stack and retained (orphaned): nothing manages it any more"),
                "removed, retained".to_string(),
            ),
            None => (
                RULE.severity,
                format!("{table} is removed and the change set gives no `PolicyAction`: executing it deletes the table and its data"),
                "removed: deleted".to_string(),
            ),
            Some(PolicyAction::Snapshot) => (
                RULE.severity,
                format!("{table} is removed with `PolicyAction: Snapshot`: DynamoDB tables have no snapshot on delete, so executing it deletes the table and its data"),
                "removed: deleted".to_string(),
            ),
            Some(other) => (
                RULE.severity,
                format!("{table} is removed with `PolicyAction: {}`: executing it deletes the table and its data", other.as_str()),
                "removed: deleted".to_string(),
            ),
        };
        let mut f = finding(&RULE, severity, change, message, label);
        if severity != Severity::Note {
            f.help = Some("deploy `DeletionPolicy: Retain` on the table first, then remove it in a later change set".into());
        }
        findings.push(f);
    }
    findings
}
