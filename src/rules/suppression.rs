//! Audited suppressions: `Metadata: {ddb-guard: {ignore: [{rule: DDB003, reason: "..."}]}}`
//! on a resource silences that rule's findings on that resource. Every suppression must say
//! why (DDB900 otherwise) and must still silence something (DDB901 otherwise), so that
//! silencing the guard stays visible in review and cannot outlive its reason.
//!
//! Reading the directives is here; DDB900 reports the malformed ones per resource, and
//! [`apply`] runs after every other rule to silence findings and find unused directives.

use crate::finding::{Finding, Suppression};
use crate::load::{Document, NodeId};
use crate::source::Span;

use super::{invalid_suppression, unused_suppression, ResourceView, Rule};

/// One entry of a resource's `Metadata.ddb-guard.ignore` list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Directive {
    /// The rule as written, when it is a string.
    pub rule: Option<String>,
    /// The rule's node, or the entry's when there is none.
    pub rule_span: Span,
    /// The reason, trimmed; `None` when missing or blank.
    pub reason: Option<String>,
    /// The whole entry.
    pub span: Span,
    /// What makes the entry unusable beyond a missing reason (an unknown key, a non-string).
    pub problem: Option<(Span, String)>,
}

pub const METADATA_KEY: &str = "ddb-guard";

/// The directives on a resource, and the problem with the `ignore` node itself when it is
/// not a list (its span and what is wrong).
pub fn directives(doc: &Document, resource: NodeId) -> (Vec<Directive>, Option<(Span, String)>) {
    let Some(ignore) = doc
        .get_value(resource, "Metadata")
        .and_then(|m| doc.get_value(m, METADATA_KEY))
        .and_then(|g| doc.get(g, "ignore"))
    else {
        return (Vec::new(), None);
    };
    let Some(items) = doc.seq(ignore.value) else {
        return (
            Vec::new(),
            Some((
                doc.span(ignore.value),
                "`ignore` must be a list of `{rule: CODE, reason: \"...\"}` entries".into(),
            )),
        );
    };
    let directives = items.iter().map(|&item| directive(doc, item)).collect();
    (directives, None)
}

fn directive(doc: &Document, item: NodeId) -> Directive {
    let span = doc.span(item);
    // `- DDB003` names a rule without a reason.
    if let Some(rule) = doc.str(item) {
        return Directive {
            rule: Some(rule.trim().to_string()),
            rule_span: span,
            reason: None,
            span,
            problem: None,
        };
    }
    let mut d = Directive {
        rule: None,
        rule_span: span,
        reason: None,
        span,
        problem: None,
    };
    let Some(entries) = doc.map(item) else {
        d.problem = Some((
            span,
            "a suppression must be a mapping `{rule: CODE, reason: \"...\"}`".into(),
        ));
        return d;
    };
    for entry in entries {
        let value_span = doc.span(entry.value);
        match doc.key(entry) {
            "rule" => match doc.str(entry.value) {
                Some(rule) => {
                    d.rule = Some(rule.trim().to_string());
                    d.rule_span = value_span;
                }
                None => d.problem = Some((value_span, "`rule` must be a rule code or name".into())),
            },
            "reason" => match doc.str(entry.value) {
                Some(reason) => {
                    d.reason = Some(reason.trim().to_string()).filter(|r| !r.is_empty())
                }
                None => d.problem = Some((value_span, "`reason` must be a string".into())),
            },
            other => {
                d.problem = Some((
                    doc.span(entry.key),
                    format!("unknown key `{other}` (a suppression has `rule` and `reason`)"),
                ))
            }
        }
    }
    if d.rule.is_none() && d.problem.is_none() {
        d.problem = Some((span, "the suppression names no `rule`".into()));
    }
    d
}

/// The rule a directive silences, if it names one that can be silenced.
fn target(directive: &Directive) -> Option<&'static Rule> {
    let rule = super::find(directive.rule.as_deref()?)?;
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
            // A malformed entry (DDB900) silences nothing; one without a reason still does,
            // and DDB900 then stands in for what it silenced.
            if directive.problem.is_some() {
                continue;
            }
            let Some(rule) = target(directive) else {
                if report_unused {
                    applied
                        .active
                        .push(unused_suppression::unknown_rule(view, directive));
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
