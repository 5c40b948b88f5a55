//! The fast JSON path's oracle: wherever it accepts a text, its document equals the jsonc
//! path's in every field (nodes, spans, styles, root, the large mappings' key indexes), and
//! wherever the jsonc path refuses a text, it declines. Hand-written texts pin what it must
//! accept (so the oracle is not vacuous) and what it must decline; the repository's JSON
//! files and a generator of JSON and almost-JSON texts, with mutations, are compared as a
//! whole.

use proptest::prelude::*;

use crate::load::{json_paths, Document, Format, Limits};

/// Limits small enough that generated texts reach each of them.
const SMALL: Limits = Limits {
    max_depth: 2,
    max_nodes: 6,
    max_scalar_len: 2,
};
const MEDIUM: Limits = Limits {
    max_depth: 3,
    max_nodes: 40,
    max_scalar_len: 8,
};

/// Whether the fast path accepted `text`; panics if its document differs from the jsonc
/// path's, or if it accepted what the jsonc path refuses.
fn agrees_with(text: &str, limits: &Limits) -> bool {
    let (fast, slow) = json_paths(text, limits);
    let Some(fast) = fast else { return false };
    match slow {
        Ok(slow) => assert_same(text, &fast, &slow),
        Err(error) => panic!("fast path accepted what jsonc refuses ({error:?}):\n{text:?}"),
    }
    true
}

fn agrees(text: &str) -> bool {
    agrees_with(text, &Limits::default())
}

fn assert_same(text: &str, fast: &Document, slow: &Document) {
    if fast != slow {
        let at = fast
            .nodes
            .iter()
            .zip(&slow.nodes)
            .position(|(a, b)| !fast.same_node(a, slow, b));
        let node = |doc: &Document, i: Option<usize>| {
            i.and_then(|i| doc.nodes.get(i).map(|n| format!("{n:?}")))
        };
        panic!(
            "fast path differs from jsonc on:\n{text:?}\nfirst differing node {at:?}:\nfast {:?}\nslow {:?}\nroots {:?} {:?}, lengths {} {}, large maps {:?} {:?}",
            node(fast, at),
            node(slow, at),
            fast.root,
            slow.root,
            fast.nodes.len(),
            slow.nodes.len(),
            fast.large_maps,
            slow.large_maps,
        );
    }
}

#[test]
fn accepts_and_agrees_on_the_common_constructs() {
    let keys: Vec<String> = (0..40).map(|i| format!("\"k{i}\": {i}")).collect();
    let wide = format!("{{\"m\": {{{}}}}}", keys.join(",\n  "));
    let texts = [
        "{}",
        "[]",
        "{\"a\": 1}",
        " \n\t\r{\"a\":[1,2,{\"b\":null}],\"c\":{}} \r\n",
        "{\n  \"AWSTemplateFormatVersion\": \"2010-09-09\",\n  \"Resources\": {\n    \"T\": {\n      \"Type\": \"AWS::DynamoDB::Table\",\n      \"DeletionPolicy\": \"Retain\",\n      \"Properties\": {\"Tags\": [{\"Key\": \"k\", \"Value\": {\"Fn::Sub\": \"${AWS::StackName}-x\"}}]}\n    }\n  }\n}\n",
        "{\"n\": [0, -0, 1, -12, 3.25, 1e5, 1E+05, 2.5e-3, -0.0e0, 123456789012345678901234567890, 1e400]}",
        "{\"t\": true, \"f\": false, \"z\": null}",
        "{\"s\": \"tab\\there \\u00e9 \\\"q\\\" \\\\ \\/ \\b\\f\\n\\r\"}",
        "{\"s\": \"\\ud83d\\ude00 \\uD83D\\uDE00 \\u0000 \\uFFFF \\u20ac\"}",
        "{\"\\u0041\": 1, \"B\": 2}",
        "{\"é\": \"日本\", \"x\": \"\u{7f}\"}",
        "\"a root string\"",
        "42",
        "-1.5e-7 ",
        "true",
        "null",
        "[[[[[]]]]]",
        "{\"\": \"\"}",
        &wide,
    ];
    for text in texts {
        assert!(agrees(text), "declined:\n{text}");
        // A BOM is stripped before either path runs; the spans count it.
        assert!(
            agrees(&format!("\u{feff}{text}")),
            "declined after a BOM:\n{text}"
        );
    }
}

