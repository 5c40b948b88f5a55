//! DDB032 changeset-nested-stack
//!
//! ## What it checks
//! In a change set, a nested stack (`AWS::CloudFormation::Stack`) that is removed,
//! replaced (`Replacement: True` or `Conditional`) or has `Action: Dynamic`: every table
//! inside it is deleted unless its own policy retains it. The finding is on the stack's
//! `ResourceChange`, and, when the nested change set is given too, on each table change
//! inside it. A nested stack that is modified but has no nested change set (the change
//! set was created without `--include-nested-stacks`) is a finding as well: what the
//! update does to the tables inside it cannot be seen.
//!
//! ## Why it matters
//! Removing a nested stack deletes the whole stack and every resource in it; the parent
//! change set shows one line for the stack, not the tables it takes with it. A nested
//! stack's own changes are only in its nested change set.
//!
//! ## Example
//! ```json
//! {"ResourceChange": {"Action": "Remove", "LogicalResourceId": "DataStack",
//!   "ResourceType": "AWS::CloudFormation::Stack"}}
//! ```
//!
//! ## Use instead
//! Retain the tables inside the nested stack (`DeletionPolicy: Retain`) and deploy that
//! first; create change sets with `--include-nested-stacks` and give every nested change
//! set to `ddb-guard changeset`.
//!
//! ## Fix safety
//! No automatic fix: a change set is CloudFormation's output, not a file to edit.

use super::{finding, PageView};
use crate::finding::{Finding, Severity};
use crate::model::changeset::{Action, PolicyAction, Replacement, ResourceChange};
use crate::rules::{Check, Rule};

pub const RULE: Rule = Rule {
    code: "DDB032",
    name: "changeset-nested-stack",
    severity: Severity::Error,
    summary: "Change set removes or replaces a nested stack (deleting its tables), or hides a nested stack's changes",
    needles: &[],
    default_enabled: true,
    per_table: false,
    check: Check::ChangeSet(check),
    source: include_str!("nested_stack.rs"),
};

/// What happens to a nested stack, if it takes its resources with it.
fn fate(stack: &ResourceChange) -> Option<&'static str> {
    match (
        stack.action.value,
        stack.replacement.as_ref().map(|r| r.value),
    ) {
        (Action::Remove, _) => Some("is removed"),
        (Action::Modify, Some(Replacement::True)) => Some("is replaced"),
        (Action::Modify, Some(Replacement::Conditional)) => Some("may be replaced"),
        (Action::Dynamic, _) => Some("may be removed or replaced (`Action: Dynamic`)"),
        _ => None,
    }
}

fn check(view: &PageView) -> Vec<Finding> {
    let mut findings = Vec::new();
    for stack in view.page.changes.iter().filter(|c| c.is_stack()) {
        let name = view.named("nested stack", stack);
        if let Some(fate) = fate(stack) {
            let inside: Vec<String> = view
                .nested_changes(stack)
                .unwrap_or_default()
                .iter()
                .filter(|c| c.is_table())
                .map(|c| format!("`{}`", c.logical_id.value))
                .collect();
            let tables = if inside.is_empty() {
                "every table inside it is deleted unless its own DeletionPolicy retains it"
                    .to_string()
            } else {
                format!(
                    "every table inside it ({}) is deleted unless its own DeletionPolicy retains it",
                    inside.join(", ")
                )
            };
            let mut f = finding(
                &RULE,
                RULE.severity,
                stack,
                format!("{name} {fate}: {tables}"),
                format!("nested stack {fate}"),
            );
            f.help = Some("retain the tables inside the nested stack and deploy that first".into());
            findings.push(f);
        } else if stack.action.value == Action::Modify && stack.change_set_id.is_none() {
            let mut f = finding(
                &RULE,
                RULE.severity,
                stack,
                format!("{name} is updated, but the change set has no nested change set for it: what the update does to tables inside it cannot be checked"),
                "nested changes not included",
            );
            f.help = Some("create the change set with `--include-nested-stacks` and give every nested change set to `ddb-guard changeset`".into());
            findings.push(f);
        }
    }
    // Inside a nested change set whose stack goes away: each table goes with it.
    if let Some((parent, fate)) = view.parent.and_then(|p| Some((p, fate(p)?))) {
        for table in view.tables() {
            let retained = matches!(
                table.policy_action.as_ref().map(|p| p.value),
                Some(PolicyAction::Retain | PolicyAction::ReplaceAndRetain)
            );
            let severity = if retained {
                Severity::Note
            } else {
                RULE.severity
            };
            findings.push(finding(
                &RULE,
                severity,
                table,
                format!(
                    "{} goes with its nested stack `{}`, which {fate}{}",
                    view.named("table", table),
                    parent.logical_id.value,
                    if retained {
                        "; the table is retained (orphaned)"
                    } else {
                        ": the table and its data are deleted"
                    }
                ),
                "deleted with its nested stack",
            ));
        }
    }
    findings
}
