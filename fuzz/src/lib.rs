//! Oracles shared by the fuzz targets. Each target feeds arbitrary bytes through one stage
//! and then asserts what must hold for any input: no panic (libFuzzer catches those), every
//! span inside the text and on a character boundary (renderers and fixes slice with them),
//! and the evaluator's own guarantees.

use std::path::Path;
use std::time::Duration;

use ddb_guard::check::{Checker, Settings};
use ddb_guard::fix_engine::{self, FixMode};
use ddb_guard::load::{self, Document, FileError, Format, Limits};
use ddb_guard::model::eval::{MAX_OUTCOMES, MAX_VALUE_LEN};
use ddb_guard::model::Evaluator;
use ddb_guard::report::data::{FileReport, Report, Summary};
use ddb_guard::report::{self, RenderOptions};
use ddb_guard::source::Span;
use ddb_guard::template_file::TemplateFile;

/// The brute-force twin of the proof (also run by `tests/it/oracle.rs` in `cargo test`).
#[path = "../../tests/support/soundness_oracle.rs"]
pub mod soundness_oracle;

/// Every target calls this first: panics inside the libyaml-safer fallback are caught by
/// the loader and are refusals (as in the binary, which installs the same hook); any other
/// panic still reaches libFuzzer's hook and is a crash.
pub fn init() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(load::quiet_fallback_panics);
}

/// Small enough that one execution stays fast, large enough that every limit path is hit.
pub fn limits() -> Limits {
    Limits {
        max_depth: 128,
        max_nodes: 50_000,
        max_scalar_len: 64 * 1024,
    }
}

pub fn assert_span(text: &str, span: Span, what: &str) {
    assert!(span.start <= span.end, "{what}: inverted span {span:?}");
    assert!(
        span.end <= text.len(),
        "{what}: span {span:?} past the end ({})",
        text.len()
    );
    assert!(
        text.is_char_boundary(span.start) && text.is_char_boundary(span.end),
        "{what}: span {span:?} splits a character"
    );
}

pub fn assert_error(text: &str, error: &FileError) {
    if let Some(span) = error.span {
        assert_span(text, span, "error span");
    }
    for label in &error.labels {
        assert_span(text, label.span, "error label");
    }
}

pub fn assert_tree(text: &str, doc: &Document) {
    for node in &doc.nodes {
        assert_span(text, node.span, "node span");
    }
}

/// Load `text` as `format` and check the tree or the error.
pub fn load_and_check(text: &str, format: Format) {
    init();
    match load::load(text, format, &limits()) {
        Ok(doc) => assert_tree(text, &doc),
        Err(error) => assert_error(text, &error),
    }
}

/// The whole per-file pipeline (prefilter, load, model, rules) and both renderers.
pub fn pipeline(bytes: &[u8], name: &str) {
    init();
    let settings = Settings {
        limits: limits(),
        ..Settings::default()
    };
    let file = Checker::new(settings).check_bytes(name, Path::new(name), bytes);
    if file.source.is_some() {
        // The report keeps an excerpt; the text it was cut from is the (lossy) input.
        let text = String::from_utf8_lossy(bytes);
        for finding in &file.findings {
            assert_span(&text, finding.span, "finding span");
            for label in &finding.labels {
                assert_span(&text, label.span, "finding label");
            }
        }
        for (finding, suppression) in &file.suppressed {
            assert_span(&text, finding.span, "suppressed finding span");
            assert_span(&text, suppression.span, "suppression span");
        }
    }
    let report = Report {
        files: vec![file],
        summary: Summary::default(),
        elapsed: Duration::ZERO,
        stale_baseline: Vec::new(),
        unlisted: Default::default(),
    };
    let options = RenderOptions {
        color: false,
        width: 80,
        timing: false,
        show_suppressed: true,
        fail_on: Default::default(),
        quiet: false,
        statistics: false,
    };
    for format in [
        report::Format::Human,
        report::Format::Json,
        report::Format::Compact,
        report::Format::Github,
        report::Format::Sarif,
        report::Format::Junit,
    ] {
        report::render(format, &report, &options, &mut std::io::sink()).expect("render to a sink");
    }
}

