//! JSON to the spanned tree through jsonc-parser with every lenient option off.

use std::borrow::Cow;

use jsonc_parser::ast::{ObjectPropName, Value};
use jsonc_parser::{CollectOptions, ParseOptions};

use super::tree::{Document, Entry, Node, NodeId, NodeKind, Scalar, ScalarStyle};
use super::{duplicate_key, scalar_too_long, too_deep, too_many_nodes, KeySet, Limits, LoadError};
use crate::source::Span;

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

pub fn load<'s>(text: &'s str, base: usize, limits: &Limits) -> Result<Document<'s>, LoadError> {
    let parsed =
        jsonc_parser::parse_to_ast(text, &CollectOptions::default(), &strict()).map_err(|e| {
            let r = e.range();
            let message = match e.kind() {
                jsonc_parser::errors::ParseErrorKind::NestingDepthExceeded => {
                    "nesting is deeper than the JSON parser's limit (512 levels, two per object)"
                        .to_string()
                }
                kind => format!("invalid JSON: {kind}"),
            };
            LoadError::at(
                message,
                Span::new(
                    base + r.start,
                    base + r.end.max(r.start + 1).min(text.len()).max(r.start),
                ),
                e.kind().to_string(),
            )
        })?;
    let mut builder = Builder {
        doc: Document::default(),
        base,
        limits,
    };
    if let Some(value) = parsed.value {
        let root = builder.value(value, 1)?;
        builder.doc.root = Some(root);
    }
    Ok(builder.doc)
}

struct Builder<'s, 'l> {
    doc: Document<'s>,
    base: usize,
    limits: &'l Limits,
}

impl<'s> Builder<'s, '_> {
    fn span(&self, r: jsonc_parser::common::Range) -> Span {
        Span::new(self.base + r.start, self.base + r.end)
    }

    fn push(&mut self, span: Span, kind: NodeKind<'s>) -> Result<NodeId, LoadError> {
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
    ) -> Result<NodeId, LoadError> {
        if text.len() > self.limits.max_scalar_len {
            return Err(scalar_too_long(span, self.limits));
        }
        self.push(span, NodeKind::Scalar(Scalar { text, style }))
    }

    /// Recursion is bounded: jsonc-parser stops at 512 levels and we stop at `max_depth`.
    fn value(&mut self, value: Value<'s>, depth: usize) -> Result<NodeId, LoadError> {
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
                let mut seen = KeySet::new();
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
                if let Some(index) = seen.into_index() {
                    self.doc.large_maps.insert(id, index);
                }
                Ok(id)
            }
        }
    }
}
