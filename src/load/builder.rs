//! The event-to-tree builder shared by both YAML adapters (saphyr-parser, and libyaml-safer
//! as a fallback). It owns every CloudFormation-specific check on YAML structure, so the
//! two parsers cannot disagree about what is accepted: aliases, anchors, merge keys, the
//! unsupported core tags, duplicate keys, complex keys, and the
//! depth, node and scalar limits. It is iterative (an explicit stack), so deep nesting
//! cannot overflow a rayon thread's stack.

use std::borrow::Cow;

use super::tree::{long_form, Document, Entry, Node, NodeId, NodeKind, Scalar, ScalarStyle};
use super::{duplicate_key, scalar_too_long, too_deep, too_many_nodes, FileError, KeySet, Limits};
use crate::source::Span;

/// Core-schema tags that CloudFormation does not support.
const UNSUPPORTED_TAGS: &[&str] = &["binary", "omap", "pairs", "set", "timestamp"];
/// The YAML core schema's tag prefix (`!!x` is `tag:yaml.org,2002:x`).
pub const CORE_PREFIX: &str = "tag:yaml.org,2002:";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Collection {
    Map,
    Seq,
}

struct Frame<'s> {
    kind: Collection,
    start: Span,
    flow: bool,
    tag: Option<Box<str>>,
    entries: Vec<Entry>,
    items: Vec<NodeId>,
    pending_key: Option<NodeId>,
    keys: KeySet<'s>,
}

pub struct Builder<'s, 'l> {
    doc: Document<'s>,
    /// The text given to the parser, which starts at offset `base` of the file (after a
    /// BOM): read only to find the colon after a key whose value is empty.
    text: &'s str,
    base: usize,
    stack: Vec<Frame<'s>>,
    limits: &'l Limits,
    documents: usize,
}

impl<'s, 'l> Builder<'s, 'l> {
    pub fn new(text: &'s str, base: usize, limits: &'l Limits) -> Self {
        Builder {
            doc: Document::default(),
            text,
            base,
            stack: Vec::new(),
            limits,
            documents: 0,
        }
    }

    /// Whether the next node lies inside a flow collection (`[...]`, `{...}`), also within
    /// the implicit single-pair mapping of a flow sequence entry (`[a: b]`).
    pub fn in_flow(&self) -> bool {
        self.stack.iter().any(|frame| frame.flow)
    }

    /// Whether the next node is a document's root.
    pub fn at_root(&self) -> bool {
        self.stack.is_empty()
    }

