//! Edits shaped like the text around them: insert a mapping entry, remove one, replace a
//! value. Rules build their fixes with these, so every rule writes YAML block, YAML flow
//! and JSON the same way: the indentation, comma style, quoting and line breaks of the
//! neighbouring entries, and no byte outside the edit changes.
//!
//! Each function returns `None` when the layout is one it does not recognise (a comment
//! where the edit would go, a key that does not start its line); the finding then simply
//! has no fix. The fix engine verifies every result by parsing it again, so these functions
//! may be conservative but must never be clever.

use crate::finding::{Edit, FixValue};
use crate::load::{Document, Entry, Format, NodeId, NodeKind, ScalarStyle};
use crate::source::Span;

const BOM: &str = "\u{feff}";

/// The edits a fix is made of, written in the style of the document's text. A trait of the
/// fix layer rather than methods of the loader's tree: the tree knows spans and nodes, not
/// fixes.
pub trait TextEdits {
    /// Insert `key: value` into the mapping `map`, right after its entry `after`.
    fn insert_entry_after(
        &self,
        map: NodeId,
        after: Entry,
        key: &str,
        value: &FixValue,
    ) -> Option<Edit>;

    /// Remove `entry` from the mapping that is `parent`'s value, with its line (block) or
    /// its comma (flow). A block mapping left empty becomes `{}`, so that it stays a
    /// mapping rather than turning into null.
    fn remove_entry(&self, parent: Entry, entry: Entry) -> Option<Vec<Edit>>;

    /// Replace the value of `entry`, keeping the old value's quote character in YAML.
    fn replace_value(&self, entry: Entry, value: &FixValue) -> Option<Edit>;
}

