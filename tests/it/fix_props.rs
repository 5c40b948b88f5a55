//! Property test of `--fix` on generated templates: YAML block and flow, pretty and
//! minified JSON, CRLF, BOM and comments, with policies missing, wrong, right, misplaced
//! under `Properties` or conditional (`Ref`), with and without `--unsafe-fixes`. After the
//! fix no DDB001/DDB002 finding is left but those only an unsafe fix resolves, the tree is the
//! original plus exactly the retention policies (checked by an oracle independent of the
//! engine's own verification), only lines holding a policy change, and a second fix is a
//! no-op.

use crate::support;

use std::path::Path;

use ddb_guard::check::Settings;
use ddb_guard::fix_engine::{self, FixMode};
use proptest::prelude::*;
use support::fix_oracle;

#[derive(Clone, Debug)]
enum Layout {
    Block { indent: usize },
    Flow,
    Json { indent: usize },
    JsonMinified,
}

#[derive(Clone, Debug)]
enum Policy {
    Missing,
    Literal(&'static str),
    InProperties(&'static str),
    /// `!Ref Choice` / `{"Ref": "Choice"}`: only an unsafe fix replaces it.
    Conditional,
}

#[derive(Clone, Debug)]
struct Table {
    deletion: Policy,
    replace: Policy,
    type_first: bool,
    extra: usize,
    quoted: bool,
}

#[derive(Clone, Debug)]
struct Case {
    layout: Layout,
    crlf: bool,
    bom: bool,
    comments: bool,
    unsafe_fixes: bool,
    tables: Vec<Table>,
}

/// A tiny ordered tree to render in every layout.
enum T {
    Str(String, bool),
    Ref(String),
    Map(Vec<(String, T)>),
}

fn s(text: &str) -> T {
    T::Str(text.to_string(), false)
}

fn policy() -> impl Strategy<Value = Policy> {
    prop_oneof![
        Just(Policy::Missing),
        prop::sample::select(vec![
            "Retain",
            "RetainExceptOnCreate",
            "Delete",
            "Snapshot",
            "retain"
        ])
        .prop_map(Policy::Literal),
        prop::sample::select(vec!["Retain", "Delete"]).prop_map(Policy::InProperties),
        Just(Policy::Conditional),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    let layout = prop_oneof![
        (1usize..=2).prop_map(|n| Layout::Block { indent: 2 * n }),
        Just(Layout::Flow),
        prop::sample::select(vec![1usize, 2, 4]).prop_map(|indent| Layout::Json { indent }),
        Just(Layout::JsonMinified),
    ];
    let table = (policy(), policy(), any::<bool>(), 0usize..=2, any::<bool>()).prop_map(
        |(deletion, replace, type_first, extra, quoted)| Table {
            deletion,
            replace,
            type_first,
            extra,
            quoted,
        },
    );
    (
        layout,
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        prop::collection::vec(table, 1..=3),
    )
        .prop_map(|(layout, crlf, bom, comments, unsafe_fixes, tables)| Case {
            layout,
            crlf,
            bom,
            comments,
            unsafe_fixes,
            tables,
        })
}

fn resource(t: &Table) -> T {
    let mut props = Vec::new();
    let mut policies = Vec::new();
    for (name, p) in [
        ("DeletionPolicy", &t.deletion),
        ("UpdateReplacePolicy", &t.replace),
    ] {
        match p {
            Policy::Missing => {}
            Policy::Literal(v) => {
                policies.push((name.to_string(), T::Str(v.to_string(), t.quoted)))
            }
            Policy::InProperties(v) => props.push((name.to_string(), s(v))),
            Policy::Conditional => policies.push((name.to_string(), T::Ref("Choice".into()))),
        }
    }
    for i in 0..t.extra {
        props.push((format!("Extra{i}"), s("PAY_PER_REQUEST")));
    }
    let type_entry = (
        "Type".to_string(),
        T::Str("AWS::DynamoDB::Table".into(), t.quoted),
    );
    let mut entries = Vec::new();
    if t.type_first {
        entries.push(type_entry);
        entries.extend(policies);
        if !props.is_empty() {
            entries.push(("Properties".into(), T::Map(props)));
        }
    } else {
        if !props.is_empty() {
            entries.push(("Properties".into(), T::Map(props)));
        }
        entries.extend(policies);
        entries.push(type_entry);
    }
    T::Map(entries)
}

fn yaml_scalar(text: &str, quoted: bool) -> String {
    if quoted {
        format!("\"{text}\"")
    } else {
        text.to_string()
    }
}

fn yaml_flow(t: &T) -> String {
    match t {
        T::Str(v, q) => yaml_scalar(v, *q),
        T::Ref(p) => format!("!Ref {p}"),
        T::Map(entries) => {
            let parts: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{k}: {}", yaml_flow(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
    }
}

fn yaml_block(t: &T, depth: usize, indent: usize, comments: bool, out: &mut Vec<String>) {
    let T::Map(entries) = t else { return };
    let pad = " ".repeat(depth * indent);
    for (k, v) in entries {
        match v {
            T::Str(text, q) => {
                let comment = if comments && k == "Type" {
                    " # the täble ✓"
                } else {
                    ""
                };
                out.push(format!("{pad}{k}: {}{comment}", yaml_scalar(text, *q)));
            }
            T::Ref(p) => out.push(format!("{pad}{k}: !Ref {p}")),
            T::Map(_) => {
                out.push(format!("{pad}{k}:"));
                yaml_block(v, depth + 1, indent, comments, out);
            }
        }
    }
}

fn json(t: &T, depth: usize, indent: Option<usize>) -> String {
    match t {
        T::Str(v, _) => format!("\"{v}\""),
        T::Ref(p) => json(&T::Map(vec![("Ref".into(), s(p))]), depth, indent),
        T::Map(entries) if entries.is_empty() => "{}".into(),
        T::Map(entries) => {
            let Some(n) = indent else {
                let parts: Vec<String> = entries
                    .iter()
                    .map(|(k, v)| format!("\"{k}\":{}", json(v, 0, None)))
                    .collect();
                return format!("{{{}}}", parts.join(","));
            };
            let inner = " ".repeat((depth + 1) * n);
            let parts: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{inner}\"{k}\": {}", json(v, depth + 1, indent)))
                .collect();
            format!("{{\n{}\n{}}}", parts.join(",\n"), " ".repeat(depth * n))
        }
    }
}

fn render(case: &Case) -> (String, &'static str) {
    let resources: Vec<(String, T)> = case
        .tables
        .iter()
        .enumerate()
        .map(|(i, t)| (format!("Table{i}"), resource(t)))
        .collect();
    let (text, name) = match &case.layout {
        Layout::Block { .. } | Layout::Flow => {
            let mut lines = vec!["AWSTemplateFormatVersion: \"2010-09-09\"".to_string()];
            if case.comments {
                lines.push("# Generated for the fix property test".into());
            }
            lines.push("Resources:".into());
            let n = match case.layout {
                Layout::Block { indent } => indent,
                _ => 2,
            };
            let pad = " ".repeat(n);
            for (id, r) in &resources {
                if case.comments {
                    lines.push(format!("{pad}# {id} holds data (données, データ)"));
                }
                if matches!(case.layout, Layout::Flow) {
                    lines.push(format!("{pad}{id}: {}", yaml_flow(r)));
                } else {
                    lines.push(format!("{pad}{id}:"));
                    yaml_block(r, 2, n, case.comments, &mut lines);
                }
            }
            (lines.join("\n") + "\n", "template.yaml")
        }
        Layout::Json { indent } => {
            let root = T::Map(vec![("Resources".into(), T::Map(resources))]);
            (json(&root, 0, Some(*indent)) + "\n", "template.json")
        }
        Layout::JsonMinified => {
            let root = T::Map(vec![("Resources".into(), T::Map(resources))]);
            (json(&root, 0, None), "template.json")
        }
    };
    let text = if case.crlf {
        text.replace('\n', "\r\n")
    } else {
        text
    };
    let text = if case.bom {
        format!("\u{feff}{text}")
    } else {
        text
    };
    (text, name)
}

/// Policies the fix must set: every one that is not already a valid retaining literal
/// beside `Type`, except conditional ones without `--unsafe-fixes`.
fn expected_changes(case: &Case) -> usize {
    let changes = |p: &Policy, valid: &[&str]| match p {
        Policy::Literal(v) => !valid.contains(v),
        Policy::Conditional => case.unsafe_fixes,
        Policy::Missing | Policy::InProperties(_) => true,
    };
    case.tables
        .iter()
        .map(|t| {
            usize::from(changes(&t.deletion, &["Retain", "RetainExceptOnCreate"]))
                + usize::from(changes(&t.replace, &["Retain"]))
        })
        .sum()
}

/// Findings only an unsafe fix resolves, left when `--unsafe-fixes` is off.
fn expected_left(case: &Case) -> usize {
    if case.unsafe_fixes {
        return 0;
    }
    case.tables
        .iter()
        .flat_map(|t| [&t.deletion, &t.replace])
        .filter(|p| matches!(p, Policy::Conditional))
        .count()
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn fix_sets_exactly_the_policies_and_is_idempotent(case in case()) {
        let (text, name) = render(&case);
        let path = Path::new(name);
        let mode = FixMode {
            unsafe_fixes: case.unsafe_fixes,
            ..FixMode::default()
        };
        // The retention rules only: DDB003/DDB004's unsafe fixes set other properties.
        let settings = Settings {
            rules: ["DDB001", "DDB002"].iter().filter_map(|c| ddb_guard::rules::find(c)).collect(),
            ..Settings::default()
        };
        let fixed = fix_engine::fix_text(path, &text, &settings, &mode)
            .map_err(|e| TestCaseError::fail(format!("fix refused: {}\n{text}", e.message)))?;
        let verdict = fix_oracle::verify(path, &text, &fixed.text)
            .map_err(|why| TestCaseError::fail(format!("{why}\n--- original\n{text}\n--- fixed\n{}", fixed.text)))?;
        prop_assert_eq!(verdict.policy_findings_left, expected_left(&case), "{}", fixed.text);
        prop_assert_eq!(verdict.policies_changed, expected_changes(&case), "{}", fixed.text);
        if matches!(case.layout, Layout::Block { .. } | Layout::Json { .. }) {
            prop_assert!(only_policy_lines_changed(&text, &fixed.text), "{}", fixed.text);
        }
    }
}

/// Byte-minimal, line by line: every removed or added line holds a policy, `Properties`
/// (emptied by a move) or a replaced `Ref`, differs from a counterpart only by a JSON comma, or is the
/// closing brace of an emptied JSON `Properties`.
fn only_policy_lines_changed(original: &str, fixed: &str) -> bool {
    let diff = similar::TextDiff::from_lines(original, fixed);
    let (mut removed, mut added) = (Vec::new(), Vec::new());
    for change in diff.iter_all_changes() {
        let line = change.value().trim_end_matches(['\r', '\n']);
        match change.tag() {
            similar::ChangeTag::Delete => removed.push(line),
            similar::ChangeTag::Insert => added.push(line),
            similar::ChangeTag::Equal => {}
        }
    }
    // A replaced `{"Ref": ...}` spans lines of its own in pretty JSON.
    let exempt = |l: &str| l.contains("Policy") || l.contains("Properties") || l.contains("Ref");
    let bare = |l: &str| l.trim_end_matches(',').to_string();
    let matched = |l: &str, others: &[&str]| others.iter().any(|o| bare(o) == bare(l));
    removed
        .iter()
        .all(|l| exempt(l) || matched(l, &added) || matches!(l.trim(), "}" | "},"))
        && added.iter().all(|l| exempt(l) || matched(l, &removed))
}
