//! YAML to the spanned tree through saphyr-parser's event iterator, with libyaml-safer as
//! a fallback for files that only saphyr rejects.
//!
//! saphyr enforces the YAML 1.2 indentation rules strictly: a flow sequence's closing `]`
//! or a quoted scalar's continuation line at its parent key's indentation is an error.
//! libyaml (and so PyYAML, cfn-lint, and CloudFormation's own parser) accepts those, and
//! real deployed templates use them, so a scan error from saphyr is retried with
//! libyaml-safer; saphyr's error is reported only if libyaml rejects the file too. Both
//! adapters feed the same [`Builder`], which owns every CloudFormation check. A file
//! saphyr reads but that holds a construct YAML 1.1 reads otherwise (a U+2028 line break,
//! `?` starting a flow key) is read by libyaml-safer too and refused unless both trees
//! agree (`yaml_dialects`).
//! saphyr's markers count characters; [`ByteCursor`] converts them to byte offsets.

use saphyr_parser::{Event, Parser, ScalarStyle as YamlStyle, ScanError, Span as YamlSpan};

use super::builder::{alias_error, convert_tag, trim_scalar_span, Builder, Collection};
use super::tree::{long_form_tag, Document, ScalarStyle, Tag};
use super::yaml_dialects::{self, Ambiguity};
use super::{yaml_fallback, yaml_fast, Aliases, FileError, Limits};
use crate::source::Span;
use crate::timings::{self, Laps, Part};

pub fn load<'s>(
    text: &'s str,
    base: usize,
    limits: &Limits,
    aliases: Aliases,
) -> Result<Document<'s>, FileError> {
    // Most templates lie in the fast path's subset; it declines the rest (issue 23).
    let fast = timings::time_part(Part::FastYaml, || {
        yaml_fast::load(text, base, limits, aliases)
    });
    if let Ok(doc) = fast {
        return Ok(doc);
    }
    saphyr_path(text, base, limits, aliases)
}

/// saphyr with its libyaml-safer second opinion and the dialect checks: what every text
/// outside the fast path's subset goes through, and the reading the fast path must match
/// exactly or decline (its oracle, and `yaml_gen`'s differential harness, compare with it).
pub(crate) fn saphyr_path<'s>(
    text: &'s str,
    base: usize,
    limits: &Limits,
    aliases: Aliases,
) -> Result<Document<'s>, FileError> {
    let second_reading =
        || timings::time_part(Part::Dialects, || load_lenient(text, base, limits, aliases));
    match load_saphyr(text, base, limits, aliases) {
        // A second opinion; saphyr's error is the one reported if libyaml refuses too.
        Err(Failure::Scan(error)) => second_reading().map_err(|_| error),
        Err(Failure::Rejected(error)) => Err(error),
        Ok((doc, None)) => Ok(doc),
        // A construct YAML 1.1 may read otherwise: accept saphyr's tree only if libyaml's
        // is the same (see `yaml_dialects`).
        Ok((doc, Some(ambiguity))) => timings::time_part(Part::Dialects, || {
            yaml_dialects::confirm(doc, load_lenient(text, base, limits, aliases), ambiguity)
        }),
    }
}

/// The libyaml-safer fallback alone. libyaml-safer is a port with `panic!` left in; a
/// panic there is a refusal, never a crash (see `quiet_fallback_panics`; `can_read` avoids
/// a known one).
pub fn load_lenient<'s>(
    text: &'s str,
    base: usize,
    limits: &Limits,
    aliases: Aliases,
) -> Result<Document<'s>, FileError> {
    if !yaml_fallback::can_read(text) {
        return Err(FileError::new(
            "invalid YAML: the lenient parser cannot read a tag followed by a comma",
        ));
    }
    let mut doc = std::panic::catch_unwind(|| yaml_fallback::load(text, base, limits, aliases))
        .unwrap_or_else(|_| Err(FileError::new("invalid YAML: the lenient parser failed")))?;
    doc.lenient = true;
    Ok(doc)
}

