//! What the Serverless Framework does to `serverless.yml` before CloudFormation sees it,
//! done to the document before the template view is built, so that every rule, the
//! inventory and `--fix` read the resources as they are deployed.
//!
//! `resources.extensions` (Framework v3 and later) changes resources of
//! `resources.Resources`. The Framework's
//! `lib/plugins/aws/package/lib/merge-custom-provider-resources.js`
//! (github.com/serverless/serverless) applies it after merging `resources` into the
//! compiled template: for each `extensions.<LogicalId>.<Attribute>`,
//! - `Condition`, `CreationPolicy`, `DeletionPolicy`, `UpdatePolicy`,
//!   `UpdateReplacePolicy` replace the resource's attribute
//!   (`template.Resources[name][attribute] = value`);
//! - `Properties` and `Metadata` are merged *shallowly*
//!   (`Object.assign(template.Resources[name].Properties, value)`): a key of the extension
//!   replaces the whole value of that key, the others stay;
//! - `DependsOn` is appended to; any other attribute, or a resource that is not in the
//!   stack, is an error of `serverless package` (nothing is deployed).
//!
//! The extended resource keeps its node; an attribute an extension sets is the
//! extension's own key and value (so a finding about it points at the extension's line,
//! and a fix replacing it edits the extension), and merged `Properties`/`Metadata` are a
//! new mapping whose entries are those of both places. What cannot be read (an extension
//! or a merged value written as a `${...}` variable) is an error: it could set any policy.

use std::path::Path;

use crate::load::{self, Aliases, Document, Entry, FileError, Format, Limits, NodeId, NodeKind};
use crate::source::Span;

/// The attributes an extension replaces.
const REPLACED: &[&str] = &[
    "Condition",
    "CreationPolicy",
    "DeletionPolicy",
    "UpdatePolicy",
    "UpdateReplacePolicy",
];
/// The attributes an extension merges key by key.
const MERGED: &[&str] = &["Properties", "Metadata"];

/// A whole-string Serverless variable: `${file(x.yml)}`, `${self:custom.x}`.
pub fn is_variable(text: &str) -> bool {
    let t = text.trim();
    t.starts_with("${") && t.ends_with('}')
}

/// The mappings the service keeps its CloudFormation sections in: `resources`, or each
/// mapping of a `resources` list (which the Framework merges).
pub fn sections(doc: &Document, root: NodeId) -> Vec<NodeId> {
    match doc.get_value(root, "resources") {
        None => Vec::new(),
        Some(r) if doc.map(r).is_some() => vec![r],
        Some(r) => doc
            .seq(r)
            .unwrap_or_default()
            .iter()
            .copied()
            .filter(|&item| doc.map(item).is_some())
            .collect(),
    }
}

/// Apply every `resources.extensions` entry to the resource it names (see the module
/// documentation for what the Framework does).
pub fn apply_extensions(doc: &mut Document) -> Result<(), FileError> {
    let Some(root) = doc.root.filter(|&r| doc.map(r).is_some()) else {
        return Ok(());
    };
    let sections = sections(doc, root);
    let resources: Vec<NodeId> = sections
        .iter()
        .filter_map(|&s| doc.get_value(s, "Resources"))
        .filter(|&r| doc.map(r).is_some())
        .collect();
    for section in sections {
        let Some(extensions) = doc.get(section, "extensions") else {
            continue;
        };
        if doc.is_null(extensions.value) {
            continue;
        }
        let Some(entries) = doc.map(extensions.value).map(<[Entry]>::to_vec) else {
            return Err(unreadable(doc, extensions.value, "`resources.extensions`"));
        };
        for extension in entries {
            let name = doc.key(&extension).to_string();
            // A resource the Framework generates (a function's role or log group): not in
            // this file, and not a table.
            let Some(target) = resources.iter().find_map(|&r| doc.get_value(r, &name)) else {
                continue;
            };
            if doc.map(target).is_none() {
                continue;
            }
            if doc.is_null(extension.value) {
                continue;
            }
            let Some(attributes) = doc.map(extension.value).map(<[Entry]>::to_vec) else {
                return Err(unreadable(
                    doc,
                    extension.value,
                    &format!("the extension of `{name}`"),
                ));
            };
            for attribute in attributes {
                extend(doc, target, attribute, &name)?;
            }
        }
    }
    Ok(())
}

