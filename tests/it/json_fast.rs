//! The fast JSON path's corpus run: over a tree of real templates (the shared corpus,
//! given by `DDB_GUARD_CORPUS`), every file it accepts must load to the same document as
//! through jsonc-parser, every file jsonc refuses must be declined, and the share it
//! accepts is printed (bench/README.md). Ignored by default, because the corpus is not
//! part of the repository:
//!
//!     DDB_GUARD_CORPUS=/path/to/corpus cargo test --release --test it json_fast:: -- --ignored --nocapture
//!
//! With `DDB_GUARD_DECLINED=FILE` it also writes the size, the declining line and the path
//! of each file it declines.

use std::path::{Path, PathBuf};

use ddb_guard::load::{self, Format, Limits};

fn files(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(dir) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

#[test]
#[ignore = "needs DDB_GUARD_CORPUS, a tree of templates"]
fn the_fast_json_path_agrees_with_jsonc_on_every_corpus_file() {
    let root = std::env::var_os("DDB_GUARD_CORPUS").expect("set DDB_GUARD_CORPUS");
    let (mut files_seen, mut bytes_seen, mut files_fast, mut bytes_fast) = (0, 0, 0, 0);
    let mut refused = 0;
    let mut disagreements = Vec::new();
    let mut declined = Vec::new();
    let mut lines = std::collections::BTreeMap::<u32, (usize, usize)>::new();
    for path in files(Path::new(&root)) {
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let Ok(text) = std::str::from_utf8(&bytes) else {
            continue;
        };
        if Format::detect(&path, text) != Format::Json {
            continue;
        }
        files_seen += 1;
        bytes_seen += text.len();
        let (fast, slow) = load::json_paths(text, &Limits::default());
        if slow.is_err() {
            refused += 1;
        }
        let Some(fast) = fast else {
            let line = load::json_fast_declines(text, &Limits::default()).unwrap_or(0);
            let count = lines.entry(line).or_default();
            count.0 += 1;
            count.1 += text.len();
            declined.push(format!("{}\t{line}\t{}", text.len(), path.display()));
            continue;
        };
        files_fast += 1;
        bytes_fast += text.len();
        if slow.as_ref().ok() != Some(&fast) {
            disagreements.push(format!(
                "{}: {}",
                path.display(),
                first_difference(&fast, &slow)
            ));
        }
    }
    println!(
        "fast JSON path: {files_fast} of {files_seen} JSON files ({:.1}%), {bytes_fast} of {bytes_seen} bytes ({:.1}%); {refused} refused by jsonc; {} disagreements",
        100.0 * files_fast as f64 / files_seen.max(1) as f64,
        100.0 * bytes_fast as f64 / bytes_seen.max(1) as f64,
        disagreements.len()
    );
    // Where it declines, by bytes.
    let mut by_bytes: Vec<_> = lines.into_iter().collect();
    by_bytes.sort_by_key(|(_, (_, bytes))| std::cmp::Reverse(*bytes));
    for (line, (files, bytes)) in by_bytes.iter().take(12) {
        println!("  declined at json_fast/mod.rs:{line}: {files} files, {bytes} bytes");
    }
    if let Some(list) = std::env::var_os("DDB_GUARD_DECLINED") {
        std::fs::write(list, declined.join("\n")).expect("write the declined list");
    }
    assert!(files_seen > 0, "no JSON file under {root:?}");
    assert!(disagreements.is_empty(), "{disagreements:#?}");
}

/// Where the two readings part: the first node that differs, or the error.
fn first_difference(
    fast: &load::Document,
    slow: &Result<load::Document, load::FileError>,
) -> String {
    let slow = match slow {
        Ok(slow) => slow,
        Err(error) => return format!("jsonc refuses it: {}", error.message),
    };
    match fast
        .nodes
        .iter()
        .zip(&slow.nodes)
        .position(|(a, b)| !fast.same_node(a, slow, b))
    {
        Some(at) => format!(
            "node {at}: fast {:?}, jsonc {:?}",
            fast.nodes[at], slow.nodes[at]
        ),
        None => format!(
            "{} against {} nodes, roots {:?} {:?}, large maps {} {}",
            fast.nodes.len(),
            slow.nodes.len(),
            fast.root,
            slow.root,
            fast.large_maps.len(),
            slow.large_maps.len()
        ),
    }
}
