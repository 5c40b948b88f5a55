//! YAML 1.1 against YAML 1.2: the constructs the two read differently, and the check that
//! a file holding one reads the same both ways.
//!
//! saphyr reads YAML 1.2. CloudFormation's documentation says it reads YAML 1.1 (less
//! aliases, merge keys and a few tags), as do PyYAML (cfn-lint), SnakeYAML and libyaml. Where the two disagree, a
//! crafted template could show the checker one set of keys and deploy another: a table
//! hidden behind a U+2028 in a comment is a line of its own to CloudFormation and part of
//! the comment to saphyr. So a file that saphyr reads and that holds such a construct is
//! read again by libyaml-safer (YAML 1.1); if the two trees differ, or libyaml cannot read
//! it, the file is refused at the construct, never checked with a reading CloudFormation
//! may not share. The differential fuzz target `parsers_agree` looks for constructs not
//! listed here.

use std::borrow::Cow;

use super::builder::Builder;
use super::tree::{Document, NodeId, NodeKind, ScalarStyle};
use super::FileError;
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
    /// A block scalar that ends the file without a line break, whose indentation is given
    /// by an indicator (`|2`) and whose last line is blank: whether that line belongs to
    /// it decides a trailing line break saphyr and YAML 1.1 count differently.
    BlockScalarAtEnd,
    /// A line starting with `---` or `...` inside a block scalar that is a whole document
    /// (`!Sub |` at the root, its text at column 0): saphyr keeps the line as text, YAML
    /// 1.1 starts or ends a document there, and the next document could be a template.
    DocumentMarkerInBlockScalar,
    /// A block scalar that is a whole document with its text at column 0: text to YAML
    /// 1.2, while YAML 1.1 (PyYAML, libyaml) wants at least one space of indentation and
    /// reads the lines as something else, or not at all.
    RootBlockScalarAtColumnZero,
    /// A byte order mark after the start of the file: YAML 1.2 skips one that starts a
    /// line outside a document's content, YAML 1.1 reads it as text (PyYAML makes it part
    /// of the next key, libyaml counts it as a column of indentation).
    ByteOrderMark,
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
            AmbiguityKind::ByteOrderMark => {
                "U+FEFF BYTE ORDER MARK after the start of the file is text in YAML 1.1 only"
                    .to_string()
            }
            AmbiguityKind::BlockScalarAtEnd => {
                "a block scalar ends the file on this blank line without a line break".to_string()
            }
            AmbiguityKind::DocumentMarkerInBlockScalar => {
                "a document marker in YAML 1.1, text in this block scalar to YAML 1.2".to_string()
            }
            AmbiguityKind::RootBlockScalarAtColumnZero => {
                "text at column 0 belongs to this block scalar in YAML 1.2 only".to_string()
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
            AmbiguityKind::ByteOrderMark => {
                "CloudFormation and cfn-lint read YAML 1.1: remove the character (a byte \
                 order mark belongs only at the very start of a file)"
            }
            AmbiguityKind::BlockScalarAtEnd => {
                "end the file with a line break, or remove the blanks after the last one"
            }
            AmbiguityKind::DocumentMarkerInBlockScalar
            | AmbiguityKind::RootBlockScalarAtColumnZero => {
                "a template is one mapping: indent the block scalar's text, or remove the line"
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

/// The first NEL, LINE SEPARATOR, PARAGRAPH SEPARATOR or BYTE ORDER MARK in `text`
/// (which starts at offset `base` of the file, after any leading BOM). A byte scan: their
/// UTF-8 forms start with 0xC2, 0xE2 or 0xEF.
pub fn unicode_character(text: &str, base: usize) -> Option<Ambiguity> {
    let bytes = text.as_bytes();
    memchr::memchr3_iter(0xC2, 0xE2, 0xEF, bytes).find_map(|at| {
        let (kind, len) = match bytes.get(at..at + 3) {
            Some([0xE2, 0x80, 0xA8]) => (AmbiguityKind::UnicodeLineBreak('\u{2028}'), 3),
            Some([0xE2, 0x80, 0xA9]) => (AmbiguityKind::UnicodeLineBreak('\u{2029}'), 3),
            Some([0xEF, 0xBB, 0xBF]) => (AmbiguityKind::ByteOrderMark, 3),
            _ if bytes.get(at..at + 2) == Some(&[0xC2, 0x85]) => {
                (AmbiguityKind::UnicodeLineBreak('\u{85}'), 2)
            }
            _ => return None,
        };
        Some(Ambiguity {
            span: Span::new(base + at, base + at + len),
            kind,
        })
    })
}

/// A scalar as saphyr reported it, for the checks that only a scalar can fail.
pub struct ScalarEvent {
    pub style: ScalarStyle,
    pub tagged: bool,
    /// saphyr's span: a tagged scalar's starts at its tag, a block scalar's ends at the
    /// next token.
    pub span: Span,
}

impl ScalarEvent {
    /// saphyr's `value` as YAML 1.1 reads it where the difference is known and local (a
    /// block scalar at the end of the text), and the first construct in it that YAML 1.1
    /// may read otherwise: `?` starting a plain scalar in a flow collection, a document
    /// marker inside a root block scalar. `builder` is where the scalar goes.
    pub fn as_yaml_1_1<'s>(
        &self,
        value: Cow<'s, str>,
        builder: &Builder,
        text: &str,
        base: usize,
    ) -> (Cow<'s, str>, Option<Ambiguity>) {
        match self.style {
            ScalarStyle::Plain if value.starts_with('?') && builder.in_flow() => {
                let ambiguity = Ambiguity {
                    span: Span::new(self.span.start, self.span.start + 1),
                    kind: AmbiguityKind::QuestionMarkInFlow,
                };
                (value, Some(ambiguity))
            }
            ScalarStyle::Block => {
                let root = if builder.at_root() {
                    self.root_block(text, base)
                } else {
                    None
                };
                let (value, at_end) =
                    block_scalar_at_end(value, self.tagged, text, base, self.span);
                (value, root.or(at_end))
            }
            _ => (value, None),
        }
    }

    /// A block scalar that is a whole document: a `---` line in it, or else its text at
    /// column 0.
    fn root_block(&self, text: &str, base: usize) -> Option<Ambiguity> {
        let start = self.span.start.saturating_sub(base);
        let marker = text
            .get(start..self.span.end.saturating_sub(base))
            .and_then(|raw| document_marker(raw, self.span.start));
        marker.or_else(|| {
            (content_indentation(text, start, self.tagged) == Some(0)).then_some(Ambiguity {
                span: Span::new(self.span.start, self.span.start),
                kind: AmbiguityKind::RootBlockScalarAtColumnZero,
            })
        })
    }
}

/// The first line of `raw` (a block scalar's text, at offset `start` of the file) that
/// starts with a document marker (`---` or `...`).
fn document_marker(raw: &str, start: usize) -> Option<Ambiguity> {
    let mut at = 0;
    for line in raw.split_inclusive(['\n', '\r']) {
        if line.starts_with("---") || line.starts_with("...") {
            return Some(Ambiguity {
                span: Span::new(start + at, start + at + 3),
                kind: AmbiguityKind::DocumentMarkerInBlockScalar,
            });
        }
        at += line.len();
    }
    None
}

/// saphyr's value for a block scalar (`|`, `>`) that runs to the end of a text without a
/// final line break has one line break too many when that last line belongs to the
/// scalar: `a: >\n b` is `b\n` to saphyr and `b` to PyYAML, `a: |\n b\n ` is `b\n\n`
/// against `b\n` (found by the parsers_agree fuzz target, checked against PyYAML for each
/// chomping indicator). Left alone, that could flip an `Fn::Equals` written last in a
/// file. Takes the extra line break off, or, where that depends on an indentation
/// indicator it does not read (`!Sub |2` with a blank last line), leaves the value and
/// returns the ambiguity for the YAML 1.1 comparison.
fn block_scalar_at_end<'s>(
    value: Cow<'s, str>,
    tagged: bool,
    text: &str,
    base: usize,
    span: Span,
) -> (Cow<'s, str>, Option<Ambiguity>) {
    let at_end = span.end == base + text.len() && !text.ends_with(['\n', '\r']);
    if !at_end || !value.ends_with('\n') {
        return (value, None);
    }
    let last_line = &text[text.rfind(['\n', '\r']).map_or(0, |at| at + 1)..];
    if last_line.trim_start_matches(' ').is_empty() {
        // A blank last line belongs to the scalar if it reaches its indentation.
        let Some(indent) = content_indentation(text, span.start.saturating_sub(base), tagged)
        else {
            let blank = Span::new(base + text.len() - last_line.len(), base + text.len());
            let ambiguity = Ambiguity {
                span: blank,
                kind: AmbiguityKind::BlockScalarAtEnd,
            };
            return (value, Some(ambiguity));
        };
        if last_line.len() < indent {
            return (value, None);
        }
    }
    let value = match value {
        Cow::Borrowed(v) => Cow::Borrowed(&v[..v.len() - 1]),
        Cow::Owned(mut v) => {
            v.pop();
            Cow::Owned(v)
        }
    };
    (value, None)
}

