//! YAML to the spanned tree through saphyr-parser's event iterator.
//!
//! The builder is iterative (an explicit stack), so deep nesting cannot overflow a rayon
//! thread's stack; it rejects what CloudFormation rejects (aliases, anchors, merge keys,
//! the `!!binary`-style tags, more than one document) with the position of the offence.
//! saphyr's markers count characters; [`ByteCursor`] converts them to byte offsets.

use saphyr_parser::{Event, Parser, ScalarStyle as YamlStyle, ScanError, Span as YamlSpan, Tag};

use super::tree::{long_form, Document, Entry, Node, NodeId, NodeKind, Scalar, ScalarStyle};
use super::{duplicate_key, scalar_too_long, too_deep, too_many_nodes, KeySet, Limits, LoadError};
use crate::source::Span;

/// Core-schema tags that CloudFormation does not support.
const UNSUPPORTED_TAGS: &[&str] = &["binary", "omap", "pairs", "set", "timestamp"];

enum Frame<'s> {
    Map {
        start: Span,
        flow: bool,
        tag: Option<Box<str>>,
        entries: Vec<Entry>,
        pending_key: Option<NodeId>,
        keys: KeySet<'s>,
    },
    Seq {
        start: Span,
        flow: bool,
        tag: Option<Box<str>>,
        items: Vec<NodeId>,
    },
}

pub fn load<'s>(text: &'s str, base: usize, limits: &Limits) -> Result<Document<'s>, LoadError> {
    let mut cursor = ByteCursor::new(text, base);
    let mut doc = Document::default();
    let mut stack: Vec<Frame<'s>> = Vec::new();
    let mut documents = 0usize;
    for item in Parser::new_from_str(text) {
        let (event, yspan) = item.map_err(|e| scan_error(&e, &mut cursor))?;
        let span = cursor.span(yspan);
        match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(LoadError::at(
                        "more than one YAML document in the file",
                        span,
                        "second document starts here",
                    )
                    .with_help("a CloudFormation template is a single document: split the file or remove the `---` separator"));
                }
            }
            Event::Alias(_) => {
                return Err(LoadError::at(
                    "YAML aliases are not supported by CloudFormation",
                    span,
                    "alias",
                )
                .with_help(
                    "write the value out in full (CloudFormation rejects aliases at deploy time)",
                ));
            }
            Event::Scalar(value, style, anchor, tag) => {
                if anchor > 0 {
                    return Err(anchor_error(span));
                }
                let tag = convert_tag(tag.as_deref(), span)?;
                if value.len() > limits.max_scalar_len {
                    return Err(scalar_too_long(span, limits));
                }
                let style = match style {
                    YamlStyle::Plain => ScalarStyle::Plain,
                    YamlStyle::SingleQuoted | YamlStyle::DoubleQuoted => ScalarStyle::Quoted,
                    YamlStyle::Literal | YamlStyle::Folded => ScalarStyle::Block,
                };
                let span = trim_scalar_span(text, base, span, style);
                let is_merge = style == ScalarStyle::Plain && tag.is_none() && value == "<<";
                let id = push(
                    &mut doc,
                    limits,
                    Node {
                        span,
                        tag,
                        kind: NodeKind::Scalar(Scalar { text: value, style }),
                    },
                )?;
                attach(&mut doc, &mut stack, id, is_merge)?;
            }
            Event::MappingStart(anchor, tag) | Event::SequenceStart(anchor, tag) if anchor > 0 => {
                let _ = tag;
                return Err(anchor_error(span));
            }
            Event::MappingStart(_, tag) => {
                if stack.len() >= limits.max_depth {
                    return Err(too_deep(span, limits));
                }
                let tag = convert_tag(tag.as_deref(), span)?;
                stack.push(Frame::Map {
                    start: span,
                    flow: opens_flow(text, base, span, '{'),
                    tag,
                    entries: Vec::new(),
                    pending_key: None,
                    keys: KeySet::new(),
                });
            }
            Event::SequenceStart(_, tag) => {
                if stack.len() >= limits.max_depth {
                    return Err(too_deep(span, limits));
                }
                let tag = convert_tag(tag.as_deref(), span)?;
                stack.push(Frame::Seq {
                    start: span,
                    flow: opens_flow(text, base, span, '['),
                    tag,
                    items: Vec::new(),
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                let Some(frame) = stack.pop() else { continue };
                let node = match frame {
                    Frame::Map {
                        start,
                        flow,
                        tag,
                        entries,
                        ..
                    } => {
                        let end = collection_end(&doc, flow, span, entries.last().map(|e| e.value));
                        Node {
                            span: Span::new(start.start, end.max(start.end)),
                            tag,
                            kind: NodeKind::Map(entries),
                        }
                    }
                    Frame::Seq {
                        start,
                        flow,
                        tag,
                        items,
                    } => {
                        let end = collection_end(&doc, flow, span, items.last().copied());
                        Node {
                            span: Span::new(start.start, end.max(start.end)),
                            tag,
                            kind: NodeKind::Seq(items),
                        }
                    }
                };
                let id = push(&mut doc, limits, node)?;
                attach(&mut doc, &mut stack, id, false)?;
            }
        }
    }
    Ok(doc)
}