/// The change-set gate (`ddb-guard changeset`) on arbitrary bytes: as one file, and
/// split in two "pages" at a byte chosen by the input, so that the page, nested-set and
/// context paths run. Every finding and error span lies inside its own file's text, and
/// every renderer takes the report.
pub fn changeset(bytes: &[u8]) {
    init();
    use ddb_guard::changeset::{self, Input};
    let settings = Settings {
        limits: limits(),
        rules: ddb_guard::rules::RULES.to_vec(),
        ..Settings::default()
    };
    let split = bytes.first().map_or(0, |b| *b as usize % (bytes.len() + 1));
    let runs: Vec<Vec<Vec<u8>>> = vec![
        vec![bytes.to_vec()],
        vec![bytes[..split].to_vec(), bytes[split..].to_vec()],
    ];
    for files in runs {
        let inputs = files
            .iter()
            .enumerate()
            .map(|(i, b)| Input {
                display: format!("cs{i}.json"),
                bytes: Ok(b.clone()),
            })
            .collect();
        let report = changeset::run(inputs, &settings);
        for (file, bytes) in report.files.iter().zip(&files) {
            let text = String::from_utf8_lossy(bytes);
            for finding in &file.findings {
                assert_span(&text, finding.span, "change-set finding span");
            }
            for error in &file.errors {
                assert_error(&text, error);
            }
        }
        let options = RenderOptions {
            color: false,
            width: 80,
            timing: false,
            show_suppressed: true,
            fail_on: Default::default(),
            quiet: false,
            statistics: false,
        };
        for format in [
            report::Format::Human,
            report::Format::Json,
            report::Format::Sarif,
            report::Format::Junit,
        ] {
            report::render(format, &report, &options, &mut std::io::sink())
                .expect("render to a sink");
        }
    }
}

/// Evaluate every intrinsic call and every resource attribute of a template, and check
/// the evaluator's promises: never empty, never more than `MAX_OUTCOMES`, spans in range,
/// and every condition can be true or false (or both).
pub fn evaluate(text: &str) {
    init();
    let path = Path::new(if text.trim_start().starts_with('{') {
        "template.json"
    } else {
        "template.yaml"
    });
    let Ok(file) = TemplateFile::from_text(path, text, &limits()) else {
        return;
    };
    let doc = file.document();
    let Ok(Some(template)) = file.template() else {
        return;
    };
    if let Some(conditions) = template.conditions.and_then(|c| doc.map(c)) {
        let evaluator = Evaluator::new(&template, &[]);
        for entry in conditions {
            let truth = evaluator.condition(doc.key(entry), 0);
            assert!(truth.can_be_true || truth.can_be_false, "{truth:?}");
        }
    }
    for resource in &template.resources {
        let evaluator = Evaluator::new(&template, &resource.loops);
        let mut nodes: Vec<u32> = doc
            .map(resource.node)
            .unwrap_or(&[])
            .iter()
            .map(|e| e.value)
            .collect();
        let subtree_end = doc.span(resource.node).end;
        let subtree_start = doc.span(resource.node).start;
        nodes.extend((0..doc.nodes.len() as u32).filter(|&id| {
            let span = doc.span(id);
            doc.call(id).is_some() && span.start >= subtree_start && span.end <= subtree_end
        }));
        for node in nodes {
            let outcomes = evaluator.eval(node);
            assert!(!outcomes.is_empty(), "no outcome");
            assert!(
                outcomes.len() <= MAX_OUTCOMES,
                "{} outcomes",
                outcomes.len()
            );
            for outcome in &outcomes {
                assert_span(text, outcome.span, "outcome span");
                if let ddb_guard::model::Value::Text(value) = &outcome.value {
                    assert!(value.len() <= MAX_VALUE_LEN, "{} byte value", value.len());
                }
                let _ = outcome.describe_when();
            }
        }
    }
}

/// The autofix round trip: on a template with an allowed fix, `fix_text` either refuses
/// for a reason that is not a bug, or returns text that loads, checks without errors and
/// has no allowed fix left (one run of `--fix` is enough). The engine's own verification
/// (old tree plus exactly the declared changes, bytes outside the edits kept) runs inside.
pub fn fix_roundtrip(bytes: &[u8]) {
    init();
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let name = if text.trim_start().starts_with('{') {
        "fuzz.json"
    } else {
        "fuzz.yaml"
    };
    let path = Path::new(name);
    let settings = Settings {
        limits: limits(),
        ..Settings::default()
    };
    // Alternate the two modes by the input's length so both are exercised.
    let mode = FixMode {
        unsafe_fixes: bytes.len().is_multiple_of(2),
        ..FixMode::default()
    };
    let checker = Checker::new(settings.clone());
    let fixable = |report: &FileReport| {
        report
            .findings
            .iter()
            .filter(|f| f.fix.as_ref().is_some_and(|x| mode.allows(f.code, x)))
            .count()
    };
    let before = checker.check_bytes(name, path, bytes);
    if !before.errors.is_empty() || fixable(&before) == 0 {
        return;
    }
    match fix_engine::fix_text(path, text, &settings, &mode) {
        Ok(fixed) => {
            assert!(fixed.applied > 0, "a fixable file was fixed by no fix");
            let after = checker.check_bytes(name, path, fixed.text.as_bytes());
            assert!(
                after.errors.is_empty(),
                "fixed text does not load: {:?}",
                after.errors
            );
            assert_eq!(fixable(&after), 0, "fixes left after --fix");
        }
        Err(error) => {
            let help = error.help.unwrap_or_default();
            assert!(!help.contains("this is a bug"), "{}", error.message);
        }
    }
}

