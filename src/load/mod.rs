//! Stage 2: bytes to one spanned document tree, the same node type for YAML and JSON.
//!
//! YAML goes through saphyr-parser's event iterator and JSON through jsonc-parser (every
//! lenient option off), each behind a fast path for the subset most templates are written
//! in (`yaml_fast`, `json_fast`); all feed [`tree::Document`]. serde_yaml is not used: it has no
//! value spans, is archived, and expands aliases silently (see ARCHITECTURE.md).

pub mod alias_budget;
mod builder;
pub mod embedded;
mod json;
mod json_fast;
pub mod tree;
mod yaml;
mod yaml_dialects;
mod yaml_fallback;
mod yaml_fast;
#[cfg(test)]
pub(crate) mod yaml_gen;

use std::path::Path;

pub use crate::file_error::FileError;
use crate::source::Span;
pub use tree::{Call, Children, Document, Entry, Node, NodeId, NodeKind, Scalar, ScalarStyle};

const BOM: &str = "\u{feff}";

/// `text` without its byte order mark, and the byte offset where the body starts (spans
/// count from the file's first byte, mark included).
fn without_bom(text: &str) -> (&str, usize) {
    match text.strip_prefix(BOM) {
        Some(rest) => (rest, BOM.len()),
        None => (text, 0),
    }
}

/// Resource limits for one document, so that no input can exhaust the stack or memory.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_depth: usize,
    pub max_nodes: usize,
    pub max_scalar_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 128,
            max_nodes: 10_000_000,
            max_scalar_len: 16 * 1024 * 1024,
        }
    }
}

/// What the YAML loader does with anchors, aliases and merge keys.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Aliases {
    /// Refuse them, as CloudFormation does.
    #[default]
    Refuse,
    /// Read them as the Serverless Framework's js-yaml does: an alias shares its anchor's
    /// node, a merge key adds the merged keys a mapping lacks. The caller must bound the
    /// expanded size ([`alias_budget`]) when [`Document::aliases`] is set.
    Expand,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    #[default]
    Yaml,
    Json,
}

impl Format {
    /// `.json` is JSON and `.yaml`/`.yml` YAML; anything else (`.template`, no extension)
    /// is JSON when its first non-blank character opens an object.
    pub fn detect(path: &Path, text: &str) -> Format {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase());
        match ext.as_deref() {
            Some("json") => Format::Json,
            Some("yaml" | "yml") => Format::Yaml,
            _ => {
                let body = text.strip_prefix(BOM).unwrap_or(text);
                if body.trim_start().starts_with('{') {
                    Format::Json
                } else {
                    Format::Yaml
                }
            }
        }
    }
}

/// Parse `text` (the whole file, BOM included) into a spanned tree whose spans index `text`.
pub fn load<'s>(text: &'s str, format: Format, limits: &Limits) -> Result<Document<'s>, FileError> {
    load_with(text, format, limits, Aliases::Refuse)
}

/// [`load`], with anchors, aliases and merge keys read as `aliases` says (JSON has none).
pub fn load_with<'s>(
    text: &'s str,
    format: Format,
    limits: &Limits,
    aliases: Aliases,
) -> Result<Document<'s>, FileError> {
    let (body, base) = without_bom(text);
    let mut doc = match format {
        Format::Yaml => yaml::load(body, base, limits, aliases),
        Format::Json => json::load(body, base, limits),
    }?;
    doc.text = text;
    doc.format = format;
    Ok(doc)
}

/// Parse YAML `text` with the libyaml-safer fallback alone, as `load` does when saphyr
/// rejects a file: the fix engine reads a fixed text with the parser that read the original.
pub fn load_lenient_yaml<'s>(text: &'s str, limits: &Limits) -> Result<Document<'s>, FileError> {
    let (body, base) = without_bom(text);
    let mut doc = yaml::load_lenient(body, base, limits, Aliases::Refuse)?;
    doc.text = text;
    doc.format = Format::Yaml;
    Ok(doc)
}