/// Apply one attribute of an extension to the resource mapping `target`.
fn extend(
    doc: &mut Document,
    target: NodeId,
    attribute: Entry,
    name: &str,
) -> Result<(), FileError> {
    let key = doc.key(&attribute).to_string();
    let existing = doc.get(target, &key);
    if REPLACED.contains(&key.as_str()) {
        set_entry(doc, target, existing, attribute);
        return Ok(());
    }
    if !MERGED.contains(&key.as_str()) {
        // `DependsOn` adds dependencies only; any other attribute fails `serverless package`.
        return Ok(());
    }
    if doc.is_null(attribute.value) {
        return Ok(());
    }
    let Some(added) = doc.map(attribute.value).map(<[Entry]>::to_vec) else {
        return Err(unreadable(
            doc,
            attribute.value,
            &format!("the `{key}` extension of `{name}`"),
        ));
    };
    if let Some(written) = existing.filter(|e| doc.map(e.value).is_none() && !doc.is_null(e.value))
    {
        return Err(unreadable(
            doc,
            written.value,
            &format!("the `{key}` of `{name}`, which an extension merges into,"),
        ));
    }
    let Some(existing) = existing.filter(|e| doc.map(e.value).is_some()) else {
        // No mapping to merge into: the Framework starts from `{}`.
        set_entry(doc, target, existing, attribute);
        return Ok(());
    };
    let mut merged: Vec<Entry> = doc.map(existing.value).unwrap_or_default().to_vec();
    for entry in added {
        let key = doc.key(&entry).to_string();
        match merged.iter().position(|e| doc.key(e) == key) {
            Some(at) => merged[at] = entry,
            None => merged.push(entry),
        }
    }
    let span = doc.span(existing.value);
    let node = crate::load::Node {
        span,
        tag: None,
        kind: doc.new_map(merged),
    };
    let id = doc.push(node);
    // The merged mapping's entries lie in two places: no edit may insert into it by
    // position or remove from it (edits refuse shared nodes).
    doc.shared.insert(id);
    set_entry(
        doc,
        target,
        Some(existing),
        Entry {
            key: existing.key,
            value: id,
        },
    );
    Ok(())
}

/// Put `entry` in place of `existing` in the mapping `target`, or append it.
fn set_entry(doc: &mut Document, target: NodeId, existing: Option<Entry>, entry: Entry) {
    doc.large_maps.remove(&target);
    // A new run of the pool: the old one may be another node's too.
    let Some(mut entries) = doc.map(target).map(<[Entry]>::to_vec) else {
        return;
    };
    match existing.and_then(|e| entries.iter().position(|x| *x == e)) {
        Some(at) => entries[at] = entry,
        None => entries.push(entry),
    }
    doc.nodes[target as usize].kind = doc.new_map(entries);
}

fn unreadable(doc: &Document, node: NodeId, what: &str) -> FileError {
    let variable = doc.str(node).is_some_and(is_variable);
    let why = if variable {
        "is a Serverless variable, resolved only at deploy time"
    } else {
        "is not a mapping"
    };
    FileError::at(
        format!("{what} {why}, so the resources it extends cannot be checked"),
        doc.span(node),
        "cannot be read",
    )
    .with_help("write the extension as a mapping of attributes (`DeletionPolicy: Retain`, `Properties: {...}`) in the file")
}

