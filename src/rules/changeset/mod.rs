//! The deploy-time gate's rules (DDB030-DDB036): pure functions of one page of a change
//! set (`ddb-guard changeset`), the way the pull-request guard's rules are pure functions
//! of a [`Comparison`](super::Comparison). Each is a [`Rule`] (so listing, docs, selection,
//! severities and the config file treat it like any other) plus a [`ChangeSetRule`].

mod nested_stack;
mod policy_weakened;
mod protection_disabled;
mod replica_removed;
mod status;
mod table_removed;
mod table_replaced;

use std::collections::HashMap;

use super::{ResourceView, Rule};
use crate::finding::{Finding, Severity};
use crate::model::changeset::{ChangeSetPage, ResourceChange};
use crate::source::Span;

pub use nested_stack::RULE as NESTED_STACK;
pub use policy_weakened::RULE as POLICY_WEAKENED;
pub use protection_disabled::RULE as PROTECTION_DISABLED;
pub use replica_removed::RULE as REPLICA_REMOVED;
pub use status::RULE as STATUS;
pub use table_removed::RULE as TABLE_REMOVED;
pub use table_replaced::RULE as TABLE_REPLACED;

/// The change-set half of a gate rule.
pub struct ChangeSetRule {
    pub rule: &'static Rule,
    pub check: fn(&PageView) -> Vec<Finding>,
}

/// Every change-set rule, in code order.
pub const CHANGESET_RULES: &[&ChangeSetRule] = &[
    &table_removed::CHANGESET,
    &table_replaced::CHANGESET,
    &nested_stack::CHANGESET,
    &policy_weakened::CHANGESET,
    &protection_disabled::CHANGESET,
    &replica_removed::CHANGESET,
    &status::CHANGESET,
];

/// The change-set rules among the enabled `rules` (so `select`/`ignore` apply to them).
pub fn changeset_rules(rules: &[&Rule]) -> Vec<&'static ChangeSetRule> {
    CHANGESET_RULES
        .iter()
        .copied()
        .filter(|c| rules.iter().any(|r| r.code == c.rule.code))
        .collect()
}

/// Whether `code` is a change-set rule, which has nothing to check in a template.
pub fn is_changeset_rule(code: &str) -> bool {
    CHANGESET_RULES.iter().any(|c| c.rule.code == code)
}

/// The per-resource check of a change-set rule: a template alone says nothing about what
/// a deployment will do.
pub fn checks_change_sets_only(_: &ResourceView) -> Vec<Finding> {
    Vec::new()
}

/// What a change-set rule sees: one page of a change set, where it sits among nested
/// stacks, and the changes of every nested change set that was given.
pub struct PageView<'a> {
    pub page: &'a ChangeSetPage,
    /// The first page of its change set: findings about the set as a whole go there.
    pub first: bool,
    /// The logical IDs of the nested stacks this change set belongs to, outermost first
    /// (empty for the root change set).
    pub nested_in: &'a [String],
    /// The stack resource change in the parent change set whose nested change set this
    /// page belongs to.
    pub parent: Option<&'a ResourceChange>,
    /// The changes of each change set given, by `ChangeSetId`.
    pub sets: &'a HashMap<String, Vec<&'a ResourceChange>>,
}

impl PageView<'_> {
    /// "table `Orders`", or "table `Orders` in nested stack `Data`".
    pub fn named(&self, what: &str, change: &ResourceChange) -> String {
        let mut text = format!("{what} `{}`", change.logical_id.value);
        if !self.nested_in.is_empty() {
            text.push_str(&format!(
                " in nested stack `{}`",
                self.nested_in.join("` > `")
            ));
        }
        text
    }

    pub fn tables(&self) -> impl Iterator<Item = &ResourceChange> {
        self.page.changes.iter().filter(|c| c.is_table())
    }

    /// The changes of the nested change set of a stack resource, if it was given.
    pub fn nested_changes(&self, stack: &ResourceChange) -> Option<&[&ResourceChange]> {
        let id = stack.change_set_id.as_ref()?;
        self.sets.get(&id.value).map(Vec::as_slice)
    }
}

/// A finding of `rule` about one resource change, pointing at its `ResourceChange`.
pub fn finding(
    rule: &Rule,
    severity: Severity,
    change: &ResourceChange,
    message: String,
    label: impl Into<String>,
) -> Finding {
    at(rule, severity, change, change.span, message, label)
}

/// A finding of `rule` about `change`, pointing at `span`.
pub fn at(
    rule: &Rule,
    severity: Severity,
    change: &ResourceChange,
    span: Span,
    message: String,
    label: impl Into<String>,
) -> Finding {
    Finding {
        code: rule.code,
        name: rule.name,
        severity,
        resource: change.logical_id.value.clone(),
        resource_type: change.resource_type.value.clone(),
        message,
        span,
        label: label.into(),
        labels: Vec::new(),
        help: None,
        fix: None,
    }
}

/// Whether a policy value keeps the resource (`Retain`, `RetainExceptOnCreate`).
pub fn retains(policy: &str) -> bool {
    matches!(policy, "Retain" | "RetainExceptOnCreate")
}

/// Run the change-set rules on one page; findings come out in span order.
pub fn check_page(view: &PageView, rules: &[&ChangeSetRule]) -> Vec<Finding> {
    let mut findings: Vec<Finding> = rules.iter().flat_map(|r| (r.check)(view)).collect();
    findings.sort_by_key(|f| (f.span.start, f.code));
    findings
}