/// The content indentation of the block scalar whose event starts at byte `start` of
/// `text`. saphyr starts an untagged block scalar's event at its content indentation on
/// its first line with text, and a tagged one at its tag: there it is the indentation of
/// the first line with text after the header (`|`, `>` and their indicators). `None` when
/// the header gives it with an indentation indicator (`!Sub |2`), or cannot be found.
fn content_indentation(text: &str, start: usize, tagged: bool) -> Option<usize> {
    if !tagged {
        let line_start = text
            .get(..start)?
            .rfind(['\n', '\r'])
            .map_or(0, |at| at + 1);
        let before = &text[line_start..start];
        return before.bytes().all(|b| b == b' ').then_some(before.len());
    }
    // Past the tag, blanks, line breaks and comments to the indicator.
    let mut rest = text
        .get(start..)?
        .trim_start_matches(|c: char| !c.is_whitespace());
    loop {
        rest = rest.trim_start();
        match rest.strip_prefix('#') {
            Some(comment) => rest = comment.split_once(['\n', '\r'])?.1,
            None => break,
        }
    }
    if !rest.starts_with(['|', '>']) {
        return None;
    }
    let (header, body) = rest.split_once(['\n', '\r'])?;
    let indicators = header.split(char::is_whitespace).next().unwrap_or_default();
    if indicators.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    body.split(['\n', '\r'])
        .find(|line| !line.trim().is_empty())
        .map(|line| line.len() - line.trim_start_matches(' ').len())
}

