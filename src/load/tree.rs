//! The one spanned document tree that both the YAML and the JSON loader build.
//!
//! Nodes live in an arena (`Vec<Node>`), addressed by `NodeId`, and the children of every
//! collection in one pool per document (see [`Children`]). Every key and every value
//! keeps its byte span, map keys keep their order (and duplicates are rejected by the
//! loaders), and scalars borrow from the input where the parser allows it.

use std::borrow::Cow;

use crate::source::Span;

pub type NodeId = u32;

/// How a scalar was written. Plain YAML scalars and bare JSON literals (`true`, `12`,
/// `null`) can mean null, booleans or numbers; quoted and block scalars are always text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalarStyle {
    Plain,
    Quoted,
    Block,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Scalar<'s> {
    pub text: Cow<'s, str>,
    pub style: ScalarStyle,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    pub key: NodeId,
    pub value: NodeId,
}

/// A node's content. The children of a collection are a run of its document's pool, so a
/// `NodeKind` is compared only together with its document: [`Document`]'s `PartialEq`
/// compares the children themselves.
#[derive(Clone, Debug)]
pub enum NodeKind<'s> {
    Map(Children),
    Seq(Children),
    Scalar(Scalar<'s>),
}

/// Where a collection's children lie: a run of its document's pool of entries (a
/// mapping) or of items (a sequence), read with [`Document::entries`] and
/// [`Document::items`] (or [`Document::map`] and [`Document::seq`] by node). One pool per
/// document instead of a vector per collection: allocating and freeing those vectors was
/// about 3% of all instructions (issue 23). A run is never changed once made: a
/// collection rewritten later gets a new run, so nodes sharing one stay as they were.
#[derive(Clone, Copy, Debug, Default)]
pub struct Children {
    start: u32,
    len: u32,
}

impl Children {
    pub fn len(self) -> usize {
        self.len as usize
    }

    pub fn is_empty(self) -> bool {
        self.len == 0
    }

    fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.start as usize + self.len as usize
    }
}

#[derive(Clone, Debug)]
pub struct Node<'s> {
    pub span: Span,
    /// A YAML tag, with CloudFormation short forms already in long form: `!Ref` is `Ref`,
    /// `!Condition` is `Condition`, any other `!X` is `Fn::X`. Other tags keep their text
    /// (`!!str`). The intrinsic functions' names are static strings, not one allocation
    /// per tagged node (issue 23).
    pub tag: Option<Tag>,
    pub kind: NodeKind<'s>,
}

/// A node's tag (see [`Node::tag`]).
pub type Tag = Cow<'static, str>;

/// Key to entry position, for one large mapping.
pub type KeyIndex<'s> = crate::hash::HashMap<Cow<'s, str>, u32>;

/// A loaded document: the arena plus its root (none for an empty YAML document). Equal
/// documents are equal in every field, and node by node in their children (the fast YAML
/// path's oracle compares them); where in the pool the children lie does not count.
#[derive(Clone, Debug, Default)]
pub struct Document<'s> {
    pub nodes: Vec<Node<'s>>,
    /// The pools that the collections' [`Children`] index.
    entry_pool: Vec<Entry>,
    item_pool: Vec<NodeId>,
    pub root: Option<NodeId>,
    /// Hash indexes of the mappings with more than a few keys, built by the loaders while
    /// they check for duplicates. Without them, a template of N tables that each `Ref` a
    /// parameter or resource costs N x N key comparisons: a hang on a crafted file.
    pub large_maps: crate::hash::HashMap<NodeId, KeyIndex<'s>>,
    /// Where each YAML document after the first starts (its `---`), and the roots of
    /// those that are not empty. CloudFormation reads one document only.
    pub more_documents: Vec<Span>,
    pub more_roots: Vec<NodeId>,
    /// The whole text the spans index (BOM included), so that a rule can shape a fix in
    /// the style of the bytes around a node without parsing anything again.
    pub text: &'s str,
    pub format: super::Format,
    /// Read by the libyaml-safer fallback because saphyr rejected the text. The two read
    /// a few constructs differently, so the fix engine must know which one read a file.
    pub lenient: bool,
    /// The first alias or merge key, in a file loaded with [`Aliases::Expand`]
    /// (`super::Aliases`): its aliased nodes are shared, so the caller bounds the expanded
    /// size (`alias_budget`) before anything walks the tree.
    pub aliases: Option<Span>,
    /// Nodes that stand in more than one place of the tree or whose entries lie in more
    /// than one place of the text: an aliased value and everything in it, a mapping that
    /// received merged keys (`<<`), a Serverless resource's `Properties` merged with its
    /// extension. An edit there would change other places too, so the edit helpers
    /// refuse them (the finding keeps no fix).
    pub shared: crate::hash::HashSet<NodeId>,
}

