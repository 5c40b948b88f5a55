//! Audited suppressions (`Metadata: ddb-guard: ignore`), DDB900 and DDB901, through the
//! binary: what is silenced, what is counted, and what `--show-suppressed` lists.

use crate::common;

use common::{check_json, ddb_guard, rule_hits, write};

fn run(template: &str, extra: &[&str]) -> (i32, serde_json::Value) {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "t.yaml", template);
    let mut args = vec!["t.yaml", "--isolated", "--select", "DDB001,DDB002,DDB9"];
    args.extend_from_slice(extra);
    check_json(dir.path(), &args)
}

const SUPPRESSED: &str = "\
Resources:
  Scratch:
    Type: AWS::DynamoDB::Table
    DeletionPolicy: Delete
    UpdateReplacePolicy: Retain
    Metadata:
      ddb-guard:
        ignore:
          - rule: DDB001
            reason: \"CI scratch data, rebuilt on every deploy\"
";

#[test]
fn a_suppression_with_a_reason_silences_its_rule_on_its_resource() {
    let (code, report) = run(SUPPRESSED, &[]);
    assert_eq!(code, 0);
    assert!(common::findings(&report).is_empty());
    assert_eq!(report["summary"]["suppressed"], 1);
    let suppressed = &report["suppressed"][0];
    assert_eq!(suppressed["rule"], "DDB001");
    assert_eq!(suppressed["resource"], "Scratch");
    assert_eq!(suppressed["line"], 4);
    assert_eq!(
        suppressed["suppression"]["reason"],
        "CI scratch data, rebuilt on every deploy"
    );
    assert_eq!(suppressed["suppression"]["line"], 9);
}

#[test]
fn a_suppression_names_a_rule_by_code_or_name_and_only_silences_that_rule() {
    let template = "\
Resources:
  T:
    Type: AWS::DynamoDB::Table
    Metadata:
      ddb-guard:
        ignore:
          - {rule: update-replace-policy, reason: \"replacement is blocked by a stack policy\"}
";
    let (code, report) = run(template, &[]);
    assert_eq!(code, 1);
    assert_eq!(rule_hits(&report, "DDB001").len(), 1);
    assert!(rule_hits(&report, "DDB002").is_empty());
    assert_eq!(report["suppressed"][0]["rule"], "DDB002");
}

#[test]
fn a_suppression_on_one_resource_does_not_reach_another() {
    let template = format!("{SUPPRESSED}  Other:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: Delete\n    UpdateReplacePolicy: Retain\n");
    let (code, report) = run(&template, &[]);
    assert_eq!(code, 1);
    let hits = rule_hits(&report, "DDB001");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].0, "Other");
}