impl TextEdits for Document<'_> {
    fn insert_entry_after(
        &self,
        map: NodeId,
        after: Entry,
        key: &str,
        value: &FixValue,
    ) -> Option<Edit> {
        if !self.editable(map, after) {
            return None;
        }
        let entries = self.map(map)?;
        let index = entries.iter().position(|e| *e == after)?;
        let key_text = self.render_key(after.key, key);
        let value_text = self.render(value, self.quote_of(after.value));
        let key_span = self.span(after.key);
        let value_span = self.span(after.value);
        let end = self.entry_end(after);
        if self.is_flow(map) {
            let mut separator = self.flow_separator(map, index)?;
            // A tag with no value right before a comma (`{a: !Ref, b: c}`) is what the
            // libyaml fallback cannot read (`yaml_fallback::can_read`): keep a blank
            // between them, so that a file only libyaml reads stays readable.
            if self.is_bare_tag(after.value) && separator.starts_with(',') {
                separator.insert(0, ' ');
            }
            let gap = self.text.get(key_span.end..value_span.start)?;
            let colon = if gap.trim() == ":" && !gap.contains('\n') {
                gap
            } else {
                ": "
            };
            return Some(Edit::insert(
                end,
                format!("{separator}{key_text}{colon}{value_text}"),
            ));
        }
        let indent = self.indent_of(key_span.start)?;
        let line = self.line_end(end);
        if !is_trivia(self.text.get(end..line.end)?) {
            return None;
        }
        let eol = if line.eol.is_empty() {
            self.eol()
        } else {
            line.eol
        };
        Some(Edit::insert(
            line.end,
            format!("{eol}{indent}{key_text}: {value_text}"),
        ))
    }

    fn remove_entry(&self, parent: Entry, entry: Entry) -> Option<Vec<Edit>> {
        let map = parent.value;
        if !self.editable(map, entry) {
            return None;
        }
        let entries = self.map(map)?;
        let index = entries.iter().position(|e| *e == entry)?;
        let key = self.span(entry.key);
        let value = Span::new(self.span(entry.value).start, self.entry_end(entry));
        if self.is_flow(map) {
            let map_span = self.span(map);
            if !self.text.get(..map_span.end)?.ends_with('}') {
                return None;
            }
            let (gap, span) = if entries.len() == 1 {
                let inner = Span::new(map_span.start + 1, map_span.end - 1);
                let gaps = [
                    self.text.get(inner.start..key.start)?,
                    self.text.get(value.end..inner.end)?,
                ];
                if gaps.iter().any(|g| !g.trim().is_empty()) {
                    return None;
                }
                return Some(vec![Edit::delete(inner)]);
            } else if index + 1 < entries.len() {
                let next = self.span(entries[index + 1].key);
                (
                    self.text.get(value.end..next.start)?,
                    Span::new(key.start, next.start),
                )
            } else {
                let previous = self.entry_end(entries[index - 1]);
                (
                    self.text.get(previous..key.start)?,
                    Span::new(previous, value.end),
                )
            };
            if gap.trim() != "," {
                return None;
            }
            return Some(vec![Edit::delete(span)]);
        }
        self.indent_of(key.start)?;
        let start = self.line_start(key.start);
        let line = self.line_end(value.end);
        if !is_trivia(self.text.get(value.end..line.end)?) {
            return None;
        }
        let mut edits = vec![Edit::delete(Span::new(start, line.next))];
        if entries.len() == 1 {
            let colon = self.colon_after(self.span(parent.key).end)?;
            let rest = self.line_end(colon + 1);
            if !is_trivia(self.text.get(colon + 1..rest.end)?) {
                return None;
            }
            edits.push(Edit::insert(colon + 1, " {}"));
        }
        Some(edits)
    }

    fn replace_value(&self, entry: Entry, value: &FixValue) -> Option<Edit> {
        if self.shared.contains(&entry.key) || self.shared.contains(&entry.value) {
            return None;
        }
        let span = self.span(entry.value);
        let quote = self.quote_of(entry.value);
        let rendered = self.render(value, quote);
        if self.format == Format::Json {
            return Some(Edit::replace(span, rendered));
        }
        let colon = self.colon_after(self.span(entry.key).end)?;
        if span.is_empty() {
            // An empty value has no bytes to replace (its span sits before the colon):
            // write right after the colon.
            return Some(Edit::insert(colon + 1, format!(" {rendered}")));
        }
        let gap = self.text.get(colon + 1..span.start)?;
        // A block scalar's span starts at its content, after the `|` or `>` header.
        let block = matches!(&self.node(entry.value).kind,
            NodeKind::Scalar(s) if s.style == ScalarStyle::Block);
        if gap.contains('#') {
            // A comment between key and value stays; a block scalar header cannot.
            return (!block).then(|| Edit::replace(span, rendered));
        }
        if block || gap.contains('\n') || !gap.trim().is_empty() {
            // The old value starts on a later line, or the gap holds a tag: the new short
            // value goes right after the colon.
            return Some(Edit::replace(
                Span::new(colon + 1, span.end),
                format!(" {rendered}"),
            ));
        }
        Some(Edit::replace(span, rendered))
    }
}

