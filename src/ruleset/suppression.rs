//! Audited suppressions: `Metadata: {ddb-guard: {ignore: [{rule: DDB003, reason: "..."}]}}`
//! on a resource silences that rule's findings on that resource. Every suppression must say
//! why (DDB900 otherwise) and must still silence something (DDB901 otherwise), so that
//! silencing the guard stays visible in review and cannot outlive its reason.
//!
//! Reading the directives is [`crate::rules::meta::directive`]; DDB900 reports the malformed
//! ones per resource, and [`apply`] runs after every other rule to silence findings and find
//! unused directives.

use crate::finding::{Finding, Suppression};
use crate::rules::meta::directive::{directives, Directive};
use crate::rules::meta::{invalid_suppression, unused_suppression};
use crate::rules::{self, ResourceView, Rule};
use crate::source::Span;

/// The rule a directive silences, if it names one that can be silenced.
fn target(directive: &Directive) -> Option<&'static Rule> {
    let rule = rules::find(directive.rule.as_deref()?)?;
    let auditing = [
        invalid_suppression::RULE.code,
        unused_suppression::RULE.code,
    ];
    (!auditing.contains(&rule.code)).then_some(rule)
}

/// Findings split by [`apply`]: the ones that still count and the ones a directive silenced.
#[derive(Debug, Default)]
pub struct Applied {
    pub active: Vec<Finding>,
    pub suppressed: Vec<(Finding, Suppression)>,
}

/// Silence the findings that a resource's directives name, and report each directive
/// that silences nothing (DDB901) when that rule is enabled. `findings` come from
/// `rules` run over `views`.
pub fn apply(views: &[ResourceView], findings: Vec<Finding>, rules: &[&Rule]) -> Applied {
    let enabled = |code: &str| rules.iter().any(|r| r.code == code);
    let report_unused = enabled(unused_suppression::RULE.code);
    let mut applied = Applied::default();
    let mut pending = findings;
    for view in views {
        let (list, _) = directives(view.doc(), view.resource.node);
        if list.is_empty() {
            continue;
        }
        let doc = view.doc();
        let extent = Span::new(
            doc.span(view.resource.key).start,
            doc.span(view.resource.node).end,
        );
        for directive in &list {
            // An invalid entry (DDB900: malformed, or without a real reason) silences
            // nothing: the guard stays on until someone writes down why it may be off.
            if directive.problem.is_some() || directive.reason.is_none() {
                continue;
            }
            let Some(rule) = target(directive) else {
                if report_unused {
                    let suggestion = suggestion(directive);
                    applied.active.push(unused_suppression::unknown_rule(
                        view,
                        directive,
                        suggestion.as_deref(),
                    ));
                }
                continue;
            };
            let (hits, rest): (Vec<Finding>, Vec<Finding>) = pending.into_iter().partition(|f| {
                f.code == rule.code && f.span.start >= extent.start && f.span.end <= extent.end
            });
            pending = rest;
            if hits.is_empty() {
                if report_unused && enabled(rule.code) {
                    applied
                        .active
                        .push(unused_suppression::unused(view, directive, rule));
                }
                continue;
            }
            let suppression = Suppression {
                reason: directive.reason.clone().unwrap_or_default(),
                span: directive.span,
                template: None,
            };
            applied
                .suppressed
                .extend(hits.into_iter().map(|f| (f, suppression.clone())));
        }
    }
    applied.active.extend(pending);
    applied.active.sort_by_key(|f| (f.span.start, f.code));
    applied
        .suppressed
        .sort_by_key(|(f, _)| (f.span.start, f.code));
    applied
}

/// The rule code closest to what a directive naming no rule wrote, to suggest instead.
fn suggestion(directive: &Directive) -> Option<String> {
    let written = directive.rule.as_deref().unwrap_or_default();
    super::select::expand(written)
        .err()
        .and_then(|e| e.suggestion)
        .map(str::to_string)
}
