//! Suppression directives as written: `Metadata: {ddb-guard: {ignore: [{rule: DDB003,
//! reason: "..."}]}}` on a resource. Reading them is here, beside the rules about them
//! (DDB900 malformed, DDB901 unused, DDB902 added in a pull request); applying them to
//! findings is [`crate::ruleset::suppression`].

use crate::load::{Document, NodeId};
use crate::source::Span;

/// One entry of a resource's `Metadata.ddb-guard.ignore` list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Directive {
    /// The rule as written, when the loader reads it as a string (a plain `1`, `true` or
    /// `~` is a number, boolean or null, and leaves this `None` with a [`Directive::problem`]).
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
    // `- DDB003` names a rule without a reason; `- 1` or `- null` names none.
    if let Some(rule) = doc.str(item).filter(|_| plain_type(doc, item).is_none()) {
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
        // An empty value (`rule:`) has an empty span: point at the key and its colon.
        let value_span = match doc.span(entry.value) {
            s if s.start == s.end => Span::new(doc.span(entry.key).start, s.end),
            s => s,
        };
        match doc.key(entry) {
            "rule" => match rule_text(doc, entry.value) {
                Ok(rule) => {
                    d.rule = Some(rule.trim().to_string());
                    d.rule_span = value_span;
                }
                Err(problem) => d.problem = Some((value_span, problem)),
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
    if let Some(kind) = plain_type(doc, value) {
        let text = doc.str(value).unwrap_or_default();
        return Some(format!(
            "`reason` `{}` is {kind}, not a reason",
            text.escape_debug()
        ));
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
        || scalar_type(text).is_some()
}

/// The text of a `rule` value, or why it is not one: only a string names a rule. The test
/// is on the loaded node, not its text: a plain `1`, `true`, `~`, `0x1F` or `.inf` (YAML)
/// and a bare `1`, `true` or `null` (JSON) are a number, a boolean or null, and name no
/// rule even though their text could be looked up; a quoted `"1"` is a string (and names
/// no rule: DDB901). A tagged value is an intrinsic function, whose value is only known at
/// deploy time.
fn rule_text<'d>(doc: &'d Document, value: NodeId) -> Result<&'d str, String> {
    if let Some(kind) = plain_type(doc, value) {
        // Null is not echoed: a report must not show the text `null` as if it were a name.
        return Err(if kind == "null" {
            "`rule` is null: it must be a rule code or name such as `DDB001`".into()
        } else {
            let text = doc.str(value).unwrap_or_default();
            format!(
                "`rule` `{}` is {kind}, not a rule code or name (write a code such as `DDB001`)",
                text.escape_debug()
            )
        });
    }
    if let Some(text) = doc.str(value) {
        return Ok(text);
    }
    Err(if doc.call(value).is_some() {
        "`rule` must be a literal rule code or name, not an intrinsic function".into()
    } else if doc.seq(value).is_some() {
        "`rule` must be one rule code or name, not a list (write one suppression per rule)".into()
    } else if doc.map(value).is_some() {
        "`rule` must be a rule code or name, not a mapping".into()
    } else {
        "`rule` must be a rule code or name, not a tagged value".into()
    })
}

/// What a node that is written as a plain (unquoted) untagged YAML scalar, or a bare JSON
/// literal, is read as when it is not a string: `"null"`, `"a boolean"` or `"a number"`.
/// `None` for strings: quoted, block or tagged `!!str` scalars, and plain text.
fn plain_type(doc: &Document, value: NodeId) -> Option<&'static str> {
    if doc.is_null(value) {
        return Some("null");
    }
    let node = doc.node(value);
    if node.tag.is_some() {
        return None;
    }
    match &node.kind {
        crate::load::NodeKind::Scalar(s) if s.style == crate::load::ScalarStyle::Plain => {
            scalar_type(&s.text)
        }
        _ => None,
    }
}

/// The type YAML 1.1 (CloudFormation's and Serverless' reader), YAML 1.2 or JSON gives a
/// plain scalar with this text, when it is not a string. Errs towards "not a string": a
/// suppression that is not read as text suppresses nothing.
fn scalar_type(text: &str) -> Option<&'static str> {
    if matches!(text, "" | "~") || text.eq_ignore_ascii_case("null") {
        return Some("null");
    }
    let lower = text.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "y" | "n" | "yes" | "no" | "true" | "false" | "on" | "off"
    ) {
        return Some("a boolean");
    }
    let body = lower.strip_prefix(['+', '-']).unwrap_or(&lower);
    if matches!(body, ".inf" | ".nan") {
        return Some("a number");
    }
    let digits: String = body.chars().filter(|&c| c != '_').collect();
    let radix = |prefix: &str, radix: u32| {
        digits
            .strip_prefix(prefix)
            .is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_digit(radix)))
    };
    let decimal = digits.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && digits.parse::<f64>().is_ok();
    // YAML 1.1 base 60: `1:20`, `190:20:30.15`.
    let sexagesimal = digits.contains(':')
        && digits.split(':').enumerate().all(|(i, part)| {
            !part.is_empty()
                && if i == 0 {
                    part.chars().all(|c| c.is_ascii_digit())
                } else {
                    part.parse::<f64>().is_ok() && part.starts_with(|c: char| c.is_ascii_digit())
                }
        });
    (decimal || radix("0x", 16) || radix("0o", 8) || radix("0b", 2) || sexagesimal)
        .then_some("a number")
}
