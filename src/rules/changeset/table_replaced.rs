//! DDB031 changeset-table-replaced
//!
//! ## What it checks
//! In a change set, a DynamoDB table whose `ResourceChange` has `Action: Modify` with
//! `Replacement: True` (or `Conditional`: "may be replaced", listing the `Details` that
//! cause it), or whose `Action` is `Dynamic` (decided only when the change set runs). It
//! is an error when the `PolicyAction` is `ReplaceAndDelete`, `ReplaceAndSnapshot`
//! (DynamoDB has no snapshot: CloudFormation deletes) or absent, and a warning when it is
//! `ReplaceAndRetain` (the old table survives, orphaned, and a new empty table takes
//! over). A `Modify` without `Replacement` is judged as `Conditional`.
//!
//! ## Why it matters
//! A replacement creates a new, empty table and then deletes the old one with all its
//! items, unless `UpdateReplacePolicy: Retain` was deployed. Changing the key schema,
//! the `TableName` or the `LocalSecondaryIndexes` of a table replaces it.
//!
//! ## Example
//! ```json
//! {"ResourceChange": {"Action": "Modify", "LogicalResourceId": "OrdersTable",
//!   "ResourceType": "AWS::DynamoDB::Table", "Replacement": "True",
//!   "PolicyAction": "ReplaceAndDelete"}}
//! ```
//!
//! ## Use instead
//! Change the table without replacing it (a new table beside the old one and a data
//! migration), and deploy `UpdateReplacePolicy: Retain` so that a replacement keeps the
//! old table; the change set then shows `"PolicyAction": "ReplaceAndRetain"`.
//!
//! ## Fix safety
//! No automatic fix: a change set is CloudFormation's output, not a file to edit.

use super::{finding, PageView};
use crate::finding::{Finding, Severity};
use crate::model::changeset::{
    Action, PolicyAction, Replacement, RequiresRecreation, ResourceChange,
};
use crate::rules::{Check, Rule};

pub const RULE: Rule = Rule {
    code: "DDB031",
    name: "changeset-table-replaced",
    severity: Severity::Error,
    summary: "Change set replaces (or may replace) a DynamoDB table without retaining the old one",
    needles: &[],
    default_enabled: true,
    per_table: false,
    check: Check::ChangeSet(check),
    source: include_str!("table_replaced.rs"),
};

fn check(view: &PageView) -> Vec<Finding> {
    let mut findings = Vec::new();
    for change in view.tables() {
        let how = match (change.action.value, change.replacement.as_ref().map(|r| r.value)) {
            (Action::Modify, Some(Replacement::True)) => "is replaced".to_string(),
            (Action::Modify, Some(Replacement::Conditional)) => "may be replaced".to_string(),
            (Action::Modify, None) => {
                "may be replaced (the change set does not say whether it is)".to_string()
            }
            (Action::Dynamic, _) => {
                "may be replaced or removed (`Action: Dynamic`: CloudFormation decides only when the change set runs)".to_string()
            }
            _ => continue,
        };
        let table = view.named("table", change);
        let policy = change.policy_action.as_ref().map(|p| p.value);
        let causes = causes(change);
        let because = if causes.is_empty() {
            String::new()
        } else {
            format!(" (because of {})", causes.join(", "))
        };
        let (severity, message, label) = match policy {
            Some(PolicyAction::ReplaceAndRetain | PolicyAction::Retain) => (
                Severity::Warning,
                format!("{table} {how}{because}; the old table is retained (orphaned) and a new, empty table takes over"),
                format!("{how}, old table retained"),
            ),
            None => (
                RULE.severity,
                format!("{table} {how}{because} and the change set gives no `PolicyAction`: the old table and its data are deleted"),
                format!("{how}: old table deleted"),
            ),
            Some(other) => (
                RULE.severity,
                format!(
                    "{table} {how}{because} with `PolicyAction: {}`: the old table and its data are deleted{}",
                    other.as_str(),
                    if matches!(other, PolicyAction::ReplaceAndSnapshot | PolicyAction::Snapshot) {
                        " (DynamoDB tables have no snapshot on replacement)"
                    } else {
                        ""
                    }
                ),
                format!("{how}: old table deleted"),
            ),
        };
        let mut f = finding(&RULE, severity, change, message, label);
        f.help = Some(
            "change the table without replacing it, and deploy `UpdateReplacePolicy: Retain` first"
                .into(),
        );
        findings.push(f);
    }
    findings
}

/// The details that can recreate the resource: "`KeySchema` (Always, DirectModification)".
fn causes(change: &ResourceChange) -> Vec<String> {
    change
        .details
        .iter()
        .filter(|d| {
            matches!(
                d.target.requires_recreation,
                Some(RequiresRecreation::Always | RequiresRecreation::Conditionally)
            )
        })
        .map(|d| {
            let t = &d.target;
            let name = t
                .path
                .clone()
                .or_else(|| t.name.clone())
                .or_else(|| t.attribute.as_ref().map(|a| a.value.as_str().to_string()))
                .unwrap_or_else(|| "a property".into());
            let mut why = vec![t
                .requires_recreation
                .map(|r| r.as_str())
                .unwrap_or("")
                .to_string()];
            if let Some(e) = d.evaluation {
                why.push(format!("{} evaluation", e.as_str()));
            }
            match (d.change_source, &d.causing_entity) {
                (Some(s), Some(c)) => why.push(format!("{} `{c}`", s.as_str())),
                (Some(s), None) => why.push(s.as_str().to_string()),
                (None, Some(c)) => why.push(format!("`{c}`")),
                (None, None) => {}
            }
            format!("`{name}` ({})", why.join(", "))
        })
        .collect()
}
