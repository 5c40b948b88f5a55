//! DDB901 unused-suppression
//!
//! ## What it checks
//! Every suppression in a resource's `Metadata.ddb-guard.ignore` list must silence at
//! least one finding of an enabled rule on that resource, and must name a rule that exists.
//! Suppressions of rules that are not enabled in this run are not judged.
//!
//! ## Why it matters
//! A suppression that silences nothing is stale: the table was fixed, the rule was renamed,
//! or the code has a typo. Left in place, it would silently switch the guard off again the
//! day the problem comes back, without anyone reviewing the old reason.
//!
//! ## Example
//! ```yaml
//! OrdersTable:
//!   Type: AWS::DynamoDB::Table
//!   DeletionPolicy: Retain
//!   UpdateReplacePolicy: Retain
//!   Metadata:
//!     ddb-guard:
//!       ignore:
//!         - rule: DDB001
//!           reason: "migrating to a new table"
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
//! No automatic fix yet: removing the entry is safe, but the reviewer should see it go.

use super::suppression::Directive;
use super::{select, ResourceView, Rule};
use crate::finding::{Finding, Severity};

pub const RULE: Rule = Rule {
    code: "DDB901",
    name: "unused-suppression",
    severity: Severity::Warning,
    summary: "A suppression must silence at least one finding",
    needles: &[&[super::suppression::METADATA_KEY]],
    default_enabled: true,
    per_table: false,
    check,
    source: include_str!("unused_suppression.rs"),
};

/// Nothing per resource: whether a suppression is used is known only after every other
/// rule has run, so [`super::suppression::apply`] reports this rule.
fn check(_: &ResourceView) -> Vec<Finding> {
    Vec::new()
}

pub fn unused(view: &ResourceView, directive: &Directive, rule: &Rule) -> Finding {
    let mut finding = view.finding(
        &RULE,
        directive.span,
        format!(
            "suppression of {} {} on `{}` silences nothing",
            rule.code, rule.name, view.resource.logical_id
        ),
        "unused suppression".into(),
    );
    finding.help = Some("remove this entry: the problem it was for is gone".into());
    finding
}

pub fn unknown_rule(view: &ResourceView, directive: &Directive) -> Finding {
    let written = directive.rule.as_deref().unwrap_or_default();
    let (message, help) = match super::find(written) {
        Some(rule) => (
            format!("{} {} findings cannot be suppressed", rule.code, rule.name),
            "fix the suppression itself, or turn the rule off with `ignore` in ddb-guard.toml"
                .to_string(),
        ),
        None => {
            let hint = select::expand(written)
                .err()
                .and_then(|e| e.suggestion)
                .map(|s| format!("did you mean `{s}`? "))
                .unwrap_or_default();
            (
                format!("suppression names `{written}`, which is not a rule"),
                format!("{hint}`ddb-guard rule` lists the rules"),
            )
        }
    };
    let mut finding = view.finding(
        &RULE,
        directive.rule_span,
        message,
        "suppresses nothing".into(),
    );
    finding.help = Some(help);
    finding
}
