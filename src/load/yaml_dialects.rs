//! YAML 1.1 against YAML 1.2: the constructs the two read differently, and the check that
//! a file holding one reads the same both ways.
//!
//! saphyr reads YAML 1.2. PyYAML (cfn-lint), SnakeYAML and libyaml read YAML 1.1, and so,
//! as far as anyone outside AWS can tell, does CloudFormation. Where the two disagree, a
//! crafted template could show the checker one set of keys and deploy another: a table
//! hidden behind a U+2028 in a comment is a line of its own to CloudFormation and part of
//! the comment to saphyr. So a file that saphyr reads and that holds such a construct is
//! read again by libyaml-safer (YAML 1.1); if the two trees differ, or libyaml cannot read
//! it, the file is refused at the construct, never checked with a reading CloudFormation
//! may not share. The differential fuzz target `parsers_agree` looks for constructs not
//! listed here.

use super::tree::{Document, NodeId, NodeKind};
use super::LoadError;
use crate::source::Span;

/// A construct that YAML 1.1 and YAML 1.2 may read differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ambiguity {
    pub span: Span,
    pub kind: AmbiguityKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AmbiguityKind {
    /// NEL, LINE SEPARATOR or PARAGRAPH SEPARATOR: a line break in YAML 1.1 (also inside a
    /// comment, where it ends the comment), an ordinary character in YAML 1.2.
    UnicodeLineBreak(char),
    /// `?` at the start of a plain scalar in a flow collection (`{?a: b}`, `[?a]`): an
    /// explicit-key indicator in YAML 1.1, part of the text in YAML 1.2.
    QuestionMarkInFlow,
}

impl Ambiguity {
    fn label(&self) -> String {
        match self.kind {
            AmbiguityKind::UnicodeLineBreak(c) => format!(
                "U+{:04X} {} is a line break in YAML 1.1 only",
                c as u32,
                unicode_break_name(c)
            ),
            AmbiguityKind::QuestionMarkInFlow => {
                "`?` here starts an explicit key in YAML 1.1 only".to_string()
            }
        }
    }

    fn help(&self) -> &'static str {
        match self.kind {
            AmbiguityKind::UnicodeLineBreak(_) => {
                "CloudFormation and cfn-lint read YAML 1.1: replace the character with an \
                 ordinary newline or space, or write it as an escape (`\\u2028`, `\\N`) in a \
                 double-quoted string"
            }
            AmbiguityKind::QuestionMarkInFlow => {
                "CloudFormation and cfn-lint read YAML 1.1: quote the value (`'?a'`) if `?` is \
                 part of it, or put a space after `?` if it marks a key"
            }
        }
    }
}

fn unicode_break_name(c: char) -> &'static str {
    match c {
        '\u{85}' => "NEXT LINE",
        '\u{2028}' => "LINE SEPARATOR",
        _ => "PARAGRAPH SEPARATOR",
    }
}

/// The first NEL, LINE SEPARATOR or PARAGRAPH SEPARATOR in `text` (which starts at offset
/// `base` of the file). A byte scan: their UTF-8 forms start with 0xC2 or 0xE2.
pub fn unicode_line_break(text: &str, base: usize) -> Option<Ambiguity> {
    let bytes = text.as_bytes();
    memchr::memchr2_iter(0xC2, 0xE2, bytes).find_map(|at| {
        let c = match bytes.get(at..at + 3) {
            Some([0xE2, 0x80, 0xA8]) => '\u{2028}',
            Some([0xE2, 0x80, 0xA9]) => '\u{2029}',
            _ if bytes.get(at..at + 2) == Some(&[0xC2, 0x85]) => '\u{85}',
            _ => return None,
        };
        Some(Ambiguity {
            span: Span::new(base + at, base + at + c.len_utf8()),
            kind: AmbiguityKind::UnicodeLineBreak(c),
        })
    })
}

/// Accept saphyr's reading `strict` only if the YAML 1.1 reading `other` (libyaml-safer's,
/// or its error) builds the same tree; otherwise refuse the file at the construct.
pub fn confirm<'s>(
    strict: Document<'s>,
    other: Result<Document<'_>, LoadError>,
    ambiguity: Ambiguity,
) -> Result<Document<'s>, LoadError> {
    let refusal = LoadError::at(
        "YAML 1.1 and YAML 1.2 parsers read this file differently",
        ambiguity.span,
        ambiguity.label(),
    )
    .with_help(ambiguity.help());
    match other {
        Ok(other) => match first_difference(&strict, &other) {
            None => Ok(strict),
            Some(at) if at != ambiguity.span => {
                Err(refusal.with_label(at, "a YAML 1.1 parser reads this part differently"))
            }
            Some(_) => Err(refusal),
        },
        Err(error) => {
            let refusal = LoadError {
                message: format!("{} (as YAML 1.1: {})", refusal.message, error.message),
                ..refusal
            };
            Err(match error.span {
                Some(at) if at != ambiguity.span => {
                    refusal.with_label(at, error.label.unwrap_or_else(|| "here".into()))
                }
                _ => refusal,
            })
        }
    }
}