#[test]
fn a_suppression_without_a_reason_is_an_error_and_silences_nothing() {
    let template = "\
Resources:
  T:
    Type: AWS::DynamoDB::Table
    DeletionPolicy: Delete
    UpdateReplacePolicy: Retain
    Metadata:
      ddb-guard:
        ignore:
          - rule: DDB001
          - {rule: DDB002, reason: \"  \"}
          - DDB001
";
    let (code, report) = run(template, &[]);
    assert_eq!(code, 1);
    let missing = rule_hits(&report, "DDB900");
    let lines: Vec<u64> = missing.iter().map(|h| h.1).collect();
    assert_eq!(lines, [9, 10, 11]);
    assert!(missing[0].3.contains("gives no reason"), "{}", missing[0].3);
    assert!(
        missing[0].3.contains("silences nothing"),
        "{}",
        missing[0].3
    );
    assert_eq!(rule_hits(&report, "DDB001").len(), 1);
    assert_eq!(report["summary"]["suppressed"], 0);
    // An invalid entry is reported once, as invalid, not also as unused.
    assert!(rule_hits(&report, "DDB901").is_empty());
}

/// Every way of writing a `reason` that says nothing, in YAML and in JSON: the entry is
/// DDB900 and the finding it names is still reported.
#[test]
fn a_reason_that_says_nothing_is_invalid_and_silences_nothing() {
    let yaml_reasons = [
        ("null", "null"),
        ("~", "null"),
        ("", "null"),
        ("\"\"", "empty"),
        ("\"   \"", "blank"),
        ("\"\\t\\n\"", "blank"),
        ("false", "boolean"),
        ("\"false\"", "boolean"),
        ("no", "boolean"),
        ("0", "number"),
        ("'0'", "number"),
        ("1.5e3", "number"),
        ("0x1F", "number"),
        ("0o17", "number"),
        ("1_000", "number"),
        ("1:20", "number"),
        ("-.inf", "number"),
        ("On", "boolean"),
        ("\"\\u200B\"", "blank"),
        ("\"\\uFEFF\\u200D \\u2060\"", "blank"),
        ("\"\\u3164\"", "blank"),
        ("\"\\u00AD\\u034F\"", "blank"),
        ("\"...\"", "no letter or digit"),
        ("[a, b]", "must be text"),
        ("!Ref Reason", "intrinsic"),
    ];
    for (reason, why) in yaml_reasons {
        let template = format!(
            "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: Delete\n    UpdateReplacePolicy: Retain\n    Metadata:\n      ddb-guard:\n        ignore:\n          - rule: DDB001\n            reason: {reason}\n"
        );
        let (code, report) = run(&template, &[]);
        assert_eq!(code, 1, "reason: {reason}");
        let invalid = rule_hits(&report, "DDB900");
        assert_eq!(invalid.len(), 1, "reason: {reason}: {report}");
        assert!(
            invalid[0].3.contains(why),
            "reason {reason}: {}",
            invalid[0].3
        );
        assert!(
            invalid[0].3.contains("silences nothing"),
            "{}",
            invalid[0].3
        );
        assert_eq!(rule_hits(&report, "DDB001").len(), 1, "reason: {reason}");
        assert_eq!(report["summary"]["suppressed"], 0, "reason: {reason}");
        assert_eq!(
            report["suppressed"],
            serde_json::json!([]),
            "reason: {reason}"
        );
    }
    let json_reasons = [
        "null",
        "false",
        "0",
        "\"\"",
        "\" \"",
        "\"\\u200b\\ufeff\"",
        "\"null\"",
    ];
    for reason in json_reasons {
        let template = format!(
            r#"{{"Resources": {{"T": {{"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Delete",
  "UpdateReplacePolicy": "Retain",
  "Metadata": {{"ddb-guard": {{"ignore": [{{"rule": "DDB001", "reason": {reason}}}]}}}}}}}}}}"#
        );
        let dir = tempfile::tempdir().expect("tempdir");
        write(dir.path(), "t.json", &template);
        let (code, report) = check_json(
            dir.path(),
            &["t.json", "--isolated", "--select", "DDB001,DDB9"],
        );
        assert_eq!(code, 1, "reason: {reason}");
        assert_eq!(rule_hits(&report, "DDB900").len(), 1, "reason: {reason}");
        assert_eq!(rule_hits(&report, "DDB001").len(), 1, "reason: {reason}");
        assert_eq!(report["summary"]["suppressed"], 0, "reason: {reason}");
    }
}

/// A real reason in any script, with invisible characters around it, still counts, and
/// JSON carries it as written (trimmed), never a null turned into text.
#[test]
fn a_reason_in_any_script_silences_and_json_keeps_it_as_text() {
    for (reason, expected) in [
        (
            "\"\\u200Bテーブルは毎回再作成\"",
            "\u{200B}テーブルは毎回再作成",
        ),
        (
            "\"rebuilt nightly (ticket 42)\"",
            "rebuilt nightly (ticket 42)",
        ),
        (
            "\"null is what we store here\"",
            "null is what we store here",
        ),
    ] {
        let template = format!(
            "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: Delete\n    UpdateReplacePolicy: Retain\n    Metadata:\n      ddb-guard:\n        ignore:\n          - rule: DDB001\n            reason: {reason}\n"
        );
        let (code, report) = run(&template, &[]);
        assert_eq!(code, 0, "reason {reason}: {report}");
        assert_eq!(report["suppressed"][0]["suppression"]["reason"], expected);
    }
}

