//! Suppression directives as written: `Metadata: {ddb-guard: {ignore: [{rule: DDB003,
//! reason: "..."}]}}` on a resource. Reading them is here, beside the rules about them
//! (DDB900 malformed, DDB901 unused, DDB902 added in a pull request); applying them to
//! findings is [`crate::ruleset::suppression`].

use crate::load::{Document, NodeId};
use crate::source::Span;

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
