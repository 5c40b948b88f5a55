//! `docs/rules/` is generated from the rule files' own doc comments; this test fails when a
//! page is stale, missing or left over, so the pages never drift from the code.
//! Regenerate with `UPDATE_DOCS=1 cargo test --test it docs::`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ddb_guard::rules::RULES;
use ddb_guard::ruleset::doc;

fn docs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs")
        .join("rules")
}

fn expected() -> BTreeMap<String, String> {
    let mut pages: BTreeMap<String, String> = RULES
        .iter()
        .map(|r| (format!("{}.md", r.code), doc::page(r)))
        .collect();
    pages.insert("README.md".to_string(), doc::index());
    pages
}

fn actual() -> BTreeMap<String, String> {
    let Ok(entries) = std::fs::read_dir(docs_dir()) else {
        return BTreeMap::new();
    };
    entries
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "md"))
        .map(|e| {
            let text = std::fs::read_to_string(e.path()).unwrap_or_default();
            (e.file_name().to_string_lossy().into_owned(), text)
        })
        .collect()
}

#[test]
fn rule_docs_are_generated_from_the_rule_sources() {
    let expected = expected();
    if std::env::var_os("UPDATE_DOCS").is_some_and(|v| !v.is_empty()) {
        std::fs::create_dir_all(docs_dir()).expect("create docs/rules");
        for name in actual().keys().filter(|n| !expected.contains_key(*n)) {
            std::fs::remove_file(docs_dir().join(name)).expect("remove stale page");
        }
        for (name, text) in &expected {
            std::fs::write(docs_dir().join(name), text).expect("write page");
        }
    }
    let actual = actual();
    let stale: Vec<&String> = expected
        .iter()
        .filter(|(name, text)| actual.get(*name) != Some(*text))
        .map(|(name, _)| name)
        .chain(actual.keys().filter(|n| !expected.contains_key(*n)))
        .collect();
    assert!(
        stale.is_empty(),
        "docs/rules is out of date ({stale:?}); run `UPDATE_DOCS=1 cargo test --test it docs::`"
    );
}

#[test]
fn every_rule_page_is_linked_from_the_index() {
    let index = doc::index();
    for rule in RULES {
        assert!(
            index.contains(&format!("[{}]({}.md)", rule.code, rule.code)),
            "{} missing from the index",
            rule.code
        );
    }
}
