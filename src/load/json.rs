//! JSON to the spanned tree through jsonc-parser with every lenient option off.

use std::borrow::Cow;

use jsonc_parser::ast::{ObjectPropName, Value};
use jsonc_parser::{CollectOptions, ParseOptions};

use super::tree::{Document, Entry, Node, NodeId, NodeKind, Scalar, ScalarStyle};
use super::{duplicate_key, scalar_too_long, too_deep, too_many_nodes, FileError, KeySet, Limits};
use crate::source::Span;
use crate::timings::{self, Part};

fn strict() -> ParseOptions {
    ParseOptions {
        allow_comments: false,
        allow_loose_object_property_names: false,
        allow_trailing_commas: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    }
}

pub fn load<'s>(text: &'s str, base: usize, limits: &Limits) -> Result<Document<'s>, FileError> {
    let parsed = timings::time_part(Part::Tokenizer, || {
        jsonc_parser::parse_to_ast(text, &CollectOptions::default(), &strict())
    });
    let parsed = parsed.map_err(|e| {
        let r = e.range();
        let message = match e.kind() {
            jsonc_parser::errors::ParseErrorKind::NestingDepthExceeded => {
                "nesting is deeper than the JSON parser's limit (512 levels, two per object)"
                    .to_string()
            }
            kind => format!("invalid JSON: {kind}"),
        };
        FileError::at(
            message,
            error_span(text, base, r.start, r.end),
            e.kind().to_string(),
        )
    })?;
    let mut builder = Builder {
        doc: Document::with_capacity_for(text, limits),
        base,
        limits,
        spare_keys: Vec::new(),
    };
    if let Some(value) = parsed.value {
        let root = timings::time_part(Part::Tree, || builder.value(value, 1))?;
        builder.doc.root = Some(root);
    }
    Ok(builder.doc)
}

/// The span of a parse error at `start..end` of `text`: at least the character at `start`
/// (an empty range is hard to see), whole characters only. Found by the load_json fuzz
/// target: one byte past an error before a multibyte character split it.
fn error_span(text: &str, base: usize, start: usize, end: usize) -> Span {
    let mut start = start.min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let first_char = text[start..].chars().next().map_or(0, char::len_utf8);
    let mut end = end.clamp(start + first_char, text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    Span::new(base + start, base + end)
}

struct Builder<'s, 'l> {
    doc: Document<'s>,
    base: usize,
    limits: &'l Limits,
    /// Key sets of finished objects, emptied, for the next object to reuse (one allocation
    /// per nesting level, not per object).
    spare_keys: Vec<KeySet<'s>>,
}

impl<'s> Builder<'s, '_> {
    fn span(&self, r: jsonc_parser::common::Range) -> Span {
        Span::new(self.base + r.start, self.base + r.end)
    }

    fn push(&mut self, span: Span, kind: NodeKind<'s>) -> Result<NodeId, FileError> {
        if self.doc.nodes.len() >= self.limits.max_nodes {
            return Err(too_many_nodes(span, self.limits));
        }
        Ok(self.doc.push(Node {
            span,
            tag: None,
            kind,
        }))
    }

    fn scalar(
        &mut self,
        span: Span,
        text: Cow<'s, str>,
        style: ScalarStyle,
    ) -> Result<NodeId, FileError> {
        if text.len() > self.limits.max_scalar_len {
            return Err(scalar_too_long(span, self.limits));
        }
        self.push(span, NodeKind::Scalar(Scalar { text, style }))
    }

    /// Recursion is bounded: jsonc-parser stops at 512 levels and we stop at `max_depth`.
    fn value(&mut self, value: Value<'s>, depth: usize) -> Result<NodeId, FileError> {
        match value {
            Value::StringLit(s) => self.scalar(self.span(s.range), s.value, ScalarStyle::Quoted),
            Value::NumberLit(n) => self.scalar(
                self.span(n.range),
                Cow::Borrowed(n.value),
                ScalarStyle::Plain,
            ),
            Value::BooleanLit(b) => {
                let text = if b.value { "true" } else { "false" };
                self.scalar(self.span(b.range), Cow::Borrowed(text), ScalarStyle::Plain)
            }
            Value::NullKeyword(n) => self.scalar(
                self.span(n.range),
                Cow::Borrowed("null"),
                ScalarStyle::Plain,
            ),
            Value::Array(a) => {
                let span = self.span(a.range);
                if depth > self.limits.max_depth {
                    return Err(too_deep(span, self.limits));
                }
                let mut items = Vec::with_capacity(a.elements.len());
                for element in a.elements {
                    items.push(self.value(element, depth + 1)?);
                }
                self.push(span, NodeKind::Seq(items))
            }
            Value::Object(o) => {
                let span = self.span(o.range);
                if depth > self.limits.max_depth {
                    return Err(too_deep(span, self.limits));
                }
                let mut entries = Vec::with_capacity(o.properties.len());
                let mut seen = self.spare_keys.pop().unwrap_or_else(KeySet::new);
                for prop in o.properties {
                    let (name, name_range) = match prop.name {
                        ObjectPropName::String(s) => (s.value, s.range),
                        ObjectPropName::Word(w) => (Cow::Borrowed(w.value), w.range),
                    };
                    let key_span = self.span(name_range);
                    if let Some(first) = seen.insert(name.clone(), key_span) {
                        return Err(duplicate_key(&name, first, key_span));
                    }
                    let key = self.scalar(key_span, name, ScalarStyle::Quoted)?;
                    let value = self.value(prop.value, depth + 1)?;
                    entries.push(Entry { key, value });
                }
                let id = self.push(span, NodeKind::Map(entries))?;
                if let Some(index) = seen.take_index() {
                    self.doc.large_maps.insert(id, index);
                }
                seen.clear();
                self.spare_keys.push(seen);
                Ok(id)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::load::{load, Format, Limits};

    #[test]
    fn an_error_before_a_multibyte_character_covers_the_whole_character() {
        // Found by the load_json fuzz target (fuzz/corpus/load_json/crash-*).
        for text in [
            "{\"T\": \"A\"\u{7a1}}",
            "{\"a\": 1 日本}",
            "{\u{feff}}",
            "é",
        ] {
            let error = load(text, Format::Json, &Limits::default()).expect_err("invalid");
            let span = error.span.expect("span");
            assert!(
                text.get(span.start..span.end).is_some(),
                "{text:?} {span:?}"
            );
            assert!(span.end > span.start, "{text:?} {span:?}");
        }
    }
}