#[test]
fn declines_what_it_cannot_prove() {
    let texts = [
        "",
        "   \n",
        "{\"a\": 1,}",
        "[1, 2,]",
        "{\"a\": 1 \"b\": 2}",
        "[1 2]",
        "{\"a\": 1} // c",
        "{/* c */\"a\": 1}",
        "{\"a\": 1}\n// trailing comment",
        "{\"a\": 1, \"a\": 2}",
        "{\"A\": 1, \"\\u0041\": 2}",
        "{\"a\": 1}{}",
        "{\"a\": 1}}",
        "{\"a\" 1}",
        "{\"a\":}",
        "{a: 1}",
        "{'a': 1}",
        "[01]",
        "[1.]",
        "[.5]",
        "[+1]",
        "[-]",
        "[1e]",
        "[1e+]",
        "[0x1F]",
        "[Infinity]",
        "[-Infinity]",
        "[NaN]",
        "[True]",
        "[nul]",
        "[truex]",
        "[true_]",
        "[\"\\ud83d\"]",
        "[\"\\ude00\"]",
        "[\"\\ude00\\ud83d\"]",
        "[\"\\ud83d\\u0041\"]",
        "[\"\\ud83dx\"]",
        "[\"\\u12\"]",
        "[\"\\uZZZZ\"]",
        "[\"\\'\"]",
        "[\"\\x41\"]",
        "[\"\\v\"]",
        "[\"\\0\"]",
        "[\"a\\\nb\"]",
        "[\"raw\ttab\"]",
        "[\"raw\nline\"]",
        "[\"\u{1}\"]",
        "[\"unterminated]",
        "[\"unterminated\\\"]",
        "\u{feff}\u{feff}{}",
        "{\u{feff}}",
        "[1,\u{b}2]",
        "[1,\u{c}2]",
        "[1,\u{a0}2]",
        "[1,\u{2028}2]",
        "[1,\u{3000}2]",
        "{\"a\": 1",
        "[",
        "{",
        "]",
    ];
    for text in texts {
        assert!(!agrees(text), "accepted:\n{text:?}");
    }
}

#[test]
fn declines_at_each_limit_the_jsonc_path_refuses() {
    let deep = "[".repeat(129) + &"]".repeat(129);
    assert!(!agrees(&deep));
    let at_limit = "[".repeat(128) + &"]".repeat(128);
    assert!(agrees(&at_limit));
    // Past the jsonc path's own 512 open ranges (two per object) with a raised limit.
    let raised = Limits {
        max_depth: 1000,
        ..Limits::default()
    };
    let objects = "{\"a\":".repeat(300) + "1" + &"}".repeat(300);
    assert!(!agrees_with(&objects, &raised));
    for (text, limits) in [
        ("[1, 2, 3, 4, 5, 6]", SMALL),
        ("[\"abc\"]", SMALL),
        ("{\"abc\": 1}", SMALL),
        ("[[[1]]]", SMALL),
        ("{\"a\": {\"b\": {\"c\": 1}}}", SMALL),
    ] {
        assert!(!agrees_with(text, &limits), "accepted {text:?}");
    }
    for (text, limits) in [
        ("[1, 2, 3, 4, 5]", SMALL),
        ("[\"ab\"]", SMALL),
        ("[[1]]", SMALL),
    ] {
        assert!(agrees_with(text, &limits), "declined {text:?}");
    }
}