/// The fast YAML path's document for `text` (`None` where it declines) and the saphyr
/// path's result, each as [`load`] returns it: the differential oracle of `yaml_fast`
/// (its unit tests, the corpus run in `tests/it`, the `yaml_fast_agrees` fuzz target).
#[doc(hidden)]
pub fn yaml_paths<'s>(
    text: &'s str,
    limits: &Limits,
) -> (Option<Document<'s>>, Result<Document<'s>, FileError>) {
    let (body, base) = without_bom(text);
    let finish = |mut doc: Document<'s>| {
        doc.text = text;
        doc.format = Format::Yaml;
        doc
    };
    let fast = yaml_fast::load(body, base, limits, Aliases::Refuse)
        .ok()
        .map(finish);
    let slow = yaml::saphyr_path(body, base, limits, Aliases::Refuse).map(finish);
    (fast, slow)
}

/// Where the fast YAML path declines `text`: the line of `load/yaml_fast/mod.rs` that
/// declined (`None`: it reads the text). The corpus run counts them, to show which
/// construct to read next.
#[doc(hidden)]
pub fn yaml_fast_declines(text: &str, limits: &Limits) -> Option<u32> {
    let (body, base) = without_bom(text);
    yaml_fast::load(body, base, limits, Aliases::Refuse)
        .err()
        .map(|declined| declined.line)
}

/// The fast JSON path's document for `text` (`None` where it declines) and the jsonc
/// path's result, each as [`load`] returns it: the differential oracle of `json_fast` (its
/// unit tests, the corpus run in `tests/it`, the `json_fast_agrees` fuzz target).
#[doc(hidden)]
pub fn json_paths<'s>(
    text: &'s str,
    limits: &Limits,
) -> (Option<Document<'s>>, Result<Document<'s>, FileError>) {
    let (body, base) = without_bom(text);
    let finish = |mut doc: Document<'s>| {
        doc.text = text;
        doc.format = Format::Json;
        doc
    };
    let fast = json_fast::load(body, base, limits).ok().map(finish);
    let slow = json::jsonc_path(body, base, limits).map(finish);
    (fast, slow)
}

/// Where the fast JSON path declines `text`: the line of `load/json_fast/mod.rs` that
/// declined (`None`: it reads the text). The corpus run counts them.
#[doc(hidden)]
pub fn json_fast_declines(text: &str, limits: &Limits) -> Option<u32> {
    let (body, base) = without_bom(text);
    json_fast::load(body, base, limits)
        .err()
        .map(|declined| declined.line)
}

/// Keep the panics of the libyaml-safer fallback off stderr. That crate (a port of libyaml)
/// still has `panic!`s on some malformed input (fuzzing found two); the YAML loader runs
/// it under `catch_unwind` and reports saphyr's error instead, so such a panic is a
/// refusal, not a crash, and printing it would only alarm. Every other panic goes to the
/// hook that was installed before. Call once, early (`main`, a fuzz target).
pub fn quiet_fallback_panics() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let in_fallback = info
            .location()
            .is_some_and(|l| l.file().contains("libyaml-safer"));
        if !in_fallback {
            previous(info);
        }
    }));
}

/// Bytes to text, or an error at the first byte that is not UTF-8.
pub fn decode(bytes: &[u8]) -> Result<&str, FileError> {
    std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        FileError::at(
            "file is not valid UTF-8",
            Span::new(at, at + e.error_len().unwrap_or(1)),
            "invalid byte here",
        )
        .with_help("CloudFormation templates must be UTF-8: re-save the file as UTF-8")
    })
}

/// Tracks open mappings while a loader builds a tree, to reject duplicate keys. Small
/// mappings compare linearly; large ones (a `Resources` map of thousands) switch to a hash,
/// which the document keeps afterwards (see [`Document::get`]) so that lookups in a large
/// mapping never cost a scan.
pub(crate) struct KeySet<'s> {
    /// Each key with its [`fingerprint`], compared first so that two different keys
    /// rarely cost a string comparison.
    keys: Vec<(u64, std::borrow::Cow<'s, str>, Span)>,
    index: Option<tree::KeyIndex<'s>>,
    /// First-occurrence spans, by entry position, once `index` is in use.
    spans: Vec<Span>,
}

impl<'s> KeySet<'s> {
    pub fn new() -> Self {
        KeySet {
            keys: Vec::new(),
            index: None,
            spans: Vec::new(),
        }
    }