/// A file a `${file(path)}` or `${file(path):key}` variable of the service stands for,
/// grafted into the service's document in place of the variable (see [`resolve_files`]).
/// Its nodes' spans index a virtual text in which the fragment starts at `base` (past the
/// service file's own text), so that a span says which file it is in.
#[derive(Clone, Debug)]
pub struct Fragment {
    /// The path read.
    pub path: std::path::PathBuf,
    /// The path as shown: the service file's directory joined with the written path.
    pub display: String,
    pub text: String,
    pub base: usize,
    /// The `${file(...)}` in the service file that brings this fragment in (for a
    /// fragment referenced from another fragment, the outermost reference).
    pub reference: Span,
}

impl Fragment {
    pub fn contains(&self, offset: usize) -> bool {
        self.base <= offset && offset <= self.base + self.text.len()
    }
}

/// May this Serverless file bring in resources through a variable (a `${file(...)}`
/// fragment, or one that fails closed)? Then the needle prefilter cannot judge it by its
/// own bytes: the tables may all be elsewhere.
pub fn may_include_files(path: &Path, bytes: &[u8]) -> bool {
    super::Layout::detect(path) == super::Layout::Serverless
        && memchr::memmem::find(bytes, b"${").is_some()
}

/// The files a Serverless service names with `${file(path)}` variables, and those the named
/// files name in turn, as canonical paths, read from the text alone: for a service that
/// does not load (a parse error, a variable that fails closed), whose fragments must not
/// then be checked as templates of their own (they are parts of the service, and without
/// its extensions a partial one). Bounded as [`resolve_files`]; a path holding another
/// variable, or a file that cannot be read, names nothing further.
pub fn named_fragments(service: &Path, bytes: &[u8]) -> Vec<std::path::PathBuf> {
    let mut out: Vec<std::path::PathBuf> = Vec::new();
    if super::Layout::detect(service) != super::Layout::Serverless {
        return out;
    }
    // Every path is relative to the service's directory, also in a fragment.
    let dir = service.parent().unwrap_or(Path::new("")).to_path_buf();
    let mut todo: Vec<(Vec<u8>, usize)> = vec![(bytes.to_vec(), 0)];
    while let Some((bytes, depth)) = todo.pop() {
        let text = String::from_utf8_lossy(&bytes);
        for (at, _) in text.match_indices("${file(") {
            if out.len() >= MAX_FRAGMENTS {
                return out;
            }
            let rest = &text[at + "${file(".len()..];
            let Some(close) = rest.find(')') else {
                continue;
            };
            let written = rest[..close].trim().trim_matches(|c| c == '\'' || c == '"');
            if written.is_empty() || written.contains("${") {
                continue;
            }
            let Ok(real) = crate::read::confined(&dir.join(written)) else {
                continue;
            };
            if out.contains(&real) {
                continue;
            }
            out.push(real.clone());
            if depth + 1 < MAX_FRAGMENT_DEPTH {
                if let Ok(more) = crate::read::file(&real, MAX_FRAGMENT_BYTES) {
                    todo.push((more, depth + 1));
                }
            }
        }
    }
    out
}

/// How deep `${file(...)}` may nest (a fragment referencing a fragment ...): a cycle
/// ends here, with an error.
const MAX_FRAGMENT_DEPTH: usize = 8;
/// How many fragments one service may bring in.
const MAX_FRAGMENTS: usize = 256;
/// The largest fragment file read.
const MAX_FRAGMENT_BYTES: u64 = 64 * 1024 * 1024;

