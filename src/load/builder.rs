//! The event-to-tree builder shared by both YAML adapters (saphyr-parser, and libyaml-safer
//! as a fallback). It owns every CloudFormation-specific check on YAML structure, so the
//! two parsers cannot disagree about what is accepted: aliases, anchors, merge keys, the
//! unsupported core tags, duplicate keys, complex keys, and the
//! depth, node and scalar limits. It is iterative (an explicit stack), so deep nesting
//! cannot overflow a rayon thread's stack.

use std::borrow::Cow;

use super::tree::{
    long_form_tag, Document, Entry, KeyIndex, Node, NodeId, NodeKind, Scalar, ScalarStyle, Tag,
};
use super::{
    duplicate_key, fingerprint, scalar_too_long, too_deep, too_many_nodes, Aliases, FileError,
    Limits, LARGE_MAP,
};
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
    tag: Option<Tag>,
    /// Where this collection's entries (a mapping) or items (a sequence) start on the
    /// builder's shared stacks: the open collections' children are kept there, and each
    /// collection moves its own to the document's pool when it closes, rather than
    /// growing a vector of its own (issue 23: the growth was a tenth of the tree's cost,
    /// and a vector per collection, allocated and freed, about 3% of all instructions).
    first: usize,
    /// A mapping's key whose value comes next, with its [`fingerprint`].
    pending_key: Option<(NodeId, u64)>,
    /// A mapping's keys to their entry positions, once it has more than [`LARGE_MAP`]
    /// keys: the duplicate check's hash, kept by the document afterwards. A smaller
    /// mapping's keys are its entries on the shared stack, compared by fingerprint first.
    /// Boxed, as is `merging`: both are rare, and a frame is moved on every `start` and
    /// `end` (184 bytes with them inline, 96 boxed; issue 23).
    index: Option<Box<KeyIndex<'s>>>,
    /// The anchor on this collection (0: none), registered when it closes.
    anchor: usize,
    /// This mapping's merge keys, once it has one (only with [`Aliases::Expand`]).
    merging: Option<Box<Merging>>,
}

/// A mapping's merge keys (`<<: *common`), applied when the mapping closes.
#[derive(Default)]
struct Merging {
    /// The next value is a merge key's: where that key is.
    pending: Option<Span>,
    /// The values merged so far, with their merge keys' spans.
    merges: Vec<(NodeId, Span)>,
}

pub struct Builder<'s, 'l> {
    doc: Document<'s>,
    /// Whether anchors, aliases and merge keys are read (the Serverless Framework expands
    /// them itself) or refused (CloudFormation rejects them).
    aliases: Aliases,
    /// Anchor id to its finished node: an alias attaches that node again (the tree becomes
    /// a DAG; its expanded size is bounded by the caller, see `alias_budget`).
    anchors: crate::hash::HashMap<usize, NodeId>,
    /// How many levels each node adds below itself, kept only while expanding aliases, so
    /// that an alias attached deep in the tree cannot exceed the depth limit.
    heights: Vec<u32>,
    /// The text given to the parser, which starts at offset `base` of the file (after a
    /// BOM): read only to find the colon after a key whose value is empty.
    text: &'s str,
    base: usize,
    stack: Vec<Frame<'s>>,
    /// The entries and the items of the open collections, innermost last (see
    /// `Frame::first`).
    entries: Vec<Entry>,
    items: Vec<NodeId>,
    /// The [`fingerprint`] of each key on `entries`, at the same position.
    prints: Vec<u64>,
    limits: &'l Limits,
    documents: usize,
}

thread_local! {
    /// The shared child stacks of the last builder that finished on this thread, empty,
    /// for the next one: a file's stacks grow to its widest open mappings, and starting
    /// each file from empty stacks cost a few reallocations per file (issue 23).
    static SPARE_STACKS: std::cell::Cell<(Vec<Entry>, Vec<NodeId>, Vec<u64>)> =
        const { std::cell::Cell::new((Vec::new(), Vec::new(), Vec::new())) };
}

