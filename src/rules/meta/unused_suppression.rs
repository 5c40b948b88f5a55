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

use super::directive::Directive;
use crate::finding::{Finding, Severity};
use crate::rules::{Check, ResourceView, Rule};

pub const RULE: Rule = Rule {
    code: "DDB901",
    name: "unused-suppression",
    severity: Severity::Warning,
    summary: "A suppression must silence at least one finding",
    needles: &[&[super::directive::METADATA_KEY]],
    default_enabled: true,
    per_table: false,
    check: Check::Suppressions,
    source: include_str!("unused_suppression.rs"),
};

// Nothing per resource: whether a suppression is used is known only after every other rule
// has run, so `crate::ruleset::suppression::apply` reports this rule (`Check::Suppressions`).

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

/// A directive that names no rule that can be silenced; `suggestion` is the closest code
/// when it names no rule at all (the ruleset knows the codes).
pub fn unknown_rule(
    view: &ResourceView,
    directive: &Directive,
    suggestion: Option<&str>,
) -> Finding {
    let written = directive.rule.as_deref().unwrap_or_default();
    let (message, help) = match crate::rules::find(written) {
        Some(rule) => (
            format!("{} {} findings cannot be suppressed", rule.code, rule.name),
            "fix the suppression itself, or turn the rule off with `ignore` in ddb-guard.toml"
                .to_string(),
        ),
        None => {
            let hint = suggestion
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