/// Every file of the repository's tests and examples that the loader reads as JSON.
#[test]
fn agrees_on_every_json_file_of_the_repository() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let (mut files, mut readable, mut accepted) = (0, 0, 0);
    let mut todo = vec![root.join("tests"), root.join("templates-examples")];
    while let Some(dir) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            if Format::detect(&path, &text) != Format::Json {
                continue;
            }
            files += 1;
            for limits in [Limits::default(), MEDIUM, SMALL] {
                agrees_with(&text, &limits);
            }
            if json_paths(&text, &Limits::default()).1.is_ok() {
                readable += 1;
            }
            if agrees(&text) {
                accepted += 1;
            }
        }
    }
    eprintln!("{accepted} of {readable} readable JSON files ({files} in all) accepted");
    assert!(files > 50, "only {files} JSON files found");
    // Most of them are strict JSON; a fall means the path stopped being used.
    assert!(
        accepted * 10 > readable * 8,
        "{accepted} of {readable} accepted"
    );
}

/// A JSON value as the generator writes it: string bodies and numbers as source text.
#[derive(Clone, Debug)]
enum J {
    Str(String),
    Num(&'static str),
    Lit(&'static str),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

/// Pieces of string bodies, as written between the quotes. `clean` ones are all valid;
/// the others add, one piece in eight, every escape and character class the fast path
/// declines.
fn string_piece(clean: bool) -> BoxedStrategy<&'static str> {
    let valid = prop::sample::select(vec![
        "a",
        "Type",
        "AWS::DynamoDB::Table",
        "${AWS::StackName}",
        " ",
        "é",
        "日本",
        "\u{1F600}",
        "\u{7f}",
        "\\n",
        "\\\"",
        "\\\\",
        "\\/",
        "\\b\\f\\r\\t",
        "\\u00e9",
        "\\u0041",
        "\\u0000",
        "\\u20AC",
        "\\ud83d\\ude00",
        "\\uDBFF\\uDFFF",
        "\\uffff",
    ]);
    if clean {
        return valid.boxed();
    }
    prop_oneof![7 => valid, 1 => odd_piece()].boxed()
}

/// String pieces the fast path declines, or jsonc refuses.
fn odd_piece() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "\\ud83d",
        "\\ude00",
        "\\ude00\\ud83d",
        "\\ud83d\\u0041",
        "\\ud83dx",
        "\\u12",
        "\\uZZZZ",
        "\\'",
        "\\x41",
        "\\v",
        "\\0",
        "\\\n",
        "\\",
        "\t",
        "\n",
        "\r",
        "\u{1}",
        "\u{2028}",
        "\"",
    ])
}

fn number(clean: bool) -> BoxedStrategy<&'static str> {
    let valid = prop::sample::select(vec![
        "0",
        "-0",
        "1",
        "-12",
        "3.25",
        "1e5",
        "1E+05",
        "2.5e-3",
        "-0.0e0",
        "123456789012345678901234567890",
        "1e400",
        "0.000",
    ]);
    if clean {
        return valid.boxed();
    }
    prop_oneof![7 => valid, 1 => odd_number()].boxed()
}

fn odd_number() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "01",
        "1.",
        "-",
        ".5",
        "+1",
        "0x1F",
        "Infinity",
        "-Infinity",
        "NaN",
        "1e",
        "1e+",
        "--1",
        "1.2.3",
        "-01",
        "1.e3",
    ])
}

fn literal(clean: bool) -> BoxedStrategy<&'static str> {
    let valid = prop::sample::select(vec!["true", "false", "null"]);
    if clean {
        return valid.boxed();
    }
    prop_oneof![7 => valid, 1 => odd_literal()].boxed()
}

fn odd_literal() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["True", "nul", "truex", "true_", "undefined", "word"])
}

