//! The fast path's oracle: wherever it accepts a text, its document equals the saphyr
//! path's. Hand-written texts pin what it must accept (so the oracle is not vacuous) and
//! what it must decline; the repository's YAML files and a generator of CloudFormation-like
//! texts are compared as a whole.

use proptest::prelude::*;

use crate::load::{yaml_paths, Document, Limits};

/// Whether the fast path accepted `text`; panics if its document differs from saphyr's.
fn agrees(text: &str) -> bool {
    let (fast, slow) = yaml_paths(text, &Limits::default());
    let Some(fast) = fast else { return false };
    match slow {
        Ok(slow) => assert_same(text, &fast, &slow),
        Err(error) => panic!("fast path accepted what saphyr refuses ({error:?}):\n{text}"),
    }
    true
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
            "fast path differs from saphyr on:\n{text}\nfirst differing node {at:?}:\nfast {:?}\nslow {:?}\nroots {:?} {:?}, lengths {} {}, lenient {}",
            node(fast, at),
            node(slow, at),
            fast.root,
            slow.root,
            fast.nodes.len(),
            slow.nodes.len(),
            slow.lenient,
        );
    }
}

#[test]
fn accepts_and_agrees_on_the_common_constructs() {
    let texts = [
        "a: 1\nb: two words\n",
        "---\n# c\na: 1 # c\nb:\n  - x\n  - y: 2\n    z: 3 # c\n  -\n  - - nested\nc: !Ref foo\n",
        "d:\n- p\n- !Sub q\ne: !GetAtt\n  - A\n  - B\nh:\ni:\n  j: k\n",
        "f: !If [a, 'b', \"c\"]\ng: { k: v, k2: [1, 2] }\nh: []\ni: {}\n",
        "a: 'it''s'\nb: \"tab\\there \\u00e9 \\\"q\\\" \\\\\"\nc: \"\"\nd: ''\n",
        "a: |\n  line one\n\n  line three\nb: x\n",
        "a: |-\n  x\n  y\n\n\nb: >\n  folded\n  text\n\n  para\n   more\n  back\n",
        "a: |+\n  keep\n\n\nb: >-\n  x\n  y\n",
        "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      Code: !Sub |\n        import x\n          indented\n    DeletionPolicy: Retain\n",
        "A:\n  - !If\n    - c\n    - x\n  - [a, [b, c], {d: e}]  # trailing\n",
        "Action: [\n    a,\n    b\n  ]\n",
        "k: -1\nl: arn:aws:s3:::b/*\nm: a#b\n'q': 1\n\"r\": 2\n",
        "- a\n- b: c\n  d: e\n",
        "a: é ünï\nb: \"日本\"\n",
        "a:   \n  # c\n  b: 1\n",
        "a: |\n  x\n# c\nb: 1\n",
        "a: 'x'  # c\nb: \"y\" \nc: [a, 'b' , c]  # d\n",
        "B: !Join\n- ''\n- - x\n  -\n  - !Ref y\n",
        "a:\n  - :lambda:path\n  - ::/0\nb: ?x\nc : d\n'e' : f\ng: !GetAZs\nh: [a, b,]\n",
        "i: this is\n  multi line\n\n  plain\nj: 'multi\n  line''s\n\n  end'\nk: \"esc\\\n   aped \\\" x\n   y\"\nl: x\n",
        "- a\n  b\n- !GetAZs\n- c: !Ref\n  d: 1\n",
        "G:\n  !If\n    - c\n    - !Sub\n      'x ${y}'\nH: !Ref\n  z\nI: !Rain::Module m\n",
        "R:\n  !Join\n  - ''\n  - - a\nS:\n  !Transform\n  Name: x\n",
        "T: !If [ # in flow\n    c,\n    x\n  ]\nU: { # c\n    a: b }\n",
        // Single-pair mappings in flow sequences.
        "a: !Select [0, Fn::GetAZs: !Ref AWS::Region]\nb: [k : v, 'q': [1, 2] , \"d\" : {x: y}]\n",
        "c: ['${f}.handler', f: index]\nd: [\n    k: v # c\n    , k:\n      w]\n",
        // A tag with no value inside a flow collection.
        "a: !Select [ 0, !GetAZs ]\nb: [!GetAZs , x]\nc: {k: !GetAZs }\nd: [x, !GetAZs # c\n  ]\n",
        // Continuation lines of a plain scalar that start with an indicator or end in a
        // comment.
        "a: b\n  - c ! & * | > % @ ` [ ] { } , ? ' \" # e\nf: g\n",
        "- b\n  c # d\n- settings -\n  's3' solution\n  :x\n",
    ];
    for text in texts {
        assert!(agrees(text), "declined:\n{text}");
    }
}

#[test]
fn declines_what_it_cannot_prove() {
    let texts = [
        "a: &x 1\nb: *x\n",
        "? a\n: b\n",
        "%YAML 1.2\n---\na: 1\n",
        "a: 1\n---\nb: 2\n",
        "a:\tb\n",
        "a: 1\r\nb: 2\r\n",
        "a: 'b\n c'\n",
        "a: b\n  c # d\n  e\n",
        "a: b\n  c: d\n",
        "a: b\n  : d\n",
        "a: [k: ]\n",
        "a: [k:, y]\n",
        "a: [!t k: v]\n",
        "a: {k: \"x\": v}\n",
        "a: [\"k\":v]\n",
        "a: !Equals [!R  z   -, b]\n",
        "a: [z -]\n",
        "a: {k: z -}\n",
        "a: b # c\n  d\n",
        "a: \u{2028}\n",
        "a: |2\n   x\n",
        "a: |\n  x",
        "a: 1\na: 2\n",
        "<<: {a: 1}\n",
        "just a scalar\n",
        "a: b: c\n",
        "Action: [\n  a\n]\n",
        "a: !!str x\n",
        "a: \"\\L\"\n",
        "",
    ];
    for text in texts {
        assert!(!agrees(text), "accepted:\n{text}");
    }
}