    /// Record a key; if it was already present, return the span of its first occurrence.
    pub fn insert(&mut self, key: std::borrow::Cow<'s, str>, span: Span) -> Option<Span> {
        if let Some(index) = &mut self.index {
            if let Some(first) = index.get(&key) {
                return self.spans.get(*first as usize).copied();
            }
            index.insert(key, self.spans.len() as u32);
            self.spans.push(span);
            return None;
        }
        let print = fingerprint(&key);
        if let Some((_, _, first)) = self.keys.iter().find(|(p, k, _)| *p == print && *k == key) {
            return Some(*first);
        }
        self.keys.push((print, key, span));
        if self.keys.len() > LARGE_MAP {
            let mut index = crate::hash::map_with_capacity(self.keys.len() * 2);
            for (position, (_, key, span)) in self.keys.drain(..).enumerate() {
                index.insert(key, position as u32);
                self.spans.push(span);
            }
            self.index = Some(index);
        }
        None
    }

    /// The key-to-entry-position index of a large mapping, for the finished document,
    /// leaving the set to be cleared and reused.
    pub fn take_index(&mut self) -> Option<tree::KeyIndex<'s>> {
        self.index.take()
    }

    /// Forget every key, keeping the allocation for the next mapping.
    pub fn clear(&mut self) {
        self.keys.clear();
        self.index = None;
        self.spans.clear();
    }
}

/// A mapping with more keys than this is checked for duplicates with a hash, which the
/// document keeps as its index (`Document::large_maps`).
pub(crate) const LARGE_MAP: usize = 16;

/// Equal keys have equal fingerprints: the length and the last (up to) seven bytes, with
/// no hashing (a mapping has at most [`LARGE_MAP`] keys before its hash index takes over;
/// keys that differ tend to differ at the end: `AttributeName`, `AttributeType`).
/// Called for every mapping key: inlined, with a fixed-size copy for keys of seven bytes
/// or more (a copy of a variable length is a call to `memcpy`; issue 23).
#[inline(always)]
pub(crate) fn fingerprint(key: &str) -> u64 {
    let bytes = key.as_bytes();
    let mut word = [0u8; 8];
    match bytes.len().checked_sub(7) {
        Some(at) => word[..7].copy_from_slice(&bytes[at..]),
        None => word[..bytes.len()].copy_from_slice(bytes),
    }
    word[7] = bytes.len() as u8;
    u64::from_le_bytes(word)
}

pub(crate) fn duplicate_key(key: &str, first: Span, second: Span) -> FileError {
    FileError::at(
        format!("duplicate mapping key `{key}`"),
        second,
        "defined again here",
    )
    .with_label(first, "first defined here")
    .with_help("CloudFormation keeps only one of them: remove or rename one of the two keys")
}

pub(crate) fn too_deep(span: Span, limits: &Limits) -> FileError {
    FileError::at(
        format!("nesting is deeper than {} levels", limits.max_depth),
        span,
        "too deep",
    )
    .with_help(
        "no real template nests this deep; if this one does, raise the limit with --max-depth",
    )
}

pub(crate) fn too_many_nodes(span: Span, limits: &Limits) -> FileError {
    FileError::at(
        format!("document has more than {} nodes", limits.max_nodes),
        span,
        "limit reached here",
    )
    .with_help("if this really is one template, raise the limit with --max-nodes")
}

pub(crate) fn scalar_too_long(span: Span, limits: &Limits) -> FileError {
    FileError::at(
        format!("scalar is longer than {} bytes", limits.max_scalar_len),
        span,
        "too long",
    )
    .with_help("if this value is meant to be this long, raise the limit with --max-scalar-len")
}

#[cfg(test)]
mod spans_test;

#[cfg(test)]
mod large_map_tests {
    use super::*;

    fn many_keys(format: Format, n: usize) -> String {
        let keys: Vec<String> = (0..n)
            .map(|i| match format {
                Format::Yaml => format!("  k{i}: v{i}\n"),
                Format::Json => format!("\"k{i}\": \"v{i}\""),
            })
            .collect();
        match format {
            Format::Yaml => format!("m:\n{}", keys.concat()),
            Format::Json => format!("{{\"m\": {{{}}}}}", keys.join(", ")),
        }
    }