/// Accept saphyr's reading `strict` only if the YAML 1.1 reading `other` (libyaml-safer's,
/// or its error) builds the same tree; otherwise refuse the file at the construct.
pub fn confirm<'s>(
    strict: Document<'s>,
    other: Result<Document<'_>, FileError>,
    ambiguity: Ambiguity,
) -> Result<Document<'s>, FileError> {
    let refusal = FileError::at(
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
            let refusal = FileError {
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
/// node that differs in structure, keys, scalar text, scalar style or tag. Where two
/// collections differ only in length, their common items are compared first, so the span
/// is the first item that differs, or else the shorter collection. Spans are not compared.
/// Iterative, so a deep tree cannot overflow the stack.
pub fn first_difference(a: &Document, b: &Document) -> Option<Span> {
    /// Compare two nodes, or report a collection whose common items all matched.
    enum Step {
        Compare(NodeId, NodeId),
        Longer(Span),
    }
    let roots_a: Vec<NodeId> = a.root.iter().chain(&a.more_roots).copied().collect();
    let roots_b: Vec<NodeId> = b.root.iter().chain(&b.more_roots).copied().collect();
    let mut stack = Vec::new();
    if roots_a.len() != roots_b.len() {
        let last = roots_a.last().map_or(Span::new(0, 0), |&id| a.span(id));
        stack.push(Step::Longer(last));
    }
    stack.extend(
        roots_a
            .into_iter()
            .zip(roots_b)
            .rev()
            .map(|(x, y)| Step::Compare(x, y)),
    );
    while let Some(step) = stack.pop() {
        let (x, y) = match step {
            Step::Compare(x, y) => (x, y),
            Step::Longer(span) => return Some(span),
        };
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
            (NodeKind::Seq(ix), NodeKind::Seq(iy)) => {
                let (ix, iy) = (a.items(*ix), b.items(*iy));
                if ix.len() != iy.len() {
                    stack.push(Step::Longer(nx.span));
                }
                let pairs = ix.iter().zip(iy).rev();
                stack.extend(pairs.map(|(x, y)| Step::Compare(*x, *y)));
            }
            (NodeKind::Map(ex), NodeKind::Map(ey)) => {
                let (ex, ey) = (a.entries(*ex), b.entries(*ey));
                if ex.len() != ey.len() {
                    stack.push(Step::Longer(nx.span));
                }
                for (ex, ey) in ex.iter().zip(ey).rev() {
                    stack.push(Step::Compare(ex.value, ey.value));
                    stack.push(Step::Compare(ex.key, ey.key));
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

    fn refusal(text: &str) -> FileError {
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
    fn a_byte_order_mark_after_the_start_is_refused_and_one_at_the_start_is_not() {
        // Found by the parsers_agree fuzz target: saphyr skips the second BOM, so `b` is a
        // child of `a`; to libyaml the BOM is a column of indentation, and `b` a sibling.
        let text = "\n\u{feff}a:\n b: c\n";
        let span = refusal(text).span.expect("span");
        assert_eq!(&text[span.start..span.end], "\u{feff}");
        assert!(load("\u{feff}a:\n b: c\n", Format::Yaml, &Limits::default()).is_ok());
    }

    #[test]
    fn a_block_scalar_ending_the_file_without_a_line_break_reads_as_in_yaml_1_1() {
        // Each value is PyYAML's (yaml.safe_load).
        for (text, value) in [
            ("a: >\n b", "b"),
            ("a: >\n b\n ", "b\n"),
            ("a: |\n b\n\n ", "b\n"),
            ("a: |+\n b\n\n\n ", "b\n\n\n"),
            ("a: |+\n b", "b"),
            ("a: >\n b\n  ", "b\n "),
            ("a: |\n b\n # c", "b\n# c"),
            ("a: |2\n   b\n  ", " b\n"),
            ("a: >-\n b\n ", "b"),
            ("a: >\n b\n\n  c\n ", "b\n\n c\n"),
            ("a:\n  b: |\n    x\n  ", "x\n"),
            ("a: |\n b\n# c", "b\n"),
            ("a: |\n b\n", "b\n"),
            ("a: |\r\n b", "b"),
            ("a: !Sub |\n  x\n\n  ", "x\n"),
            ("- >\n  b\n\n  c", "b\nc"),
            ("a: |\n\n  b\n ", "\nb\n"),
            ("a: !Sub |\n\n  b\n  ", "\nb\n"),
            ("a: !Sub |\n\n  b\n ", "\nb\n"),
            ("!Sub\n  |\n\n x\n    ", "\nx\n   "),
            ("!Sub # c |\n  |\n\n x\n ", "\nx\n"),
            ("!Sub\n  |\n\n  x\n ", "\nx\n"),
        ] {
            let doc = load(text, Format::Yaml, &Limits::default()).expect("loads");
            let last = doc
                .nodes
                .iter()
                .filter_map(|n| match &n.kind {
                    NodeKind::Scalar(s) => Some(s.text.as_ref()),
                    _ => None,
                })
                .next_back();
            assert_eq!(last, Some(value), "{text:?}");
        }
    }

    #[test]
    fn a_document_marker_inside_a_root_block_scalar_is_refused() {
        // Found by the parsers_agree fuzz target: saphyr reads one scalar document, YAML
        // 1.1 a second document that holds a table.
        let text = "!Sub |\nx\n---\nResources:\n  T: {Type: AWS::DynamoDB::Table}\n";
        let span = refusal(text).span.expect("span");
        assert_eq!(&text[span.start..span.end], "---");
        assert!(load("a: |\n  x\n  ---\n", Format::Yaml, &Limits::default()).is_ok());
    }

    #[test]
    fn a_root_block_scalar_with_text_at_column_zero_is_refused() {
        // Found by the parsers_agree fuzz target: YAML 1.1 wants one space of indentation,
        // so to PyYAML and libyaml this block scalar is empty and `# x` a comment.
        let error = refusal("!Sub\n  |\n\n# x\n");
        assert!(error
            .label
            .is_some_and(|l| l.contains("column 0 belongs to this block scalar")));
        assert!(load("!Sub\n  |\n\n # x\n", Format::Yaml, &Limits::default()).is_ok());
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
        let text = "a: {b: 1, c: 2}\n";
        let x = load(text, Format::Yaml, &Limits::default()).expect("x");
        let y = load("a: {b: 1, d: 2, e: 3}\n", Format::Yaml, &Limits::default()).expect("y");
        let at = first_difference(&x, &y).expect("differs");
        assert_eq!(
            &text[at.start..at.end],
            "c",
            "the first differing key, not the mapping"
        );
    }
}