enum Failure {
    /// The parser could not read the text (worth a second opinion).
    Scan(FileError),
    /// The text was read, and the builder refused it (the fallback would refuse it too).
    Rejected(FileError),
}

/// saphyr's tree, and the first construct in it that YAML 1.1 may read differently.
fn load_saphyr<'s>(
    text: &'s str,
    base: usize,
    limits: &Limits,
    aliases: Aliases,
) -> Result<(Document<'s>, Option<Ambiguity>), Failure> {
    let mut cursor = ByteCursor::new(text, base);
    let mut builder = Builder::new(text, base, limits).with_aliases(aliases);
    let mut ambiguity = timings::time_part(Part::Dialects, || {
        yaml_dialects::unicode_character(text, base)
    });
    // The parser's events and our tree are interleaved: each lap is one or the other.
    let mut laps = Laps::new(Part::Tokenizer, Part::Tree);
    let mut parser = Parser::new_from_str(text);
    loop {
        laps.lap(true);
        let next = parser.next();
        laps.lap(false);
        let Some(item) = next else { break };
        let (event, yspan) = item.map_err(|e| {
            let error = scan_error(&e, &mut cursor, aliases);
            if e.info() == "recursion limit exceeded" {
                Failure::Rejected(error)
            } else {
                Failure::Scan(error)
            }
        })?;
        let span = cursor.span(yspan);
        let step = match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => Ok(()),
            Event::DocumentStart(_) => builder.document_start(span),
            Event::Alias(anchor) => builder.alias(anchor, span),
            Event::Scalar(value, style, anchor, tag) => {
                let style = match style {
                    YamlStyle::Plain => ScalarStyle::Plain,
                    YamlStyle::SingleQuoted | YamlStyle::DoubleQuoted => ScalarStyle::Quoted,
                    YamlStyle::Literal | YamlStyle::Folded => ScalarStyle::Block,
                };
                // Only a plain scalar starting with `?` and a block scalar can be read
                // otherwise by YAML 1.1 (`yaml_dialects`).
                let value = if style == ScalarStyle::Quoted
                    || (style == ScalarStyle::Plain && !value.starts_with('?'))
                {
                    value
                } else {
                    let scalar = yaml_dialects::ScalarEvent {
                        style,
                        tagged: tag.is_some(),
                        span,
                    };
                    let (value, found) = scalar.as_yaml_1_1(value, &builder, text, base);
                    ambiguity = ambiguity.or(found);
                    value
                };
                let tag = match tag {
                    None => Ok(None),
                    Some(tag) => tag_of(Some(&tag), span),
                };
                tag.and_then(|tag| {
                    let span = trim_scalar_span(text, base, span, style);
                    builder.scalar(value, style, span, tag, anchor)
                })
            }
            Event::MappingStart(anchor, tag) => tag_of(tag.as_deref(), span).and_then(|tag| {
                builder.start(
                    Collection::Map,
                    span,
                    tag,
                    opens_flow(text, base, span, '{'),
                    anchor,
                )
            }),
            Event::SequenceStart(anchor, tag) => tag_of(tag.as_deref(), span).and_then(|tag| {
                builder.start(
                    Collection::Seq,
                    span,
                    tag,
                    opens_flow(text, base, span, '['),
                    anchor,
                )
            }),
            Event::MappingEnd | Event::SequenceEnd => builder.end(span),
        };
        step.map_err(Failure::Rejected)?;
    }
    drop(parser);
    laps.lap(false);
    drop(laps);
    Ok((builder.finish(), ambiguity))
}