/// `rule: null` names no rule: DDB900, not a rule called "null".
#[test]
fn a_null_rule_is_invalid_and_not_the_text_null() {
    let template = "\
Resources:
  T:
    Type: AWS::DynamoDB::Table
    DeletionPolicy: Delete
    UpdateReplacePolicy: Retain
    Metadata:
      ddb-guard:
        ignore:
          - {rule: null, reason: \"was needed\"}
";
    let (code, report) = run(template, &[]);
    assert_eq!(code, 1);
    let invalid = rule_hits(&report, "DDB900");
    assert_eq!(invalid.len(), 1, "{report}");
    assert!(!report.to_string().contains("`null`"), "{report}");
    assert_eq!(rule_hits(&report, "DDB001").len(), 1);
}

/// A `rule` that the loader reads as a number, boolean, null or intrinsic function is not a
/// string: DDB900 at the value, not DDB901's "not a rule", and the finding stays (exit 1). The
/// same text quoted is a string that names no rule: DDB901, and the finding still stays.
#[test]
fn a_rule_that_is_not_a_string_is_invalid_and_silences_nothing() {
    let yaml_rules = [
        "1",
        "true",
        "~",
        "0x1F",
        ".inf",
        "0o17",
        "1_000",
        "1:20",
        "yes",
        "!Ref R",
        "!Sub DDB001",
        "{\"Fn::If\": [C, DDB001, DDB002]}",
        "[DDB001]",
    ];
    for rule in yaml_rules {
        let template = format!(
            "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: Delete\n    UpdateReplacePolicy: Retain\n    Metadata:\n      ddb-guard:\n        ignore:\n          - rule: {rule}\n            reason: \"rebuilt on every deploy\"\n"
        );
        let (code, report) = run(&template, &[]);
        assert_eq!(code, 1, "rule: {rule}: {report}");
        let invalid = rule_hits(&report, "DDB900");
        assert_eq!(invalid.len(), 1, "rule: {rule}: {report}");
        assert_eq!((invalid[0].1, invalid[0].2), (9, 19), "rule: {rule}");
        assert!(invalid[0].3.contains("`rule`"), "{}", invalid[0].3);
        assert!(
            rule_hits(&report, "DDB901").is_empty(),
            "rule: {rule}: {report}"
        );
        assert_eq!(rule_hits(&report, "DDB001").len(), 1, "rule: {rule}");
        assert_eq!(report["summary"]["suppressed"], 0, "rule: {rule}");
        assert!(!report.to_string().contains("\"null\""), "{report}");
    }
    for rule in ["1", "true", "null", "1.5"] {
        let template = format!(
            r#"{{"Resources": {{"T": {{"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Delete",
  "UpdateReplacePolicy": "Retain",
  "Metadata": {{"ddb-guard": {{"ignore": [{{"rule": {rule}, "reason": "rebuilt"}}]}}}}}}}}}}"#
        );
        let dir = tempfile::tempdir().expect("tempdir");
        write(dir.path(), "t.json", &template);
        let (code, report) = check_json(
            dir.path(),
            &["t.json", "--isolated", "--select", "DDB001,DDB9"],
        );
        assert_eq!(code, 1, "rule: {rule}");
        assert_eq!(
            rule_hits(&report, "DDB900").len(),
            1,
            "rule: {rule}: {report}"
        );
        assert!(
            rule_hits(&report, "DDB901").is_empty(),
            "rule: {rule}: {report}"
        );
        assert_eq!(rule_hits(&report, "DDB001").len(), 1, "rule: {rule}");
        assert_eq!(report["summary"]["suppressed"], 0, "rule: {rule}");
    }
    // A Serverless service's resources are read by the same code.
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "serverless.yml",
        "service: s\nprovider:\n  name: aws\nresources:\n  Resources:\n    T:\n      Type: AWS::DynamoDB::Table\n      DeletionPolicy: Delete\n      UpdateReplacePolicy: Retain\n      Metadata:\n        ddb-guard:\n          ignore:\n            - rule: 1\n              reason: \"rebuilt\"\n",
    );
    let (code, report) = check_json(
        dir.path(),
        &["serverless.yml", "--isolated", "--select", "DDB001,DDB9"],
    );
    assert_eq!(code, 1, "{report}");
    let invalid = rule_hits(&report, "DDB900");
    assert_eq!(invalid.len(), 1, "{report}");
    assert_eq!((invalid[0].1, invalid[0].2), (13, 21));
    assert!(rule_hits(&report, "DDB901").is_empty(), "{report}");
    assert_eq!(rule_hits(&report, "DDB001").len(), 1, "{report}");
    for rule in ["\"1\"", "'true'", "!!str 0x1F"] {
        let template = format!(
            "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: Delete\n    UpdateReplacePolicy: Retain\n    Metadata:\n      ddb-guard:\n        ignore:\n          - rule: {rule}\n            reason: \"rebuilt on every deploy\"\n"
        );
        let (code, report) = run(&template, &[]);
        assert_eq!(code, 1, "rule: {rule}");
        assert!(
            rule_hits(&report, "DDB900").is_empty(),
            "rule: {rule}: {report}"
        );
        let unused = rule_hits(&report, "DDB901");
        assert_eq!(unused.len(), 1, "rule: {rule}: {report}");
        assert!(unused[0].3.contains("not a rule"), "{}", unused[0].3);
        assert_eq!(rule_hits(&report, "DDB001").len(), 1, "rule: {rule}");
    }
}

