//! A document written inside a string of another document: Organizations'
//! `describe-policy` prints `Policy.Content` as a JSON string, IAM's `get-policy-version`
//! may print `Document` URL-encoded. The string's value is loaded as JSON with the same
//! loader and limits, and its nodes are grafted into the outer document's arena with
//! spans that index the *outer* text: where a value is a plain literal in the string
//! (no escape sequence inside it), its span is exact; otherwise it covers the escapes that
//! spell it; and when the string is not a plain one-line literal in the file (a YAML
//! block scalar, a folded line) every span is the whole string's.

use std::borrow::Cow;

use super::tree::{Document, Node, NodeId, NodeKind, Scalar};
use super::{json, FileError, Limits};
use crate::source::Span;

/// Load the text of the string node `string` as JSON (URL-decoding it first when
/// `url_encoded`), graft its nodes into `doc`, and return the root of the grafted tree.
/// Errors point into the outer text.
pub fn graft_json_string(
    doc: &mut Document<'_>,
    string: NodeId,
    url_encoded: bool,
    limits: &Limits,
) -> Result<NodeId, FileError> {
    let span = doc.span(string);
    let Some(value) = doc.scalar(string).map(|s| s.text.to_string()) else {
        return Err(FileError::at(
            "expected a string holding a policy document",
            span,
            "not a string",
        ));
    };
    let (mut text, mut offsets) = source_offsets(doc, string, &value);
    if url_encoded {
        let Some((decoded, map)) = percent_decode(&text) else {
            return Err(FileError::at(
                "the policy document is not valid URL-encoded UTF-8",
                span,
                "cannot be decoded",
            ));
        };
        offsets = map.iter().map(|&i| offsets[i]).collect();
        text = decoded;
    }
    let at = |offset: usize| offsets.get(offset).copied().unwrap_or(span.end);
    let remap = |s: Span| {
        let start = at(s.start);
        Span::new(start, at(s.end).max(start))
    };
    let inner = json::load(&text, 0, limits).map_err(|e| FileError {
        span: Some(e.span.map(remap).unwrap_or(span)),
        labels: e
            .labels
            .iter()
            .map(|l| crate::finding::Label {
                span: remap(l.span),
                text: l.text.clone(),
            })
            .collect(),
        message: format!("in the policy document inside this string: {}", e.message),
        ..e
    })?;
    let Some(root) = inner.root else {
        return Err(FileError::at(
            "the string holds no policy document",
            span,
            "empty",
        ));
    };
    let base = doc.nodes.len() as NodeId;
    for node in &inner.nodes {
        let kind = match &node.kind {
            NodeKind::Map(entries) => {
                doc.new_map(inner.entries(*entries).iter().map(|e| super::Entry {
                    key: e.key + base,
                    value: e.value + base,
                }))
            }
            NodeKind::Seq(items) => doc.new_seq(inner.items(*items).iter().map(|i| i + base)),
            NodeKind::Scalar(s) => NodeKind::Scalar(Scalar {
                text: Cow::Owned(s.text.to_string()),
                style: s.style,
            }),
        };
        doc.push(Node {
            span: remap(node.span),
            tag: node.tag.clone(),
            kind,
        });
    }
    for (map, index) in &inner.large_maps {
        let index = index
            .iter()
            .map(|(k, v)| (Cow::Owned(k.to_string()), *v))
            .collect();
        doc.large_maps.insert(map + base, index);
    }
    Ok(root + base)
}

/// The string's value, and for each of its bytes (and one past the end) the offset in the
/// outer text where it is written.
fn source_offsets(doc: &Document, string: NodeId, value: &str) -> (String, Vec<usize>) {
    let span = doc.span(string);
    let whole = || vec![span.start; value.len() + 1];
    let Some(raw) = doc.text.get(span.start..span.end) else {
        return (value.to_string(), whole());
    };
    // A JSON string: decode its escapes, keeping where each byte came from.
    if let Some(body) = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        if let Some((decoded, offsets)) = json_unescape(body, span.start + 1) {
            if decoded == value {
                return (decoded, offsets);
            }
        }
    }
    // A plain or quoted one-line YAML scalar written exactly as its value.
    for body in [
        Some(raw),
        raw.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')),
        raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')),
    ]
    .into_iter()
    .flatten()
    {
        if body == value {
            let start = span.start + (raw.len() - body.len()) / 2;
            return (value.to_string(), (start..=start + body.len()).collect());
        }
    }
    let mut offsets = whole();
    if let Some(last) = offsets.last_mut() {
        *last = span.end;
    }
    (value.to_string(), offsets)
}