/// Our tag for saphyr's: a CloudFormation short form (`!Ref`, `!Sub`: the handle `!` and
/// a suffix) straight to its long-form name, any other through [`convert_tag`] on the
/// handle and suffix joined, which reads the short forms the same way.
fn tag_of(tag: Option<&saphyr_parser::Tag>, span: Span) -> Result<Option<Tag>, FileError> {
    match tag {
        None => Ok(None),
        Some(t) if t.handle == "!" && !t.suffix.starts_with('<') => {
            Ok((!t.suffix.is_empty()).then(|| long_form_tag(&t.suffix)))
        }
        Some(t) => convert_tag(Some(&format!("{}{}", t.handle, t.suffix)), span),
    }
}

/// The start event of a flow collection covers its properties (tag, anchor) if any, then
/// its bracket, and then any blanks and a comment after it; that of a block collection is
/// empty, or covers only its properties and the following blanks (and comment). So the
/// collection is a flow one when the first character after the properties and blanks is
/// its bracket. (Testing the end of the covered text missed `[ # comment`, which then
/// skipped the YAML 1.1 checks that hold only inside flow collections.)
fn opens_flow(text: &str, base: usize, span: Span, bracket: char) -> bool {
    let Some(mut rest) = span
        .start
        .checked_sub(base)
        .zip(span.end.checked_sub(base))
        .and_then(|(start, end)| text.get(start..end))
    else {
        return false;
    };
    // A tag or an anchor holds no blank and no flow indicator; a verbatim tag (`!<...>`)
    // ends at its `>`.
    while rest.starts_with(['!', '&']) {
        let end = if rest.starts_with("!<") {
            rest.find('>').map_or(rest.len(), |at| at + 1)
        } else {
            rest.find(|c: char| c.is_whitespace() || matches!(c, '[' | '{' | ',' | ']' | '}'))
                .unwrap_or(rest.len())
        };
        rest = rest[end..].trim_start();
    }
    rest.trim_start().starts_with(bracket)
}

fn scan_error(e: &ScanError, cursor: &mut ByteCursor, aliases: Aliases) -> FileError {
    let at = cursor.byte(e.marker().index());
    if e.info().contains("unknown anchor") && aliases == Aliases::Refuse {
        // Anchors are rejected before any alias can refer to one, so every alias lands here.
        return alias_error(Span::new(at, at));
    }
    if e.info() == "recursion limit exceeded" {
        // saphyr counts flow levels (`[`, `{`) in a u8.
        return FileError::at(
            "nesting is deeper than the YAML parser's limit of 255 flow levels",
            Span::new(at, at),
            "too deep",
        )
        .with_help("no real template nests this deep; the file is probably generated wrongly");
    }
    FileError::at(
        format!("invalid YAML: {}", e.info()),
        Span::new(at, at),
        e.info().to_string(),
    )
}

/// Converts saphyr's character indexes to byte offsets. Events arrive almost in order, so
/// the cursor walks from where it last stood, and a stretch of ASCII text (most of a
/// template that has a few other characters) is crossed in one step; ASCII files skip
/// the walk.
struct ByteCursor<'s> {
    text: &'s str,
    base: usize,
    ascii: bool,
    chars: usize,
    bytes: usize,
}

impl<'s> ByteCursor<'s> {
    fn new(text: &'s str, base: usize) -> Self {
        ByteCursor {
            text,
            base,
            ascii: text.is_ascii(),
            chars: 0,
            bytes: 0,
        }
    }

    #[inline]
    fn byte(&mut self, char_index: usize) -> usize {
        if self.ascii {
            return self.base + char_index.min(self.text.len());
        }
        self.walk(char_index)
    }