/// Resolve the `${file(path)}` and `${file(path):key}` variables of a service where they
/// can hold what the checks read: anywhere under `resources`, `provider.iam` and
/// `provider.iamRoleStatements`. As the Framework does (sf-core
/// `resolvers/providers/file/file.js`): the path is relative to the service's directory,
/// a `.yml`/`.yaml` file is read with js-yaml (so anchors, aliases and merge keys are
/// read, bounded as in the service file), `.json` as JSON, and `key` is a dot-separated
/// path into it (`a.b`, `list[0]`). Each fragment is loaded through the same loader and
/// grafted in place of the variable, so extensions, `Ref`s and the provider's statements
/// see it as the Framework does, and findings inside it are placed in it.
///
/// Everything that cannot be read fails closed, as an error at the variable: a missing or
/// unparseable file, a missing key, a path holding another variable, a fallback value
/// (`${file(x.yml), 'default'}`), a JavaScript or TypeScript module (its value is a
/// function's result), any other file type, and nesting deeper than
/// [`MAX_FRAGMENT_DEPTH`].
pub fn resolve_files(
    doc: &mut Document,
    service: &Path,
    limits: &Limits,
    files: &dyn crate::read::Files,
) -> Result<Vec<Fragment>, FileError> {
    let mut fragments: Vec<Fragment> = Vec::new();
    let Some(root) = doc.root.filter(|&r| doc.map(r).is_some()) else {
        return Ok(fragments);
    };
    let mut starts: Vec<NodeId> = doc.get_value(root, "resources").into_iter().collect();
    if let Some(provider) = doc.get_value(root, "provider") {
        starts.extend(doc.get_value(provider, "iam"));
        starts.extend(doc.get_value(provider, "iamRoleStatements"));
    }
    let dir = service.parent().unwrap_or(Path::new("")).to_path_buf();
    let main_len = doc.text.len();
    // (node, how many fragments deep it is)
    let mut todo: Vec<(NodeId, usize)> = starts.into_iter().map(|n| (n, 0)).collect();
    let mut seen = std::collections::HashSet::new();
    while let Some((node, depth)) = todo.pop() {
        if !seen.insert(node) {
            continue;
        }
        match &doc.node(node).kind {
            NodeKind::Map(entries) => {
                todo.extend(doc.entries(*entries).iter().map(|e| (e.value, depth)));
                continue;
            }
            NodeKind::Seq(items) => {
                todo.extend(doc.items(*items).iter().map(|&i| (i, depth)));
                continue;
            }
            NodeKind::Scalar(_) => {}
        }
        let Some(reference) = doc.str(node).and_then(file_reference) else {
            continue;
        };
        let at = doc.span(node);
        // A variable inside a fragment is reported at the service's own variable.
        let at = fragments
            .iter()
            .find(|f| at.start > main_len && f.contains(at.start))
            .map_or(at, |f| f.reference);
        let fail = |why: String| {
            FileError::at(
                format!("`{}` cannot be resolved: {why}", reference.written),
                at,
                "this file variable",
            )
        };
        let reference = reference.parsed.map_err(|why| {
            fail(why).with_help("write the value in the service file, or reference a YAML or JSON file by a literal path")
        })?;
        if depth >= MAX_FRAGMENT_DEPTH || fragments.len() >= MAX_FRAGMENTS {
            return Err(fail(format!(
                "fragments nest more than {MAX_FRAGMENT_DEPTH} levels deep or number more than {MAX_FRAGMENTS} (a file that references itself?)"
            )));
        }
        let path = dir.join(&reference.path);
        let shown = files.display(&path);
        let bytes = files
            .read(&path, MAX_FRAGMENT_BYTES)
            .map_err(|why| fail(format!("`{shown}` {why}")).with_help("the Framework resolves the path relative to the service's directory: create the file or fix the path; ddb-guard does not pass a service whose resources it cannot read"))?;
        let text =
            String::from_utf8(bytes).map_err(|_| fail(format!("`{shown}` is not valid UTF-8")))?;
        let base = fragments
            .last()
            .map_or(main_len + 1, |f| f.base + f.text.len() + 1);
        let grafted = {
            let format = if reference.json {
                Format::Json
            } else {
                Format::Yaml
            };
            let fragment = load::load_with(&text, format, limits, Aliases::Expand)
                .map_err(|e| fail(in_fragment(&shown, &text, &e)))?;
            if let Some(first) = fragment.aliases {
                if !load::alias_budget::within_budget(&text, limits.max_nodes) {
                    let e = FileError::at(
                        "YAML aliases expand to far more nodes than the file holds (an alias bomb)",
                        first,
                        "alias",
                    );
                    return Err(fail(in_fragment(&shown, &text, &e)));
                }
            }
            let mut value = fragment.root;
            for step in &reference.key {
                value = value.and_then(|v| match step {
                    Step::Key(k) => fragment.get_value(v, k),
                    Step::Index(i) => fragment.seq(v).and_then(|s| s.get(*i).copied()),
                });
            }
            let Some(value) = value.filter(|&v| !fragment.is_null(v)) else {
                return Err(fail(format!(
                    "`{shown}` has no value at `{}`",
                    reference.key_text
                )));
            };
            graft(doc, &fragment, value, base)
        };
        let copy = doc.node(grafted).clone();
        doc.nodes[node as usize] = copy;
        if let Some(index) = doc.large_maps.get(&grafted).cloned() {
            doc.large_maps.insert(node, index);
        }
        doc.shared.insert(node);
        seen.remove(&node);
        todo.push((node, depth + 1));
        fragments.push(Fragment {
            display: shown,
            path: path.clone(),
            text,
            base,
            reference: at,
        });
    }
    Ok(fragments)
}

