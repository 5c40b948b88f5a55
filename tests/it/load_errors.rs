//! Inputs CloudFormation rejects, or that could hurt the checker, get a clear error with
//! path, line and column, and never stop the other files.

use crate::common;

use common::{check_json, check_one, ddb_guard, write};

/// The first load error of checking `text` as `name`: (message, line, column).
fn load_error(name: &str, text: &[u8]) -> (String, u64, u64) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join(name), text).expect("write");
    let (code, report) = check_json(dir.path(), &[name]);
    assert_eq!(code, 2, "{report}");
    let error = &report["errors"][0];
    (
        error["message"].as_str().unwrap_or_default().to_string(),
        error["line"].as_u64().unwrap_or_default(),
        error["column"].as_u64().unwrap_or_default(),
    )
}

const TABLE: &str = "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n";

#[test]
fn invalid_utf8_points_at_the_byte() {
    let mut bytes = TABLE.as_bytes().to_vec();
    bytes.extend_from_slice(b"    X: caf\xe9\n");
    let (message, line, column) = load_error("t.yaml", &bytes);
    assert!(message.contains("not valid UTF-8"), "{message}");
    assert_eq!((line, column), (4, 11));
}

#[test]
fn aliases_and_anchors_are_rejected() {
    let (message, line, column) = load_error("t.yaml", format!("{TABLE}    A: &x 1\n").as_bytes());
    assert!(message.contains("anchors"), "{message}");
    assert_eq!((line, column), (4, 8));
    let (message, line, _) = load_error("t.yaml", format!("X: 1\n{TABLE}    A: *x\n").as_bytes());
    assert!(message.contains("aliases"), "{message}");
    assert_eq!(line, 5);
}

#[test]
fn merge_keys_are_rejected() {
    let (message, line, column) = load_error(
        "t.yaml",
        format!("{TABLE}    Properties:\n      <<: {{A: 1}}\n").as_bytes(),
    );
    assert!(message.contains("merge keys"), "{message}");
    assert_eq!((line, column), (5, 7));
}

#[test]
fn unsupported_core_tags_are_rejected() {
    for tag in ["binary", "omap", "pairs", "set", "timestamp"] {
        let (message, line, _) =
            load_error("t.yaml", format!("{TABLE}    A: !!{tag} x\n").as_bytes());
        assert!(message.contains(&format!("!!{tag}")), "{message}");
        assert_eq!(line, 4);
    }
}

#[test]
fn duplicate_keys_point_at_both() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "t.yaml",
        &format!("{TABLE}    DeletionPolicy: Retain\n    DeletionPolicy: Delete\n"),
    );
    let output = ddb_guard()
        .current_dir(dir.path())
        .args(["check", "t.yaml"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("duplicate mapping key `DeletionPolicy`"),
        "{text}"
    );
    assert!(
        text.contains("first defined here") && text.contains("defined again here"),
        "{text}"
    );
    let (_, line, column) = load_error(
        "t.json",
        br#"{"Resources": {"T": {"Type": "AWS::DynamoDB::Table", "Type": "x"}}}"#,
    );
    assert_eq!((line, column), (1, 54));
}

#[test]
fn deep_nesting_fails_fast_without_overflowing_the_stack() {
    let deep = format!(
        "{{\"Resources\": {{\"T\": {{\"Type\": \"AWS::DynamoDB::Table\", \"P\": {}}}}}}}",
        "[".repeat(200_000)
    );
    let (message, _, _) = load_error("t.json", deep.as_bytes());
    assert!(
        message.contains("nest") || message.contains("depth"),
        "{message}"
    );
    let yaml = format!("{TABLE}    P: {}\n", "[".repeat(200_000));
    let (message, _, _) = load_error("t.yaml", yaml.as_bytes());
    assert!(!message.is_empty());
    let block = format!(
        "{TABLE}    P:\n{}",
        (0..300)
            .map(|i| format!("{}- \n", "  ".repeat(i + 3)))
            .collect::<String>()
    );
    let (message, _, _) = load_error("t.yaml", block.as_bytes());
    assert!(message.contains("deeper than 128"), "{message}");
}

#[test]
fn more_than_one_yaml_document_is_rejected() {
    let (message, line, _) = load_error("t.yaml", format!("{TABLE}---\n{TABLE}").as_bytes());
    assert!(message.contains("more than one YAML document"), "{message}");
    assert_eq!(line, 4);
}

#[test]
fn bom_and_crlf_keep_positions_exact() {
    let text = "\u{feff}Resources:\r\n  T:\r\n    Type: AWS::DynamoDB::Table\r\n    DeletionPolicy: Delete\r\n";
    let (_, report) = check_one("t.yaml", text);
    let finding = common::findings(&report)
        .into_iter()
        .find(|f| f["rule"] == "DDB001")
        .expect("DDB001");
    assert_eq!(
        (finding["line"].as_u64(), finding["column"].as_u64()),
        (Some(4), Some(21))
    );
    assert_eq!(
        (finding["end_line"].as_u64(), finding["end_column"].as_u64()),
        (Some(4), Some(27))
    );
    let json = "\u{feff}{\"Resources\": {\"T\": {\"Type\": \"AWS::DynamoDB::Table\"}}}";
    let (_, report) = check_one("t.json", json);
    let finding = &report["findings"][0];
    assert_eq!(
        (finding["line"].as_u64(), finding["column"].as_u64()),
        (Some(1), Some(16))
    );
}

#[test]
fn invalid_json_is_an_error_with_position() {
    let (message, line, column) = load_error(
        "t.json",
        b"{\"Resources\": {\"T\": {\"Type\": \"AWS::DynamoDB::Table\",}}}",
    );
    assert!(message.contains("invalid JSON"), "{message}");
    assert_eq!((line, column), (1, 52), "at the trailing comma");
}

#[test]
fn resources_that_is_not_a_mapping_is_an_error_when_it_mentions_a_table() {
    let (message, line, _) = load_error("t.yaml", b"# AWS::DynamoDB::Table\nResources: [a, b]\n");
    assert!(message.contains("must be a mapping"), "{message}");
    assert_eq!(line, 2);
}
