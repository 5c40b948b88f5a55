//! The output examples in `docs/output-formats.md` are checked against what the binary
//! prints for the bundled examples, so the documented JSON, SARIF and JUnit shapes cannot
//! drift from the real ones again: every field an example shows exists in the real output
//! with the same values, and every field the JSON report has is shown in its example.

use crate::common;

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

fn doc_text() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/output-formats.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The fenced blocks of `lang` in the page, in order.
fn blocks(text: &str, lang: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        match &mut current {
            Some(block) if line.trim_start() == "```" => {
                out.push(std::mem::take(block));
                current = None;
            }
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
            None if line.trim_start() == format!("```{lang}") => current = Some(String::new()),
            None => {}
        }
    }
    out
}

fn run(args: &[&str]) -> String {
    let out = common::ddb_guard()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .expect("run ddb-guard");
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

/// Every key of `doc` is in `real` with the same JSON type; a string that the example
/// shortens with `...` is a prefix; numbers, booleans and other strings are equal.
fn assert_shown_as_is(doc: &Value, real: &Value, at: &str) {
    match (doc, real) {
        (Value::Object(d), Value::Object(r)) => {
            for (k, dv) in d {
                let rv = r
                    .get(k)
                    .unwrap_or_else(|| panic!("{at}.{k} is documented but not in the output"));
                assert_shown_as_is(dv, rv, &format!("{at}.{k}"));
            }
        }
        (Value::String(d), Value::String(r)) => {
            let shown = d.trim_end_matches('…').trim_end_matches("...");
            assert!(
                r.starts_with(shown.trim_end()),
                "{at}: documented {d:?}, printed {r:?}"
            );
        }
        (Value::Array(d), Value::Array(_)) if d.is_empty() => {}
        (Value::Array(_), Value::Array(_)) => {} // rows are matched by the callers
        (d, r) => assert_eq!(d, r, "{at}"),
    }
}

#[test]
fn the_json_example_shows_every_field_the_report_has() {
    let page = doc_text();
    let example: Value = serde_json::from_str(&blocks(&page, "json")[0])
        .expect("the first json block of docs/output-formats.md is the JSON report");
    let dir = tempfile::tempdir().expect("tempdir");
    let broken = dir.path().join("broken.yaml");
    std::fs::write(
        &broken,
        "Resources:\n  T: {Type: AWS::DynamoDB::Table, DeletionPolicy: [\n",
    )
    .expect("write");
    let broken = broken.to_string_lossy().into_owned();
    let real: Value = serde_json::from_str(&run(&[
        "check",
        "--format",
        "json",
        "templates-examples/",
        &broken,
    ]))
    .expect("JSON output");

    assert_eq!(keys(&example), keys(&real), "top-level fields");
    assert_eq!(keys(&example["summary"]), keys(&real["summary"]), "summary");
    for (k, v) in example["summary"].as_object().into_iter().flatten() {
        assert!(v.is_number(), "summary.{k} is a count");
        assert!(
            real["summary"][k].is_number(),
            "summary.{k} is printed as a count"
        );
    }

    let shown = &example["findings"][0];
    let printed = real["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| {
            f["path"] == shown["path"]
                && f["resource"] == shown["resource"]
                && f["rule"] == shown["rule"]
        })
        .expect("the documented finding is printed for the bundled examples");
    assert_shown_as_is(shown, printed, "findings[0]");
    let mut finding_fields = keys(shown);
    finding_fields.insert("fix".into()); // documented in the list below the example
    for f in real["findings"].as_array().into_iter().flatten() {
        let extra: Vec<_> = keys(f).difference(&finding_fields).cloned().collect();
        assert!(
            extra.is_empty(),
            "finding fields not in the example: {extra:?}"
        );
    }

    let error = real["errors"]
        .as_array()
        .and_then(|e| e.first())
        .expect("the broken file is an error row");
    // `help` is printed when the error has one.
    let documented = keys(&example["errors"][0]);
    let printed = keys(error);
    assert!(
        printed.is_subset(&documented),
        "error row fields {printed:?} not all documented"
    );
    let required: BTreeSet<String> = documented.into_iter().filter(|k| k != "help").collect();
    assert!(required.is_subset(&printed), "error row lacks {required:?}");
}

#[test]
fn the_sarif_example_is_a_printed_result() {
    let page = doc_text();
    let example: Value = blocks(&page, "json")
        .iter()
        .filter_map(|b| serde_json::from_str::<Value>(b).ok())
        .find(|v| v.get("ruleId").is_some())
        .expect("a SARIF result example");
    let real: Value =
        serde_json::from_str(&run(&["check", "--format", "sarif", "templates-examples/"]))
            .expect("SARIF output");
    let uri = &example["locations"][0]["physicalLocation"]["artifactLocation"]["uri"];
    let name = &example["locations"][0]["logicalLocations"][0]["name"];
    let printed = real["runs"][0]["results"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| {
            r["ruleId"] == example["ruleId"]
                && r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == *uri
                && r["locations"][0]["logicalLocations"][0]["name"] == *name
        })
        .expect("the documented result is printed");
    assert_shown_as_is(
        &example["locations"][0],
        &printed["locations"][0],
        "locations[0]",
    );
    for k in ["ruleId", "ruleIndex", "level"] {
        assert_eq!(example[k], printed[k], "{k}");
    }
    assert_shown_as_is(&example["message"], &printed["message"], "message");
}

#[test]
fn the_junit_example_testcases_are_printed() {
    let page = doc_text();
    let example = blocks(&page, "xml")
        .into_iter()
        .next()
        .expect("a JUnit example");
    let real = run(&["check", "--format", "junit", "templates-examples/"]);
    let testcases: Vec<&str> = example
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("<testcase "))
        .collect();
    assert!(!testcases.is_empty(), "the example shows testcases");
    for line in testcases {
        assert!(
            real.lines().any(|l| l.trim() == line),
            "documented testcase is not printed: {line}"
        );
    }
    let suite = example
        .lines()
        .find(|l| l.trim_start().starts_with("<testsuite "))
        .expect("the example shows a testsuite");
    let name = suite.split('"').nth(1).expect("a suite name");
    assert!(
        real.contains(&format!("<testsuite name=\"{name}\"")),
        "documented suite {name} is printed"
    );
}