/// Keys: in `clean` texts made unique within their object (by a numeric suffix); otherwise
/// drawn from a small set, so that duplicates happen, also between a key and its escaped
/// spelling (`A` and `\u0041`).
fn key(clean: bool) -> impl Strategy<Value = String> {
    let names = prop::sample::select(vec![
        "A",
        "\\u0041",
        "B",
        "Type",
        "é",
        "\\u00e9",
        "",
        "k",
        "Properties",
    ]);
    (
        names,
        0u8..4,
        prop::collection::vec(string_piece(clean), 0..3),
    )
        .prop_map(move |(name, pick, pieces)| {
            if pick == 0 || clean {
                name.to_string()
            } else {
                pieces.concat()
            }
        })
}

fn value(clean: bool) -> impl Strategy<Value = J> {
    let leaf = prop_oneof![
        prop::collection::vec(string_piece(clean), 0..4).prop_map(|p| J::Str(p.concat())),
        number(clean).prop_map(J::Num),
        literal(clean).prop_map(J::Lit),
    ];
    leaf.prop_recursive(5, 80, 6, move |inner| {
        prop_oneof![
            4 => prop::collection::vec(inner.clone(), 0..6).prop_map(J::Arr),
            4 => prop::collection::vec((key(clean), inner.clone()), 0..6).prop_map(J::Obj),
            // Around the size where a mapping's duplicate check switches to a hash.
            1 => (prop::collection::vec(inner, 14..20), any::<u8>()).prop_map(move |(values, again)| {
                let mut entries: Vec<(String, J)> = values
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| (format!("k{i}"), v))
                    .collect();
                if !clean && again % 2 == 0 {
                    let i = again as usize % entries.len();
                    entries.push((format!("k{i}"), J::Lit("null")));
                }
                J::Obj(entries)
            }),
        ]
    })
}

/// Writes a value, with whitespace and separators chosen by `choices`; in texts that are
/// not `clean`, now and then a construct the fast path declines (a comment, a trailing or
/// missing comma, other whitespace).
struct Writer<'c> {
    out: String,
    choices: &'c [u8],
    at: usize,
    clean: bool,
    /// In a clean text, the one blank (by count) written as an odd one instead, if any.
    odd_blank: Option<usize>,
    blanks: usize,
}

impl Writer<'_> {
    fn choice(&mut self) -> u8 {
        let c = self
            .choices
            .get(self.at % self.choices.len().max(1))
            .copied();
        self.at += 1;
        c.unwrap_or(0)
            .wrapping_add((self.at / self.choices.len().max(1)) as u8)
    }

    fn blank(&mut self) {
        let c = self.choice();
        self.blanks += 1;
        let odd = (!self.clean && c >= 250) || self.odd_blank == Some(self.blanks);
        let blank = if odd {
            [
                "\u{b}", "\u{c}", "\u{a0}", "\u{2028}", "\u{feff}", "/* c */", "// c\n",
                "\u{3000}", "\u{85}", "/", "#", "\u{0}", "/*", ",", ":", "x",
            ][self.at % 16]
        } else {
            ["", "", " ", "\n  ", "\n", "\t", "\r\n    ", "  "][(c % 8) as usize]
        };
        self.out.push_str(blank);
    }

    fn value(&mut self, v: &J) {
        match v {
            J::Str(body) => {
                self.out.push('"');
                self.out.push_str(body);
                self.out.push('"');
            }
            J::Num(n) => self.out.push_str(n),
            J::Lit(l) => self.out.push_str(l),
            J::Arr(items) => {
                self.out.push('[');
                for (i, item) in items.iter().enumerate() {
                    self.blank();
                    self.value(item);
                    self.blank();
                    self.separator(i + 1 == items.len());
                }
                self.blank();
                self.out.push(']');
            }
            J::Obj(entries) => {
                self.out.push('{');
                for (i, (key, value)) in entries.iter().enumerate() {
                    self.blank();
                    self.out.push('"');
                    self.out.push_str(key);
                    self.out.push('"');
                    self.blank();
                    self.out.push(':');
                    self.blank();
                    self.value(value);
                    self.blank();
                    self.separator(i + 1 == entries.len());
                }
                self.blank();
                self.out.push('}');
            }
        }
    }

    /// A comma between children; now and then a trailing one, or none.
    fn separator(&mut self, last: bool) {
        let c = self.choice();
        let flip = !self.clean && c < 4;
        if last == flip {
            self.out.push(',');
        }
    }
}

