//! The pipeline's layering, pinned: no two top-level modules of `src/` import each other,
//! directly or through others (issue 19: "no import cycles between modules"). Read from
//! the sources, the way a reviewer reads `use crate::...` lines: code compiled only for
//! tests (`#[cfg(test)]` items, `*_test.rs` files) is left out, since it may wire stages
//! together the way a command does.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`, sorted.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The text of `source` without comments and without the items under `#[cfg(test)]` (a
/// `mod x;` line or a braced block, counted by braces).
fn production_code(source: &str) -> String {
    let mut kept = String::new();
    let mut lines = source.lines();
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("//") {
            continue;
        }
        if trimmed.starts_with("#[cfg(test)]") {
            // Skip the item this attribute guards.
            let mut depth = 0i64;
            let mut opened = false;
            for item in lines.by_ref() {
                depth += item.matches('{').count() as i64 - item.matches('}').count() as i64;
                opened |= item.contains('{');
                if (opened && depth <= 0) || (!opened && item.trim_end().ends_with(';')) {
                    break;
                }
            }
            continue;
        }
        let code = match line.find("//") {
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        };
        kept.push_str(code);
        kept.push('\n');
    }
    kept
}

/// The top-level modules each top-level module of `src/` imports with `crate::name`.
fn imports(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in sources(src) {
        let relative = file.strip_prefix(src).expect("under src");
        let name = relative.to_string_lossy();
        if name.ends_with("_test.rs") || name.ends_with("/tests.rs") {
            continue;
        }
        let top = relative
            .components()
            .next()
            .expect("a component")
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        if top == "main" || top == "lib" || top == "bin" {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("readable source");
        let code = production_code(&text);
        let edges = graph.entry(top.clone()).or_default();
        for (at, _) in code.match_indices("crate::") {
            let rest = &code[at + "crate::".len()..];
            let used: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let starts_path = at == 0
                || !code[..at]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
            if starts_path && !used.is_empty() && used != top {
                edges.insert(used);
            }
        }
    }
    graph
}

/// One import cycle of `graph`, as the path of modules that closes it, if there is one.
fn a_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        marks: &mut BTreeMap<String, Mark>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        marks.insert(node.to_string(), Mark::Open);
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            match marks.get(next.as_str()) {
                Some(Mark::Open) => {
                    let from = path.iter().position(|n| n == next).expect("on the path");
                    let mut cycle = path[from..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                Some(Mark::Done) => {}
                None => {
                    if let Some(cycle) = visit(next, graph, marks, path) {
                        return Some(cycle);
                    }
                }
            }
        }
        path.pop();
        marks.insert(node.to_string(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for node in graph.keys() {
        if !marks.contains_key(node) {
            if let Some(cycle) = visit(node, graph, &mut marks, &mut Vec::new()) {
                return Some(cycle);
            }
        }
    }
    None
}

#[test]
fn no_two_top_level_modules_import_each_other() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = imports(&src);
    assert!(
        graph.len() > 10,
        "the import graph was read: {:?}",
        graph.keys()
    );
    if let Some(cycle) = a_cycle(&graph) {
        panic!(
            "import cycle between modules of src/: {}\n(each arrow is a `crate::` import outside test code)",
            cycle.join(" -> ")
        );
    }
}

#[test]
fn the_cycle_finder_finds_a_cycle_and_the_reader_skips_test_code() {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    graph.entry("a".into()).or_default().insert("b".into());
    graph.entry("b".into()).or_default().insert("c".into());
    graph.entry("c".into()).or_default().insert("a".into());
    assert_eq!(
        a_cycle(&graph),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    graph.get_mut("c").expect("c").clear();
    assert_eq!(a_cycle(&graph), None);

    let code = production_code(
        "use crate::load;\n// use crate::comment;\n#[cfg(test)]\nmod fixtures_test;\nuse crate::model; // crate::trailing\n#[cfg(test)]\nmod tests {\n    use crate::check;\n    fn f() { if true { } }\n}\nuse crate::source;\n",
    );
    assert!(code.contains("crate::load"));
    assert!(code.contains("crate::model"));
    assert!(code.contains("crate::source"));
    assert!(!code.contains("crate::comment"));
    assert!(!code.contains("crate::trailing"));
    assert!(!code.contains("crate::check"));
    assert!(!code.contains("fixtures_test"));
}