/// An intrinsic function call, written either as a tag (`!Sub x`) or as a single-key
/// mapping (`{"Fn::Sub": x}`). `arg` is the node holding the argument: for the tag form it
/// is the tagged node itself, so read it through the kind accessors, not by re-evaluating.
#[derive(Clone, Copy, Debug)]
pub struct Call<'d> {
    pub name: &'d str,
    pub arg: NodeId,
    /// Span of the function name (the tag, or the mapping key).
    pub name_span: Span,
}

impl PartialEq for Document<'_> {
    fn eq(&self, other: &Self) -> bool {
        // Every field (a new one must be added here), the pools through the nodes.
        let Document {
            nodes,
            entry_pool: _,
            item_pool: _,
            root,
            large_maps,
            more_documents,
            more_roots,
            text,
            format,
            lenient,
            aliases,
            shared,
        } = self;
        *root == other.root
            && *more_documents == other.more_documents
            && *more_roots == other.more_roots
            && *text == other.text
            && *format == other.format
            && *lenient == other.lenient
            && *aliases == other.aliases
            && *shared == other.shared
            && *large_maps == other.large_maps
            && nodes.len() == other.nodes.len()
            && self.same_arena(other)
    }
}

impl<'s> Document<'s> {
    /// An empty document whose arena has room for the nodes `text` will probably hold:
    /// the corpus's templates have one node per 19 bytes of YAML and per 24 of JSON
    /// (counted with PyYAML's composer and Python's json), so one per 16 bytes leaves
    /// most files without a regrowth of the arena (a copy of every node so far). Fewer
    /// than half the nodes are a mapping's values, fewer still a sequence's items.
    pub fn with_capacity_for(text: &str, limits: &super::Limits) -> Self {
        let nodes = (text.len() / 16).min(limits.max_nodes);
        Document {
            nodes: Vec::with_capacity(nodes),
            entry_pool: Vec::with_capacity(nodes / 2),
            item_pool: Vec::with_capacity(nodes / 8),
            ..Document::default()
        }
    }

    /// Whether the two arenas hold the same nodes under the same ids: spans, tags,
    /// scalars, and the children of each collection (wherever they lie in the pools).
    pub fn same_arena(&self, other: &Document<'_>) -> bool {
        self.nodes.len() == other.nodes.len()
            && self
                .nodes
                .iter()
                .zip(&other.nodes)
                .all(|(a, b)| self.same_node(a, other, b))
    }

    /// Whether the node `a` of this document equals the node `b` of `other`: span, tag,
    /// scalar, and a collection's children (by id), wherever they lie in the pools.
    pub fn same_node(&self, a: &Node<'_>, other: &Document<'_>, b: &Node<'_>) -> bool {
        a.span == b.span
            && a.tag == b.tag
            && match (&a.kind, &b.kind) {
                (NodeKind::Scalar(x), NodeKind::Scalar(y)) => x == y,
                (NodeKind::Map(x), NodeKind::Map(y)) => self.entries(*x) == other.entries(*y),
                (NodeKind::Seq(x), NodeKind::Seq(y)) => self.items(*x) == other.items(*y),
                _ => false,
            }
    }

    /// The entries of a mapping's [`Children`].
    pub fn entries(&self, children: Children) -> &[Entry] {
        self.entry_pool.get(children.range()).unwrap_or_default()
    }

    /// The items of a sequence's [`Children`].
    pub fn items(&self, children: Children) -> &[NodeId] {
        self.item_pool.get(children.range()).unwrap_or_default()
    }

