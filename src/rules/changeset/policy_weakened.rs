//! DDB033 changeset-policy-weakened
//!
//! ## What it checks
//! In a change set, a DynamoDB table change whose `Scope` (or a `Details[].Target.Attribute`)
//! includes `DeletionPolicy` or `UpdateReplacePolicy` and that moves the policy away from
//! `Retain` (or `RetainExceptOnCreate`): to `Delete`, `Snapshot`, or to no policy at all.
//! With `--include-property-values` the before and after values say which way it goes;
//! without them the direction is unknown, and the change is a finding (fail closed).
//!
//! ## Why it matters
//! This is DDB001 and DDB002 applied to the deployment: once the change set runs, the
//! deployed table is no longer retained, and the next change that removes or replaces it
//! deletes its data.
//!
//! ## Example
//! ```json
//! {"ResourceChange": {"Action": "Modify", "LogicalResourceId": "OrdersTable",
//!   "ResourceType": "AWS::DynamoDB::Table", "Scope": ["DeletionPolicy"],
//!   "Details": [{"Target": {"Attribute": "DeletionPolicy",
//!     "BeforeValue": "Retain", "AfterValue": "Delete"}}]}}
//! ```
//!
//! ## Use instead
//! Keep `DeletionPolicy: Retain` and `UpdateReplacePolicy: Retain` on every table.
//!
//! ## Fix safety
//! No automatic fix: a change set is CloudFormation's output, not a file to edit.

use super::{finding, retains, PageView};
use crate::finding::{Finding, Severity};
use crate::model::changeset::{Action, Attribute, AttributeChangeType, ResourceChange};
use crate::rules::{Check, Rule};

pub const RULE: Rule = Rule {
    code: "DDB033",
    name: "changeset-policy-weakened",
    severity: Severity::Error,
    summary:
        "Change set moves a DynamoDB table's DeletionPolicy or UpdateReplacePolicy away from Retain",
    needles: &[],
    default_enabled: true,
    per_table: false,
    check: Check::ChangeSet(check),
    source: include_str!("policy_weakened.rs"),
};

fn check(view: &PageView) -> Vec<Finding> {
    let mut findings = Vec::new();
    for change in view.tables() {
        if change.action.value != Action::Modify {
            continue;
        }
        for attribute in [Attribute::DeletionPolicy, Attribute::UpdateReplacePolicy] {
            if !change.in_scope(attribute) {
                continue;
            }
            let (before, after) = values(change, attribute);
            let name = attribute.as_str();
            let table = view.named("table", change);
            let message = match (before.as_deref(), after.as_deref()) {
                (_, Some(after)) if retains(after) => continue,
                (Some(before), _) if !retains(before) => continue,
                (Some(before), Some(after)) => {
                    format!("{table}: `{name}` goes from `{before}` to `{after}`: the deployed table is no longer retained")
                }
                (Some(before), None) => format!(
                    "{table}: `{name}` goes from `{before}` to an unknown value: the deployed table may no longer be retained"
                ),
                (None, Some(after)) => format!(
                    "{table}: `{name}` changes to `{after}`: the deployed table may no longer be retained"
                ),
                (None, None) => format!(
                    "{table}: `{name}` changes and the change set holds no values, so it may move away from `Retain`"
                ),
            };
            let mut f = finding(
                &RULE,
                RULE.severity,
                change,
                message,
                format!("`{name}` changes"),
            );
            f.help = Some(if before.is_none() && after.is_none() {
                "describe the change set with `--include-property-values` to see the values, and keep `Retain`".into()
            } else {
                format!("keep `{name}: Retain` on the table")
            });
            findings.push(f);
        }
    }
    findings
}

/// The policy before and after, from the details (with property values) or the contexts.
/// A policy that is added had none before (`Delete`); one that is removed has none after.
fn values(change: &ResourceChange, attribute: Attribute) -> (Option<String>, Option<String>) {
    let mut before = None;
    let mut after = None;
    for detail in &change.details {
        let t = &detail.target;
        if t.attribute.as_ref().map(|a| a.value) != Some(attribute) {
            continue;
        }
        before = before.or_else(|| t.before_value.clone());
        after = after.or_else(|| t.after_value.clone());
        match t.change_type {
            Some(AttributeChangeType::Add) => before = before.or_else(|| Some("Delete".into())),
            Some(AttributeChangeType::Remove) => after = after.or_else(|| Some("Delete".into())),
            _ => {}
        }
    }
    let from = |c: &Option<crate::model::changeset::Context>| {
        c.as_ref()
            .and_then(|c| c.value.get(attribute.as_str()))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    (
        before.or_else(|| from(&change.before)),
        after.or_else(|| from(&change.after)),
    )
}
