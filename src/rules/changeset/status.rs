//! DDB036 changeset-status
//!
//! ## What it checks
//! The state of the change set itself: a change set whose `Status` is `FAILED` because it
//! "didn't contain changes" passes with this note (there is nothing to deploy), and an
//! `ExecutionStatus` other than `AVAILABLE` (`UNAVAILABLE`, `EXECUTE_IN_PROGRESS`,
//! `EXECUTE_COMPLETE`, `EXECUTE_FAILED`, `OBSOLETE`) is shown, since such a change set can
//! no longer (or not yet) be executed as checked. A change set that is still being
//! created, was deleted, or failed for another reason is not a finding but an error: it
//! holds no complete answer to check.
//!
//! ## Why it matters
//! A gate that says nothing about an empty or stale change set leaves the reader to guess
//! whether anything was checked. `OBSOLETE` means the stack changed since the change set
//! was made: the checked answer is no longer what a deployment would do.
//!
//! ## Example
//! ```json
//! {"Status": "FAILED", "ExecutionStatus": "UNAVAILABLE",
//!  "StatusReason": "The submitted information didn't contain changes. Submit different information to create a change set."}
//! ```
//!
//! ## Use instead
//! Nothing to change; to deploy, create a new change set when there are changes.
//!
//! ## Fix safety
//! No automatic fix: a change set is CloudFormation's output, not a file to edit.

use super::PageView;
use crate::finding::{Finding, Severity};
use crate::model::changeset::ExecutionStatus;
use crate::rules::{Check, Rule};

pub const RULE: Rule = Rule {
    code: "DDB036",
    name: "changeset-status",
    severity: Severity::Note,
    summary: "Change set holds no changes, or cannot be executed as checked",
    needles: &[],
    default_enabled: true,
    per_table: false,
    check: Check::ChangeSet(check),
    source: include_str!("status.rs"),
};

fn check(view: &PageView) -> Vec<Finding> {
    if !view.first {
        return Vec::new();
    }
    let page = view.page;
    let name = page
        .change_set_name
        .as_deref()
        .map(|n| format!("change set `{n}`"))
        .unwrap_or_else(|| "the change set".into());
    let stack = page.stack_name.clone().unwrap_or_default();
    let (span, message, label) = if page.failed_without_changes() {
        let Some(status) = &page.status else {
            return Vec::new();
        };
        (
            status.span,
            format!(
                "{name} holds no changes (CloudFormation: \"{}\"): nothing to deploy{}",
                page.status_reason.as_deref().unwrap_or(""),
                page.execution_status
                    .as_ref()
                    .map(|e| format!(" (`ExecutionStatus: {}`)", e.value.as_str()))
                    .unwrap_or_default()
            ),
            "no changes",
        )
    } else {
        match &page.execution_status {
            Some(e) if e.value != ExecutionStatus::Available => (
                e.span,
                format!(
                    "{name} has `ExecutionStatus: {}`: {}",
                    e.value.as_str(),
                    match e.value {
                        ExecutionStatus::Obsolete => "the stack changed since it was created, so what was checked is not what a deployment would do now",
                        ExecutionStatus::ExecuteComplete => "it has already been executed",
                        ExecutionStatus::ExecuteInProgress => "it is being executed",
                        ExecutionStatus::ExecuteFailed => "its execution failed",
                        _ => "it cannot be executed now",
                    }
                ),
                "not executable",
            ),
            _ => return Vec::new(),
        }
    };
    vec![Finding {
        code: RULE.code,
        name: RULE.name,
        severity: RULE.severity,
        resource: stack,
        resource_type: "AWS::CloudFormation::Stack".into(),
        message,
        span,
        label: label.into(),
        labels: Vec::new(),
        help: None,
        fix: None,
        template: None,
        cdk: None,
    }]
}