/// Stacks larger than this many children (a mapping of thousands of keys) are not kept
/// for the next file.
const SPARE_STACK_LIMIT: usize = 1 << 16;

impl<'s, 'l> Builder<'s, 'l> {
    pub fn new(text: &'s str, base: usize, limits: &'l Limits) -> Self {
        let (entries, items, prints) = SPARE_STACKS.take();
        Builder {
            doc: Document::with_capacity_for(text, limits),
            aliases: Aliases::Refuse,
            anchors: crate::hash::HashMap::default(),
            heights: Vec::new(),
            text,
            base,
            // Room for the nesting of nearly every template: growing from empty was a few
            // reallocations per file.
            stack: Vec::with_capacity(16),
            entries,
            items,
            prints,
            limits,
            documents: 0,
        }
    }

    /// Read anchors, aliases and merge keys instead of refusing them.
    pub fn with_aliases(mut self, aliases: Aliases) -> Self {
        self.aliases = aliases;
        self
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

    pub fn finish(mut self) -> Document<'s> {
        let (mut entries, mut items, mut prints) = (
            std::mem::take(&mut self.entries),
            std::mem::take(&mut self.items),
            std::mem::take(&mut self.prints),
        );
        if entries.capacity() <= SPARE_STACK_LIMIT && items.capacity() <= SPARE_STACK_LIMIT {
            entries.clear();
            items.clear();
            prints.clear();
            SPARE_STACKS.set((entries, items, prints));
        }
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

    /// An alias to the anchor numbered `anchor` (the parser's id for its name).
    pub fn alias(&mut self, anchor: usize, span: Span) -> Result<(), FileError> {
        if self.aliases == Aliases::Refuse {
            return Err(alias_error(span));
        }
        let Some(&id) = self.anchors.get(&anchor) else {
            // An alias inside its own anchor (a cycle), or to an anchor never defined.
            return Err(FileError::at(
                "YAML alias to an anchor that is not defined before it",
                span,
                "alias",
            )
            .with_help("define the `&anchor` before the `*alias`, outside the aliased value"));
        };
        self.doc.aliases.get_or_insert(span);
        self.share(id);
        let height = self.heights.get(id as usize).copied().unwrap_or(0) as usize;
        if self.stack.len() + height > self.limits.max_depth {
            return Err(too_deep(span, self.limits));
        }
        self.attach(id, false)
    }

    pub fn scalar(
        &mut self,
        text: Cow<'s, str>,
        style: ScalarStyle,
        span: Span,
        tag: Option<Tag>,
        anchor: usize,
    ) -> Result<(), FileError> {
        if anchor > 0 && self.aliases == Aliases::Refuse {
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
        let text = self.borrow_from_source(text, style, span);
        let id = self.push(Node {
            span,
            tag,
            kind: NodeKind::Scalar(Scalar { text, style }),
        })?;
        if anchor > 0 {
            self.anchors.insert(anchor, id);
        }
        self.attach(id, is_merge)
    }

    pub fn start(
        &mut self,
        kind: Collection,
        span: Span,
        tag: Option<Tag>,
        flow: bool,
        anchor: usize,
    ) -> Result<(), FileError> {
        if anchor > 0 && self.aliases == Aliases::Refuse {
            return Err(anchor_error(span));
        }
        if self.stack.len() >= self.limits.max_depth {
            return Err(too_deep(span, self.limits));
        }
        let first = match kind {
            Collection::Map => self.entries.len(),
            Collection::Seq => self.items.len(),
        };
        self.stack.push(Frame {
            kind,
            start: span,
            flow,
            tag,
            first,
            pending_key: None,
            index: None,
            anchor,
            merging: None,
        });
        Ok(())
    }

    /// Close the innermost collection; `span` is the end event's. A flow collection ends
    /// at its closing bracket, a block collection at its last child.
    pub fn end(&mut self, span: Span) -> Result<(), FileError> {
        let Some(mut frame) = self.stack.pop() else {
            return Ok(());
        };
        let merged = frame.merging.as_ref().is_some_and(|m| !m.merges.is_empty());
        if merged {
            self.merge(&mut frame)?;
        }
        // This frame's children are the tails of the shared stacks (the ones inside it
        // have closed and taken theirs).
        let (entries, items) = match frame.kind {
            Collection::Map => (
                &self.entries[frame.first.min(self.entries.len())..],
                &[][..],
            ),
            Collection::Seq => (&[][..], &self.items[frame.first.min(self.items.len())..]),
        };
        let last = match frame.kind {
            Collection::Map => entries.last().map(|e| e.value),
            Collection::Seq => items.last().copied(),
        };
        let end = if frame.flow {
            span.end
        } else {
            match (frame.kind, entries.last()) {
                (Collection::Map, Some(entry)) => self.entry_end(*entry),
                _ => last.map_or(span.start, |id| self.doc.span(id).end),
            }
        };
        let kind = match frame.kind {
            Collection::Map => {
                self.prints.truncate(frame.first);
                self.doc.map_from_tail(&mut self.entries, frame.first)
            }
            Collection::Seq => self.doc.seq_from_tail(&mut self.items, frame.first),
        };
        let id = self.push(Node {
            span: Span::new(frame.start.start, end.max(frame.start.end)),
            tag: frame.tag,
            kind,
        })?;
        if self.aliases == Aliases::Expand {
            let below: Vec<NodeId> = match &self.doc.node(id).kind {
                NodeKind::Map(entries) => {
                    self.doc.entries(*entries).iter().map(|e| e.value).collect()
                }
                NodeKind::Seq(items) => self.doc.items(*items).to_vec(),
                NodeKind::Scalar(_) => Vec::new(),
            };
            let height = below
                .iter()
                .map(|&c| self.heights.get(c as usize).copied().unwrap_or(0))
                .max()
                .unwrap_or(0);
            self.heights.resize(id as usize + 1, 0);
            self.heights[id as usize] = height + 1;
        }
        if frame.anchor > 0 {
            self.anchors.insert(frame.anchor, id);
        }
        if merged {
            self.doc.shared.insert(id);
        }
        if let Some(index) = frame.index {
            self.doc.large_maps.insert(id, *index);
        }
        self.attach(id, false)
    }

    /// Mark `id` and everything below it as shared (each node once).
    fn share(&mut self, id: NodeId) {
        let mut todo = vec![id];
        while let Some(node) = todo.pop() {
            if !self.doc.shared.insert(node) {
                continue;
            }
            match &self.doc.node(node).kind {
                NodeKind::Map(entries) => {
                    todo.extend(
                        self.doc
                            .entries(*entries)
                            .iter()
                            .flat_map(|e| [e.key, e.value]),
                    );
                }
                NodeKind::Seq(items) => todo.extend(self.doc.items(*items).iter().copied()),
                NodeKind::Scalar(_) => {}
            }
        }
    }

    /// Apply a closing mapping's merge keys as YAML 1.1 (and js-yaml, which the Serverless
    /// Framework reads `serverless.yml` with) define them: a merged mapping, or each
    /// mapping of a merged list in order, adds the keys the mapping does not have yet, so
    /// keys written in the mapping win wherever they stand, and an earlier merged mapping
    /// wins over a later one.
    fn merge(&mut self, frame: &mut Frame<'s>) -> Result<(), FileError> {
        let merges = frame.merging.take().map(|m| m.merges).unwrap_or_default();
        for (value, at) in merges {
            let sources: Vec<NodeId> = match &self.doc.node(value).kind {
                NodeKind::Map(_) => vec![value],
                NodeKind::Seq(items) => self.doc.items(*items).to_vec(),
                NodeKind::Scalar(_) => Vec::new(),
            };
            if sources.is_empty() && self.doc.map(value).is_none() {
                return Err(merge_value_error(at));
            }
            for source in sources {
                let Some(entries) = self.doc.map(source).map(<[Entry]>::to_vec) else {
                    return Err(merge_value_error(at));
                };
                for entry in entries {
                    let Some(key) = self.doc.scalar(entry.key).map(|s| &*s.text) else {
                        continue;
                    };
                    let print = fingerprint(key);
                    let keys = Keys {
                        doc: &self.doc,
                        entries: &self.entries,
                        prints: &self.prints,
                    };
                    if keys.position_of(frame, key, print).is_none() {
                        keys.index_key(frame, entry.key);
                        self.entries.push(entry);
                        self.prints.push(print);
                    }
                }
            }
        }
        Ok(())
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

    /// The scalar's text borrowed from the source where the source holds it as it is (a
    /// plain scalar on one line, a quoted one without escapes or line breaks), so that
    /// the tree does not keep the parser's copy, and copying a key (the duplicate check,
    /// the hash index of a large mapping) copies no string. Where the source differs
    /// (folded lines, escapes, block scalars) the parser's text is kept.
    fn borrow_from_source(
        &self,
        text: Cow<'s, str>,
        style: ScalarStyle,
        span: Span,
    ) -> Cow<'s, str> {
        let Cow::Owned(owned) = &text else {
            return text;
        };
        let Some(source) = span
            .start
            .checked_sub(self.base)
            .zip(span.end.checked_sub(self.base))
            .and_then(|(start, end)| self.text.get(start..end))
        else {
            return text;
        };
        // A tagged scalar's span starts at its tag; a quoted one's covers its quotes.
        let source = match style {
            ScalarStyle::Plain => source,
            ScalarStyle::Quoted => match source.as_bytes().last() {
                Some(b'\'') | Some(b'"') => &source[..source.len() - 1],
                _ => return text,
            },
            ScalarStyle::Block => return text,
        };
        match source.len().checked_sub(owned.len()) {
            Some(at) if source.is_char_boundary(at) && source[at..] == **owned => {
                Cow::Borrowed(&source[at..])
            }
            _ => text,
        }
    }

    /// Inlined into `scalar` and `end` (each node is built in place): called on its own it
    /// was 26.6 M instructions on the corpus, moving every 72-byte node once more
    /// (issue 23).
    #[inline(always)]
    fn push(&mut self, node: Node<'s>) -> Result<NodeId, FileError> {
        if self.doc.nodes.len() >= self.limits.max_nodes {
            return Err(too_many_nodes(node.span, self.limits));
        }
        Ok(self.doc.push(node))
    }

    /// Hand a finished node to the open collection (as a key or a value) or make it the root.
    /// A sequence's item and a mapping's value (most nodes) are pushed here, inlined into
    /// `scalar` and `end`; keys, merges and the root take the out-of-line call (a call
    /// per node, with the key path's stack frame, was a fifth of `attach`; issue 23).
    #[inline(always)]
    fn attach(&mut self, id: NodeId, is_merge: bool) -> Result<(), FileError> {
        if let Some(frame) = self.stack.last_mut() {
            if frame.kind == Collection::Seq {
                self.items.push(id);
                return Ok(());
            }
            if frame.merging.is_none() {
                if let Some((key, print)) = frame.pending_key.take() {
                    self.entries.push(Entry { key, value: id });
                    self.prints.push(print);
                    return Ok(());
                }
            }
        }
        self.attach_other(id, is_merge)
    }

    /// [`Builder::attach`] for a key, a merge, a value after a merge key, or the root.
    #[inline(never)]
    fn attach_other(&mut self, id: NodeId, is_merge: bool) -> Result<(), FileError> {
        let Some(frame) = self.stack.last_mut() else {
            if self.doc.more_documents.is_empty() {
                self.doc.root = Some(id);
            } else {
                self.doc.more_roots.push(id);
            }
            return Ok(());
        };
        if frame.kind == Collection::Seq {
            self.items.push(id);
            return Ok(());
        }
        if let Some(merging) = frame.merging.as_deref_mut() {
            if let Some(at) = merging.pending.take() {
                merging.merges.push((id, at));
                return Ok(());
            }
        }
        if let Some((key, print)) = frame.pending_key.take() {
            self.entries.push(Entry { key, value: id });
            self.prints.push(print);
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
        if is_merge && self.aliases == Aliases::Expand {
            self.doc.aliases.get_or_insert(span);
            frame.merging.get_or_insert_with(Box::default).pending = Some(span);
            return Ok(());
        }
        if is_merge {
            return Err(FileError::at(
                "YAML merge keys (`<<`) are not supported by CloudFormation",
                span,
                "merge key",
            )
            .with_help("write the merged keys out in full"));
        }
        let print = fingerprint(&scalar.text);
        let keys = Keys {
            doc: &self.doc,
            entries: &self.entries,
            prints: &self.prints,
        };
        if let Some(position) = keys.position_of(frame, &scalar.text, print) {
            let first = self.doc.span(self.entries[frame.first + position].key);
            return Err(duplicate_key(&scalar.text, first, span));
        }
        if frame.index.is_some() || self.entries.len().saturating_sub(frame.first) >= LARGE_MAP {
            keys.index_key(frame, id);
        }
        frame.pending_key = Some((id, print));
        Ok(())
    }
}

/// The keys of the open mappings, for the duplicate check: the builder's shared stacks.
struct Keys<'b, 's> {
    doc: &'b Document<'s>,
    entries: &'b [Entry],
    prints: &'b [u64],
}

impl<'s> Keys<'_, 's> {
    /// The position among `frame`'s entries of the one whose key is `key` (with the
    /// [`fingerprint`] `print`), if any.
    #[inline]
    fn position_of(&self, frame: &Frame<'s>, key: &str, print: u64) -> Option<usize> {
        if let Some(index) = &frame.index {
            return index.get(key).map(|&position| position as usize);
        }
        let entries = self.entries.get(frame.first..).unwrap_or_default();
        let prints = self.prints.get(frame.first..).unwrap_or_default();
        prints
            .iter()
            .zip(entries)
            .position(|(&p, entry)| p == print && key_text(self.doc, entry.key) == key)
    }

    /// Index the key node `key` as that of `frame`'s next entry, if the mapping is large
    /// (the index is built when its key count passes [`LARGE_MAP`]).
    fn index_key(&self, frame: &mut Frame<'s>, key: NodeId) {
        let first = frame.first.min(self.entries.len());
        let position = self.entries.len() - first;
        let key_cow = |id: NodeId| match &self.doc.node(id).kind {
            NodeKind::Scalar(s) => s.text.clone(),
            _ => Cow::Borrowed(""),
        };
        if let Some(index) = &mut frame.index {
            index.insert(key_cow(key), position as u32);
        } else if position >= LARGE_MAP {
            let mut index = crate::hash::map_with_capacity((position + 1) * 2);
            for (at, entry) in self.entries[first..].iter().enumerate() {
                index.insert(key_cow(entry.key), at as u32);
            }
            index.insert(key_cow(key), position as u32);
            frame.index = Some(Box::new(index));
        }
    }
}

/// The text of a key node (keys are scalars; anything else reads as empty).
fn key_text<'a>(doc: &'a Document<'_>, id: NodeId) -> &'a str {
    match &doc.node(id).kind {
        NodeKind::Scalar(s) => &s.text,
        _ => "",
    }
}

/// Our tag for a YAML tag given as its handle-resolved text (`!Ref`, `tag:yaml.org,2002:str`):
/// CloudFormation short forms become long-form names, core tags `!!x`.
pub fn convert_tag(tag: Option<&str>, span: Span) -> Result<Option<Tag>, FileError> {
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
        return Ok(Some(Cow::Owned(format!("!!{core}"))));
    }
    match tag.strip_prefix('!') {
        // The non-specific tag `!` only forces a string.
        Some("") => Ok(None),
        Some(local) if !local.starts_with('<') => Ok(Some(long_form_tag(local))),
        _ => Ok(Some(Cow::Owned(tag.to_string()))),
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

fn merge_value_error(span: Span) -> FileError {
    FileError::at(
        "a YAML merge key (`<<`) must be given a mapping or a list of mappings",
        span,
        "merge key",
    )
    .with_help("write `<<: *anchor` or `<<: [*first, *second]` with anchors on mappings")
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
    let keep = slice
        .bytes()
        .rposition(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .map_or(0, |last| last + 1);
    Span::new(span.start, span.start + keep)
}