/// JSON string escapes decoded, with the source offset of each output byte (the offset
/// of the escape for escaped characters) and of the end.
fn json_unescape(body: &str, base: usize) -> Option<(String, Vec<usize>)> {
    let mut out = String::with_capacity(body.len());
    let mut offsets = Vec::with_capacity(body.len() + 1);
    let mut chars = body.char_indices().peekable();
    let push = |out: &mut String, offsets: &mut Vec<usize>, c: char, at: usize| {
        out.push(c);
        offsets.extend(std::iter::repeat_n(base + at, c.len_utf8()));
    };
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            push(&mut out, &mut offsets, c, i);
            continue;
        }
        let (_, e) = chars.next()?;
        let c = match e {
            '"' => '"',
            '\\' => '\\',
            '/' => '/',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'u' => {
                let unit = |chars: &mut std::iter::Peekable<std::str::CharIndices>| {
                    let mut v = 0u32;
                    for _ in 0..4 {
                        v = v * 16 + chars.next()?.1.to_digit(16)?;
                    }
                    Some(v)
                };
                let high = unit(&mut chars)?;
                if (0xD800..0xDC00).contains(&high) {
                    if chars.next()?.1 != '\\' || chars.next()?.1 != 'u' {
                        return None;
                    }
                    let low = unit(&mut chars)?;
                    char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low.checked_sub(0xDC00)?))?
                } else {
                    char::from_u32(high)?
                }
            }
            _ => return None,
        };
        push(&mut out, &mut offsets, c, i);
    }
    offsets.push(base + body.len());
    Some((out, offsets))
}

/// `%XX` decoded (and `+` kept: IAM encodes with RFC 3986), with the index in `text` of
/// each output byte and of the end; `None` when the result is not UTF-8.
fn percent_decode(text: &str) -> Option<(String, Vec<usize>)> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut map = Vec::with_capacity(bytes.len() + 1);
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h)? * 16 + hex(l)?) as u8);
                map.push(i);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                map.push(i);
                i += 1;
            }
        }
    }
    map.push(bytes.len());
    Some((String::from_utf8(out).ok()?, map))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{self, Format};

    fn grafted(text: &str, url: bool) -> (Document<'_>, NodeId) {
        let mut doc = load::load(text, Format::Json, &Limits::default()).expect("loads");
        let string = doc
            .get_value(doc.root.expect("root"), "Content")
            .expect("Content");
        let root = graft_json_string(&mut doc, string, url, &Limits::default())
            .unwrap_or_else(|e| panic!("{}", e.message));
        (doc, root)
    }

    #[test]
    fn a_plain_literal_inside_a_json_string_keeps_its_own_span() {
        let text = r#"{"Content": "{\"Statement\":{\"Effect\":\"Deny\",\"Action\":\"dynamodb:DeleteTable\"}}"}"#;
        let (doc, root) = grafted(text, false);
        let statement = doc.get_value(root, "Statement").expect("Statement");
        let action = doc.get_value(statement, "Action").expect("Action");
        assert_eq!(doc.str(action), Some("dynamodb:DeleteTable"));
        let s = doc.span(action);
        // The span covers the escaped quotes around the value, and the value itself.
        assert_eq!(&text[s.start..s.end], r#"\"dynamodb:DeleteTable\""#);
    }

    #[test]
    fn an_escaped_character_maps_to_its_escape() {
        let text = r#"{"Content": "{\"A\":\"\u0064ynamodb\"}"}"#;
        let (doc, root) = grafted(text, false);
        let a = doc.get_value(root, "A").expect("A");
        assert_eq!(doc.str(a), Some("dynamodb"));
        let s = doc.span(a);
        assert_eq!(&text[s.start..s.end], r#"\"\u0064ynamodb\""#);
    }

    #[test]
    fn a_url_encoded_document_is_decoded_with_spans() {
        let text = r#"{"Content": "%7B%22A%22%3A%22dynamodb%3ADeleteTable%22%7D"}"#;
        let (doc, root) = grafted(text, true);
        let a = doc.get_value(root, "A").expect("A");
        assert_eq!(doc.str(a), Some("dynamodb:DeleteTable"));
        let s = doc.span(a);
        assert_eq!(&text[s.start..s.end], "%22dynamodb%3ADeleteTable%22");
    }

    #[test]
    fn an_invalid_inner_document_is_an_error_inside_the_string() {
        let text = r#"{"Content": "{\"A\": [1,}"}"#;
        let mut doc = load::load(text, Format::Json, &Limits::default()).expect("loads");
        let string = doc
            .get_value(doc.root.expect("root"), "Content")
            .expect("Content");
        let e =
            graft_json_string(&mut doc, string, false, &Limits::default()).expect_err("refused");
        let s = e.span.expect("placed");
        assert!(s.start > 12 && s.end <= text.len(), "{s:?}");
    }
}