    pub fn finish(self) -> Document<'s> {
        self.doc
    }

    /// Later documents are loaded too: the model decides whether a stream of several
    /// documents holds a template (an error) or not (Kubernetes manifests).
    pub fn document_start(&mut self, span: Span) -> Result<(), FileError> {
        self.documents += 1;
        if self.documents > 1 {
            self.doc.more_documents.push(span);
        }
        Ok(())
    }

    pub fn alias(&mut self, span: Span) -> Result<(), FileError> {
        Err(alias_error(span))
    }

    pub fn scalar(
        &mut self,
        text: Cow<'s, str>,
        style: ScalarStyle,
        span: Span,
        tag: Option<Box<str>>,
        anchored: bool,
    ) -> Result<(), FileError> {
        if anchored {
            return Err(anchor_error(span));
        }
        if text.len() > self.limits.max_scalar_len {
            return Err(scalar_too_long(span, self.limits));
        }
        let is_merge = style == ScalarStyle::Plain && tag.is_none() && text == "<<";
        // An implicit null (`{a}`, `{a, b: c}`, `a:`) has no text, but the parser's event
        // spans the next token (`}` or `,`); an edit after that value would land past
        // it. Found by the fix_roundtrip fuzz target. A tagged one (`!Sub` alone) keeps
        // the span of its tag.
        let span = if style == ScalarStyle::Plain && text.is_empty() && tag.is_none() {
            Span::new(span.start, span.start)
        } else {
            span
        };
        let id = self.push(Node {
            span,
            tag,
            kind: NodeKind::Scalar(Scalar { text, style }),
        })?;
        self.attach(id, is_merge)
    }

    pub fn start(
        &mut self,
        kind: Collection,
        span: Span,
        tag: Option<Box<str>>,
        flow: bool,
        anchored: bool,
    ) -> Result<(), FileError> {
        if anchored {
            return Err(anchor_error(span));
        }
        if self.stack.len() >= self.limits.max_depth {
            return Err(too_deep(span, self.limits));
        }
        self.stack.push(Frame {
            kind,
            start: span,
            flow,
            tag,
            entries: Vec::new(),
            items: Vec::new(),
            pending_key: None,
            keys: KeySet::new(),
        });
        Ok(())
    }

    /// Close the innermost collection; `span` is the end event's. A flow collection ends
    /// at its closing bracket, a block collection at its last child.
    pub fn end(&mut self, span: Span) -> Result<(), FileError> {
        let Some(frame) = self.stack.pop() else {
            return Ok(());
        };
        let last = match frame.kind {
            Collection::Map => frame.entries.last().map(|e| e.value),
            Collection::Seq => frame.items.last().copied(),
        };
        let end = if frame.flow {
            span.end
        } else {
            match (frame.kind, frame.entries.last()) {
                (Collection::Map, Some(entry)) => self.entry_end(*entry),
                _ => last.map_or(span.start, |id| self.doc.span(id).end),
            }
        };
        let kind = match frame.kind {
            Collection::Map => NodeKind::Map(frame.entries),
            Collection::Seq => NodeKind::Seq(frame.items),
        };
        let id = self.push(Node {
            span: Span::new(frame.start.start, end.max(frame.start.end)),
            tag: frame.tag,
            kind,
        })?;
        if let Some(index) = frame.keys.into_index() {
            self.doc.large_maps.insert(id, index);
        }
        self.attach(id, false)
    }

    /// The end of a block mapping entry: its value's, or past the colon when the value is
    /// an implicit null, whose span is empty and sits before the colon. Without this, a
    /// block mapping ending in `a:` ended before that colon, and a fix replacing the
    /// mapping left the colon behind (found by the fix_roundtrip fuzz target).
    fn entry_end(&self, entry: Entry) -> usize {
        let value = self.doc.span(entry.value);
        let end = value.end.max(self.doc.span(entry.key).end);
        if !value.is_empty() {
            return end;
        }
        let Some(rest) = end
            .checked_sub(self.base)
            .and_then(|at| self.text.get(at..))
        else {
            return end;
        };
        let blanks = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        if rest[blanks..].starts_with(':') {
            end + blanks + 1
        } else {
            end
        }
    }

    fn push(&mut self, node: Node<'s>) -> Result<NodeId, FileError> {
        if self.doc.nodes.len() >= self.limits.max_nodes {
            return Err(too_many_nodes(node.span, self.limits));
        }
        Ok(self.doc.push(node))
    }

    /// Hand a finished node to the open collection (as a key or a value) or make it the root.
    fn attach(&mut self, id: NodeId, is_merge: bool) -> Result<(), FileError> {
        let Some(frame) = self.stack.last_mut() else {
            if self.doc.more_documents.is_empty() {
                self.doc.root = Some(id);
            } else {
                self.doc.more_roots.push(id);
            }
            return Ok(());
        };
        if frame.kind == Collection::Seq {
            frame.items.push(id);
            return Ok(());
        }
        if let Some(key) = frame.pending_key.take() {
            frame.entries.push(Entry { key, value: id });
            return Ok(());
        }
        let node = self.doc.node(id);
        let span = node.span;
        let NodeKind::Scalar(scalar) = &node.kind else {
            return Err(
                FileError::at("mapping keys must be plain strings", span, "complex key")
                    .with_help("CloudFormation keys are strings: replace the `? ...` key"),
            );
        };
        if is_merge {
            return Err(FileError::at(
                "YAML merge keys (`<<`) are not supported by CloudFormation",
                span,
                "merge key",
            )
            .with_help("write the merged keys out in full"));
        }
        if let Some(first) = frame.keys.insert(scalar.text.clone(), span) {
            return Err(duplicate_key(&scalar.text, first, span));
        }
        frame.pending_key = Some(id);
        Ok(())
    }
}

/// Our tag for a YAML tag given as its handle-resolved text (`!Ref`, `tag:yaml.org,2002:str`):
/// CloudFormation short forms become long-form names, core tags `!!x`.
pub fn convert_tag(tag: Option<&str>, span: Span) -> Result<Option<Box<str>>, FileError> {
    let Some(tag) = tag else { return Ok(None) };
    if let Some(core) = tag.strip_prefix(CORE_PREFIX) {
        if UNSUPPORTED_TAGS.contains(&core) {
            return Err(FileError::at(
                format!("the `!!{core}` tag is not supported by CloudFormation"),
                span,
                "unsupported tag",
            )
            .with_help("CloudFormation rejects the binary, omap, pairs, set and timestamp tags: write a plain value"));
        }
        return Ok(Some(format!("!!{core}").into()));
    }
    match tag.strip_prefix('!') {
        // The non-specific tag `!` only forces a string.
        Some("") => Ok(None),
        Some(local) if !local.starts_with('<') => Ok(Some(long_form(local).into())),
        _ => Ok(Some(tag.into())),
    }
}

pub fn alias_error(span: Span) -> FileError {
    FileError::at(
        "YAML aliases are not supported by CloudFormation",
        span,
        "alias",
    )
    .with_help("write the value out in full (CloudFormation rejects aliases at deploy time)")
}

fn anchor_error(span: Span) -> FileError {
    FileError::at(
        "YAML anchors are not supported by CloudFormation",
        span,
        "anchor",
    )
    .with_help("remove the `&anchor` and write the value out where it is used")
}

/// saphyr and libyaml end block scalars (and plain scalars before a comment) at the next
/// token; trim the trailing blanks so that a label or an edit covers the value only.
pub fn trim_scalar_span(text: &str, base: usize, span: Span, style: ScalarStyle) -> Span {
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