impl Document<'_> {
    /// Can an edit insert next to `entry` of `map`, or remove it, by its position in the
    /// text? Not when the mapping or the entry stands in several places (an alias, a
    /// merge key, a Serverless extension: [`Document::shared`]), nor when the entry is
    /// written outside the mapping's own text (an extension's attribute).
    fn editable(&self, map: NodeId, entry: Entry) -> bool {
        let (outer, key) = (self.span(map), self.span(entry.key));
        !self.shared.contains(&map)
            && !self.shared.contains(&entry.key)
            && outer.start <= key.start
            && key.end <= outer.end
    }

    /// Where `entry`'s text ends: after its value, or after its colon when the value is
    /// empty (`a:` in `{a:}` or on a line of its own), whose span sits before the colon.
    /// Found by the fix_roundtrip fuzz target: an entry inserted after `{a:}` landed
    /// between the key and its colon.
    fn entry_end(&self, entry: Entry) -> usize {
        let value = self.span(entry.value);
        if !value.is_empty() {
            return value.end;
        }
        self.colon_after(value.end)
            .map_or(value.end, |colon| colon + 1)
    }

    /// A tagged scalar with no text (`!Ref` alone): its span ends with the tag.
    fn is_bare_tag(&self, id: NodeId) -> bool {
        let node = self.node(id);
        node.tag.is_some() && matches!(&node.kind, NodeKind::Scalar(s) if s.text.is_empty())
    }

    fn is_flow(&self, map: NodeId) -> bool {
        self.text
            .get(self.span(map).start..)
            .is_some_and(|rest| rest.starts_with('{'))
    }

    /// The text between two entries of a flow mapping (`,\n   ` in indented JSON, `, ` on
    /// one line), taken from the neighbours of entry `index` so that a new entry matches.
    fn flow_separator(&self, map: NodeId, index: usize) -> Option<String> {
        let entries = self.map(map)?;
        let order = [index + 1, index]
            .into_iter()
            .chain(1..entries.len())
            .filter(|j| *j >= 1 && *j < entries.len());
        for j in order {
            let gap = self
                .text
                .get(self.entry_end(entries[j - 1])..self.span(entries[j].key).start)?;
            if gap.trim() == "," {
                return Some(gap.to_string());
            }
        }
        let first = self.span(entries.first()?.key);
        let open = self.text.get(self.span(map).start + 1..first.start)?;
        if !open.trim().is_empty() {
            return None;
        }
        Some(if open.contains('\n') {
            format!(",{open}")
        } else {
            ", ".to_string()
        })
    }

    /// The spaces before a key that starts its line, or `None` if anything else is there.
    fn indent_of(&self, at: usize) -> Option<&str> {
        let indent = self.text.get(self.line_start(at)..at)?;
        indent.bytes().all(|b| b == b' ').then_some(indent)
    }

    fn line_start(&self, at: usize) -> usize {
        let start = self
            .text
            .get(..at)
            .and_then(|t| t.rfind('\n'))
            .map_or(0, |i| i + 1);
        if start == 0 && self.text.starts_with(BOM) {
            BOM.len().min(at)
        } else {
            start
        }
    }

    fn line_end(&self, at: usize) -> LineEnd {
        let Some(rest) = self.text.get(at..) else {
            return LineEnd::eof(self.text.len());
        };
        match rest.find('\n') {
            Some(i) if rest[..i].ends_with('\r') => LineEnd {
                end: at + i - 1,
                next: at + i + 1,
                eol: "\r\n",
            },
            Some(i) => LineEnd {
                end: at + i,
                next: at + i + 1,
                eol: "\n",
            },
            None => LineEnd::eof(self.text.len()),
        }
    }

    /// The file's line break, from its first line.
    fn eol(&self) -> &'static str {
        match self.text.find('\n') {
            Some(i) if self.text[..i].ends_with('\r') => "\r\n",
            _ => "\n",
        }
    }

    /// The offset of the `:` that follows a YAML key ending at `at`.
    fn colon_after(&self, at: usize) -> Option<usize> {
        let rest = self.text.get(at..)?;
        let skipped = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        rest[skipped..].starts_with(':').then_some(at + skipped)
    }

    /// The quote character of a quoted scalar, as written.
    fn quote_of(&self, id: NodeId) -> Option<char> {
        let node = self.node(id);
        match &node.kind {
            NodeKind::Scalar(s) if s.style == ScalarStyle::Quoted => self
                .text
                .get(node.span.start..)?
                .chars()
                .next()
                .filter(|c| *c == '"' || *c == '\''),
            _ => None,
        }
    }

    fn render_key(&self, like: NodeId, key: &str) -> String {
        match self.format {
            Format::Json => json_string(key),
            Format::Yaml => yaml_string(key, self.quote_of(like)),
        }
    }

    fn render(&self, value: &FixValue, quote: Option<char>) -> String {
        match value {
            FixValue::Str(s) => match self.format {
                Format::Json => json_string(s),
                Format::Yaml => yaml_string(s, quote),
            },
            FixValue::Bool(b) => b.to_string(),
            FixValue::Map(entries) => {
                let parts: Vec<String> = entries
                    .iter()
                    .map(|(k, v)| {
                        let key = match self.format {
                            Format::Json => json_string(k),
                            Format::Yaml => yaml_string(k, None),
                        };
                        format!("{key}: {}", self.render(v, None))
                    })
                    .collect();
                format!("{{{}}}", parts.join(", "))
            }
        }
    }
}