/// A fragment's load error, said at the variable: the message with its place in the file.
fn in_fragment(shown: &str, text: &str, e: &FileError) -> String {
    let at = e.span.map(|s| {
        let lines = crate::source::LineIndex::new(text);
        let p = lines.position(text, s.start);
        format!(" at line {}, column {}", p.line, p.column)
    });
    format!(
        "`{shown}` does not load{}: {}",
        at.unwrap_or_default(),
        e.message
    )
}

/// Copy the subtree at `value` of `from` into `doc`, spans moved by `base`; every copied
/// node is shared (no edit may touch the fragment through the service file's text).
fn graft(doc: &mut Document, from: &Document, value: NodeId, base: usize) -> NodeId {
    let mut copied: std::collections::HashMap<NodeId, NodeId> = std::collections::HashMap::new();
    // Post-order without recursion: children first.
    let mut stack: Vec<(NodeId, bool)> = vec![(value, false)];
    while let Some((id, expanded)) = stack.pop() {
        if copied.contains_key(&id) {
            continue;
        }
        let node = from.node(id);
        let children: Vec<NodeId> = match &node.kind {
            NodeKind::Map(entries) => from
                .entries(*entries)
                .iter()
                .flat_map(|e| [e.key, e.value])
                .collect(),
            NodeKind::Seq(items) => from.items(*items).to_vec(),
            NodeKind::Scalar(_) => Vec::new(),
        };
        if !expanded && children.iter().any(|c| !copied.contains_key(c)) {
            stack.push((id, true));
            stack.extend(children.into_iter().map(|c| (c, false)));
            continue;
        }
        let at = |i: &NodeId| copied.get(i).copied().unwrap_or_default();
        let kind = match &node.kind {
            NodeKind::Map(entries) => {
                let entries: Vec<Entry> = from
                    .entries(*entries)
                    .iter()
                    .map(|e| Entry {
                        key: at(&e.key),
                        value: at(&e.value),
                    })
                    .collect();
                doc.new_map(entries)
            }
            NodeKind::Seq(items) => {
                let items: Vec<NodeId> = from.items(*items).iter().map(at).collect();
                doc.new_seq(items)
            }
            NodeKind::Scalar(s) => NodeKind::Scalar(crate::load::Scalar {
                text: std::borrow::Cow::Owned(s.text.to_string()),
                style: s.style,
            }),
        };
        let new = doc.push(crate::load::Node {
            span: Span::new(node.span.start + base, node.span.end + base),
            tag: node.tag.clone(),
            kind,
        });
        if let Some(index) = from.large_maps.get(&id) {
            let owned = index
                .iter()
                .map(|(k, v)| (std::borrow::Cow::Owned(k.to_string()), *v))
                .collect();
            doc.large_maps.insert(new, owned);
        }
        doc.shared.insert(new);
        copied.insert(id, new);
    }
    copied.get(&value).copied().unwrap_or_default()
}