/// Every YAML file of the repository's tests and examples.
#[test]
fn agrees_on_every_yaml_file_of_the_repository() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let (mut files, mut accepted) = (0, 0);
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
            let yaml = path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e, "yaml" | "yml" | "template"));
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            if !yaml || text.trim_start().starts_with('{') {
                continue;
            }
            files += 1;
            if agrees(&text) {
                accepted += 1;
            }
        }
    }
    assert!(files > 50, "only {files} YAML files found");
    // Most of them lie in the subset; a fall means the path stopped being used.
    assert!(accepted * 2 > files, "{accepted} of {files} accepted");
}

/// A small generator of block YAML in the subset's neighbourhood: nested mappings and
/// sequences, plain, quoted, tagged, flow and block scalars, and some constructs it must
/// decline.
fn text() -> impl Strategy<Value = String> {
    let scalar = prop_oneof![
        "[a-zA-Z][a-zA-Z0-9:./ -]{0,8}",
        "-?[0-9]{1,3}",
        Just("''".to_string()),
        "'[a-z' ]{0,6}'".prop_map(|s| s
            .replace("''", "'")
            .replace('\'', "''")
            .replacen("''", "'", 1)),
        "\"[a-z \\\\\"]{0,6}\"",
        Just("!Ref x".to_string()),
        Just("!Sub 'a ${b}'".to_string()),
        Just("[a, 'b', !Ref c]".to_string()),
        Just("{a: 1, b: [x]}".to_string()),
        Just("[]".to_string()),
        "(\\||>)[+-]?\n".prop_map(|h| h),
        Just("a: b".to_string()),
        Just("&x y".to_string()),
        Just(String::new()),
        Just("# note".to_string()),
        Just("'q'  # c".to_string()),
        Just("x # c".to_string()),
        Just("[a, \"b\" ] # c".to_string()),
    ];
    let leaf = (scalar, "[a-z]{1,3}").prop_map(|(s, k)| vec![(k, s)]);
    leaf.prop_recursive(4, 40, 5, |inner| {
        prop::collection::vec((inner, "[a-z]{1,3}", any::<u8>()), 1..5).prop_map(|children| {
            children
                .into_iter()
                .flat_map(|(lines, key, shape)| {
                    let mut out = Vec::new();
                    let head = match shape % 4 {
                        0 => format!("{key}:"),
                        1 => "-".to_string(),
                        2 => format!("{key}: !If"),
                        _ => format!("- {key}:"),
                    };
                    out.push((head, String::new()));
                    for (k, v) in lines {
                        out.push((format!("  {k}"), v));
                    }
                    out
                })
                .collect()
        })
    })
    .prop_map(|lines| render(&lines))
}

/// Lines of (`head`, `value`) to text: a value starting a block scalar gets a body.
fn render(lines: &[(String, String)]) -> String {
    let mut text = String::new();
    for (head, value) in lines {
        let indent = head.len() - head.trim_start().len();
        if value.is_empty() {
            text.push_str(head);
        } else if head.trim_start().starts_with('-') || head.ends_with(':') {
            text.push_str(&format!("{head} {value}"));
        } else {
            text.push_str(&format!("{head}: {value}"));
        }
        if value.ends_with('\n') {
            let pad = " ".repeat(indent + 2);
            text.push_str(&format!("{pad}body\n{pad}next\n\n{pad} more\n{pad}end"));
        }
        text.push('\n');
    }
    text
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(256)
    ))]
    #[test]
    fn agrees_with_saphyr_on_generated_texts(text in text()) {
        agrees(&text);
    }
}

/// The fast path as a candidate loader for `yaml_gen`'s harness: `None` where it declines.
fn fast_candidate(text: &str) -> Option<Result<Document<'_>, crate::load::FileError>> {
    yaml_paths(text, &Limits::default()).0.map(Ok)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(256)
    ))]
    /// `yaml_gen`'s texts, written apart from this module to find its blind spots.
    #[test]
    fn agrees_with_saphyr_on_yaml_gen_texts(text in crate::load::yaml_gen::yaml_text()) {
        crate::load::yaml_gen::assert_same_document(&text, fast_candidate);
    }
}

/// The harness above is only as strong as the share of `yaml_gen`'s texts the fast path
/// accepts: a change that makes it decline them all would pass it. Among the generator's
/// texts that saphyr reads without the fallback, a good share must be accepted.
#[test]
fn accepts_a_good_share_of_yaml_gen_texts() {
    let (mut readable, mut accepted) = (0, 0);
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    for _ in 0..400 {
        let bytes: Vec<u8> = (0..1500)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed >> 24) as u8
            })
            .collect();
        let text = crate::load::yaml_gen::generate(&bytes).text;
        let (fast, slow) = yaml_paths(&text, &Limits::default());
        if slow.is_ok_and(|doc| !doc.lenient) {
            readable += 1;
            if fast.is_some() {
                accepted += 1;
                crate::load::yaml_gen::assert_same_document(&text, fast_candidate);
            }
        }
    }
    eprintln!("yaml_gen: {accepted} of {readable} readable texts accepted");
    assert!(
        readable > 50 && accepted * 20 >= readable,
        "{accepted} of {readable}"
    );
}
