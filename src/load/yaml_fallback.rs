//! The libyaml-safer adapter: used only when saphyr-parser cannot read a file (see
//! `yaml.rs` for why). It feeds the same [`Builder`], so every CloudFormation check applies
//! unchanged; libyaml's marks are byte offsets already.

use std::borrow::Cow;

use libyaml_safer::{EventData, MappingStyle, Parser, ScalarStyle as YamlStyle, SequenceStyle};

use super::builder::{convert_tag, trim_scalar_span, Builder, Collection};
use super::tree::{Document, ScalarStyle};
use super::{Aliases, FileError, Limits};
use crate::source::Span;

/// Whether libyaml-safer 0.3 can be given `text` without panicking. It panics ("TODO:
/// What is expected here?", scanner.rs) on a tag followed directly by a comma inside a
/// flow collection (`[!Ref, x]`), which saphyr reads fine: found by the `load_yaml` fuzz
/// target. Any `!` that could start a tag (at the start of a word or after a flow or
/// value indicator) followed by a `,` before the next blank is refused here (a stray one
/// in a string only costs the fallback, and saphyr's error is reported). A `!` inside a
/// plain scalar (`Tabl!e,`) is not a tag: refusing it made a fix that wrote a comma after
/// such a scalar turn a file only libyaml reads into one nothing reads (found by the
/// fix_roundtrip fuzz target).
pub fn can_read(text: &str) -> bool {
    !text.split(|c: char| c.is_whitespace()).any(|word| {
        word.char_indices().any(|(at, c)| {
            c == '!'
                && word[..at]
                    .chars()
                    .next_back()
                    .is_none_or(|before| matches!(before, '[' | '{' | ',' | ':' | '?' | '-'))
                && word[at..].contains(',')
        })
    })
}

pub fn load<'s>(
    text: &'s str,
    base: usize,
    limits: &Limits,
    aliases: Aliases,
) -> Result<Document<'s>, FileError> {
    let mut parser = Parser::new();
    let mut input = text.as_bytes();
    parser.set_input_string(&mut input);
    let mut builder = Builder::new(text, base, limits).with_aliases(aliases);
    // libyaml names anchors; the builder numbers them as saphyr does (a name defined
    // again is a new anchor from there on; 0 is "none").
    let mut anchors = Anchors::default();
    let at = |index: u64| base + usize::try_from(index).unwrap_or(usize::MAX).min(text.len());
    loop {
        let event = parser.parse().map_err(|e| {
            let mark = e.problem_mark().map_or(base, |m| at(m.index));
            FileError::at(
                format!("invalid YAML: {}", e.problem()),
                Span::new(mark, mark),
                e.problem(),
            )
        })?;
        let span = Span::new(at(event.start_mark.index), at(event.end_mark.index));
        match event.data {
            EventData::StreamEnd => break,
            EventData::StreamStart { .. } | EventData::DocumentEnd { .. } => {}
            EventData::DocumentStart { .. } => builder.document_start(span)?,
            EventData::Alias { anchor } => {
                // An unknown name is 0, which no anchor has: the builder refuses it.
                let id = anchors.names.get(&anchor).copied().unwrap_or(0);
                builder.alias(id, span)?
            }
            EventData::Scalar {
                anchor,
                tag,
                value,
                style,
                ..
            } => {
                let style = match style {
                    YamlStyle::SingleQuoted | YamlStyle::DoubleQuoted => ScalarStyle::Quoted,
                    YamlStyle::Literal | YamlStyle::Folded => ScalarStyle::Block,
                    _ => ScalarStyle::Plain,
                };
                let tag = convert_tag(tag.as_deref(), span)?;
                let span = trim_scalar_span(text, base, span, style);
                builder.scalar(Cow::Owned(value), style, span, tag, anchors.number(anchor))?;
            }
            EventData::SequenceStart {
                anchor, tag, style, ..
            } => {
                let tag = convert_tag(tag.as_deref(), span)?;
                builder.start(
                    Collection::Seq,
                    span,
                    tag,
                    style == SequenceStyle::Flow,
                    anchors.number(anchor),
                )?;
            }
            EventData::MappingStart {
                anchor, tag, style, ..
            } => {
                let tag = convert_tag(tag.as_deref(), span)?;
                builder.start(
                    Collection::Map,
                    span,
                    tag,
                    style == MappingStyle::Flow,
                    anchors.number(anchor),
                )?;
            }
            EventData::SequenceEnd | EventData::MappingEnd => builder.end(span)?,
        }
    }
    Ok(builder.finish())
}

/// Anchor names to the numbers the builder keys them by.
#[derive(Default)]
struct Anchors {
    names: std::collections::HashMap<String, usize>,
    last: usize,
}

impl Anchors {
    fn number(&mut self, name: Option<String>) -> usize {
        let Some(name) = name else { return 0 };
        self.last += 1;
        self.names.insert(name, self.last);
        self.last
    }
}