/// The tree as text, without spans: what a rule can see of a document. Two parsers that
/// read a file the same way give the same string.
pub fn shape(doc: &Document) -> String {
    use ddb_guard::load::NodeKind;
    fn walk(doc: &Document, id: u32, out: &mut String) {
        let node = doc.node(id);
        if let Some(tag) = &node.tag {
            out.push_str(&format!("<{tag}>"));
        }
        match &node.kind {
            NodeKind::Map(entries) => {
                out.push('{');
                for entry in doc.entries(*entries) {
                    walk(doc, entry.key, out);
                    out.push_str(": ");
                    walk(doc, entry.value, out);
                    out.push_str(", ");
                }
                out.push('}');
            }
            NodeKind::Seq(items) => {
                out.push('[');
                for item in doc.items(*items) {
                    walk(doc, *item, out);
                    out.push_str(", ");
                }
                out.push(']');
            }
            NodeKind::Scalar(s) => out.push_str(&format!("{:?}{:?}", s.style, s.text)),
        }
    }
    let mut out = String::new();
    for root in doc.root.iter().chain(&doc.more_roots) {
        walk(doc, *root, &mut out);
        out.push_str("\n---\n");
    }
    out
}

/// What saphyr read (when it read the file) is what libyaml reads too, or the loader
/// refused the file: the checker must never see other keys or values than the YAML 1.1
/// parsers (libyaml, PyYAML: cfn-lint, and likely CloudFormation itself) would.
pub fn parsers_agree(text: &str) {
    init();
    let Ok(strict) = load::load(text, Format::Yaml, &limits()) else {
        return;
    };
    if strict.lenient {
        return;
    }
    let Ok(lenient) = load::load_lenient_yaml(text, &limits()) else {
        return;
    };
    let (a, b) = (shape(&strict), shape(&lenient));
    assert!(
        a == b,
        "saphyr and libyaml read this differently:\n{a}\n{b}"
    );
}

/// Differential: wherever the fast YAML path (`load::yaml_fast`) accepts a text, its
/// document equals the saphyr path's in every field; and neither path panics.
pub fn yaml_fast_agrees(text: &str) {
    init();
    let (fast, slow) = load::yaml_paths(text, &limits());
    let Some(fast) = fast else { return };
    match slow {
        Ok(slow) => assert!(
            fast == slow,
            "the fast YAML path and saphyr read this differently:\n{:?}\n{:?}",
            fast.nodes,
            slow.nodes
        ),
        Err(error) => panic!("the fast YAML path accepted what saphyr refuses: {error:?}"),
    }
}

/// Differential: wherever the fast JSON path (`load::json_fast`) accepts a text, its
/// document equals the jsonc path's in every field; wherever the jsonc path refuses a text,
/// the fast path declined it; and neither path panics. Also with small limits, so that the
/// depth, node and scalar-length refusals are met.
pub fn json_fast_agrees(text: &str) {
    init();
    let small = load::Limits {
        max_depth: 3,
        max_nodes: 40,
        max_scalar_len: 8,
    };
    for limits in [limits(), small] {
        let (fast, slow) = load::json_paths(text, &limits);
        let Some(fast) = fast else { continue };
        match slow {
            Ok(slow) => assert!(
                fast == slow,
                "the fast JSON path and jsonc read this differently:\n{:?}\n{:?}",
                fast.nodes,
                slow.nodes
            ),
            Err(error) => panic!("the fast JSON path accepted what jsonc refuses: {error:?}"),
        }
    }
}

/// The soundness oracle on a template generated from `data` (the choices of
/// `soundness_oracle::generate`): every table some deployment can delete is reported, and
/// within the oracle's precision scope a table every deployment keeps is not. The known
/// bug classes in `soundness_oracle::EXCLUSIONS` are stepped around, as in `cargo test`.
pub fn soundness(data: &[u8]) {
    init();
    let template = soundness_oracle::generate(&mut soundness_oracle::Choices::new(data));
    if let Err(violation) = soundness_oracle::check(&template) {
        panic!("{violation}");
    }
}
