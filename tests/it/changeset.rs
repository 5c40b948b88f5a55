//! `ddb-guard changeset` through the real binary, on change sets written from AWS's
//! documented `describe-change-set` output (tests/fixtures/changeset/): every `Action`,
//! `Replacement` and `PolicyAction` value, pages, nested change sets, encoded contexts and
//! the CDK metadata noise.

use crate::common;

use std::path::{Path, PathBuf};

use common::ddb_guard;
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
        .join("changeset")
}

/// Run `changeset` in the fixtures directory; exit code, stdout, stderr.
fn run(args: &[&str]) -> (i32, String, String) {
    let output = ddb_guard()
        .current_dir(fixtures())
        .arg("changeset")
        .args(args)
        .arg("--isolated")
        .output()
        .expect("runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn json(args: &[&str]) -> (i32, Value) {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let (code, stdout, stderr) = run(&all);
    let report = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("stdout is JSON ({e}): {stdout}\nstderr: {stderr}"));
    (code, report)
}

/// (rule, severity, resource) of every finding, in report order.
fn hits(report: &Value) -> Vec<(String, String, String)> {
    report["findings"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default().to_string(),
                f["severity"].as_str().unwrap_or_default().to_string(),
                f["resource"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn hit(rule: &str, severity: &str, resource: &str) -> (String, String, String) {
    (rule.into(), severity.into(), resource.into())
}

fn errors(report: &Value) -> Vec<String> {
    report["errors"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|e| e["message"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn every_table_action_gets_its_verdict_and_other_resources_are_ignored() {
    let (code, report) = json(&["every-action.json"]);
    assert_eq!(code, 1);
    assert_eq!(
        hits(&report),
        vec![
            hit("DDB030", "error", "OrdersTable"),
            hit("DDB030", "note", "AuditTable"),
            hit("DDB030", "error", "SessionsTable"),
            hit("DDB030", "error", "CacheTable"),
            hit("DDB031", "error", "InvoicesTable"),
            hit("DDB031", "warning", "PaymentsTable"),
            hit("DDB031", "error", "LedgerTable"),
            hit("DDB031", "error", "EventsTable"),
            hit("DDB031", "error", "ImportsTable"),
        ]
    );
    // Add, Import, SyncWithActual, Replacement False, the CDK metadata, a queue and a
    // replaced function say nothing about a table's data.
    let text = report.to_string();
    for quiet in [
        "ArchiveTable",
        "LegacyTable",
        "DriftedTable",
        "UsersTable",
        "CDKMetadata",
        "JobsQueue",
        "Worker",
    ] {
        assert!(!text.contains(quiet), "{quiet} must not be reported");
    }
}

#[test]
fn conditional_replacement_names_the_details_that_cause_it() {
    let (_, report) = json(&["every-action.json"]);
    let ledger = report["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["resource"] == "LedgerTable"))
        .cloned()
        .unwrap_or_default();
    let message = ledger["message"].as_str().unwrap_or_default();
    assert!(message.contains("may be replaced"), "{message}");
    assert!(
        message.contains("`LocalSecondaryIndexes` (Conditionally"),
        "{message}"
    );
    assert!(
        message.contains("ResourceReference `IndexNames`"),
        "{message}"
    );
}

#[test]
fn findings_point_at_the_byte_span_of_their_resource_change() {
    let (_, report) = json(&["every-action.json"]);
    let text = std::fs::read_to_string(fixtures().join("every-action.json")).expect("fixture");
    for finding in report["findings"].as_array().cloned().unwrap_or_default() {
        let start = finding["byte_offset"].as_u64().unwrap_or_default() as usize;
        let len = finding["byte_length"].as_u64().unwrap_or_default() as usize;
        let span = &text[start..start + len];
        assert!(span.starts_with('{') && span.ends_with('}'), "{span}");
        assert!(text[..start].trim_end().ends_with("\"ResourceChange\":"));
        let id = finding["resource"].as_str().unwrap_or_default();
        assert!(
            span.contains(&format!("\"LogicalResourceId\": \"{id}\"")),
            "{id}: {span}"
        );
    }
}

#[test]
fn weakened_guardrails_are_read_from_values_and_decoded_contexts() {
    let (code, report) = json(&["property-values.json"]);
    assert_eq!(code, 1);
    assert_eq!(
        hits(&report),
        vec![
            hit("DDB033", "error", "OrdersTable"),
            hit("DDB033", "error", "OrdersTable"),
            hit("DDB034", "warning", "AuditTable"),
            hit("DDB034", "warning", "AuditTable"),
            hit("DDB034", "warning", "SessionsTable"),
            hit("DDB035", "error", "SessionsTable"),
        ]
    );
    let text = report.to_string();
    assert!(text.contains("the replica in `eu-west-1` is removed"));
    assert!(text.contains("`UpdateReplacePolicy` goes from `Retain` to `Delete`"));
    // UsersTable moves *to* Retain: not a weakening.
    assert!(!text.contains("UsersTable"));
}

#[test]
fn a_change_set_without_changes_passes_with_a_note() {
    let (code, report) = json(&["no-changes.json"]);
    assert_eq!(code, 0);
    assert_eq!(hits(&report), vec![hit("DDB036", "note", "orders")]);
    assert!(errors(&report).is_empty());
}

#[test]
fn an_execution_status_other_than_available_is_shown() {
    let (code, report) = json(&["obsolete.json"]);
    assert_eq!(code, 0);
    assert_eq!(hits(&report), vec![hit("DDB036", "note", "orders")]);
    assert!(report.to_string().contains("ExecutionStatus: OBSOLETE"));
}

#[test]
fn cdk_metadata_noise_alone_passes() {
    let (code, report) = json(&["clean.json"]);
    assert_eq!(code, 0, "{report}");
    assert!(hits(&report).is_empty());
    assert_eq!(report["summary"]["tables"], 1);
}

#[test]
fn standard_input_is_read_with_a_dash() {
    let text = std::fs::read(fixtures().join("every-action.json")).expect("fixture");
    let output = ddb_guard()
        .args(["changeset", "-", "--isolated", "--format", "compact"])
        .write_stdin(text)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("<stdin>:50:31: DDB030 [error] table `OrdersTable`"),
        "{stdout}"
    );
}

#[test]
fn a_missing_page_fails_closed_and_says_which() {
    let (code, report) = json(&["paged-1.json"]);
    assert_eq!(code, 2);
    let errors = errors(&report);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains("the page after this one (page 1) is missing"),
        "{errors:?}"
    );
    let help = report["errors"][0]["help"].as_str().unwrap_or_default();
    assert!(help.contains("--starting-token AAEAAWY2"), "{help}");
    // Every page given: the removal on page 2 is found.
    let (code, report) = json(&["paged-1.json", "paged-2.json"]);
    assert_eq!(code, 1);
    assert_eq!(hits(&report), vec![hit("DDB030", "error", "OldTable")]);
}

#[test]
fn a_missing_nested_change_set_is_an_error_naming_it_and_the_command() {
    let (code, report) = json(&["nested-root.json"]);
    assert_eq!(code, 2);
    let id = "arn:aws:cloudformation:us-east-1:123456789012:changeSet/nested-changeset-DataStack/708192a3-0000-4000-8000-000000000009";
    let error = report["errors"]
        .as_array()
        .and_then(|e| e.first())
        .cloned()
        .unwrap_or_default();
    assert!(error["message"].as_str().unwrap_or_default().contains(id));
    assert!(error["help"]
        .as_str()
        .unwrap_or_default()
        .contains(&format!(
            "aws cloudformation describe-change-set --change-set-name {id}"
        )));
}

#[test]
fn nested_change_sets_are_checked_and_removed_nested_stacks_reported() {
    let (code, report) = json(&["nested-root.json", "nested-data.json"]);
    assert_eq!(code, 1);
    assert!(errors(&report).is_empty(), "{report}");
    assert_eq!(
        hits(&report),
        vec![
            hit("DDB032", "error", "SearchStack"),
            hit("DDB032", "error", "LegacyStack"),
            hit("DDB031", "error", "ProfilesTable"),
        ]
    );
    assert!(report
        .to_string()
        .contains("table `ProfilesTable` in nested stack `DataStack` is replaced"));
}

#[test]
fn bad_input_is_an_error_with_file_and_position_never_a_pass() {
    for (file, message, line) in [
        (
            "table-output.txt",
            "not JSON: this looks like the `aws` CLI's table output",
            1,
        ),
        ("truncated.json", "is it truncated?", 27),
        (
            "unknown-action.json",
            "unknown `Action` value `Teleport`",
            287,
        ),
        ("not-a-change-set.json", "not a change set", 1),
    ] {
        let (code, stdout, _) = run(&[file, "--format", "compact"]);
        assert_eq!(code, 2, "{file}: {stdout}");
        assert!(
            stdout.contains(&format!("{file}:{line}:")) && stdout.contains(message),
            "{file}: {stdout}"
        );
    }
}

#[test]
fn fail_on_select_and_ignore_work_as_for_check() {
    let (code, _) = json(&["property-values.json", "--fail-on", "never"]);
    assert_eq!(code, 0);
    let (code, report) = json(&["property-values.json", "--select", "DDB034"]);
    assert_eq!(code, 0, "warnings only");
    assert!(hits(&report).iter().all(|(rule, _, _)| rule == "DDB034"));
    let (code, _) = json(&[
        "property-values.json",
        "--select",
        "DDB034",
        "--fail-on",
        "warning",
    ]);
    assert_eq!(code, 1);
    let (code, report) = json(&["every-action.json", "--ignore", "DDB030,DDB031"]);
    assert_eq!(code, 0);
    assert!(hits(&report).is_empty());
}

#[test]
fn the_config_file_selects_and_sets_severities() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        fixtures().join("property-values.json"),
        dir.path().join("cs.json"),
    )
    .expect("copy");
    common::write(
        dir.path(),
        "ddb-guard.toml",
        "[severity]\nDDB034 = \"error\"\n",
    );
    let output = ddb_guard()
        .current_dir(dir.path())
        .args([
            "changeset",
            "cs.json",
            "--select",
            "DDB034",
            "--format",
            "json",
        ])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert!(hits(&report)
        .iter()
        .all(|(_, severity, _)| severity == "error"));
}

#[test]
fn every_output_format_renders_with_the_same_exit_code() {
    for format in ["human", "json", "compact", "github", "sarif", "junit"] {
        let (code, stdout, stderr) = run(&["every-action.json", "--format", format]);
        assert_eq!(code, 1, "{format}: {stderr}");
        assert!(stdout.contains("OrdersTable"), "{format}: {stdout}");
    }
    let (_, sarif, _) = run(&["every-action.json", "--format", "sarif"]);
    let sarif: Value = serde_json::from_str(&sarif).expect("sarif is JSON");
    let rules: Vec<&str> = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .map(|r| r.iter().filter_map(|r| r["id"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        rules.contains(&"DDB030") && rules.contains(&"DDB036"),
        "{rules:?}"
    );
    let (_, junit, _) = run(&["every-action.json", "--format", "junit"]);
    assert!(junit.contains("DDB030"), "{junit}");
}

#[test]
fn human_output() {
    let (code, stdout, _) = run(&[
        "every-action.json",
        "nested-root.json",
        "nested-data.json",
        "--color",
        "never",
    ]);
    assert_eq!(code, 1);
    let stdout = common_filters(&stdout);
    insta::assert_snapshot!(stdout);
}

/// The timing at the end of the summary differs per run.
fn common_filters(text: &str) -> String {
    text.lines()
        .map(|l| match l.find(" in ") {
            Some(i) if l.contains("checked") || l.contains("Checked") => {
                format!("{} in [elapsed]", &l[..i])
            }
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The line of `needle`'s first occurrence in a fixture, 1-based.
fn line_of(file: &str, needle: &str) -> u64 {
    let text = std::fs::read_to_string(fixtures().join(file)).expect("fixture");
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle} in {file}"));
    text[..at].matches('\n').count() as u64 + 1
}

#[test]
fn with_the_template_findings_also_carry_the_logical_id_key() {
    let (code, report) = json(&["every-action.json", "--template", "template.yaml"]);
    assert_eq!(code, 1);
    let findings = report["findings"].as_array().cloned().unwrap_or_default();
    let of = |id: &str| {
        findings
            .iter()
            .find(|f| f["resource"] == id)
            .cloned()
            .unwrap_or_default()
    };
    let invoices = of("InvoicesTable");
    assert_eq!(
        invoices["path"], "every-action.json",
        "the finding stays in the change set"
    );
    assert_eq!(invoices["template"]["path"], "template.yaml");
    assert_eq!(
        invoices["template"]["line"].as_u64(),
        Some(line_of("template.yaml", "  InvoicesTable:"))
    );
    assert_eq!(invoices["template"]["column"], 3);
    // A removed table is no longer in the template: its `Resources` key stands for it.
    assert_eq!(
        of("OrdersTable")["template"]["line"].as_u64(),
        Some(line_of("template.yaml", "Resources:"))
    );
}

#[test]
fn with_the_template_github_annotations_land_on_the_template() {
    let (_, stdout, _) = run(&[
        "every-action.json",
        "--template",
        "template.yaml",
        "--format",
        "github",
    ]);
    let line = line_of("template.yaml", "  LedgerTable:");
    let ledger = stdout
        .lines()
        .find(|l| l.contains("`LedgerTable`"))
        .unwrap_or_default();
    assert!(
        ledger.starts_with(&format!("::error file=template.yaml,line={line},col=3,")),
        "{ledger}"
    );
    assert!(
        ledger.contains("(change set every-action.json:"),
        "{ledger}"
    );
    let (_, sarif, _) = run(&[
        "every-action.json",
        "--template",
        "template.yaml",
        "--format",
        "sarif",
    ]);
    let sarif: Value = serde_json::from_str(&sarif).expect("sarif");
    let results = sarif["runs"][0]["results"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let ledger = results
        .iter()
        .find(|r| r["locations"][0]["logicalLocations"][0]["name"] == "LedgerTable")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        ledger["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "template.yaml"
    );
    assert_eq!(
        ledger["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "every-action.json"
    );
}

#[test]
fn a_template_that_does_not_load_is_an_error() {
    let (code, stdout, _) = run(&[
        "clean.json",
        "--template",
        "missing.yaml",
        "--format",
        "compact",
    ]);
    assert_eq!(code, 2);
    assert!(stdout.contains("missing.yaml"), "{stdout}");
    let (code, stdout, _) = run(&[
        "clean.json",
        "--template",
        "truncated.json",
        "--format",
        "compact",
    ]);
    assert_eq!(code, 2, "{stdout}");
}