fn write(value: &J, choices: &[u8], clean: bool) -> String {
    write_with(value, choices, clean, None)
}

fn write_with(value: &J, choices: &[u8], clean: bool, odd_blank: Option<usize>) -> String {
    let mut writer = Writer {
        out: String::new(),
        choices,
        at: 0,
        clean,
        odd_blank,
        blanks: 0,
    };
    if !clean && choices.first().is_some_and(|&c| c < 8) {
        writer.out.push('\u{feff}');
    }
    writer.blank();
    writer.value(value);
    writer.blank();
    writer.out
}

/// Strict JSON values without duplicate keys, mostly objects, as templates are.
fn clean_value() -> impl Strategy<Value = J> {
    prop_oneof![
        6 => prop::collection::vec((key(true), value(true)), 0..6).prop_map(|entries| {
            // Unique keys at the root too (`key(true)` repeats names).
            J::Obj(
                entries
                    .into_iter()
                    .enumerate()
                    .map(|(i, (k, v))| (format!("{k}{i}"), v))
                    .collect(),
            )
        }),
        1 => value(true),
    ]
    .prop_map(uniquely_keyed)
}

/// Strict JSON texts without duplicate keys.
fn clean_text() -> impl Strategy<Value = String> {
    (clean_value(), prop::collection::vec(any::<u8>(), 1..64))
        .prop_map(|(root, choices)| write(&root, &choices, true))
}

/// `v` with every object's keys made unique (a numeric suffix), so a clean text has no
/// duplicate keys.
fn uniquely_keyed(v: J) -> J {
    match v {
        J::Obj(entries) => J::Obj(
            entries
                .into_iter()
                .enumerate()
                .map(|(i, (k, v))| (format!("{k}_{i}"), uniquely_keyed(v)))
                .collect(),
        ),
        J::Arr(items) => J::Arr(items.into_iter().map(uniquely_keyed).collect()),
        other => other,
    }
}

/// JSON and almost-JSON: every construct the fast path reads and every one it declines,
/// then a few mutations (a cut, an inserted piece, two characters swapped).
fn any_text() -> impl Strategy<Value = String> {
    // Odd values in some texts, an odd layout in some, both or neither: each decline class
    // alone is met, and so are texts the fast path must read.
    let values = |clean| {
        prop_oneof![
            4 => prop::collection::vec((key(clean), value(clean)), 0..6).prop_map(J::Obj),
            1 => value(clean),
        ]
    };
    let root = prop_oneof![values(false), values(true).prop_map(uniquely_keyed)];
    let mutation = (
        0u8..4,
        any::<prop::sample::Index>(),
        any::<prop::sample::Index>(),
        prop::sample::select(vec![
            "{", "}", "[", "]", ",", ":", "\"", "\\", " ", "\n", "1", "-", "e", ".", "t", "\u{0}",
            "\u{feff}", "é", "/", "*", "\\u", "\\ud83d",
        ]),
    );
    (
        root,
        prop::collection::vec(any::<u8>(), 1..64),
        any::<bool>(),
        prop_oneof![Just(Vec::new()), prop::collection::vec(mutation, 1..3)],
    )
        .prop_map(|(root, choices, clean_layout, mutations)| {
            let text = write(&root, &choices, clean_layout);
            let mut chars: Vec<char> = text.chars().collect();
            for (kind, a, b, piece) in mutations {
                if chars.is_empty() {
                    chars.extend(piece.chars());
                    continue;
                }
                let (i, j) = (a.index(chars.len()), b.index(chars.len()));
                match kind {
                    0 => chars.truncate(i),
                    1 => {
                        let (from, to) = (i.min(j), i.max(j));
                        chars.drain(from..to);
                    }
                    2 => {
                        let at = i.min(chars.len());
                        chars.splice(at..at, piece.chars());
                    }
                    _ => chars.swap(i, j),
                }
            }
            chars.into_iter().collect()
        })
}