/// The start event of a flow collection covers its bracket (after any tag); that of a block
/// collection is empty, or covers only its tag and the following blanks.
fn opens_flow(text: &str, base: usize, span: Span, bracket: char) -> bool {
    span.start
        .checked_sub(base)
        .zip(span.end.checked_sub(base))
        .and_then(|(start, end)| text.get(start..end))
        .is_some_and(|covered| covered.trim_end().ends_with(bracket))
}

/// A flow collection ends at its closing bracket; a block collection at its last child.
fn collection_end(doc: &Document, flow: bool, end_event: Span, last: Option<NodeId>) -> usize {
    if flow {
        return end_event.end;
    }
    last.map(|id| doc.span(id).end).unwrap_or(end_event.start)
}

fn push<'s>(doc: &mut Document<'s>, limits: &Limits, node: Node<'s>) -> Result<NodeId, LoadError> {
    if doc.nodes.len() >= limits.max_nodes {
        return Err(too_many_nodes(node.span, limits));
    }
    Ok(doc.push(node))
}

/// Hand a finished node to the open collection (as a key or a value) or make it the root.
fn attach<'s>(
    doc: &mut Document<'s>,
    stack: &mut [Frame<'s>],
    id: NodeId,
    is_merge: bool,
) -> Result<(), LoadError> {
    match stack.last_mut() {
        None => doc.root = Some(id),
        Some(Frame::Seq { items, .. }) => items.push(id),
        Some(Frame::Map {
            entries,
            pending_key,
            keys,
            ..
        }) => match pending_key.take() {
            Some(key) => entries.push(Entry { key, value: id }),
            None => {
                let node = doc.node(id);
                let span = node.span;
                let NodeKind::Scalar(scalar) = &node.kind else {
                    return Err(LoadError::at(
                        "mapping keys must be plain strings",
                        span,
                        "complex key",
                    )
                    .with_help("CloudFormation keys are strings: replace the `? ...` key"));
                };
                if is_merge {
                    return Err(LoadError::at(
                        "YAML merge keys (`<<`) are not supported by CloudFormation",
                        span,
                        "merge key",
                    )
                    .with_help("write the merged keys out in full"));
                }
                if let Some(first) = keys.insert(scalar.text.clone(), span) {
                    return Err(duplicate_key(&scalar.text, first, span));
                }
                *pending_key = Some(id);
            }
        },
    }
    Ok(())
}

fn anchor_error(span: Span) -> LoadError {
    LoadError::at(
        "YAML anchors are not supported by CloudFormation",
        span,
        "anchor",
    )
    .with_help("remove the `&anchor` and write the value out where it is used")
}

