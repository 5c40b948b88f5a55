//! Every key and value span must slice back to its own text, in YAML and JSON, with a BOM
//! and with CRLF line endings: labels, SARIF regions and autofix edits all rely on it.

use super::tree::{Document, NodeKind, ScalarStyle};
use super::{load, Format, Limits};

const YAML: &str = "\
AWSTemplateFormatVersion: \"2010-09-09\"
# a comment
Parameters:
  Env: {Type: String, AllowedValues: [prod, 'dev']}
Resources:
  Tablé:
    Type: AWS::DynamoDB::Table
    DeletionPolicy: !If [IsProd, Retain, \"Delete\"]
    UpdateReplacePolicy: !Ref Policy
    Properties:
      TableName: !Sub 'orders-${Env}'
      KeySchema:
        - AttributeName: id
          KeyType: HASH
      Description: |
        multi
        line
  Other: {Type: 'AWS::SQS::Queue', Properties: {}}
";

const JSON: &str = "{\n  \"Resources\": {\n    \"Tablé\": {\n      \"Type\": \"AWS::DynamoDB::Table\",\n      \"DeletionPolicy\": {\"Fn::If\": [\"IsProd\", \"Retain\", \"Delete\"]},\n      \"Properties\": {\"KeySchema\": [{\"AttributeName\": \"id\"}], \"N\": 5, \"B\": true, \"Z\": null}\n    }\n  }\n}\n";

/// Check every node of `doc` against `text`.
fn assert_spans_slice_back(text: &str, doc: &Document) {
    for (i, node) in doc.nodes.iter().enumerate() {
        let slice = text
            .get(node.span.start..node.span.end)
            .unwrap_or_else(|| panic!("node {i} span {:?} is not on char boundaries", node.span));
        match &node.kind {
            NodeKind::Scalar(s) => {
                let body = match node.tag.as_deref() {
                    // `!Ref Env`: the span covers the tag, then the value.
                    Some(tag) if !tag.starts_with("!!") => {
                        let short = format!("!{}", tag.strip_prefix("Fn::").unwrap_or(tag));
                        assert!(
                            slice.starts_with(&short),
                            "tagged scalar {slice:?} lacks {short}"
                        );
                        slice[short.len()..].trim_start()
                    }
                    _ => slice,
                };
                match s.style {
                    ScalarStyle::Plain => assert_eq!(body, s.text, "plain scalar"),
                    ScalarStyle::Quoted => {
                        let quote = &body[..1];
                        assert!(quote == "\"" || quote == "'", "quoted scalar {body:?}");
                        assert_eq!(&body[1..body.len() - 1], s.text, "quoted scalar");
                    }
                    ScalarStyle::Block => {
                        let lines: Vec<&str> = body
                            .lines()
                            .map(str::trim)
                            .filter(|l| !l.is_empty())
                            .collect();
                        assert_eq!(
                            lines.join("\n").trim_start_matches(['|', '>']).trim(),
                            s.text.trim()
                        );
                    }
                }
            }
            NodeKind::Map(entries) => {
                let entries = doc.entries(*entries);
                let flow = slice.starts_with('{');
                if flow {
                    assert!(slice.ends_with('}'), "flow map {slice:?}");
                } else if let Some(first) = entries.first() {
                    assert_eq!(
                        node.span.start,
                        doc.span(first.key).start,
                        "block map starts at its first key"
                    );
                    let last = entries[entries.len() - 1].value;
                    assert_eq!(
                        node.span.end,
                        doc.span(last).end,
                        "block map ends at its last value"
                    );
                }
            }
            NodeKind::Seq(items) => {
                if slice.starts_with('[') || node.tag.is_some() && slice.contains('[') {
                    assert!(slice.ends_with(']'), "flow sequence {slice:?}");
                } else if let Some(first) = doc.items(*items).first() {
                    assert!(slice.starts_with('-'), "block sequence {slice:?}");
                    assert!(node.span.start < doc.span(*first).start);
                }
            }
        }
    }
}

fn variants(text: &str) -> Vec<String> {
    let crlf = text.replace('\n', "\r\n");
    vec![
        text.to_string(),
        format!("\u{feff}{text}"),
        crlf.clone(),
        format!("\u{feff}{crlf}"),
    ]
}

#[test]
fn yaml_spans_slice_back_with_bom_and_crlf() {
    for text in variants(YAML) {
        let doc = load(&text, Format::Yaml, &Limits::default()).expect("loads");
        assert_spans_slice_back(&text, &doc);
        let root = doc.root.expect("root");
        let resources = doc.get_value(root, "Resources").expect("Resources");
        let table = doc.get(resources, "Tablé").expect("table");
        assert_eq!(
            &text[doc.span(table.key).start..doc.span(table.key).end],
            "Tablé"
        );
    }
}

#[test]
fn json_spans_slice_back_with_bom_and_crlf() {
    for text in variants(JSON) {
        let doc = load(&text, Format::Json, &Limits::default()).expect("loads");
        assert_spans_slice_back(&text, &doc);
    }
}

#[test]
fn short_form_tags_are_long_form_calls() {
    let doc = load(YAML, Format::Yaml, &Limits::default()).expect("loads");
    let root = doc.root.expect("root");
    let table = doc
        .get_value(
            doc.get_value(root, "Resources").expect("Resources"),
            "Tablé",
        )
        .expect("table");
    let policy = doc.get_value(table, "DeletionPolicy").expect("policy");
    let call = doc.call(policy).expect("a call");
    assert_eq!(call.name, "Fn::If");
    assert_eq!(&YAML[call.name_span.start..call.name_span.end], "!If");
    let replace = doc.get_value(table, "UpdateReplacePolicy").expect("policy");
    assert_eq!(doc.call(replace).map(|c| c.name), Some("Ref"));
}

#[test]
fn tagged_collections_span_from_the_tag() {
    let text = "A: !If [C, x, y]\nB: !Sub\n  - '${X}'\n  - {X: 1}\n";
    let doc = load(text, Format::Yaml, &Limits::default()).expect("loads");
    let root = doc.root.expect("root");
    let a = doc.span(doc.get_value(root, "A").expect("A"));
    assert_eq!(&text[a.start..a.end], "!If [C, x, y]");
    let b = doc.span(doc.get_value(root, "B").expect("B"));
    assert!(
        text[b.start..b.end].starts_with("!Sub"),
        "{:?}",
        &text[b.start..b.end]
    );
    assert!(text[b.start..b.end].ends_with("{X: 1}"));
}

#[test]
fn implicit_null_values_have_an_empty_span_after_their_key() {
    // Found by the fix_roundtrip fuzz target: the null of `{a}` spanned the `}`, so an
    // entry inserted after it landed outside the mapping and the fix was refused.
    for (text, key, at) in [
        ("P: {TableName}\n", "TableName", 13),
        ("P: {a, b: c}\n", "a", 5),
        ("P: {a:b}\n", "a:b", 7),
    ] {
        let doc = load(text, Format::Yaml, &Limits::default()).expect("loads");
        let map = doc.get_value(doc.root.expect("root"), "P").expect("P");
        let value = doc.get_value(map, key).expect("key");
        assert!(doc.is_null(value), "{text}");
        assert_eq!(doc.span(value), super::Span::new(at, at), "{text}");
    }
}

#[test]
fn a_block_mapping_ending_in_an_implicit_null_spans_its_last_colon() {
    // Found by the fix_roundtrip fuzz target: the mapping of `P:` ended before the colon
    // of `b:`, so a fix replacing `P`'s value left `:` behind and the result did not parse.
    for (text, end) in [
        ("P:\n  a: 1\n  b:\n", 14),
        ("P: !Sub\n  b :\n", 13),
        ("P:\n  a:\n    b:\nQ: 1\n", 14),
    ] {
        let doc = load(text, Format::Yaml, &Limits::default()).expect("loads");
        let value = doc.get_value(doc.root.expect("root"), "P").expect("P");
        assert_eq!(doc.span(value).end, end, "{text:?}");
        let fallback = super::load_lenient_yaml(text, &Limits::default()).expect("loads");
        let value = fallback
            .get_value(fallback.root.expect("root"), "P")
            .expect("P");
        assert_eq!(fallback.span(value).end, end, "lenient {text:?}");
    }
}
