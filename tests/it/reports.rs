//! The CI gate outputs, through the real binary: compact, github (+ job summary), sarif and
//! junit on `templates-examples/` and on fixtures with a broken file and values that need
//! escaping; several reports from one run; `--fail-on`.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The binary, run from the repository root (so paths in reports are relative and
/// stable), without any CI environment of the machine running the tests.
fn ddb_guard() -> Command {
    let mut cmd = Command::cargo_bin("ddb-guard").expect("binary is built");
    cmd.current_dir(root())
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("CI")
        .env("NO_COLOR", "1");
    cmd
}

struct Run {
    stdout: String,
    stderr: String,
    code: i32,
}

fn run(args: &[&str]) -> Run {
    run_with(ddb_guard(), args)
}

fn run_with(mut cmd: Command, args: &[&str]) -> Run {
    let output = cmd.arg("check").args(args).output().expect("binary runs");
    Run {
        stdout: String::from_utf8(output.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8 stderr"),
        code: output.status.code().unwrap_or(-1),
    }
}

/// The number of findings the JSON report counts for the same arguments, so that tests
/// of other formats do not pin how many findings the rules produce.
fn findings_in_json(mut cmd: Command, args: &[&str]) -> usize {
    let output = cmd
        .arg("check")
        .args(args)
        .args(["--format", "json"])
        .output()
        .expect("binary runs");
    let json: Value = serde_json::from_slice(&output.stdout).expect("JSON report");
    json["summary"]["findings"]
        .as_u64()
        .expect("summary.findings") as usize
}

const EXAMPLES: &str = "templates-examples";
const FIXTURES: &str = "tests/fixtures/reports";

// ---------------------------------------------------------------- compact

#[test]
fn compact_prints_one_parseable_line_per_finding() {
    let r = run(&[EXAMPLES, "--format", "compact"]);
    assert_eq!(r.code, 1);
    insta::assert_snapshot!("compact_examples", r.stdout);
}

#[test]
fn compact_reports_a_broken_file_on_a_line_of_the_same_shape() {
    let r = run(&[FIXTURES, "--format", "compact"]);
    assert_eq!(r.code, 2);
    insta::assert_snapshot!("compact_fixtures", r.stdout);
    let shape = |line: &str| {
        let mut parts = line.splitn(4, ':');
        let (path, line_no, col, rest) = (parts.next(), parts.next(), parts.next(), parts.next());
        path.is_some_and(|p| !p.is_empty())
            && line_no.is_some_and(|n| n.parse::<usize>().is_ok())
            && col.is_some_and(|n| n.parse::<usize>().is_ok())
            && rest.is_some_and(|r| r.starts_with(' ') && r.contains(" ["))
    };
    assert!(r.stdout.lines().all(shape), "{}", r.stdout);
}

// ---------------------------------------------------------------- github

#[test]
fn github_annotations_put_the_most_important_first() {
    let r = run(&[EXAMPLES, "--format", "github"]);
    assert_eq!(r.code, 1);
    insta::assert_snapshot!("github_examples", r.stdout);
}

#[test]
fn github_annotates_a_broken_file_first_and_escapes_values() {
    let r = run(&[FIXTURES, "--format", "github"]);
    assert_eq!(r.code, 2);
    insta::assert_snapshot!("github_fixtures", r.stdout);
    let first = r.stdout.lines().next().unwrap_or_default();
    assert!(first.starts_with("::error file=tests/fixtures/reports/broken.yaml,"));
    assert!(r.stdout.contains("50%25 <b>&amp;</b>"));
}

#[test]
fn github_job_summary_is_appended_to_the_step_summary_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let summary = dir.path().join("summary.md");
    std::fs::write(&summary, "# Earlier step output\n").expect("write");
    let mut cmd = ddb_guard();
    cmd.env("GITHUB_STEP_SUMMARY", &summary);
    let r = run_with(cmd, &[EXAMPLES, FIXTURES, "--format", "github"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let text = std::fs::read_to_string(&summary).expect("summary written");
    assert!(text.starts_with("# Earlier step output\n\n## ddb-guard\n"));
    insta::assert_snapshot!("github_step_summary", text);
}

#[test]
fn no_job_summary_without_the_github_format() {
    let dir = tempfile::tempdir().expect("temp dir");
    let summary = dir.path().join("summary.md");
    let mut cmd = ddb_guard();
    cmd.env("GITHUB_STEP_SUMMARY", &summary);
    run_with(cmd, &[EXAMPLES, "--format", "compact"]);
    assert!(!summary.exists());
}

/// Many files with two findings per table: far more than 1 MiB of summary rows.
fn big_tree(files: usize, tables: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for f in 0..files {
        let mut text = String::from("Resources:\n");
        for t in 0..tables {
            text.push_str(&format!(
                "  Table{t}WithAFairlyLongLogicalIdToFillTheSummary:\n    Type: AWS::DynamoDB::Table\n"
            ));
        }
        std::fs::write(dir.path().join(format!("stack{f:03}.yaml")), text).expect("write");
    }
    dir
}

#[test]
fn job_summary_stays_under_one_mebibyte_and_says_it_was_truncated() {
    let tree = big_tree(40, 150);
    let out = tempfile::tempdir().expect("temp dir");
    let summary = out.path().join("summary.md");
    let mut cmd = ddb_guard();
    cmd.current_dir(tree.path())
        .env("GITHUB_STEP_SUMMARY", &summary);
    let r = run_with(cmd, &["--format", "github"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let mut json = ddb_guard();
    json.current_dir(tree.path());
    assert_eq!(r.stdout.lines().count(), findings_in_json(json, &[]));
    let text = std::fs::read_to_string(&summary).expect("summary written");
    assert!(text.len() < 1024 * 1024, "{} bytes", text.len());
    assert!(
        text.len() > 900 * 1024,
        "the cap wastes space: {} bytes",
        text.len()
    );
    assert!(text.contains("Summary truncated to stay under GitHub's 1 MiB"));
    // The counts at the top still cover every finding.
    assert!(text.contains("| DDB001 | deletion-policy | 6000 | 0 | 0 |"));
    assert!(text.ends_with("for the full list.\n"));
}

#[test]
fn job_summary_leaves_room_for_what_the_step_already_wrote() {
    let tree = big_tree(10, 150);
    let out = tempfile::tempdir().expect("temp dir");
    let summary = out.path().join("summary.md");
    let earlier = "x".repeat(1024 * 1024 - 4096);
    std::fs::write(&summary, &earlier).expect("write");
    let mut cmd = ddb_guard();
    cmd.current_dir(tree.path())
        .env("GITHUB_STEP_SUMMARY", &summary);
    run_with(cmd, &["--format", "github"]);
    let text = std::fs::read_to_string(&summary).expect("summary written");
    assert!(text.len() < 1024 * 1024, "{} bytes", text.len());
    assert!(text.starts_with(&earlier));
    assert!(text.contains("Summary truncated"));
}

// ---------------------------------------------------------------- sarif

/// The SARIF with each rule descriptor cut to its id: the descriptors' text is the rule
/// docs (tested against `ruleset::doc` in the unit tests), and would otherwise make every
/// doc edit a snapshot change here.
fn sarif_for_snapshot(sarif: &Value) -> Value {
    let mut sarif = sarif.clone();
    if let Some(rules) = sarif.pointer_mut("/runs/0/tool/driver/rules") {
        let ids: Vec<Value> = rules
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| r["id"].clone())
            .collect();
        *rules = Value::Array(ids);
    }
    sarif
}

fn sarif_of(path: &str) -> (Value, i32) {
    let r = run(&[path, "--format", "sarif"]);
    let sarif = serde_json::from_str(&r.stdout).expect("SARIF is JSON");
    (sarif, r.code)
}

#[test]
fn sarif_on_templates_examples() {
    let (sarif, code) = sarif_of(EXAMPLES);
    assert_eq!(code, 1);
    insta::assert_json_snapshot!("sarif_examples", sarif_for_snapshot(&sarif));
}

#[test]
fn sarif_reports_a_broken_file_as_a_failed_execution() {
    let (sarif, code) = sarif_of(FIXTURES);
    assert_eq!(code, 2);
    assert_eq!(
        sarif.pointer("/runs/0/invocations/0/executionSuccessful"),
        Some(&Value::Bool(false))
    );
    insta::assert_json_snapshot!("sarif_fixtures", sarif_for_snapshot(&sarif));
}

#[test]
fn sarif_output_is_valid_against_the_sarif_2_1_0_schema() {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/schemas/sarif-2.1.0.json"))
            .expect("vendored schema"),
    )
    .expect("schema is JSON");
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("schema compiles");
    for path in [EXAMPLES, FIXTURES] {
        let (sarif, _) = sarif_of(path);
        let errors: Vec<String> = validator
            .iter_errors(&sarif)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{path}: {errors:#?}");
    }
    // The validator does catch what GitHub would refuse.
    let (mut broken, _) = sarif_of(EXAMPLES);
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        Value::from(0);
    assert!(!validator.is_valid(&broken));
}

#[test]
fn json_findings_carry_their_fix_edits_with_positions() {
    let r = run(&[EXAMPLES, "--format", "json"]);
    let report: Value = serde_json::from_str(&r.stdout).expect("JSON");
    let findings = report["findings"].as_array().expect("findings");
    let fixes: Vec<&Value> = findings.iter().filter_map(|f| f.get("fix")).collect();
    assert!(!fixes.is_empty());
    for fix in fixes {
        assert!(fix["applicability"] == "safe" || fix["applicability"] == "unsafe");
        assert!(fix["description"].as_str().is_some_and(|d| !d.is_empty()));
        let edits = fix["edits"].as_array().expect("edits");
        assert!(!edits.is_empty());
        for edit in edits {
            for key in [
                "byte_offset",
                "byte_length",
                "line",
                "column",
                "end_line",
                "end_column",
            ] {
                assert!(edit[key].is_u64(), "{key} in {edit}");
            }
            assert!(edit["line"].as_u64() >= Some(1));
            assert!(edit["content"].is_string());
        }
    }
}

#[test]
fn sarif_fixes_carry_the_same_edits_as_the_json_report() {
    let r = run(&[EXAMPLES, "--format", "json"]);
    let report: Value = serde_json::from_str(&r.stdout).expect("JSON");
    let json: Vec<(u64, u64, String)> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f.get("fix"))
        .flat_map(|fix| fix["edits"].as_array().cloned().unwrap_or_default())
        .map(|e| {
            let n = |k: &str| e[k].as_u64().unwrap_or(u64::MAX);
            (n("byte_offset"), n("byte_length"), e["content"].to_string())
        })
        .collect();
    let (sarif, _) = sarif_of(EXAMPLES);
    let mut from_sarif: Vec<(u64, u64, String)> = Vec::new();
    for result in sarif["runs"][0]["results"].as_array().expect("results") {
        for fix in result["fixes"].as_array().into_iter().flatten() {
            assert!(fix["description"]["text"].is_string());
            for change in fix["artifactChanges"].as_array().expect("changes") {
                for rep in change["replacements"].as_array().expect("replacements") {
                    let region = &rep["deletedRegion"];
                    let n = |k: &str| region[k].as_u64().unwrap_or(u64::MAX);
                    from_sarif.push((
                        n("byteOffset"),
                        n("byteLength"),
                        rep["insertedContent"]["text"].to_string(),
                    ));
                }
            }
        }
    }
    assert!(!json.is_empty());
    let (mut json, mut from_sarif) = (json, from_sarif);
    json.sort();
    from_sarif.sort();
    assert_eq!(json, from_sarif);
}

#[test]
fn sarif_carries_a_suppressed_finding_with_its_reason_and_the_ignore_entry() {
    let (sarif, _) = sarif_of(FIXTURES);
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    let suppressed: Vec<&Value> = results
        .iter()
        .filter(|r| r.get("suppressions").is_some())
        .collect();
    assert_eq!(suppressed.len(), 1, "{results:#?}");
    let result = suppressed[0];
    assert_eq!(result["ruleId"], "DDB001");
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "tests/fixtures/reports/suppressed.yaml"
    );
    let suppression = &result["suppressions"][0];
    assert_eq!(suppression["kind"], "inSource");
    assert_eq!(
        suppression["justification"],
        "CI scratch data, rebuilt on every deploy"
    );
    // The location is the `ignore` entry (`- rule: DDB001` on line 11).
    assert_eq!(
        suppression["location"]["physicalLocation"]["region"]["startLine"],
        11
    );
}

#[test]
fn sarif_results_carry_what_code_scanning_needs() {
    let (sarif, _) = sarif_of(EXAMPLES);
    let run = &sarif["runs"][0];
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    for rule in rules {
        for key in ["shortDescription", "fullDescription"] {
            let text = rule[key]["text"].as_str().unwrap_or_default();
            assert!(
                !text.is_empty() && text.len() <= 1024,
                "{key} of {}",
                rule["id"]
            );
        }
        assert!(!rule["help"]["markdown"]
            .as_str()
            .unwrap_or_default()
            .is_empty());
        assert!(rule["properties"]["security-severity"].is_string());
    }
    let results = run["results"].as_array().expect("results");
    assert_eq!(results.len(), findings_in_json(ddb_guard(), &[EXAMPLES]));
    for result in results {
        let index = result["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
        let location = &result["locations"][0]["physicalLocation"];
        let uri = location["artifactLocation"]["uri"]
            .as_str()
            .unwrap_or_default();
        assert!(uri.starts_with("templates-examples/") && !uri.contains('\\'));
        assert!(location["region"]["startLine"].as_u64() >= Some(1));
        assert!(location["region"]["byteLength"].is_u64());
        assert!(result["partialFingerprints"]["ddbGuard/v1"].is_string());
    }
}

#[test]
fn sarif_fingerprints_survive_lines_added_above_the_finding() {
    let dir = tempfile::tempdir().expect("temp dir");
    let body = "  Orders:\n    Type: AWS::DynamoDB::Table\n";
    std::fs::write(dir.path().join("t.yaml"), format!("Resources:\n{body}")).expect("write");
    let fingerprints = |dir: &Path| {
        let mut cmd = ddb_guard();
        cmd.current_dir(dir);
        let r = run_with(cmd, &["t.yaml", "--format", "sarif"]);
        let sarif: Value = serde_json::from_str(&r.stdout).expect("JSON");
        sarif["runs"][0]["results"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| (r["partialFingerprints"].clone(), r["locations"][0].clone()))
            .collect::<Vec<_>>()
    };
    let before = fingerprints(dir.path());
    std::fs::write(
        dir.path().join("t.yaml"),
        format!("# a comment\n\nDescription: moved down\nResources:\n{body}"),
    )
    .expect("write");
    let after = fingerprints(dir.path());
    assert!(before.len() >= 2);
    assert_eq!(before.len(), after.len());
    for ((fp_before, loc_before), (fp_after, loc_after)) in before.iter().zip(&after) {
        assert_eq!(fp_before, fp_after);
        assert_ne!(loc_before, loc_after, "the lines did move");
    }
}

#[test]
fn sarif_uris_are_relative_to_the_current_directory_for_absolute_arguments() {
    let absolute = root().join(FIXTURES);
    let (sarif, _) = sarif_of(&absolute.display().to_string());
    let uri = &sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
        ["artifactLocation"]["uri"];
    assert_eq!(
        uri,
        "tests/fixtures/reports/odd%20name%20%231%20%C3%BC.yaml"
    );
}

// ---------------------------------------------------------------- gitlab

fn gitlab_of(path: &str) -> (Value, i32) {
    let r = run(&[path, "--format", "gitlab"]);
    let report = serde_json::from_str(&r.stdout).expect("GitLab report is JSON");
    (report, r.code)
}

#[test]
fn gitlab_on_templates_examples() {
    let (report, code) = gitlab_of(EXAMPLES);
    assert_eq!(code, 1);
    insta::assert_json_snapshot!("gitlab_examples", report);
}

#[test]
fn gitlab_reports_a_broken_file_as_a_blocker() {
    let (report, code) = gitlab_of(FIXTURES);
    assert_eq!(code, 2);
    let issues = report.as_array().expect("an array");
    assert!(issues
        .iter()
        .any(|i| i["check_name"] == "load-error" && i["severity"] == "blocker"));
    insta::assert_json_snapshot!("gitlab_fixtures", report);
}

#[test]
fn gitlab_output_is_valid_against_the_documented_field_list() {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/schemas/gitlab-codequality.json"))
            .expect("schema file"),
    )
    .expect("schema is JSON");
    let validator = jsonschema::options()
        .build(&schema)
        .expect("schema compiles");
    for path in [EXAMPLES, FIXTURES] {
        let (report, _) = gitlab_of(path);
        let errors: Vec<String> = validator
            .iter_errors(&report)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{path}: {errors:#?}");
        // GitLab shows one issue per fingerprint: two findings must never share one.
        let issues = report.as_array().expect("an array");
        let mut fingerprints: Vec<&str> = issues
            .iter()
            .filter_map(|i| i["fingerprint"].as_str())
            .collect();
        fingerprints.sort_unstable();
        fingerprints.dedup();
        assert_eq!(fingerprints.len(), issues.len(), "{path}");
    }
    // The schema does catch what GitLab would not read.
    let (report, _) = gitlab_of(EXAMPLES);
    for (pointer, bad) in [
        ("/0/severity", Value::from("error")),
        ("/0/location/lines/begin", Value::from(0)),
        (
            "/0/location/path",
            Value::from("./templates-examples/x.yaml"),
        ),
    ] {
        let mut broken = report.clone();
        *broken.pointer_mut(pointer).expect("field exists") = bad;
        assert!(!validator.is_valid(&broken), "{pointer}");
    }
    let mut broken = report.clone();
    broken[0]
        .as_object_mut()
        .expect("object")
        .remove("check_name");
    assert!(!validator.is_valid(&broken));
}

#[test]
fn gitlab_issues_are_the_counted_findings_and_carry_their_sarif_fingerprints() {
    let (gitlab, _) = gitlab_of(EXAMPLES);
    let issues = gitlab.as_array().expect("an array");
    assert_eq!(
        issues.len(),
        findings_in_json(ddb_guard(), &[EXAMPLES]),
        "one issue per counted finding"
    );
    let (sarif, _) = sarif_of(EXAMPLES);
    // SARIF also lists suppressed findings; every GitLab issue is one of its results, with
    // the same rule, file, line and fingerprint.
    let from_sarif: Vec<(String, String, u64, String)> = sarif["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            let location = &r["locations"][0]["physicalLocation"];
            (
                r["ruleId"].as_str().unwrap_or_default().to_string(),
                location["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                location["region"]["startLine"].as_u64().unwrap_or_default(),
                r["partialFingerprints"]["ddbGuard/v1"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    for issue in issues {
        let key = (
            issue["check_name"].as_str().unwrap_or_default().to_string(),
            issue["location"]["path"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            issue["location"]["lines"]["begin"]
                .as_u64()
                .unwrap_or_default(),
            issue["fingerprint"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
        assert!(
            from_sarif.contains(&key),
            "{key:?} is not in the SARIF report"
        );
    }
}

#[test]
fn gitlab_fingerprints_survive_lines_added_above_the_finding() {
    let dir = tempfile::tempdir().expect("temp dir");
    let body = "  Orders:\n    Type: AWS::DynamoDB::Table\n";
    std::fs::write(dir.path().join("t.yaml"), format!("Resources:\n{body}")).expect("write");
    let issues = |dir: &Path| {
        let mut cmd = ddb_guard();
        cmd.current_dir(dir);
        let r = run_with(cmd, &["t.yaml", "--format", "gitlab"]);
        let report: Value = serde_json::from_str(&r.stdout).expect("JSON");
        report
            .as_array()
            .into_iter()
            .flatten()
            .map(|i| {
                (
                    i["fingerprint"].clone(),
                    i["location"]["lines"]["begin"].clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    let before = issues(dir.path());
    std::fs::write(
        dir.path().join("t.yaml"),
        format!("# a comment\n\nDescription: moved down\nResources:\n{body}"),
    )
    .expect("write");
    let after = issues(dir.path());
    assert!(before.len() >= 2);
    assert_eq!(before.len(), after.len());
    for ((fp_before, line_before), (fp_after, line_after)) in before.iter().zip(&after) {
        assert_eq!(fp_before, fp_after);
        assert_ne!(line_before, line_after, "the lines did move");
    }
}

// ---------------------------------------------------------------- junit

fn junit_of(path: &str) -> (String, i32) {
    let r = run(&[path, "--format", "junit"]);
    (without_run_time(&r.stdout), r.code)
}

/// The report without the run's elapsed time (on `<testsuites>`), which differs between
/// runs; every other `time` is kept.
fn without_run_time(xml: &str) -> String {
    xml.lines()
        .map(|line| match line.strip_prefix("<testsuites ") {
            Some(_) => match line.find(" time=\"") {
                Some(at) => {
                    let rest = &line[at + 7..];
                    let end = rest.find('"').map_or(rest.len(), |e| e + 1);
                    format!("{} time=\"(elapsed)\"{}", &line[..at], &rest[end..])
                }
                None => line.to_string(),
            },
            None => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

#[test]
fn junit_testsuites_and_testcases_carry_a_time() {
    for path in [EXAMPLES, FIXTURES] {
        let xml = run(&[path, "--format", "junit"]).stdout;
        let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
        let timed: Vec<_> = doc
            .descendants()
            .filter(|n| {
                n.has_tag_name("testsuites")
                    || n.has_tag_name("testsuite")
                    || n.has_tag_name("testcase")
            })
            .collect();
        assert!(timed.len() > 2, "{path}");
        for node in timed {
            let time: Option<f64> = node.attribute("time").and_then(|t| t.parse().ok());
            assert!(
                time.is_some_and(|t| t >= 0.0 && t.is_finite()),
                "{path}: <{}> has time {:?}",
                node.tag_name().name(),
                node.attribute("time")
            );
        }
    }
}

#[test]
fn junit_on_templates_examples() {
    let (xml, code) = junit_of(EXAMPLES);
    assert_eq!(code, 1);
    insta::assert_snapshot!("junit_examples", xml);
}

#[test]
fn junit_on_fixtures_with_a_broken_file() {
    let (xml, code) = junit_of(FIXTURES);
    assert_eq!(code, 2);
    insta::assert_snapshot!("junit_fixtures", xml);
}

fn count_attr(node: roxmltree::Node, name: &str) -> usize {
    node.attribute(name)
        .and_then(|v| v.parse().ok())
        .unwrap_or(usize::MAX)
}

#[test]
fn junit_parses_and_its_counts_match_its_testcases() {
    for path in [EXAMPLES, FIXTURES] {
        let (xml, _) = junit_of(path);
        let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "testsuites");
        let cases: Vec<_> = root
            .descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .collect();
        let with = |tag: &str| {
            cases
                .iter()
                .filter(|c| c.children().any(|n| n.has_tag_name(tag)))
                .count()
        };
        assert_eq!(count_attr(root, "tests"), cases.len(), "{path}");
        assert_eq!(count_attr(root, "failures"), with("failure"), "{path}");
        assert_eq!(count_attr(root, "errors"), with("error"), "{path}");
        for suite in root.children().filter(|n| n.has_tag_name("testsuite")) {
            let n = suite
                .children()
                .filter(|n| n.has_tag_name("testcase"))
                .count();
            assert_eq!(count_attr(suite, "tests"), n);
        }
    }
    // Escaped values come back intact through a parser.
    let (xml, _) = junit_of(FIXTURES);
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let failure = doc
        .descendants()
        .find(|n| n.has_tag_name("failure"))
        .expect("a failure");
    assert!(failure
        .attribute("message")
        .unwrap_or_default()
        .contains(r#"`Keep, maybe: 50% <b>&amp;</b> "quoted"`"#));
}

#[test]
fn junit_lists_passing_checks_as_passing_testcases() {
    let (xml, _) = junit_of("templates-examples/retained");
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert!(!cases.is_empty());
    assert!(cases.iter().all(|c| c.children().all(|n| !n.is_element())));
}

#[test]
fn junit_failures_agree_with_fail_on() {
    // (failures, testcases whose findings are kept as output only)
    let counts = |fail_on: &str| {
        let xml = run(&[EXAMPLES, "--format", "junit", "--fail-on", fail_on]).stdout;
        let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
        let failures = count_attr(doc.root_element(), "failures");
        let kept = doc
            .descendants()
            .filter(|n| n.has_tag_name("system-out"))
            .count();
        (failures, kept)
    };
    let (warning, error, never) = (counts("warning"), counts("error"), counts("never"));
    assert!(warning.0 > 0 && warning.1 == 0, "{warning:?}");
    // Checks with only warnings pass under `--fail-on error`, and nothing fails under
    // `never`; no check with a finding is dropped either way.
    assert!(error.0 < warning.0 && error.1 > 0, "{error:?}");
    assert_eq!(error.0 + error.1, warning.0);
    assert_eq!(never, (0, warning.0));
}

#[test]
fn junit_keeps_a_note_from_the_pull_request_guard_as_output_not_failure() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(dir.path().join("old")).expect("mkdir");
    std::fs::create_dir_all(dir.path().join("new")).expect("mkdir");
    std::fs::write(
        dir.path().join("old/t.yaml"),
        "Resources:\n  Orders:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: Retain\n    UpdateReplacePolicy: Retain\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("new/t.yaml"),
        "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n",
    )
    .expect("write");
    let mut cmd = Command::cargo_bin("ddb-guard").expect("binary is built");
    cmd.current_dir(dir.path());
    let output = cmd
        .args(["diff", "old/t.yaml", "new/t.yaml", "--format", "junit"])
        .output()
        .expect("binary runs");
    let xml = String::from_utf8(output.stdout).expect("UTF-8");
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let case = doc
        .descendants()
        .find(|n| n.attribute("name") == Some("Orders: DDB020 table-removed"))
        .expect("a testcase for the removed table");
    assert!(case.children().all(|n| !n.has_tag_name("failure")));
    let out = case
        .children()
        .find(|n| n.has_tag_name("system-out"))
        .and_then(|n| n.text())
        .unwrap_or_default();
    assert!(out.contains("DDB020 [note]"), "{xml}");
}

// ---------------------------------------------------------------- several outputs

#[test]
fn one_run_writes_several_reports() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sarif = dir.path().join("results.sarif");
    let junit = dir.path().join("junit.xml");
    let sarif_arg = format!("sarif={}", sarif.display());
    let junit_arg = format!("junit={}", junit.display());
    let r = run(&[
        EXAMPLES, "--format", "compact", "--format", &sarif_arg, "--format", &junit_arg,
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.stdout, run(&[EXAMPLES, "--format", "compact"]).stdout);
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(&sarif).expect("sarif file")).expect("JSON");
    assert_eq!(written, sarif_of(EXAMPLES).0);
    assert_eq!(
        without_run_time(&std::fs::read_to_string(&junit).expect("junit file")),
        junit_of(EXAMPLES).0
    );
}

#[test]
fn human_stays_the_default_format() {
    // The summary line ends with the elapsed time, which differs between runs.
    let without_timing = |s: &str| s.rsplit_once(" in ").map(|(a, _)| a.to_string());
    let default = run(&[EXAMPLES]);
    let human = run(&[EXAMPLES, "--format", "human"]);
    assert_eq!(default.code, 1);
    assert!(default.stdout.contains("× DeletionPolicy is `Delete`"));
    assert_eq!(
        without_timing(&default.stdout),
        without_timing(&human.stdout)
    );
}

#[test]
fn two_reports_on_stdout_are_a_usage_error() {
    let r = run(&[EXAMPLES, "--format", "github", "--format", "sarif"]);
    assert_eq!(r.code, 2);
    assert!(r.stdout.is_empty());
    assert!(
        r.stderr
            .contains("at most one --format can write to stdout"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_report_into_a_missing_directory_is_a_usage_error_before_anything_runs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let target = dir.path().join("nope/results.sarif");
    let arg = format!("sarif={}", target.display());
    let r = run(&[EXAMPLES, "--format", "compact", "--format", &arg]);
    assert_eq!(r.code, 2);
    assert!(r.stdout.is_empty(), "nothing ran: {}", r.stdout);
    assert!(r.stderr.contains("does not exist"), "{}", r.stderr);
}

#[test]
fn an_unknown_format_is_a_usage_error() {
    let r = run(&[EXAMPLES, "--format", "checkstyle"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("unknown format `checkstyle`"),
        "{}",
        r.stderr
    );
}

// ---------------------------------------------------------------- --fail-on

#[test]
fn fail_on_decides_whether_findings_fail_the_run() {
    let code = |extra: &[&str]| {
        let mut args = vec![EXAMPLES, "--format", "compact"];
        args.extend_from_slice(extra);
        run(&args).code
    };
    assert_eq!(code(&[]), 1);
    assert_eq!(code(&["--fail-on", "error"]), 1);
    assert_eq!(code(&["--fail-on", "warning"]), 1);
    assert_eq!(code(&["--fail-on", "never"]), 0);
}

#[test]
fn fail_on_never_still_fails_closed_on_a_broken_file() {
    let r = run(&[FIXTURES, "--format", "compact", "--fail-on", "never"]);
    assert_eq!(r.code, 2);
}

#[test]
fn fail_on_comes_from_the_config_file_unless_the_flag_is_given() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("ddb-guard.toml"), "fail_on = \"never\"\n").expect("write");
    std::fs::write(
        dir.path().join("t.yaml"),
        "Resources:\n  Orders:\n    Type: AWS::DynamoDB::Table\n",
    )
    .expect("write");
    let code = |args: &[&str]| {
        let mut cmd = ddb_guard();
        cmd.current_dir(dir.path());
        run_with(cmd, args).code
    };
    assert_eq!(code(&["--format", "compact"]), 0);
    assert_eq!(code(&["--format", "compact", "--fail-on", "error"]), 1);
    std::fs::write(
        dir.path().join("ddb-guard.toml"),
        "fail_on = \"sometimes\"\n",
    )
    .expect("write");
    assert_eq!(code(&["--format", "compact"]), 2);
}

#[test]
fn clean_templates_pass_whatever_fail_on_says() {
    for level in ["error", "warning", "never"] {
        let r = run(&["templates-examples/retained", "--fail-on", level]);
        assert_eq!(r.code, 0, "--fail-on {level}");
    }
}

// ---------------------------------------------------------------- progress

#[test]
fn no_progress_bar_when_stderr_is_not_a_terminal() {
    let tree = big_tree(250, 1);
    let mut cmd = ddb_guard();
    cmd.current_dir(tree.path());
    let r = run_with(cmd, &["--format", "compact"]);
    assert!(r.stdout.lines().count() >= 250, "every file has findings");
    assert!(r.stderr.is_empty(), "{}", r.stderr);
}

#[test]
fn json_output_is_valid_against_its_schema() {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/schemas/ddb-guard-report.json"))
            .expect("schema file"),
    )
    .expect("schema is JSON");
    let validator = jsonschema::options()
        .build(&schema)
        .expect("schema compiles");
    let validate = |report: &Value, what: &str| {
        let errors: Vec<String> = validator
            .iter_errors(report)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{what}: {errors:#?}");
    };
    for path in [EXAMPLES, FIXTURES] {
        let r = run(&[path, "--format", "json", "--show-suppressed"]);
        validate(&serde_json::from_str(&r.stdout).expect("JSON"), path);
    }
    // A file checked with a config, and a synthesized CDK template in a cloud assembly:
    // the per-file `config` and the `cdk` fields.
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    };
    write("svc/ddb-guard.toml", "ignore = [\"DDB004\"]\n");
    write(
        "svc/t.yaml",
        "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n",
    );
    write("svc/broken.yaml", "Resources: [AWS::DynamoDB::Table\n");
    write(
        "cdk.out/manifest.json",
        r#"{"artifacts": {"App": {"type": "aws:cloudformation:stack", "properties": {"templateFile": "App.template.json"}}}}"#,
    );
    write(
        "cdk.out/App.template.json",
        r#"{"Resources": {"T": {"Type": "AWS::DynamoDB::Table", "Metadata": {"aws:cdk:path": "App/T/Resource"}}}}"#,
    );
    let output = ddb_guard()
        .current_dir(dir.path())
        .args(["check", "--format", "json", "svc", "cdk.out"])
        .output()
        .expect("runs");
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let findings = report["findings"].as_array().cloned().unwrap_or_default();
    assert!(
        findings.iter().any(|f| f["config"] == "svc/ddb-guard.toml"),
        "{report}"
    );
    assert!(
        findings
            .iter()
            .any(|f| f["cdk"]["construct_path"] == "App/T" && f["cdk"]["stack"] == "App"),
        "{report}"
    );
    assert_eq!(
        report["errors"][0]["config"], "svc/ddb-guard.toml",
        "{report}"
    );
    validate(&report, "config and CDK");
    // The schema does refuse a field it does not list.
    let mut unknown = report.clone();
    unknown["findings"][0]["construct"] = Value::from("App/T");
    assert!(!validator.is_valid(&unknown));
}