    /// A mapping of `entries`, for a node: they are added to the pool.
    pub fn new_map(&mut self, entries: impl IntoIterator<Item = Entry>) -> NodeKind<'s> {
        let start = self.entry_pool.len();
        self.entry_pool.extend(entries);
        NodeKind::Map(run(start, self.entry_pool.len()))
    }

    /// A sequence of `items`, for a node: they are added to the pool.
    pub fn new_seq(&mut self, items: impl IntoIterator<Item = NodeId>) -> NodeKind<'s> {
        let start = self.item_pool.len();
        self.item_pool.extend(items);
        NodeKind::Seq(run(start, self.item_pool.len()))
    }

    /// A mapping of the entries on a loader's `stack` from `first` on, taken off it.
    pub fn map_from_tail(&mut self, stack: &mut Vec<Entry>, first: usize) -> NodeKind<'s> {
        let first = first.min(stack.len());
        let start = self.entry_pool.len();
        self.entry_pool.extend_from_slice(&stack[first..]);
        stack.truncate(first);
        NodeKind::Map(run(start, self.entry_pool.len()))
    }

    /// A sequence of the items on a loader's `stack` from `first` on, taken off it.
    pub fn seq_from_tail(&mut self, stack: &mut Vec<NodeId>, first: usize) -> NodeKind<'s> {
        let first = first.min(stack.len());
        let start = self.item_pool.len();
        self.item_pool.extend_from_slice(&stack[first..]);
        stack.truncate(first);
        NodeKind::Seq(run(start, self.item_pool.len()))
    }

    pub fn node(&self, id: NodeId) -> &Node<'s> {
        &self.nodes[id as usize]
    }

    pub fn span(&self, id: NodeId) -> Span {
        self.node(id).span
    }

    #[inline]
    pub fn push(&mut self, node: Node<'s>) -> NodeId {
        let id = self.nodes.len() as NodeId;
        self.nodes.push(node);
        id
    }

    /// The scalar text of a node, whatever its style or tag.
    pub fn scalar(&self, id: NodeId) -> Option<&Scalar<'s>> {
        match &self.node(id).kind {
            NodeKind::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// The text of an untagged string-like scalar (tags make it an intrinsic instead).
    pub fn str(&self, id: NodeId) -> Option<&str> {
        let node = self.node(id);
        match (&node.kind, node.tag.as_deref()) {
            (NodeKind::Scalar(s), None | Some("!!str")) => Some(&s.text),
            _ => None,
        }
    }

    pub fn map(&self, id: NodeId) -> Option<&[Entry]> {
        match &self.node(id).kind {
            NodeKind::Map(entries) => Some(self.entries(*entries)),
            _ => None,
        }
    }

    /// The items of a *literal* list: an untagged (or `!!seq`) sequence. A tagged
    /// sequence is an intrinsic call (`!Split [",", "a,b"]`, `!If [...]`) whose value is
    /// not its argument list, so where a template must write a literal list (`Fn::Select`
    /// and `Fn::Join` lists, `Fn::ForEach` collections, `AllowedValues`) this is the
    /// accessor; [`Document::seq`] is for an intrinsic's own arguments.
    pub fn list(&self, id: NodeId) -> Option<&[NodeId]> {
        match self.node(id).tag.as_deref() {
            None | Some("!!seq") => self.seq(id),
            Some(_) => None,
        }
    }

    /// The items of a sequence node, tagged or not: an intrinsic's arguments
    /// (`!Select [0, [a, b]]` is a tagged sequence). For a value that must be a literal
    /// list use [`Document::list`].
    pub fn seq(&self, id: NodeId) -> Option<&[NodeId]> {
        match &self.node(id).kind {
            NodeKind::Seq(items) => Some(self.items(*items)),
            _ => None,
        }
    }

    /// The text of a key node (keys are always scalars).
    pub fn key(&self, entry: &Entry) -> &str {
        self.scalar(entry.key).map(|s| &*s.text).unwrap_or("")
    }

    /// The entry for `key` in the mapping `id`, if `id` is a mapping and has it.
    pub fn get(&self, id: NodeId, key: &str) -> Option<Entry> {
        let entries = self.map(id)?;
        // Only a mapping with more than `LARGE_MAP` keys has an index: a smaller one (most
        // of them) is searched without hashing its id.
        if entries.len() <= crate::load::LARGE_MAP {
            return entries.iter().copied().find(|e| self.key(e) == key);
        }
        if let Some(index) = self.large_maps.get(&id) {
            return index
                .get(key)
                .and_then(|position| entries.get(*position as usize))
                .copied();
        }
        entries.iter().copied().find(|e| self.key(e) == key)
    }

    pub fn get_value(&self, id: NodeId, key: &str) -> Option<NodeId> {
        self.get(id, key).map(|e| e.value)
    }

    /// Is this node null: a plain `null`, `~`, an empty plain scalar, or JSON `null`?
    pub fn is_null(&self, id: NodeId) -> bool {
        let node = self.node(id);
        node.tag.is_none()
            && matches!(&node.kind, NodeKind::Scalar(s) if s.style == ScalarStyle::Plain
                && matches!(&*s.text, "" | "~" | "null" | "Null" | "NULL"))
    }

    /// The intrinsic function this node calls, if any.
    pub fn call(&self, id: NodeId) -> Option<Call<'_>> {
        let node = self.node(id);
        if let Some(tag) = node.tag.as_deref() {
            if tag == "Ref" || tag == "Condition" || tag.starts_with("Fn::") {
                return Some(Call {
                    name: tag,
                    arg: id,
                    name_span: Span::new(node.span.start, node.span.start + tag_len(tag)),
                });
            }
            return None;
        }
        let entries = self.map(id)?;
        if entries.len() != 1 {
            return None;
        }
        let entry = entries[0];
        let name = self.key(&entry);
        if name == "Ref" || name == "Condition" || name.starts_with("Fn::") {
            return Some(Call {
                name,
                arg: entry.value,
                name_span: self.span(entry.key),
            });
        }
        None
    }
}