struct LineEnd {
    /// Before the line break.
    end: usize,
    /// After the line break.
    next: usize,
    /// The line break itself; empty at the end of a file without one.
    eol: &'static str,
}

impl LineEnd {
    fn eof(len: usize) -> Self {
        LineEnd {
            end: len,
            next: len,
            eol: "",
        }
    }
}

/// Only blanks and perhaps a comment until the end of the line.
fn is_trivia(rest: &str) -> bool {
    let rest = rest.trim_start_matches([' ', '\t']);
    rest.is_empty() || rest.starts_with('#')
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

/// A YAML scalar that reads back as the string `s`: in the given quotes, or plain when
/// nothing in it could be read as another type or as syntax.
fn yaml_string(s: &str, quote: Option<char>) -> String {
    match quote {
        Some('\'') => format!("'{}'", s.replace('\'', "''")),
        Some(_) => json_string(s),
        None if is_plain_safe(s) => s.to_string(),
        None => json_string(s),
    }
}

fn is_plain_safe(s: &str) -> bool {
    const RESERVED: &[&str] = &["true", "false", "null", "yes", "no", "on", "off", "y", "n"];
    s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && !RESERVED.iter().any(|r| r.eq_ignore_ascii_case(s))
}

#[cfg(test)]
mod tests {
    use super::TextEdits;
    use crate::finding::{Edit, FixValue};
    use crate::load::{load, Format, Limits};

    fn apply(text: &str, edits: &[Edit]) -> String {
        let mut edits = edits.to_vec();
        edits.sort_by_key(|e| (e.span.start, e.span.end));
        let mut out = String::new();
        let mut at = 0;
        for e in edits {
            out.push_str(&text[at..e.span.start]);
            out.push_str(&e.replacement);
            at = e.span.end;
        }
        out.push_str(&text[at..]);
        out
    }

    fn retain() -> FixValue {
        FixValue::Str("Retain".into())
    }

    /// Insert `key: Retain` after `Type` in the mapping at `path` (keys from the root).
    fn insert_after_type(text: &str, format: Format, path: &[&str], key: &str) -> String {
        let doc = load(text, format, &Limits::default()).unwrap();
        let mut node = doc.root.unwrap();
        for k in path {
            node = doc.get_value(node, k).unwrap();
        }
        let after = doc.get(node, "Type").unwrap();
        let edit = doc.insert_entry_after(node, after, key, &retain()).unwrap();
        apply(text, &[edit])
    }

    #[test]
    fn block_insert_goes_after_type_with_sibling_indent_and_keeps_the_comment() {
        let text = "R:\n  T:\n    Type: X # the table\n    Properties: {}\n";
        assert_eq!(
            insert_after_type(text, Format::Yaml, &["R", "T"], "DeletionPolicy"),
            "R:\n  T:\n    Type: X # the table\n    DeletionPolicy: Retain\n    Properties: {}\n"
        );
    }

    #[test]
    fn block_insert_keeps_crlf_and_works_at_end_of_file_without_newline() {
        let text = "\u{feff}T:\r\n  Type: X";
        assert_eq!(
            insert_after_type(text, Format::Yaml, &["T"], "DeletionPolicy"),
            "\u{feff}T:\r\n  Type: X\r\n  DeletionPolicy: Retain"
        );
    }

    #[test]
    fn block_insert_matches_a_quoted_type_value() {
        let text = "T:\n  Type: 'X'\n";
        assert_eq!(
            insert_after_type(text, Format::Yaml, &["T"], "DeletionPolicy"),
            "T:\n  Type: 'X'\n  DeletionPolicy: 'Retain'\n"
        );
    }

    #[test]
    fn flow_insert_on_one_line_uses_comma_space() {
        let text = "T: {Type: X}\n";
        assert_eq!(
            insert_after_type(text, Format::Yaml, &["T"], "DeletionPolicy"),
            "T: {Type: X, DeletionPolicy: Retain}\n"
        );
    }

    #[test]
    fn json_insert_matches_cdk_one_space_indent() {
        let text = "{\n \"T\": {\n  \"Type\": \"X\",\n  \"Properties\": {}\n }\n}\n";
        assert_eq!(
            insert_after_type(text, Format::Json, &["T"], "DeletionPolicy"),
            "{\n \"T\": {\n  \"Type\": \"X\",\n  \"DeletionPolicy\": \"Retain\",\n  \"Properties\": {}\n }\n}\n"
        );
    }

    #[test]
    fn json_insert_after_the_last_entry_adds_the_comma_before() {
        let text = "{\"T\": {\n    \"Type\": \"X\"\n}}";
        assert_eq!(
            insert_after_type(text, Format::Json, &["T"], "DeletionPolicy"),
            "{\"T\": {\n    \"Type\": \"X\",\n    \"DeletionPolicy\": \"Retain\"\n}}"
        );
    }

    #[test]
    fn minified_json_insert_stays_minified() {
        let text = "{\"T\":{\"Type\":\"X\",\"A\":1}}";
        assert_eq!(
            insert_after_type(text, Format::Json, &["T"], "DeletionPolicy"),
            "{\"T\":{\"Type\":\"X\",\"DeletionPolicy\":\"Retain\",\"A\":1}}"
        );
    }

    fn replace(text: &str, format: Format, key: &str) -> String {
        let doc = load(text, format, &Limits::default()).unwrap();
        let t = doc.get_value(doc.root.unwrap(), "T").unwrap();
        let entry = doc.get(t, key).unwrap();
        apply(text, &[doc.replace_value(entry, &retain()).unwrap()])
    }

    #[test]
    fn replacing_a_literal_changes_only_the_value() {
        assert_eq!(
            replace("T:\n  P: Delete # why\n", Format::Yaml, "P"),
            "T:\n  P: Retain # why\n"
        );
        assert_eq!(
            replace("T:\n  P: \"retain\"\n", Format::Yaml, "P"),
            "T:\n  P: \"Retain\"\n"
        );
        assert_eq!(
            replace("{\"T\": {\"P\": \"Snapshot\"}}", Format::Json, "P"),
            "{\"T\": {\"P\": \"Retain\"}}"
        );
    }

    #[test]
    fn replacing_a_tagged_or_multiline_value_writes_after_the_colon() {
        assert_eq!(
            replace("T:\n  P: !If [C, Retain, Delete]\n", Format::Yaml, "P"),
            "T:\n  P: Retain\n"
        );
        assert_eq!(
            replace("T:\n  P: !Ref Param\n", Format::Yaml, "P"),
            "T:\n  P: Retain\n"
        );
        assert_eq!(
            replace(
                "T:\n  P:\n    Fn::If:\n      - C\n      - Retain\n      - Delete\n  Q: 1\n",
                Format::Yaml,
                "P"
            ),
            "T:\n  P: Retain\n  Q: 1\n"
        );
        assert_eq!(
            replace("T:\n  P:\n  Q: 1\n", Format::Yaml, "P"),
            "T:\n  P: Retain\n  Q: 1\n"
        );
        assert_eq!(
            replace("T:\n  P: |\n    Delete\n  Q: 1\n", Format::Yaml, "P"),
            "T:\n  P: Retain\n  Q: 1\n"
        );
    }

    fn remove(text: &str, format: Format) -> String {
        let doc = load(text, format, &Limits::default()).unwrap();
        let t = doc.get_value(doc.root.unwrap(), "T").unwrap();
        let parent = doc.get(t, "Properties").unwrap();
        let entry = doc.get(parent.value, "DeletionPolicy").unwrap();
        apply(text, &doc.remove_entry(parent, entry).unwrap())
    }

    #[test]
    fn removing_a_block_entry_removes_its_line_only() {
        assert_eq!(
            remove(
                "T:\n  Properties:\n    A: 1\n    DeletionPolicy: Retain # here\n    B: 2\n",
                Format::Yaml
            ),
            "T:\n  Properties:\n    A: 1\n    B: 2\n"
        );
    }

    #[test]
    fn removing_the_only_block_entry_leaves_an_empty_mapping() {
        assert_eq!(
            remove(
                "T:\r\n  Properties:\r\n    DeletionPolicy: Retain\r\n  Type: X\r\n",
                Format::Yaml
            ),
            "T:\r\n  Properties: {}\r\n  Type: X\r\n"
        );
    }

    #[test]
    fn removing_flow_entries_takes_one_comma_with_them() {
        assert_eq!(
            remove(
                "T: {Properties: {A: 1, DeletionPolicy: Retain}}",
                Format::Yaml
            ),
            "T: {Properties: {A: 1}}"
        );
        assert_eq!(
            remove(
                "{\"T\": {\"Properties\": {\n \"DeletionPolicy\": \"Retain\",\n \"A\": 1\n}}}",
                Format::Json
            ),
            "{\"T\": {\"Properties\": {\n \"A\": 1\n}}}"
        );
        assert_eq!(
            remove(
                "{\"T\": {\"Properties\": {\n \"DeletionPolicy\": \"Retain\"\n}}}",
                Format::Json
            ),
            "{\"T\": {\"Properties\": {}}}"
        );
    }
    #[test]
    fn insert_after_an_entry_with_an_empty_value_goes_after_its_colon() {
        // Found by the fix_roundtrip fuzz target: the inserted entry landed between `n`
        // and its colon (`{n, DeletionPolicy: Retain:}`) and verification refused the fix.
        for (text, fixed) in [
            ("T: {n:}\n", "T: {n:, DeletionPolicy: Retain}\n"),
            ("T: {n: }\n", "T: {n:, DeletionPolicy: Retain }\n"),
            ("T: {a: 1, n:}\n", "T: {a: 1, n:, DeletionPolicy: Retain}\n"),
            (
                "T:\n  n: # c\n  b: 1\n",
                "T:\n  n: # c\n  DeletionPolicy: Retain\n  b: 1\n",
            ),
            ("T:\n  n:\n", "T:\n  n:\n  DeletionPolicy: Retain\n"),
        ] {
            let doc = load(text, Format::Yaml, &Limits::default()).unwrap();
            let map = doc.get_value(doc.root.unwrap(), "T").unwrap();
            let after = doc.get(map, "n").unwrap();
            let edit = doc
                .insert_entry_after(map, after, "DeletionPolicy", &retain())
                .unwrap();
            assert_eq!(apply(text, &[edit]), fixed, "{text:?}");
        }
    }

    #[test]
    fn insert_after_a_bare_tag_in_flow_keeps_a_blank_before_the_comma() {
        // Found by the fix_roundtrip fuzz target: in a file only the libyaml fallback
        // reads, `!Ref, X: true` made the fixed text unreadable to it.
        for (text, fixed) in [
            (
                "T: {n: !Ref }\n",
                "T: {n: !Ref , DeletionPolicy: Retain }\n",
            ),
            ("T: {n: !Ref}\n", "T: {n: !Ref , DeletionPolicy: Retain}\n"),
            (
                "T: {n: !Ref x}\n",
                "T: {n: !Ref x, DeletionPolicy: Retain}\n",
            ),
        ] {
            let doc = load(text, Format::Yaml, &Limits::default()).expect("loads");
            let t = doc.get_value(doc.root.expect("root"), "T").expect("T");
            let last = *doc.map(t).expect("map").last().expect("entry");
            let edit = doc
                .insert_entry_after(t, last, "DeletionPolicy", &retain())
                .expect("edit");
            assert_eq!(apply(text, &[edit]), fixed, "{text}");
        }
    }

    #[test]
    fn removing_a_flow_entry_with_an_empty_value_takes_its_colon_with_it() {
        assert_eq!(
            remove("T: {Properties: {A: 1, DeletionPolicy:}}", Format::Yaml),
            "T: {Properties: {A: 1}}"
        );
        assert_eq!(
            remove("T: {Properties: {DeletionPolicy:}}", Format::Yaml),
            "T: {Properties: {}}"
        );
        assert_eq!(
            remove("T: {Properties: {DeletionPolicy:, A: 1}}", Format::Yaml),
            "T: {Properties: {A: 1}}"
        );
    }
}
