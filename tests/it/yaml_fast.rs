//! The fast YAML path's corpus run: over a tree of real templates (the shared corpus,
//! given by `DDB_GUARD_CORPUS`), every file it accepts must load to the same document as
//! through saphyr, and the share it accepts is printed (bench/README.md). Ignored by
//! default, because the corpus is not part of the repository:
//!
//!     DDB_GUARD_CORPUS=/path/to/corpus cargo test --release --test it yaml_fast:: -- --ignored --nocapture
//!
//! With `DDB_GUARD_DECLINED=FILE` it also writes the size and path of each file it declines.

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
fn the_fast_yaml_path_agrees_with_saphyr_on_every_corpus_file() {
    let root = std::env::var_os("DDB_GUARD_CORPUS").expect("set DDB_GUARD_CORPUS");
    let (mut files_seen, mut bytes_seen, mut files_fast, mut bytes_fast) = (0, 0, 0, 0);
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
        if Format::detect(&path, text) != Format::Yaml {
            continue;
        }
        files_seen += 1;
        bytes_seen += text.len();
        let (fast, slow) = load::yaml_paths(text, &Limits::default());
        let Some(fast) = fast else {
            let line = load::yaml_fast_declines(text, &Limits::default()).unwrap_or(0);
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
        "fast YAML path: {files_fast} of {files_seen} YAML files ({:.1}%), {bytes_fast} of {bytes_seen} bytes ({:.1}%); {} disagreements",
        100.0 * files_fast as f64 / files_seen.max(1) as f64,
        100.0 * bytes_fast as f64 / bytes_seen.max(1) as f64,
        disagreements.len()
    );
    // Where it declines, by bytes: the construct to read next.
    let mut by_bytes: Vec<_> = lines.into_iter().collect();
    by_bytes.sort_by_key(|(_, (_, bytes))| std::cmp::Reverse(*bytes));
    for (line, (files, bytes)) in by_bytes.iter().take(12) {
        println!("  declined at yaml_fast/mod.rs:{line}: {files} files, {bytes} bytes");
    }
    // The files it declines, to see which construct to read next.
    if let Some(list) = std::env::var_os("DDB_GUARD_DECLINED") {
        std::fs::write(list, declined.join("\n")).expect("write the declined list");
    }
    assert!(files_seen > 0, "no YAML file under {root:?}");
    assert!(disagreements.is_empty(), "{disagreements:#?}");
}

/// Where the two readings part: the first node that differs, or the error.
fn first_difference(
    fast: &load::Document,
    slow: &Result<load::Document, load::FileError>,
) -> String {
    let slow = match slow {
        Ok(slow) => slow,
        Err(error) => return format!("saphyr refuses it: {}", error.message),
    };
    match fast
        .nodes
        .iter()
        .zip(&slow.nodes)
        .position(|(a, b)| !fast.same_node(a, slow, b))
    {
        Some(at) => format!(
            "node {at}: fast {:?}, saphyr {:?}",
            fast.nodes[at], slow.nodes[at]
        ),
        None => format!(
            "{} against {} nodes, roots {:?} {:?}, lenient {}",
            fast.nodes.len(),
            slow.nodes.len(),
            fast.root,
            slow.root,
            slow.lenient
        ),
    }
}

/// What the fast path declines on the corpus, by class and by bytes: the order in which to
/// widen it. A file's class is its first reason: a byte outside the subset (CR, tab, other)
/// or else the line of `load/yaml_fast/mod.rs` that declined. For CR and tab files it also
/// says where the path would decline with those bytes gone (CRLF read as LF, a tab as a
/// space), so a class's reach is known before it is read.
///
///     DDB_GUARD_CORPUS=/path/to/corpus cargo test --release --test it yaml_fast::rank -- --ignored --nocapture
#[test]
#[ignore = "needs DDB_GUARD_CORPUS, a tree of templates"]
fn rank_the_decline_classes_of_the_corpus() {
    let root = std::env::var_os("DDB_GUARD_CORPUS").expect("set DDB_GUARD_CORPUS");
    let mut classes = std::collections::BTreeMap::<String, (usize, usize, f64)>::new();
    let (mut total, mut declined_bytes) = (0, 0);
    let (mut all_cost, mut declined_cost) = (0.0, 0.0);
    // What loading the file costs today (the fast path's try, then saphyr's path where it
    // declines): the fastest of a few runs, in microseconds.
    let cost = |text: &str| {
        (0..5)
            .map(|_| {
                let start = std::time::Instant::now();
                let _ = std::hint::black_box(load::load(text, Format::Yaml, &Limits::default()));
                start.elapsed().as_secs_f64() * 1e6
            })
            .fold(f64::MAX, f64::min)
    };
    for path in files(Path::new(&root)) {
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let Ok(text) = std::str::from_utf8(&bytes) else {
            continue;
        };
        if Format::detect(&path, text) != Format::Yaml {
            continue;
        }
        total += text.len();
        let micros = cost(text);
        all_cost += micros;
        let Some(line) = load::yaml_fast_declines(text, &Limits::default()) else {
            continue;
        };
        declined_bytes += text.len();
        declined_cost += micros;
        // What the saphyr path makes of it: a refusal, or libyaml's reading where saphyr
        // cannot read it, are outside any widening of the fast path (it must match them).
        let mut class = match load::yaml_paths(text, &Limits::default()).1 {
            Err(_) => "refused+".to_string(),
            Ok(doc) if doc.lenient => "lenient+".to_string(),
            Ok(_) => String::new(),
        };
        let mut rest = text.to_string();
        if rest.contains('\r') {
            let lone = rest.replace("\r\n", "").contains('\r');
            class.push_str(if lone { "lone CR+" } else { "CRLF+" });
            rest = rest.replace("\r\n", "\n").replace('\r', "\n");
        }
        if rest.contains('\t') {
            class.push_str("tab+");
            rest = rest.replace('\t', " ");
        }
        let then = if !rest.contains(['\r', '\t']) {
            Some(line)
        } else {
            load::yaml_fast_declines(&rest, &Limits::default())
        };
        class.push_str(&then.map_or("accepted".to_string(), |l| format!("line {l}")));
        let entry = classes.entry(class).or_default();
        entry.0 += 1;
        entry.1 += text.len();
        entry.2 += micros;
        if std::env::var_os("DDB_GUARD_DECLINED_LIST").is_some() {
            println!(
                "{}\t{micros:.0}\t{line}\t{:?}\t{}",
                text.len(),
                then,
                path.display()
            );
        }
    }
    let mut ranked: Vec<_> = classes.into_iter().collect();
    ranked.sort_by_key(|(_, (_, bytes, _))| std::cmp::Reverse(*bytes));
    println!(
        "declined: {declined_bytes} of {total} YAML bytes ({:.1}%), {:.1}% of the time to load them all",
        100.0 * declined_bytes as f64 / total.max(1) as f64,
        100.0 * declined_cost / all_cost.max(1.0),
    );
    for (class, (files, bytes, micros)) in ranked {
        println!(
            "  {class:<24} {files:>5} files {bytes:>9} bytes ({:.1}% of YAML bytes, {:.1}% of the load time)",
            100.0 * bytes as f64 / total.max(1) as f64,
            100.0 * micros / all_cost.max(1.0),
        );
    }
}