/// The run of a pool from `start` to `end` (node ids are `u32`, and the pools hold fewer
/// children than the arena holds nodes).
fn run(start: usize, end: usize) -> Children {
    Children {
        start: start as u32,
        len: (end - start) as u32,
    }
}

/// Length in the source of the short form of a long-form tag name (`Fn::Sub` was `!Sub`).
fn tag_len(tag: &str) -> usize {
    1 + tag.strip_prefix("Fn::").unwrap_or(tag).len()
}

/// The long form of a CloudFormation short-form tag suffix, as a node's tag: a static
/// string for CloudFormation's own functions (a tag per short-form call: `!Ref`, `!Sub`,
/// `!GetAtt`), one allocation of its exact size for any other.
pub fn long_form_tag(suffix: &str) -> Tag {
    if let Some(name) = static_intrinsic(suffix) {
        return Cow::Borrowed(name);
    }
    match suffix {
        "Ref" => Cow::Borrowed("Ref"),
        "Condition" => Cow::Borrowed("Condition"),
        _ => {
            let mut tag = String::with_capacity(4 + suffix.len());
            tag.push_str("Fn::");
            tag.push_str(suffix);
            Cow::Owned(tag)
        }
    }
}

/// The `Fn::` functions a template writes as short-form tags: their names, and the name of
/// a tag's suffix (`Sub` to `Fn::Sub`) in one `match`.
macro_rules! intrinsics {
    ($($suffix:literal),* $(,)?) => {
        #[cfg(test)]
        const INTRINSICS: &[&str] = &[$(concat!("Fn::", $suffix)),*];

        fn static_intrinsic(suffix: &str) -> Option<&'static str> {
            match suffix {
                $($suffix => Some(concat!("Fn::", $suffix)),)*
                _ => None,
            }
        }
    };
}

intrinsics!(
    "Sub",
    "GetAtt",
    "If",
    "Join",
    "Equals",
    "Select",
    "Not",
    "ImportValue",
    "FindInMap",
    "Split",
    "GetAZs",
    "And",
    "Or",
    "Base64",
    "Cidr",
    "Transform",
    "Length",
    "ToJsonString",
    "ForEach",
);

#[cfg(test)]
mod tag_tests {
    use super::*;

    #[test]
    fn long_form_tags_are_static_for_intrinsics_and_exact_for_others() {
        for name in INTRINSICS {
            let tag = long_form_tag(&name[4..]);
            assert_eq!(tag, *name);
            assert!(matches!(tag, Cow::Borrowed(_)), "{name}");
        }
        assert_eq!(long_form_tag("Ref"), "Ref");
        assert_eq!(long_form_tag("Condition"), "Condition");
        assert_eq!(long_form_tag("Custom"), "Fn::Custom");
        assert_eq!(long_form_tag(""), "Fn::");
        assert_eq!(long_form_tag("Su"), "Fn::Su");
        assert_eq!(long_form_tag("Subx"), "Fn::Subx");
    }
}