#[cfg(test)]
mod tests {
    use crate::load::{Aliases, Document, FileError, Limits};

    fn load<'s>(text: &'s str, base: usize, limits: &Limits) -> Result<Document<'s>, FileError> {
        super::load(text, base, limits, Aliases::Refuse)
    }

    #[test]
    fn the_fallback_expands_aliases_and_merge_keys_like_the_main_adapter() {
        // A flow sequence closed at its key's indentation: only libyaml reads it.
        let text = "d: &d {x: 1, y: 2}
a:
  <<: *d
  y: 3
  l: [
  *d]
";
        let doc = super::load(text, 0, &Limits::default(), Aliases::Expand).expect("reads");
        let root = doc.root.expect("root");
        let a = doc.get_value(root, "a").expect("a");
        let keys: Vec<&str> = doc.map(a).unwrap().iter().map(|e| doc.key(e)).collect();
        assert_eq!(keys, ["y", "l", "x"]);
        assert_eq!(doc.str(doc.get_value(a, "y").unwrap()), Some("3"));
        let l = doc.get_value(a, "l").unwrap();
        assert_eq!(doc.seq(l).unwrap()[0], doc.get_value(root, "d").unwrap());
        assert!(doc.aliases.is_some());
        assert!(load(text, 0, &Limits::default()).is_err());
    }

    /// The fallback must build the same spans as the main adapter.
    #[test]
    fn fallback_spans_slice_back() {
        let text = "R:\n  T:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: !If [C, Retain, \"Delete\"]\n    P: {a: 1}\n";
        let doc = load(text, 0, &Limits::default()).expect("loads");
        for node in &doc.nodes {
            assert!(text.get(node.span.start..node.span.end).is_some());
        }
        let root = doc.root.expect("root");
        let t = doc
            .get_value(doc.get_value(root, "R").expect("R"), "T")
            .expect("T");
        let policy = doc.get_value(t, "DeletionPolicy").expect("policy");
        assert_eq!(
            &text[doc.span(policy).start..doc.span(policy).end],
            "!If [C, Retain, \"Delete\"]"
        );
        assert_eq!(doc.call(policy).map(|c| c.name), Some("Fn::If"));
        let p = doc.get_value(t, "P").expect("P");
        assert_eq!(&text[doc.span(p).start..doc.span(p).end], "{a: 1}");
        let ty = doc.get(t, "Type").expect("Type");
        assert_eq!(&text[doc.span(ty.key).start..doc.span(ty.key).end], "Type");
        assert_eq!(
            &text[doc.span(ty.value).start..doc.span(ty.value).end],
            "AWS::DynamoDB::Table"
        );
    }

    #[test]
    fn tag_before_a_comma_in_flow_is_kept_from_libyaml() {
        // libyaml-safer 0.3 panics on these; saphyr reads them.
        for text in [
            "[!a, b]\n",
            "a: [!Ref, b]\n",
            "{a: !b, c: d}\n",
            "x: [!Fn::If,b]\n",
        ] {
            assert!(!super::can_read(text), "{text}");
            let doc = crate::load::load(text, crate::load::Format::Yaml, &Limits::default());
            assert!(doc.is_ok(), "{text}");
        }
        assert!(super::can_read("a: !Ref b\nc: [!GetAtt T.Arn, d]\n"));
    }

    #[test]
    fn a_bang_inside_a_plain_scalar_before_a_comma_still_gets_the_fallback() {
        // Found by the fix_roundtrip fuzz target: only libyaml reads this file (the tab
        // after `Tabs:`), and a fix writing `, X: true` after `Tabl!RefeName:`t` made
        // `can_read` refuse the fixed text, so the fix was refused as unparsable.
        let text = "P: {Tabl!RefeName:`t, DeletionProtectionEnabled: true}\nM  Tabs:\tx\" }\n";
        assert!(super::can_read(text));
        let doc = load(text, 0, &Limits::default()).expect("libyaml reads it");
        let p = doc.get_value(doc.root.expect("root"), "P").expect("P");
        assert!(doc.get(p, "Tabl!RefeName:`t").is_some());
        assert!(!super::can_read("P: {a: b,!Ref, c}\n"));
    }

    #[test]
    fn fallback_applies_the_same_rejections() {
        assert!(load("a: &x 1\n", 0, &Limits::default()).is_err());
        assert!(load("a: !!binary eA==\n", 0, &Limits::default()).is_err());
        assert!(load("a: 1\na: 2\n", 0, &Limits::default()).is_err());
        // A second document is recorded for the model, which rejects it if any document
        // has `Resources`.
        let two = load("a: 1\n---\nb: 2\n", 0, &Limits::default()).expect("two documents");
        assert_eq!(two.more_documents.len(), 1);
        assert_eq!(two.more_roots.len(), 1);
    }
}