    fn walk(&mut self, char_index: usize) -> usize {
        let bytes = self.text.as_bytes();
        if char_index > self.chars {
            let ahead = char_index - self.chars;
            match bytes.get(self.bytes..self.bytes.saturating_add(ahead)) {
                Some(stretch) if stretch.is_ascii() => {
                    self.bytes += ahead;
                    self.chars = char_index;
                }
                _ => {
                    while self.chars < char_index && self.bytes < bytes.len() {
                        self.bytes += utf8_width(bytes[self.bytes]);
                        self.chars += 1;
                    }
                }
            }
        } else if char_index < self.chars {
            let back = self.chars - char_index;
            match self
                .bytes
                .checked_sub(back)
                .and_then(|from| bytes.get(from..self.bytes))
            {
                Some(stretch) if stretch.is_ascii() => {
                    self.bytes -= back;
                    self.chars = char_index;
                }
                _ => {
                    while self.chars > char_index && self.bytes > 0 {
                        self.bytes -= 1;
                        while self.bytes > 0 && !self.text.is_char_boundary(self.bytes) {
                            self.bytes -= 1;
                        }
                        self.chars -= 1;
                    }
                }
            }
        }
        self.base + self.bytes.min(bytes.len())
    }

    #[inline]
    fn span(&mut self, span: YamlSpan) -> Span {
        let start = self.byte(span.start.index());
        let end = self.byte(span.end.index());
        Span::new(start, end)
    }
}

