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
    /// The reason, trimmed; `None` when missing or not a reason (see [`reason_problem`]).
    pub reason: Option<String>,
    /// Why the reason given is not one (null, blank, a boolean or number, only invisible
    /// characters); `None` when it is missing altogether or is a real reason.
    pub reason_problem: Option<(Span, String)>,
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
            reason_problem: None,
            span,
            problem: None,
        };
    }
    let mut d = Directive {
        rule: None,
        rule_span: span,
        reason: None,
        reason_problem: None,
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
            "rule" => match doc.str(entry.value).filter(|_| !doc.is_null(entry.value)) {
                Some(rule) => {
                    d.rule = Some(rule.trim().to_string());
                    d.rule_span = value_span;
                }
                None => d.problem = Some((value_span, "`rule` must be a rule code or name".into())),
            },
            "reason" => match reason_problem(doc, entry.value) {
                None => d.reason = doc.str(entry.value).map(|r| r.trim().to_string()),
                Some(problem) => d.reason_problem = Some((value_span, problem)),
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

/// Why the value of a `reason` key is not a reason, if it is not: anything but text that
/// has at least one visible letter or digit and does not read as null, a boolean or a
/// number (`reason: false`, `reason: 0`, `reason: "\u200b"` say nothing). The test is on the
/// text whatever its quoting: a quoted `"false"` explains no more than a plain one.
pub fn reason_problem(doc: &Document, value: NodeId) -> Option<String> {
    if doc.is_null(value) {
        return Some("`reason` is null".into());
    }
    let Some(text) = doc.str(value) else {
        return Some(if doc.call(value).is_some() {
            "`reason` must be literal text, not an intrinsic function".into()
        } else {
            "`reason` must be text".into()
        });
    };
    let visible: String = text.chars().filter(|&c| !is_invisible(c)).collect();
    if visible.is_empty() {
        return Some(if text.is_empty() {
            "`reason` is empty".into()
        } else {
            "`reason` is blank (only spaces or invisible characters)".into()
        });
    }
    if !visible.chars().any(char::is_alphanumeric) {
        return Some(format!(
            "`reason` `{}` has no letter or digit",
            visible.escape_debug()
        ));
    }
    if is_non_text_literal(&visible) {
        return Some(format!(
            "`reason` `{}` is a boolean, a number or null, not a reason",
            visible.escape_debug()
        ));
    }
    None
}

/// Characters that show nothing: whitespace, controls, format characters (zero-width
/// space and joiners, BOM, bidirectional marks, soft hyphen, tag characters), variation
/// selectors, and the letters that render as blank (Hangul fillers, braille blank).
fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(c,
            '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}'
            | '\u{17B5}' | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{2800}' | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}' | '\u{FFF0}'..='\u{FFFB}'
            | '\u{1D173}'..='\u{1D17A}' | '\u{E0000}'..='\u{E0FFF}')
}

/// Text that YAML 1.1 (CloudFormation's reader) or JSON reads as null, a boolean or a
/// number when written plain.
fn is_non_text_literal(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    matches!(
        lower.as_str(),
        "null"
            | "~"
            | "true"
            | "false"
            | "yes"
            | "no"
            | "on"
            | "off"
            | "y"
            | "n"
            | "none"
            | ".nan"
            | ".inf"
            | "-.inf"
            | "+.inf"
            | "nan"
            | "inf"
    ) || text.parse::<f64>().is_ok()
        || (lower.starts_with("0x") && u64::from_str_radix(&lower[2..], 16).is_ok())
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
            // An invalid entry (DDB900: malformed, or without a real reason) silences
            // nothing: the guard stays on until someone writes down why it may be off.
            if directive.problem.is_some() || directive.reason.is_none() {
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