/// One step of a `${file(x):a.b[0]}` key.
enum Step {
    Key(String),
    Index(usize),
}

struct FileReference {
    path: String,
    json: bool,
    key: Vec<Step>,
    key_text: String,
}

struct Written {
    written: String,
    parsed: Result<FileReference, String>,
}

/// `${file(path)}` / `${file(path):key}`, read; `None` for any other text (another
/// variable stays opaque and is judged where it is used).
fn file_reference(text: &str) -> Option<Written> {
    let t = text.trim();
    let inner = t.strip_prefix("${")?.strip_suffix('}')?.trim();
    let rest = inner.strip_prefix("file(")?;
    let written = t.to_string();
    let parsed = (|| {
        let close = rest
            .find(')')
            .ok_or_else(|| "the `file(` is not closed".to_string())?;
        let raw = rest[..close].trim();
        let path = raw.trim_matches(|c| c == '\'' || c == '"').to_string();
        let after = rest[close + 1..].trim();
        if path.contains("${") || after.contains("${") {
            return Err(
                "its path or key holds another variable, resolved only at deploy time".to_string(),
            );
        }
        let key_text = match after.strip_prefix(':') {
            Some(key) => key.trim().to_string(),
            None if after.is_empty() => String::new(),
            None => {
                return Err(format!(
                    "`{after}` after the file (a fallback value?) is not read by ddb-guard"
                ))
            }
        };
        let ext = Path::new(&path)
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        let json = match ext.as_str() {
            "yml" | "yaml" => false,
            "json" => true,
            "js" | "cjs" | "mjs" | "ts" | "mts" | "cts" => {
                return Err(format!(
                    "`{path}` is a JavaScript or TypeScript module: its value is computed when the Framework runs (a function's result), so what it stands for cannot be checked"
                ))
            }
            _ => return Err(format!("`{path}` is neither YAML nor JSON")),
        };
        let mut key = Vec::new();
        for part in key_text.split('.').filter(|p| !p.is_empty()) {
            let mut pieces = part.split('[');
            if let Some(name) = pieces.next().filter(|n| !n.is_empty()) {
                key.push(Step::Key(name.to_string()));
            }
            for index in pieces {
                let n = index
                    .strip_suffix(']')
                    .and_then(|i| i.parse().ok())
                    .ok_or_else(|| format!("the key `{key_text}` is not a dotted path"))?;
                key.push(Step::Index(n));
            }
        }
        Ok(FileReference {
            path,
            json,
            key,
            key_text,
        })
    })();
    Some(Written { written, parsed })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Result<(String, bool, String), String> {
        let written = file_reference(text).expect("a file variable");
        written
            .parsed
            .map(|r| (r.path, r.json, format!("{}/{}", r.key_text, r.key.len())))
    }

    #[test]
    fn file_variables_are_read_as_the_framework_writes_them() {
        assert_eq!(
            parsed("${file(./tables.yml)}"),
            Ok(("./tables.yml".into(), false, "/0".into()))
        );
        assert_eq!(
            parsed(" ${file('conf/x.json'):a.list[1].b} "),
            Ok(("conf/x.json".into(), true, "a.list[1].b/4".into()))
        );
        assert!(file_reference("${self:custom.x}").is_none());
        assert!(file_reference("prefix-${file(x.yml)}").is_none());
    }

    #[test]
    fn what_cannot_be_read_says_why() {
        let why = |t: &str| parsed(t).expect_err("refused");
        assert!(why("${file(x.js)}").contains("function's result"));
        assert!(why("${file(x.mts):f}").contains("JavaScript or TypeScript"));
        assert!(why("${file(x.yml), 'fallback'}").contains("fallback"));
        assert!(why("${file(${opt:stage}.yml)}").contains("another variable"));
        assert!(why("${file(x.txt)}").contains("neither YAML nor JSON"));
        assert!(why("${file(x.yml):a[b]}").contains("dotted path"));
    }
}