/// A leaf the fast path declines, or one jsonc refuses: a string holding one odd piece,
/// an odd number or word.
fn odd_leaf() -> impl Strategy<Value = J> {
    prop_oneof![
        (odd_piece(), string_piece(true)).prop_map(|(odd, valid)| J::Str(format!("{valid}{odd}x"))),
        odd_number().prop_map(J::Num),
        odd_literal().prop_map(J::Lit),
    ]
}

/// Replace the `k`-th leaf of `v` (counted in writing order, modulo their number) with
/// `leaf`; whether it was found.
fn replace_leaf(v: &mut J, k: &mut usize, leaf: &J) -> bool {
    match v {
        J::Arr(items) => items.iter_mut().any(|item| replace_leaf(item, k, leaf)),
        J::Obj(entries) => entries.iter_mut().any(|(_, v)| replace_leaf(v, k, leaf)),
        _ if *k == 0 => {
            *v = leaf.clone();
            true
        }
        _ => {
            *k -= 1;
            false
        }
    }
}

/// A strict JSON text with one odd construct: a leaf, a blank, a comma added or taken
/// away, a duplicate key, so that each decline class is met alone (in the mixed texts,
/// another one in the same text often hides it).
fn one_odd_text() -> impl Strategy<Value = String> {
    (
        clean_value(),
        prop::collection::vec(any::<u8>(), 1..64),
        0u8..4,
        odd_leaf(),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(mut root, choices, kind, leaf, at)| match kind {
            0 => {
                let mut leaves = 0;
                count_leaves(&root, &mut leaves);
                let mut k = at.index(leaves.max(1));
                if !replace_leaf(&mut root, &mut k, &leaf) {
                    root = leaf;
                }
                write(&root, &choices, true)
            }
            1 => write_with(&root, &choices, true, Some(at.index(64))),
            2 => {
                let text = write(&root, &choices, true);
                let commas: Vec<usize> = text
                    .match_indices([',', '}', ']'])
                    .map(|(i, _)| i)
                    .collect();
                let Some(&i) = commas.get(at.index(commas.len().max(1))) else {
                    return text;
                };
                if text.as_bytes()[i] == b',' {
                    format!("{}{}", &text[..i], &text[i + 1..])
                } else {
                    format!("{},{}", &text[..i], &text[i..])
                }
            }
            _ => {
                let mut k = at.index(64);
                duplicate_a_key(&mut root, &mut k);
                write(&root, &choices, true)
            }
        })
}

/// Write again, at the end of the `k`-th object that has a key (counted in writing order;
/// the first one if fewer), one of its keys: as it is, or with its first letter as a
/// `\u` escape, which jsonc decodes before its duplicate check.
fn duplicate_a_key(v: &mut J, k: &mut usize) {
    fn visit(v: &mut J, k: &mut usize) -> bool {
        match v {
            J::Arr(items) => items.iter_mut().any(|item| visit(item, k)),
            J::Obj(entries) if !entries.is_empty() => {
                if *k == 0 {
                    let key = &entries[0].0;
                    let again = match key.chars().next() {
                        Some(c) if c.is_ascii_alphabetic() && key.len() % 2 == 0 => {
                            format!("\\u{:04x}{}", c as u32, &key[1..])
                        }
                        _ => key.clone(),
                    };
                    entries.push((again, J::Lit("null")));
                    return true;
                }
                *k -= 1;
                entries.iter_mut().any(|(_, v)| visit(v, k))
            }
            _ => false,
        }
    }
    if !visit(v, k) {
        let mut first = 0;
        visit(v, &mut first);
    }
}