#[cfg(test)]
mod pool_tests {
    use super::*;

    fn scalar<'s>(doc: &mut Document<'s>, at: usize, text: &'s str) -> NodeId {
        doc.push(Node {
            span: Span::new(at, at + text.len()),
            tag: None,
            kind: NodeKind::Scalar(Scalar {
                text: Cow::Borrowed(text),
                style: ScalarStyle::Plain,
            }),
        })
    }

    /// `{a: [x, y]}`, with `garbage` unused runs in the pools before its children.
    fn document(garbage: usize, y: &'static str) -> Document<'static> {
        let mut doc = Document::default();
        for _ in 0..garbage {
            doc.new_map([Entry { key: 7, value: 7 }]);
            doc.new_seq([7, 7]);
        }
        let a = scalar(&mut doc, 0, "a");
        let x = scalar(&mut doc, 4, "x");
        let y = scalar(&mut doc, 7, y);
        let kind = doc.new_seq([x, y]);
        let list = doc.push(Node {
            span: Span::new(3, 9),
            tag: None,
            kind,
        });
        let kind = doc.new_map([Entry {
            key: a,
            value: list,
        }]);
        let root = doc.push(Node {
            span: Span::new(0, 9),
            tag: None,
            kind,
        });
        doc.root = Some(root);
        doc
    }

    #[test]
    fn documents_are_equal_by_their_trees_not_by_where_the_children_lie() {
        assert_eq!(document(0, "y"), document(3, "y"));
        assert!(document(0, "y").same_arena(&document(2, "y")));
        assert_ne!(document(0, "y"), document(0, "z"));
        assert_ne!(document(1, "y"), document(0, "z"));
        let mut other = document(0, "y");
        let root = other.root.unwrap();
        let a = other.map(root).unwrap()[0].key;
        other.nodes[root as usize].kind = other.new_map([Entry { key: a, value: a }]);
        assert_ne!(document(0, "y"), other);
    }

    #[test]
    fn children_are_read_from_the_pools() {
        let doc = document(2, "y");
        let root = doc.root.unwrap();
        let entries = doc.map(root).unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(doc.key(&entries[0]), "a");
        let items = doc.seq(entries[0].value).unwrap();
        let texts: Vec<&str> = items.iter().filter_map(|&i| doc.str(i)).collect();
        assert_eq!(texts, ["x", "y"]);
        assert_eq!(doc.get_value(root, "a"), Some(entries[0].value));
        assert!(doc.seq(root).is_none() && doc.map(entries[0].value).is_none());
    }

    #[test]
    fn a_rewritten_collection_leaves_a_node_sharing_its_old_run_alone() {
        let mut doc = document(0, "y");
        let list = doc.map(doc.root.unwrap()).unwrap()[0].value;
        let copy = doc.node(list).clone();
        let copy = doc.push(copy);
        let kind = doc.new_seq([list]);
        doc.nodes[list as usize].kind = kind;
        assert_eq!(doc.seq(list), Some(&[list][..]));
        let texts: Vec<&str> = doc
            .seq(copy)
            .unwrap()
            .iter()
            .filter_map(|&i| doc.str(i))
            .collect();
        assert_eq!(texts, ["x", "y"]);
    }

    #[test]
    fn a_tail_of_a_loader_stack_moves_to_the_pool() {
        let mut doc = Document::default();
        let mut stack = vec![1, 2, 3, 4];
        let NodeKind::Seq(tail) = doc.seq_from_tail(&mut stack, 2) else {
            panic!("not a sequence");
        };
        assert_eq!(doc.items(tail), [3, 4]);
        assert_eq!(stack, [1, 2]);
        let NodeKind::Seq(none) = doc.seq_from_tail(&mut stack, 9) else {
            panic!("not a sequence");
        };
        assert!(none.is_empty() && doc.items(none).is_empty());
        let mut entries = vec![Entry { key: 1, value: 2 }];
        let NodeKind::Map(all) = doc.map_from_tail(&mut entries, 0) else {
            panic!("not a mapping");
        };
        assert_eq!(doc.entries(all), [Entry { key: 1, value: 2 }]);
        assert!(entries.is_empty());
    }
}
