//! DDB902 guard-weakened
//!
//! ## What it checks
//! With `check --base REV` (and, for templates, `diff OLD NEW`): a change that switches off
//! or narrows the guard itself. Reported at the changed line:
//! - a suppression (`Metadata.ddb-guard.ignore` entry with a reason) on a resource that the
//!   base version of the template did not have for that rule and resource (a base entry
//!   that was invalid, DDB900, silenced nothing: making it valid adds a suppression);
//! - in `ddb-guard.toml`: a rule enabled at the base that is no longer enabled (`ignore`,
//!   `select`, `extend_select`), a rule's severity lowered, a new `exclude` pattern,
//!   `force_exclude` or `respect_gitignore` turned on, a template extension dropped,
//!   `fail_on` made more lenient, or `allow_retain_except_on_create` turned on; a
//!   configuration file deleted counts as every one of its keys going back to its default;
//! - in the `--baseline` file: an entry the base version of the file did not have.
//!
//! The base revision's rule selection, severities, excludes, suppressions and baseline
//! govern the comparison rules (DDB020-DDB023 and this one), so none of these changes
//! silences the pull request that makes it; this rule makes the change itself visible.
//!
//! ## Why it matters
//! A pull request that deletes a table could otherwise also add `ignore = ["DDB020"]`, an
//! `exclude` of its template, or a baseline entry, and pass. A reviewer must see, and
//! approve, every change that makes the guard see less.
//!
//! ## Example
//! ```toml
//! # ddb-guard.toml, added in the pull request
//! ignore = ["DDB020"]
//! ```
//!
//! ## Use instead
//! Make the change in its own pull request, reviewed for what it is; or, when a table is
//! meant to go, let the finding be seen and approved.
//!
//! ## Fix safety
//! No automatic fix: whether the guard should see less is the reviewer's decision.

use std::collections::BTreeSet;

use super::directive::directives;
use crate::finding::{Finding, Severity};
use crate::rules::{Check, Comparison, Head, Rule};
use crate::source::Span;

pub const RULE: Rule = Rule {
    code: "DDB902",
    name: "guard-weakened",
    severity: Severity::Error,
    summary: "A change switches off or narrows a ddb-guard check (configuration, suppression or baseline)",
    needles: &[],
    default_enabled: true,
    per_table: false,
    check: Check::Versions(check),
    source: include_str!("guard_weakened.rs"),
};

/// A finding of this rule about `subject` (a resource, or a configuration key).
pub fn finding(subject: &str, span: Span, message: String, label: &str) -> Finding {
    Finding {
        code: RULE.code,
        name: RULE.name,
        severity: RULE.severity,
        resource: subject.to_string(),
        resource_type: String::new(),
        message,
        span,
        label: label.to_string(),
        labels: Vec::new(),
        help: Some(
            "the base revision's settings still govern this pull request's comparison; a reviewer must approve making the guard see less"
                .into(),
        ),
        fix: None,
        template: None,
        cdk: None,
    }
}

/// The rule code a directive names (by code or name), upper-cased.
fn code_of(rule: &str) -> String {
    crate::rules::find(rule.trim())
        .map(|r| r.code.to_string())
        .unwrap_or_else(|| rule.trim().to_ascii_uppercase())
}

/// Suppressions at the head that the base did not have (same resource, same rule).
fn check(cmp: &Comparison) -> Vec<Finding> {
    let Head::Template(head) = &cmp.head else {
        return Vec::new();
    };
    let mut at_base: BTreeSet<(String, String)> = BTreeSet::new();
    for r in &cmp.base.resources {
        // Only a valid suppression silenced anything at the base: one that the pull
        // request makes valid (gives it a reason, makes its `rule` a string) is new.
        for d in directives(cmp.base.doc, r.node).0 {
            if let (Some(rule), Some(_), None) = (&d.rule, &d.reason, &d.problem) {
                at_base.insert((r.logical_id.to_string(), code_of(rule)));
            }
        }
    }
    let mut findings = Vec::new();
    for r in &head.resources {
        for d in directives(head.doc, r.node).0 {
            // A directive without a usable reason silences nothing (DDB900).
            let (Some(rule), Some(_)) = (&d.rule, &d.reason) else {
                continue;
            };
            if d.problem.is_some() {
                continue;
            }
            let code = code_of(rule);
            if at_base.contains(&(r.logical_id.to_string(), code.clone())) {
                continue;
            }
            findings.push(finding(
                r.logical_id,
                d.span,
                format!(
                    "this change adds a suppression of {code} on `{}` that `{}` does not have: it switches that check off for this resource",
                    r.logical_id, cmp.base_name
                ),
                "new suppression",
            ));
        }
    }
    findings
}