/// The length of the UTF-8 character that starts with `lead` (the text is valid UTF-8, so
/// `lead` starts a character).
fn utf8_width(lead: u8) -> usize {
    match lead {
        0xF0.. => 4,
        0xE0.. => 3,
        0xC0.. => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{load as load_any, load_with, Aliases, Format, Limits};
    use super::ByteCursor;

    #[test]
    fn byte_cursor_matches_char_indices_in_any_order() {
        let text = "ab é日本x\u{1F600}y é\nplain ascii stretch here ü end".to_string();
        let offsets: Vec<usize> = text
            .char_indices()
            .map(|(at, _)| at)
            .chain([text.len()])
            .collect();
        let mut cursor = ByteCursor::new(&text, 3);
        let order = (0..offsets.len()).chain((0..offsets.len()).rev()).chain([
            0,
            30,
            2,
            31,
            5,
            40,
            1,
            7,
            6,
            offsets.len() - 1,
            0,
        ]);
        for index in order {
            assert_eq!(cursor.byte(index), 3 + offsets[index], "char {index}");
        }
        // Past the end stays at the end.
        assert_eq!(cursor.byte(offsets.len() + 10), 3 + text.len());
        assert_eq!(cursor.byte(4), 3 + offsets[4]);
    }

    #[test]
    fn multibyte_text_keeps_byte_spans() {
        let text = "a: é\nb: ünï\n";
        let doc = load_any(text, Format::Yaml, &Limits::default()).expect("loads");
        let root = doc.root.expect("root");
        let b = doc.get(root, "b").expect("b");
        assert_eq!(&text[doc.span(b.key).start..doc.span(b.key).end], "b");
        assert_eq!(&text[doc.span(b.value).start..doc.span(b.value).end], "ünï");
    }

    #[test]
    fn flow_close_at_parent_indentation_is_accepted_as_libyaml_does() {
        let text =
            "Statement:\n  - Action: [\n      \"dynamodb:PutItem\",\n    ]\n    Effect: Allow\n";
        let doc = load_any(text, Format::Yaml, &Limits::default()).expect("libyaml accepts it");
        let root = doc.root.expect("root");
        let statement = doc.get_value(root, "Statement").expect("Statement");
        let first = doc.seq(statement).expect("list")[0];
        let action = doc.get_value(first, "Action").expect("Action");
        let item = doc.seq(action).expect("list")[0];
        let span = doc.span(item);
        assert_eq!(&text[span.start..span.end], "\"dynamodb:PutItem\"");
    }

    #[test]
    fn quoted_continuation_at_parent_indentation_is_accepted() {
        let text = "A:\n  Doc: !Sub '{\n      \"a\": 1\n  }'\n  B: x\n";
        let doc = load_any(text, Format::Yaml, &Limits::default()).expect("libyaml accepts it");
        let root = doc.root.expect("root");
        let a = doc.get_value(root, "A").expect("A");
        let d = doc.get_value(a, "Doc").expect("Doc");
        assert_eq!(doc.call(d).map(|c| c.name), Some("Fn::Sub"));
        let b = doc.get_value(a, "B").expect("B");
        assert_eq!(&text[doc.span(b).start..doc.span(b).end], "x");
    }

    #[test]
    fn a_flow_collection_opened_before_a_comment_is_a_flow_collection() {
        // `?` inside a flow collection is read otherwise by YAML 1.1: the comment after the
        // bracket must not hide that the collection is a flow one.
        for text in [
            "Action: [ # the actions\n    ?dynamodb:DeleteTable ]\n",
            "Action: !Tag [ # the actions\n    ?dynamodb:DeleteTable ]\n",
            "Action: &a [ # the actions\n    ?dynamodb:DeleteTable ]\n",
            "Action: !Tag &a { # keys\n    ?dynamodb:DeleteTable: x }\n",
        ] {
            let error = load_with(text, Format::Yaml, &Limits::default(), Aliases::Expand)
                .expect_err("YAML 1.1 reads it otherwise");
            assert!(
                error.message.contains("YAML 1.1"),
                "{text}: {}",
                error.message
            );
        }
    }

    #[test]
    fn flow_and_block_collections_are_told_apart_after_their_properties() {
        let text = "a: !Tag &x [1]\nb: !Tag # [not a flow]\n  c: d\nd: &y {e: f}\n";
        let doc =
            load_with(text, Format::Yaml, &Limits::default(), Aliases::Expand).expect("loads");
        let root = doc.root.expect("root");
        let spans: Vec<&str> = ["a", "b", "d"]
            .iter()
            .map(|k| {
                let s = doc.span(doc.get_value(root, k).expect("key"));
                &text[s.start..s.end]
            })
            .collect();
        // A flow collection ends at its bracket, a block one at its last child.
        assert_eq!(
            spans,
            ["!Tag &x [1]", "!Tag # [not a flow]\n  c: d", "&y {e: f}"]
        );
    }

    #[test]
    fn flow_detection_is_not_confused_by_brackets_in_comments_crlf_or_nesting() {
        // The same class, found again by yaml_gen's saphyr/libyaml agreement test: the
        // checker read `DeletionPolicy: Retain` where YAML 1.1 reads `Delete`.
        for (text, at) in [
            (
                "T: { # c\n ?DeletionPolicy: Delete, DeletionPolicy: Retain}\n",
                10,
            ),
            ("a: [ # c\n  ?b]\n", 11),
            ("a: !If [ # [\n  ?b, x]\n", 15),
            ("a: [ # c\r\n # d\r\n  [ #\r\n  ?b]]\r\n", 25),
        ] {
            let error = load_any(text, Format::Yaml, &Limits::default()).expect_err(text);
            assert_eq!(error.span.map(|s| s.start), Some(at), "{text:?}");
            assert_eq!(&text[at..at + 1], "?");
        }
        // And it ends where it ends without the comment (saphyr's end event).
        let text = "a: [ # c\n  b ]\nc: !If # [ not flow\n  - x\n";
        let doc = load_any(text, Format::Yaml, &Limits::default()).expect("loads");
        let root = doc.root.expect("root");
        let a = doc.get_value(root, "a").expect("a");
        assert_eq!(&text[doc.span(a).start..doc.span(a).end], "[ # c\n  b ]");
        let c = doc.get_value(root, "c").expect("c");
        assert_eq!(doc.seq(c).map(<[_]>::len), Some(1));
        assert_eq!(&text[doc.span(c).end - 1..doc.span(c).end], "x");
    }

    #[test]
    fn text_both_parsers_reject_reports_saphyrs_error() {
        let error = load_any("a: [\nb", Format::Yaml, &Limits::default()).expect_err("invalid");
        assert!(
            error.message.starts_with("invalid YAML"),
            "{}",
            error.message
        );
        assert!(error.span.is_some());
    }
}