#[test]
fn a_malformed_suppression_is_an_error_and_silences_nothing() {
    let template = "\
Resources:
  T:
    Type: AWS::DynamoDB::Table
    DeletionPolicy: Delete
    UpdateReplacePolicy: Retain
    Metadata:
      ddb-guard:
        ignore:
          - {rule: DDB001, reson: \"typo\"}
";
    let (code, report) = run(template, &[]);
    assert_eq!(code, 1);
    let invalid = rule_hits(&report, "DDB900");
    assert_eq!(invalid.len(), 1);
    assert_eq!((invalid[0].1, invalid[0].2), (9, 28));
    assert!(
        invalid[0].3.contains("unknown key `reson`"),
        "{}",
        invalid[0].3
    );
    assert_eq!(rule_hits(&report, "DDB001").len(), 1);
}

#[test]
fn ignore_that_is_not_a_list_is_an_error() {
    let template = "\
Resources:
  T:
    Type: AWS::DynamoDB::Table
    DeletionPolicy: Retain
    UpdateReplacePolicy: Retain
    Metadata:
      ddb-guard:
        ignore: DDB001
";
    let (code, report) = run(template, &[]);
    assert_eq!(code, 1);
    assert_eq!(rule_hits(&report, "DDB900").len(), 1);
}

#[test]
fn a_suppression_that_silences_nothing_is_a_warning() {
    let template = "\
Resources:
  T:
    Type: AWS::DynamoDB::Table
    DeletionPolicy: Retain
    UpdateReplacePolicy: Retain
    Metadata:
      ddb-guard:
        ignore:
          - {rule: DDB001, reason: \"was needed during the migration\"}
          - {rule: DDB0002, reason: \"typo in the code\"}
";
    let (code, report) = run(template, &[]);
    assert_eq!(code, 0, "DDB901 is a warning");
    let unused = rule_hits(&report, "DDB901");
    assert_eq!(unused.len(), 2);
    assert!(unused[0].3.contains("silences nothing"), "{}", unused[0].3);
    assert!(
        unused[1].3.contains("`DDB0002`, which is not a rule"),
        "{}",
        unused[1].3
    );
    let help = common::findings(&report)[1]["help"].clone();
    assert!(
        help.as_str()
            .unwrap_or_default()
            .contains("did you mean `DDB002`"),
        "{help}"
    );
}

#[test]
fn a_suppression_of_a_rule_that_is_not_running_is_not_judged() {
    let (code, report) = run(SUPPRESSED, &["--ignore", "DDB001"]);
    assert_eq!(code, 0);
    assert!(common::findings(&report).is_empty());
    assert_eq!(report["summary"]["suppressed"], 0);
}

#[test]
fn the_audit_rules_cannot_be_suppressed_by_metadata() {
    let template = "\
Resources:
  T:
    Type: AWS::DynamoDB::Table
    DeletionPolicy: Retain
    UpdateReplacePolicy: Retain
    Metadata:
      ddb-guard:
        ignore:
          - {rule: DDB900, reason: \"audit noise\"}
";
    let (_, report) = run(template, &[]);
    let unused = rule_hits(&report, "DDB901");
    assert_eq!(unused.len(), 1);
    assert!(
        unused[0].3.contains("cannot be suppressed"),
        "{}",
        unused[0].3
    );
}

#[test]
fn suppressions_inside_for_each_fragments_apply_per_fragment() {
    let template = "\
Transform: AWS::LanguageExtensions
Resources:
  Fn::ForEach::Tenants:
    - Tenant
    - [A, B]
    - ${Tenant}Table:
        Type: AWS::DynamoDB::Table
        UpdateReplacePolicy: Retain
        Metadata:
          ddb-guard:
            ignore:
              - {rule: DDB001, reason: \"tenant tables are recreated from the event log\"}
";
    let (code, report) = run(template, &[]);
    assert_eq!(code, 0);
    assert_eq!(report["summary"]["suppressed"], 1);
}

#[test]
fn human_output_counts_suppressed_findings_and_lists_them_on_request() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "t.yaml", SUPPRESSED);
    let run = |extra: &[&str]| {
        let output = ddb_guard()
            .current_dir(dir.path())
            .args([
                "check",
                "t.yaml",
                "--isolated",
                "--select",
                "DDB001,DDB002,DDB9",
            ])
            .args(extra)
            .output()
            .expect("runs");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let quiet = run(&[]);
    assert!(!quiet.contains("DDB001"), "{quiet}");
    assert!(quiet.contains(", 1 suppressed in"), "{quiet}");
    let shown = run(&["--show-suppressed"]);
    insta::with_settings!({filters => vec![(r" in \d+\.\d+s", " in [elapsed]")]}, {
        insta::assert_snapshot!("show_suppressed", shown);
    });
}

/// In a stack set's inline `TemplateBody`, a suppression with a reason silences its rule and
/// is counted and listed like any other (it was dropped uncounted), placed in the file; one
/// whose reason says nothing silences nothing.
#[test]
fn suppressions_in_a_stack_set_body_are_counted_and_invalid_ones_silence_nothing() {
    let template = "\
Resources:
  Set:
    Type: AWS::CloudFormation::StackSet
    Properties:
      StackSetName: s
      TemplateBody: |
        Resources:
          T:
            Type: AWS::DynamoDB::Table
            Metadata:
              ddb-guard:
                ignore:
                  - {rule: DDB001, reason: \"scratch data, rebuilt on every deploy\"}
                  - {rule: DDB002, reason: \"\\u200b\"}
";
    let (code, json) = run(template, &[]);
    assert_eq!(code, 1, "{json}");
    assert_eq!(json["summary"]["suppressed"], 1, "{json}");
    let suppressed = &json["suppressed"][0];
    assert_eq!(suppressed["rule"], "DDB001", "{json}");
    assert_eq!(suppressed["suppression"]["line"], 13, "{json}");
    assert!(!rule_hits(&json, "DDB002").is_empty(), "{json}");
    assert!(!rule_hits(&json, "DDB900").is_empty(), "{json}");
}