/// Where `a` first differs from `b` (in document order): the span in `a` of the first
/// node that differs in structure, keys, scalar text, scalar style or tag, or of the last
/// document when they hold different numbers of documents. Spans are not compared.
/// Iterative, so a deep tree cannot overflow the stack.
pub fn first_difference(a: &Document, b: &Document) -> Option<Span> {
    let roots_a: Vec<NodeId> = a.root.iter().chain(&a.more_roots).copied().collect();
    let roots_b: Vec<NodeId> = b.root.iter().chain(&b.more_roots).copied().collect();
    if roots_a.len() != roots_b.len() {
        let last = roots_a.last().map_or(Span::new(0, 0), |&id| a.span(id));
        return Some(last);
    }
    let mut stack: Vec<(NodeId, NodeId)> = roots_a.into_iter().zip(roots_b).rev().collect();
    while let Some((x, y)) = stack.pop() {
        let (nx, ny) = (a.node(x), b.node(y));
        if nx.tag != ny.tag {
            return Some(nx.span);
        }
        match (&nx.kind, &ny.kind) {
            (NodeKind::Scalar(sx), NodeKind::Scalar(sy)) => {
                if sx.text != sy.text || sx.style != sy.style {
                    return Some(nx.span);
                }
            }
            (NodeKind::Seq(ix), NodeKind::Seq(iy)) if ix.len() == iy.len() => {
                stack.extend(ix.iter().copied().zip(iy.iter().copied()).rev());
            }
            (NodeKind::Map(ex), NodeKind::Map(ey)) if ex.len() == ey.len() => {
                for (ex, ey) in ex.iter().zip(ey).rev() {
                    stack.push((ex.value, ey.value));
                    stack.push((ex.key, ey.key));
                }
            }
            _ => return Some(nx.span),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{load, load_lenient_yaml, Format, Limits};

    fn refusal(text: &str) -> LoadError {
        load(text, Format::Yaml, &Limits::default()).expect_err("refused")
    }

    #[test]
    fn a_table_hidden_behind_a_line_separator_in_a_comment_is_refused() {
        // YAML 1.1 ends the comment at U+2028, so CloudFormation sees a second table.
        let text = "Resources:\n  A:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: Retain\n  # x\u{2028}  B: {Type: AWS::DynamoDB::Table}\n";
        assert!(load_lenient_yaml(text, &Limits::default()).is_ok_and(|d| d.text.contains("B:")));
        let error = refusal(text);
        assert_eq!(
            error.message,
            "YAML 1.1 and YAML 1.2 parsers read this file differently"
        );
        let span = error.span.expect("span");
        assert_eq!(&text[span.start..span.end], "\u{2028}");
        assert!(error
            .label
            .as_deref()
            .is_some_and(|l| l.contains("U+2028 LINE SEPARATOR")));
    }

    #[test]
    fn next_line_and_paragraph_separator_in_a_comment_are_refused() {
        for c in ['\u{85}', '\u{2029}'] {
            let text = format!("a: 1 # x{c}b: c\n");
            let span = refusal(&text).span.expect("span");
            assert_eq!(&text[span.start..span.end], c.to_string());
        }
    }

    #[test]
    fn a_line_separator_both_dialects_read_alike_is_accepted() {
        // Inside a double-quoted scalar both keep U+2028 as text.
        let text = "Description: \"a\u{2028}b\"\n";
        let doc = load(text, Format::Yaml, &Limits::default()).expect("loads");
        let value = doc.get_value(doc.root.expect("root"), "Description");
        assert_eq!(value.and_then(|v| doc.str(v)), Some("a\u{2028}b"));
        assert!(!doc.lenient);
    }

    #[test]
    fn a_question_mark_starting_a_flow_key_is_refused() {
        for (text, at) in [
            ("T: {?DeletionPolicy: Delete, DeletionPolicy: Retain}\n", 4),
            ("a: [?b]\n", 4),
            ("a: [x, ?b: c]\n", 7),
        ] {
            let error = refusal(text);
            assert_eq!(error.span.map(|s| s.start), Some(at), "{text}");
            assert!(error.help.is_some_and(|h| h.contains("quote")));
        }
    }

    #[test]
    fn a_question_mark_outside_flow_or_inside_a_word_is_text() {
        for text in [
            "a: ?b\n",
            "a: b?c\n",
            "a: [b?c]\n",
            "a: {b: '?c'}\n",
            "? a\n: b\n",
            "a: {? b: c}\n",
        ] {
            assert!(
                load(text, Format::Yaml, &Limits::default()).is_ok(),
                "{text}"
            );
        }
    }

    #[test]
    fn first_difference_compares_keys_text_style_and_tags() {
        let same = |a: &str, b: &str| {
            let x = load(a, Format::Yaml, &Limits::default()).expect("a");
            let y = load(b, Format::Yaml, &Limits::default()).expect("b");
            first_difference(&x, &y).is_none()
        };
        assert!(same("a: [1, {b: c}]\n", "a:\n  - 1\n  - b: c\n"));
        assert!(!same("a: 1\n", "b: 1\n"));
        assert!(!same("a: 1\n", "a: '1'\n"));
        assert!(!same("a: !Ref x\n", "a: x\n"));
        assert!(!same("a: [1]\n", "a: [1, 2]\n"));
        assert!(!same("a: 1\n", "a: 1\n---\nb: 2\n"));
    }
}