fn convert_tag(tag: Option<&Tag>, span: Span) -> Result<Option<Box<str>>, LoadError> {
    let Some(tag) = tag else { return Ok(None) };
    if tag.is_yaml_core_schema() {
        if UNSUPPORTED_TAGS.contains(&tag.suffix.as_str()) {
            return Err(LoadError::at(
                format!("the `!!{}` tag is not supported by CloudFormation", tag.suffix),
                span,
                "unsupported tag",
            )
            .with_help("CloudFormation rejects the binary, omap, pairs, set and timestamp tags: write a plain value"));
        }
        return Ok(Some(format!("!!{}", tag.suffix).into()));
    }
    if tag.handle == "!" {
        if tag.suffix.is_empty() {
            // The non-specific tag `!` only forces a string.
            return Ok(None);
        }
        return Ok(Some(long_form(&tag.suffix).into()));
    }
    Ok(Some(format!("{}{}", tag.handle, tag.suffix).into()))
}

/// saphyr ends block scalars (and plain scalars before a comment) at the next token; trim
/// the trailing blanks so that a label or an edit covers the value only.
fn trim_scalar_span(text: &str, base: usize, span: Span, style: ScalarStyle) -> Span {
    if style == ScalarStyle::Quoted {
        return span;
    }
    let (Some(start), Some(end)) = (span.start.checked_sub(base), span.end.checked_sub(base))
    else {
        return span;
    };
    let Some(slice) = text.get(start..end) else {
        return span;
    };
    let keep = slice.trim_end_matches([' ', '\t', '\r', '\n']).len();
    Span::new(span.start, span.start + keep)
}

fn scan_error(e: &ScanError, cursor: &mut ByteCursor) -> LoadError {
    let at = cursor.byte(e.marker().index());
    if e.info().contains("unknown anchor") {
        // Anchors are rejected before any alias can refer to one, so every alias lands here.
        return LoadError::at(
            "YAML aliases are not supported by CloudFormation",
            Span::new(at, at),
            "alias",
        )
        .with_help("write the value out in full (CloudFormation rejects aliases at deploy time)");
    }
    if e.info() == "recursion limit exceeded" {
        // saphyr counts flow levels (`[`, `{`) in a u8.
        return LoadError::at(
            "nesting is deeper than the YAML parser's limit of 255 flow levels",
            Span::new(at, at),
            "too deep",
        )
        .with_help("no real template nests this deep; the file is probably generated wrongly");
    }
    LoadError::at(
        format!("invalid YAML: {}", e.info()),
        Span::new(at, at),
        e.info().to_string(),
    )
}

/// Converts saphyr's character indexes to byte offsets. Events arrive almost in order, so
/// the cursor walks from where it last stood; ASCII files skip the walk.
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

    fn byte(&mut self, char_index: usize) -> usize {
        if self.ascii {
            return self.base + char_index.min(self.text.len());
        }
        while self.chars < char_index && self.bytes < self.text.len() {
            let width = self.text[self.bytes..]
                .chars()
                .next()
                .map_or(1, char::len_utf8);
            self.bytes += width;
            self.chars += 1;
        }
        while self.chars > char_index && self.bytes > 0 {
            let width = self.text[..self.bytes]
                .chars()
                .next_back()
                .map_or(1, char::len_utf8);
            self.bytes -= width;
            self.chars -= 1;
        }
        self.base + self.bytes
    }

    fn span(&mut self, span: YamlSpan) -> Span {
        let start = self.byte(span.start.index());
        let end = self.byte(span.end.index());
        Span::new(start, end)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{load as load_any, Format, Limits};

    #[test]
    fn multibyte_text_keeps_byte_spans() {
        let text = "a: é\nb: ünï\n";
        let doc = load_any(text, Format::Yaml, &Limits::default()).unwrap();
        let root = doc.root.unwrap();
        let b = doc.get(root, "b").unwrap();
        assert_eq!(&text[doc.span(b.key).start..doc.span(b.key).end], "b");
        assert_eq!(&text[doc.span(b.value).start..doc.span(b.value).end], "ünï");
    }
}