fn count_leaves(v: &J, n: &mut usize) {
    match v {
        J::Arr(items) => items.iter().for_each(|item| count_leaves(item, n)),
        J::Obj(entries) => entries.iter().for_each(|(_, v)| count_leaves(v, n)),
        _ => *n += 1,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(1000)
    ))]
    /// Each decline class alone in an otherwise strict text.
    #[test]
    fn agrees_with_jsonc_on_strict_texts_with_one_odd_construct(text in one_odd_text()) {
        for limits in [Limits::default(), MEDIUM, SMALL] {
            agrees_with(&text, &limits);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(1000)
    ))]
    /// Wherever the fast path accepts, its document is the jsonc path's; wherever the
    /// jsonc path refuses (a syntax error, a duplicate, a limit), the fast path declines.
    #[test]
    fn agrees_with_jsonc_on_generated_and_mutated_texts(text in any_text()) {
        for limits in [Limits::default(), MEDIUM, SMALL] {
            agrees_with(&text, &limits);
        }
    }

    /// Strict JSON without duplicate keys is read by the fast path, every time.
    #[test]
    fn accepts_every_generated_strict_json_text(text in clean_text()) {
        prop_assert!(agrees(&text), "declined:\n{:?}", text);
        agrees_with(&text, &MEDIUM);
        agrees_with(&text, &SMALL);
    }
}

/// The oracle above is only as strong as the share of texts the fast path accepts: a
/// change that made it decline everything would pass it. Among the mixed generator's texts
/// that the jsonc path reads, a good share must be accepted.
#[test]
fn accepts_a_good_share_of_the_generated_texts_jsonc_reads() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, TestRng, TestRunner};
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::deterministic_rng(proptest::test_runner::RngAlgorithm::ChaCha),
    );
    let (mut readable, mut accepted) = (0, 0);
    for _ in 0..2000 {
        let text = any_text().new_tree(&mut runner).expect("a text").current();
        if json_paths(&text, &Limits::default()).1.is_ok() {
            readable += 1;
            if agrees(&text) {
                accepted += 1;
            }
        }
    }
    eprintln!("{accepted} of {readable} readable generated texts accepted");
    assert!(
        readable > 100 && accepted * 2 >= readable,
        "{accepted} of {readable}"
    );
}

/// Bytes around each of the word scan's cases: the three stops, their neighbours (the
/// bytes one off `"`, `\` and 0x20), and bytes with the high bit set, where a borrow or a
/// sign could go wrong.
fn scan_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        8 => prop::sample::select(vec![
            b'a', b' ', b'!', b'#', b'[', b']', 0x20, 0x21, 0x7f, 0x80, 0xa2, 0xc3, 0xdc, 0xff,
        ]),
        1 => prop::sample::select(vec![b'"', b'\\', 0x00, 0x01, 0x1f, b'\n', b'\t']),
        1 => any::<u8>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(2000)
    ))]
    /// The word-at-a-time scan of a string body finds what a byte loop finds: the first
    /// `"`, `\` or control character, or nothing within the words it read.
    #[test]
    fn the_word_scan_finds_the_first_stop_a_byte_loop_finds(
        bytes in prop::collection::vec(scan_byte(), 0..80),
        at in 0usize..10,
    ) {
        let at = at.min(bytes.len());
        let first = bytes[at..]
            .iter()
            .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
            .map(|i| i + at);
        // The whole words within SHORT bytes of `at` that the text holds.
        let read = at + (bytes.len().saturating_sub(at) / 8 * 8).min(super::SHORT);
        match super::short_string_stop(&bytes, at) {
            Some(found) => prop_assert_eq!(Some(found), first),
            None => prop_assert!(first.is_none_or(|i| i >= read), "{:?} {}", first, read),
        }
    }
}