    #[test]
    fn large_mappings_are_indexed_and_lookups_find_every_key() {
        for format in [Format::Yaml, Format::Json] {
            let text = many_keys(format, 100);
            let doc = load(&text, format, &Limits::default()).unwrap();
            let map = doc.get_value(doc.root.unwrap(), "m").unwrap();
            assert!(doc.large_maps.contains_key(&map), "{format:?}");
            for i in 0..100 {
                let value = doc.get_value(map, &format!("k{i}")).unwrap();
                assert_eq!(doc.str(value), Some(format!("v{i}").as_str()));
            }
            assert!(doc.get(map, "k100").is_none());
            // The small root mapping is scanned, not indexed.
            assert!(!doc.large_maps.contains_key(&doc.root.unwrap()));
        }
    }

    #[test]
    fn every_duplicate_is_found_on_either_side_of_the_hash_threshold() {
        // Keys of one length that differ only in their first byte (one fingerprint), so
        // that only the text comparison tells them apart, in mappings just below, at and above
        // the size where the hash takes over, with the duplicate of each key in turn.
        for n in [LARGE_MAP - 1, LARGE_MAP, LARGE_MAP + 1, LARGE_MAP + 5] {
            let keys: Vec<String> = (0..n)
                .map(|i| format!("{}SharedLongTail", (b'a' + i as u8) as char))
                .collect();
            for again in 0..n {
                for format in [Format::Yaml, Format::Json] {
                    let mut all = keys.clone();
                    all.push(keys[again].clone());
                    let text = match format {
                        Format::Yaml => all.iter().map(|k| format!("{k}: 1\n")).collect::<String>(),
                        Format::Json => format!(
                            "{{{}}}",
                            all.iter()
                                .map(|k| format!("\"{k}\": 1"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    };
                    let error = load(&text, format, &Limits::default()).unwrap_err();
                    assert_eq!(
                        error.message,
                        format!("duplicate mapping key `{}`", keys[again])
                    );
                    let first = error.labels[0].span;
                    let second = error.span.unwrap();
                    assert!(first.start < second.start, "{format:?} {n} {again}");
                    // A JSON key's span covers its quotes.
                    for span in [first, second] {
                        let at = text[span.start..].trim_start_matches('"');
                        assert!(at.starts_with(&keys[again]), "{format:?} {n} {again}");
                    }
                }
            }
            let distinct: String = keys.iter().map(|k| format!("{k}: 1\n")).collect();
            let doc = load(&distinct, Format::Yaml, &Limits::default()).unwrap();
            let root = doc.root.unwrap();
            assert_eq!(doc.large_maps.contains_key(&root), n > LARGE_MAP, "{n}");
            for key in &keys {
                assert!(doc.get(root, key).is_some(), "{key}");
            }
        }
    }

    #[test]
    fn merged_keys_yield_to_written_ones_across_the_hash_threshold() {
        for n in [LARGE_MAP - 2, LARGE_MAP, LARGE_MAP + 3] {
            let base: String = (0..n).map(|i| format!("  k{i}: base\n")).collect();
            let own: String = (0..n)
                .step_by(2)
                .map(|i| format!("  k{i}: own\n"))
                .collect();
            let text = format!("base: &b\n{base}m:\n  <<: *b\n{own}  extra: x\n");
            let doc = load_with(&text, Format::Yaml, &Limits::default(), Aliases::Expand).unwrap();
            let m = doc.get_value(doc.root.unwrap(), "m").unwrap();
            let entries = doc.map(m).unwrap();
            assert_eq!(entries.len(), n + 1, "{n}");
            for i in 0..n {
                let value = doc.get_value(m, &format!("k{i}")).unwrap();
                let want = if i % 2 == 0 { "own" } else { "base" };
                assert_eq!(doc.str(value), Some(want), "{n} k{i}");
            }
            assert_eq!(doc.large_maps.contains_key(&m), n + 1 > LARGE_MAP, "{n}");
        }
    }

    #[test]
    fn duplicate_in_a_large_mapping_points_at_both_occurrences() {
        let text = format!("{}  k7: again\n", many_keys(Format::Yaml, 40));
        let error = load(&text, Format::Yaml, &Limits::default()).unwrap_err();
        assert_eq!(error.message, "duplicate mapping key `k7`");
        let first = error.labels[0].span;
        assert_eq!(&text[first.start..first.end], "k7");
        assert_eq!(text[..first.start].matches('\n').count(), 8);
    }
}
