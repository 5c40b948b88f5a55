//! Replays the fuzz seed corpus (`fuzz/corpus/<target>/`, which also keeps every input a
//! fuzz run found crashing) through the fuzz targets' own oracles, on the stable
//! toolchain, as part of `cargo test`. The fuzzing itself needs cargo-fuzz; see
//! fuzz/README.md.

#[path = "../../fuzz/src/lib.rs"]
mod oracles;

use std::path::Path;

use ddb_guard::load::Format;

fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("corpus entry").path();
            let bytes = std::fs::read(&path).expect("corpus file");
            (path.display().to_string(), bytes)
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "empty corpus {}", dir.display());
    files
}

#[test]
fn yaml_corpus_loads_or_fails_with_spans_inside_the_text() {
    for (name, bytes) in corpus("load_yaml") {
        eprintln!("{name}");
        if let Ok(text) = std::str::from_utf8(&bytes) {
            oracles::load_and_check(text, Format::Yaml);
        }
        oracles::pipeline(&bytes, "fuzz.yaml");
    }
}

#[test]
fn json_corpus_loads_or_fails_with_spans_inside_the_text() {
    for (name, bytes) in corpus("load_json") {
        eprintln!("{name}");
        if let Ok(text) = std::str::from_utf8(&bytes) {
            oracles::load_and_check(text, Format::Json);
        }
        oracles::pipeline(&bytes, "fuzz.json");
        oracles::changeset(&bytes);
    }
}

#[test]
fn evaluate_corpus_keeps_the_evaluator_promises() {
    for (name, bytes) in corpus("evaluate") {
        eprintln!("{name}");
        if let Ok(text) = std::str::from_utf8(&bytes) {
            oracles::evaluate(text);
        }
    }
}

#[test]
fn fix_corpus_round_trips() {
    for (name, bytes) in corpus("fix_roundtrip") {
        eprintln!("{name}");
        oracles::fix_roundtrip(&bytes);
    }
}

#[test]
fn parsers_agree_corpus_reads_alike_or_is_refused() {
    for (name, bytes) in corpus("parsers_agree") {
        eprintln!("{name}");
        if let Ok(text) = std::str::from_utf8(&bytes) {
            oracles::parsers_agree(text);
        }
    }
}

#[test]
fn yaml_fast_agrees_corpus_reads_alike_or_is_declined() {
    for (name, bytes) in corpus("yaml_fast_agrees") {
        eprintln!("{name}");
        if let Ok(text) = std::str::from_utf8(&bytes) {
            oracles::yaml_fast_agrees(text);
        }
    }
}

#[test]
fn json_fast_agrees_corpus_reads_alike_or_is_declined() {
    for (name, bytes) in corpus("json_fast_agrees") {
        eprintln!("{name}");
        if let Ok(text) = std::str::from_utf8(&bytes) {
            oracles::json_fast_agrees(text);
        }
    }
}

#[test]
fn soundness_corpus_keeps_the_oracle_property() {
    for (name, bytes) in corpus("soundness") {
        eprintln!("{name}");
        oracles::soundness(&bytes);
    }
}
