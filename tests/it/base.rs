//! The pull-request guard end to end: real git repositories in temp dirs (commit, change,
//! commit), the real binary, `check --base REV` and `diff OLD NEW`.

use std::process::Command;

use assert_cmd::Command as Bin;
use serde_json::Value;

/// The same template as JSON, keys reordered, long-form intrinsics.
const ORDERS_JSON: &str = r#"{
  "Resources": {
    "OrdersTable": {
      "Type": "AWS::DynamoDB::Table",
      "UpdateReplacePolicy": "Retain",
      "DeletionPolicy": "Retain",
      "Properties": {
        "BillingMode": "PAY_PER_REQUEST",
        "TableName": {"Fn::Sub": "${AWS::StackName}-orders"},
        "AttributeDefinitions": [
          {"AttributeType": "S", "AttributeName": "id"},
          {"AttributeName": "customer", "AttributeType": "S"}
        ],
        "KeySchema": [{"KeyType": "HASH", "AttributeName": "id"}],
        "GlobalSecondaryIndexes": [
          {
            "IndexName": "byCustomer",
            "KeySchema": [{"AttributeName": "customer", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"}
          }
        ],
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": true},
        "DeletionProtectionEnabled": true
      }
    },
    "Queue": {"Type": "AWS::SQS::Queue"}
  },
  "AWSTemplateFormatVersion": "2010-09-09"
}
"#;

use crate::support;
use support::git_repo::*;

#[test]
fn removed_table_without_retain_is_an_error_next_to_where_it_was() {
    let repo = Repo::new();
    repo.write("stacks/orders.yaml", &without_policies(ORDERS));
    repo.commit("base");
    repo.write("stacks/orders.yaml", QUEUE_ONLY);
    assert_eq!(
        findings(repo.guard().args(["check", "--base", "main"]), 1),
        // The last line of `Queue`, which preceded the table: a line in the diff's context.
        vec![f("DDB020", "error", "stacks/orders.yaml", 4)]
    );
    let text = messages(repo.guard().args(["check", "--base", "main"]), 1);
    assert!(
        text[0].contains("`main:stacks/orders.yaml` line 5"),
        "{}",
        text[0]
    );
    assert!(text[0].contains("deletes the table and its data"));
}

#[test]
fn removed_table_with_retain_at_the_base_is_only_a_note() {
    let repo = Repo::new();
    repo.write("stacks/orders.yaml", ORDERS);
    repo.commit("base");
    repo.write("stacks/orders.yaml", QUEUE_ONLY);
    repo.commit("remove the table");
    assert_eq!(
        findings(repo.guard().args(["check", "--base", "HEAD~1"]), 0),
        vec![f("DDB020", "note", "stacks/orders.yaml", 4)]
    );
    let text = messages(repo.guard().args(["check", "--base", "HEAD~1"]), 0);
    assert!(text[0].contains("orphaned"), "{}", text[0]);
}

#[test]
fn retain_added_in_the_same_change_that_removes_the_table_is_too_late() {
    // Only the base policy counts: the head cannot retain what it no longer declares.
    let repo = Repo::new();
    repo.write("a.yaml", &without_policies(ORDERS));
    repo.commit("base");
    repo.write(
        "a.yaml",
        "Resources:\n  Other:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: Retain\n    UpdateReplacePolicy: Retain\n",
    );
    let found = findings(repo.guard().args(["check", "--base", "main"]), 1);
    assert!(
        found.contains(&f("DDB020", "error", "a.yaml", 1)),
        "{found:?}"
    );
}

#[test]
fn deleted_template_reports_each_table_at_its_base_line() {
    let repo = Repo::new();
    repo.write("stacks/orders.yaml", &without_policies(ORDERS));
    repo.write("stacks/queue.yaml", QUEUE_ONLY);
    repo.commit("base");
    repo.remove("stacks/orders.yaml");
    repo.commit("delete the stack");
    assert_eq!(
        findings(repo.guard().args(["check", "--base", "HEAD~1"]), 1),
        vec![f("DDB020", "error", "stacks/orders.yaml", 5)]
    );
    let text = messages(repo.guard().args(["check", "--base", "HEAD~1"]), 1);
    assert!(text[0].contains("template file was deleted"), "{}", text[0]);
}

#[test]
fn renamed_file_with_the_table_unchanged_is_not_a_finding() {
    let repo = Repo::new();
    repo.write("stacks/orders.yaml", ORDERS);
    repo.commit("base");
    repo.remove("stacks/orders.yaml");
    repo.write("services/orders/template.yaml", ORDERS);
    repo.commit("move");
    assert_eq!(
        findings(repo.guard().args(["check", "--base", "HEAD~1"]), 0),
        vec![]
    );
}

#[test]
fn file_moved_with_mv_and_not_yet_staged_is_not_a_finding() {
    let repo = Repo::new();
    repo.write("stacks/orders.yaml", ORDERS);
    repo.commit("base");
    std::fs::create_dir_all(repo.path().join("moved")).unwrap();
    std::fs::rename(
        repo.path().join("stacks/orders.yaml"),
        repo.path().join("moved/orders.yaml"),
    )
    .unwrap();
    assert_eq!(
        findings(repo.guard().args(["check", "--base", "main"]), 0),
        vec![]
    );
}

#[test]
fn yaml_converted_to_json_is_not_a_finding() {
    let repo = Repo::new();
    repo.write("stacks/orders.yaml", ORDERS);
    repo.commit("base");
    repo.remove("stacks/orders.yaml");
    repo.write("stacks/orders.json", ORDERS_JSON);
    repo.commit("convert to JSON");
    assert_eq!(
        findings(repo.guard().args(["check", "--base", "HEAD~1"]), 0),
        vec![]
    );
}

#[test]
fn yaml_converted_to_json_in_place_is_not_a_finding() {
    let repo = Repo::new();
    repo.write("stacks/orders.template", ORDERS);
    repo.commit("base");
    repo.write("stacks/orders.template", ORDERS_JSON);
    assert_eq!(
        findings(repo.guard().args(["check", "--base", "main"]), 0),
        vec![]
    );
}

#[test]
fn template_converted_and_moved_pairs_by_its_tables() {
    let repo = Repo::new();
    repo.write("stacks/orders.yaml", &without_policies(ORDERS));
    repo.commit("base");
    repo.remove("stacks/orders.yaml");
    repo.write("cfn/main.json", ORDERS_JSON);
    assert_eq!(
        findings(repo.guard().args(["check", "--base", "main"]), 0),
        vec![]
    );
}

#[test]
fn logical_id_rename_is_an_error_at_the_new_key() {
    let repo = Repo::new();
    repo.write("orders.yaml", ORDERS);
    repo.commit("base");
    repo.write(
        "orders.yaml",
        &ORDERS.replace("  OrdersTable:", "  OrdersTableV2:"),
    );
    assert_eq!(
        findings(repo.guard().args(["check", "--base", "main"]), 1),
        vec![f("DDB021", "error", "orders.yaml", 5)]
    );
    let text = messages(repo.guard().args(["check", "--base", "main"]), 1);
    assert!(
        text[0].contains("renamed to `OrdersTableV2`"),
        "{}",
        text[0]
    );
    assert!(text[0].contains("same TableName"), "{}", text[0]);
    assert!(text[0].contains("`main:orders.yaml` line 5"), "{}", text[0]);
}

#[test]
fn logical_id_rename_without_table_name_is_recognised_by_key_schema() {
    let repo = Repo::new();
    let base = ORDERS.replace("      TableName: !Sub '${AWS::StackName}-orders'\n", "");
    repo.write("orders.yaml", &base);
    repo.commit("base");
    repo.write("orders.yaml", &base.replace("  OrdersTable:", "  Orders:"));
    let text = messages(repo.guard().args(["check", "--base", "main"]), 1);
    assert_eq!(text.len(), 1);
    assert!(text[0].contains("same key schema"), "{}", text[0]);
}

#[test]
fn table_name_change_without_update_replace_retain_is_an_error() {
    let repo = Repo::new();
    let base = ORDERS.replace("    UpdateReplacePolicy: Retain\n", "");
    repo.write("orders.yaml", &base);
    repo.commit("base");
    repo.write(
        "orders.yaml",
        &base
            .replace(
                "    DeletionPolicy: Retain\n",
                "    DeletionPolicy: Retain\n    UpdateReplacePolicy: Retain\n",
            )
            .replace("-orders'", "-orders-v2'"),
    );
    // The head's new UpdateReplacePolicy does not help: the base one is deployed.
    assert_eq!(
        findings(repo.guard().args(["check", "--base", "main"]), 1),
        vec![f("DDB022", "error", "orders.yaml", 10)]
    );
}

#[test]
fn table_name_change_with_update_replace_retain_is_a_warning() {
    let repo = Repo::new();
    repo.write("orders.yaml", ORDERS);
    repo.commit("base");
    repo.write("orders.yaml", &ORDERS.replace("-orders'", "-orders-v2'"));
    assert_eq!(
        findings(repo.guard().args(["check", "--base", "main"]), 0),
        vec![f("DDB022", "warning", "orders.yaml", 10)]
    );
}

#[test]
fn key_schema_change_is_an_error_at_the_key_schema() {
    let repo = Repo::new();
    let base = without_policies(ORDERS);
    repo.write("orders.yaml", &base);
    repo.commit("base");
    repo.write(
        "orders.yaml",
        &base.replace(
            "        - AttributeName: id\n          KeyType: HASH\n",
            "        - AttributeName: customer\n          KeyType: HASH\n",
        ),
    );
    let found = findings(repo.guard().args(["check", "--base", "main"]), 1);
    assert!(
        found.contains(&f("DDB022", "error", "orders.yaml", 10)),
        "{found:?}"
    );
    let text = messages(repo.guard().args(["check", "--base", "main"]), 1);
    let replaced = text.iter().find(|m| m.contains("is replaced")).unwrap();
    assert!(
        replaced.contains("`KeySchema` is `[{AttributeName: id, KeyType: HASH}]` at the base and `[{AttributeName: customer, KeyType: HASH}]` at the head (base at `main:orders.yaml` line 10)"),
        "{replaced}"
    );
}

#[test]
fn key_attribute_type_change_is_a_replacement() {
    let repo = Repo::new();
    repo.write("orders.yaml", ORDERS);
    repo.commit("base");
    repo.write(
        "orders.yaml",
        &ORDERS.replacen(
            "AttributeName: id\n          AttributeType: S",
            "AttributeName: id\n          AttributeType: N",
            1,
        ),
    );
    assert_eq!(
        findings(repo.guard().args(["check", "--base", "main"]), 0),
        vec![f("DDB022", "warning", "orders.yaml", 17)]
    );
}

#[test]
fn global_secondary_index_change_is_not_a_finding() {
    let repo = Repo::new();
    repo.write("orders.yaml", ORDERS);
    repo.commit("base");
    let head = ORDERS
        .replace("IndexName: byCustomer", "IndexName: byCustomerV2")
        .replace("ProjectionType: ALL", "ProjectionType: KEYS_ONLY")
        // A global index's key attribute is not a table key: no replacement.
        .replace(
            "AttributeName: customer\n          AttributeType: S",
            "AttributeName: customer\n          AttributeType: N",
        );
    for edited in ["byCustomerV2", "KEYS_ONLY", "AttributeType: N"] {
        assert!(
            head.contains(edited),
            "the test edit `{edited}` did not apply"
        );
    }
    repo.write("orders.yaml", &head);
    assert_eq!(
        findings(repo.guard().args(["check", "--base", "main"]), 0),
        vec![]
    );
}

#[test]
fn local_secondary_index_added_is_a_replacement() {
    let repo = Repo::new();
    repo.write("orders.yaml", ORDERS);
    repo.commit("base");
    let lsi = "      LocalSecondaryIndexes:\n        - IndexName: byDate\n          KeySchema:\n            - AttributeName: id\n              KeyType: HASH\n          Projection:\n            ProjectionType: ALL\n";
    repo.write("orders.yaml", &format!("{ORDERS}{lsi}"));
    let found = findings(repo.guard().args(["check", "--base", "main"]), 0);
    assert_eq!(found, vec![f("DDB022", "warning", "orders.yaml", 30)]);
}

#[test]
fn changes_on_the_base_branch_after_the_fork_are_not_the_pull_requests() {
    // main gains a table after the feature branch forked; the branch does not have it,
    // and that is not a removal: the comparison is with the merge base.
    let repo = Repo::new();
    repo.write("queue.yaml", QUEUE_ONLY);
    repo.commit("base");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("notes.yaml", "a: 1\n");
    repo.commit("feature work");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("orders.yaml", &without_policies(ORDERS));
    repo.commit("new table on main");
    repo.git(&["checkout", "-q", "feature"]);
    assert_eq!(
        findings(repo.guard().args(["check", "--base", "main"]), 0),
        vec![]
    );
}

#[test]
fn paths_are_relative_to_the_current_directory() {
    let repo = Repo::new();
    repo.write("infra/stacks/orders.yaml", &without_policies(ORDERS));
    repo.write("other/orders.yaml", &without_policies(ORDERS));
    repo.commit("base");
    repo.write("infra/stacks/orders.yaml", QUEUE_ONLY);
    repo.remove("other/orders.yaml");
    // From a subdirectory, only what is under it, spelled from there.
    assert_eq!(
        findings(repo.guard_in("infra").args(["check", "--base", "main"]), 1),
        vec![f("DDB020", "error", "stacks/orders.yaml", 4)]
    );
    // An explicit path keeps its spelling, as the walk prints it.
    assert_eq!(
        findings(
            repo.guard_in("infra")
                .args(["check", "--base", "main", "./stacks"]),
            1
        ),
        vec![f("DDB020", "error", "./stacks/orders.yaml", 4)]
    );
    assert_eq!(
        findings(
            repo.guard_in("infra")
                .args(["check", "--base", "main", "../other"]),
            1
        ),
        vec![f("DDB020", "error", "../other/orders.yaml", 5)]
    );
}

#[test]
fn base_version_that_does_not_load_is_an_error_not_a_pass() {
    let repo = Repo::new();
    repo.write(
        "orders.yaml",
        "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Type: AWS::DynamoDB::Table\n",
    );
    repo.commit("base");
    repo.write("orders.yaml", QUEUE_ONLY);
    let out = repo
        .guard()
        .args(["check", "--base", "main", "--format", "json"])
        .assert()
        .code(2);
    let json: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let message = json["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("cannot compare with the base version `main:orders.yaml`")
            && message.contains("line 4"),
        "{message}"
    );
}

#[test]
fn outside_a_git_repository_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("orders.yaml"), ORDERS).unwrap();
    let mut bin = Bin::cargo_bin("ddb-guard").unwrap();
    isolated_bin(&mut bin, dir.path());
    bin.current_dir(dir.path())
        .args(["check", "--base", "main"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicates::str::contains("`--base` needs a git repository"))
        .stderr(predicates::str::contains("ddb-guard diff OLD NEW"));
}

#[test]
fn unknown_revision_is_a_clear_error() {
    let repo = Repo::new();
    repo.write("orders.yaml", ORDERS);
    repo.commit("base");
    repo.guard()
        .args(["check", "--base", "no-such-branch"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicates::str::contains(
            "unknown revision `no-such-branch`",
        ))
        .stderr(predicates::str::contains("fetch-depth: 0"));
}

#[test]
fn revision_that_looks_like_an_option_is_not_taken_as_one() {
    let repo = Repo::new();
    repo.write("orders.yaml", ORDERS);
    repo.commit("base");
    repo.guard()
        .args(["check", "--base=--output=x"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("unknown revision"));
    assert!(!repo.path().join("x").exists());
}

#[test]
fn head_rules_still_run_with_a_base() {
    let repo = Repo::new();
    repo.write("queue.yaml", QUEUE_ONLY);
    repo.commit("base");
    repo.write("orders.yaml", &without_policies(ORDERS));
    let found = findings(repo.guard().args(["check", "--base", "main"]), 1);
    let rules: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(rules, vec!["DDB001", "DDB002"]);
}

#[test]
fn diff_of_two_files_reports_a_renamed_table() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("old.yaml"), ORDERS).unwrap();
    std::fs::write(
        dir.path().join("new.yaml"),
        ORDERS.replace("  OrdersTable:", "  Orders:"),
    )
    .unwrap();
    let mut bin = Bin::cargo_bin("ddb-guard").unwrap();
    bin.current_dir(dir.path())
        .args(["diff", "old.yaml", "new.yaml"]);
    assert_eq!(
        findings(&mut bin, 1),
        vec![f("DDB021", "error", "new.yaml", 5)]
    );
    let mut bin = Bin::cargo_bin("ddb-guard").unwrap();
    bin.current_dir(dir.path())
        .args(["diff", "old.yaml", "new.yaml"]);
    assert!(messages(&mut bin, 1)[0].contains("`old.yaml` line 5"));
}

#[test]
fn diff_of_two_directories_pairs_by_relative_path() {
    let dir = tempfile::tempdir().unwrap();
    let write = |p: &str, t: &str| {
        let full = dir.path().join(p);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, t).unwrap();
    };
    write("old/a/orders.yaml", ORDERS);
    write(
        "new/a/orders.yaml",
        &ORDERS.replace("-orders'", "-orders-v2'"),
    );
    write("old/sessions.yaml", &without_policies(ORDERS));
    write("old/converted.yaml", ORDERS);
    write("new/converted.json", ORDERS_JSON);
    let mut bin = Bin::cargo_bin("ddb-guard").unwrap();
    bin.current_dir(dir.path()).args(["diff", "old", "new"]);
    assert_eq!(
        findings(&mut bin, 1),
        vec![
            f("DDB022", "warning", "new/a/orders.yaml", 10),
            f("DDB020", "error", "old/sessions.yaml", 5),
        ]
    );
}

#[test]
fn diff_of_a_file_and_a_directory_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.yaml"), ORDERS).unwrap();
    std::fs::create_dir(dir.path().join("d")).unwrap();
    Bin::cargo_bin("ddb-guard")
        .unwrap()
        .current_dir(dir.path())
        .args(["diff", "a.yaml", "d"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "OLD and NEW must both be files or both be directories",
        ));
    Bin::cargo_bin("ddb-guard")
        .unwrap()
        .current_dir(dir.path())
        .args(["diff", "missing.yaml", "a.yaml"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "missing.yaml: no such file or directory",
        ));
}

/// The human report, without the run time.
fn human(bin: &mut Bin, expected_exit: i32) -> String {
    let out = bin.args(["--color", "never"]).assert().code(expected_exit);
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    match text.rfind(" in ") {
        Some(i) if text[i..].trim_end().ends_with('s') => format!("{}\n", &text[..i]),
        _ => text,
    }
}

#[test]
fn human_output_of_a_pull_request_that_loses_tables() {
    let repo = Repo::new();
    repo.write("stacks/orders.yaml", ORDERS);
    repo.write(
        "stacks/sessions.yaml",
        &without_policies(ORDERS)
            .replace("OrdersTable", "SessionsTable")
            .replace("orders", "sessions"),
    );
    let topic = "  Topic:\n    Type: AWS::SNS::Topic\n";
    repo.write(
        "stacks/audit.yaml",
        &format!("Resources:\n  AuditTable:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      BillingMode: PAY_PER_REQUEST\n{topic}"),
    );
    repo.commit("base");
    repo.write(
        "stacks/orders.yaml",
        &ORDERS.replace("  OrdersTable:", "  Orders:"),
    );
    repo.remove("stacks/sessions.yaml");
    repo.write("stacks/audit.yaml", &format!("Resources:\n{topic}"));
    insta::assert_snapshot!(human(repo.guard().args(["check", "--base", "main"]), 1));
    let out = repo
        .guard()
        .args(["check", "--base", "main", "--format", "json"])
        .assert()
        .code(1);
    insta::assert_snapshot!(
        "json_output_of_a_pull_request_that_loses_tables",
        String::from_utf8_lossy(&out.get_output().stdout)
    );
}

#[test]
fn deleted_template_named_on_the_command_line_is_reported_not_missing() {
    let repo = Repo::new();
    repo.write("stacks/orders.yaml", &without_policies(ORDERS));
    repo.commit("base");
    repo.remove("stacks/orders.yaml");
    let out = repo
        .guard()
        .args([
            "check",
            "--base",
            "main",
            "stacks/orders.yaml",
            "--format",
            "json",
        ])
        .assert()
        .code(1);
    let json: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(json["errors"].as_array().map(Vec::len), Some(0), "{json}");
    assert_eq!(json["findings"][0]["rule"], "DDB020");
    assert_eq!(json["findings"][0]["path"], "stacks/orders.yaml");
}

#[test]
fn a_full_commit_id_as_base_is_named_by_its_short_form() {
    let repo = Repo::new();
    repo.write("orders.yaml", &without_policies(ORDERS));
    repo.commit("base");
    let sha = String::from_utf8(
        isolated(Command::new("git"), repo.path())
            .current_dir(repo.path())
            .args(["rev-parse", "HEAD"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .to_string();
    repo.write("orders.yaml", QUEUE_ONLY);
    let text = messages(repo.guard().args(["check", "--base", &sha]), 1);
    assert!(
        text[0].contains(&format!("`{}:orders.yaml` line 5", &sha[..12])),
        "{}",
        text[0]
    );
}

#[test]
fn base_version_over_the_size_limit_is_an_error_not_a_pass() {
    let repo = Repo::new();
    let padding = format!("# {}\n", "x".repeat(4096));
    repo.write("orders.yaml", &format!("{padding}{ORDERS}"));
    repo.commit("base");
    repo.write("orders.yaml", QUEUE_ONLY);
    let out = repo
        .guard()
        .args([
            "check",
            "--base",
            "main",
            "--max-file-size",
            "1K",
            "--format",
            "json",
        ])
        .assert()
        .code(2);
    let json: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let message = json["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("larger than the 1024 byte limit"),
        "{message}"
    );
}

#[test]
fn diff_takes_exactly_old_and_new() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.yaml"), ORDERS).unwrap();
    Bin::cargo_bin("ddb-guard")
        .unwrap()
        .current_dir(dir.path())
        .args(["diff", "a.yaml", "a.yaml", "a.yaml"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("compares exactly OLD and NEW"));
}

#[test]
fn table_that_gains_a_condition_that_can_be_false_is_removed_where_it_is_false() {
    let repo = Repo::new();
    let base = format!(
        "Parameters:\n  Env:\n    Type: String\n    AllowedValues: [dev, prod]\nConditions:\n  IsProd: !Equals [!Ref Env, prod]\n{}",
        without_policies(ORDERS).replace("AWSTemplateFormatVersion: '2010-09-09'\n", "")
    );
    repo.write("orders.yaml", &base);
    repo.commit("base");
    let head = base.replace(
        "    Type: AWS::DynamoDB::Table\n",
        "    Type: AWS::DynamoDB::Table\n    Condition: IsProd\n",
    );
    assert_ne!(head, base);
    repo.write("orders.yaml", &head);
    let found = findings(repo.guard().args(["check", "--base", "main"]), 1);
    assert!(
        found.contains(&f("DDB020", "error", "orders.yaml", 12)),
        "{found:?}"
    );
    let text = messages(repo.guard().args(["check", "--base", "main"]), 1);
    assert!(
        text.iter()
            .any(|m| m.contains("now exists only when condition `IsProd` is true")),
        "{text:?}"
    );
    // Deployed with the same condition already: nothing changes.
    repo.commit("conditional table");
    assert_eq!(
        findings(repo.guard().args(["check", "--base", "HEAD"]), 1)
            .iter()
            .filter(|f| f.0 == "DDB020")
            .count(),
        0
    );
}

#[test]
fn item_removed_from_a_for_each_collection_removes_that_copy_of_the_table() {
    let repo = Repo::new();
    let template = |tenants: &str| {
        format!(
            "Transform: AWS::LanguageExtensions\nResources:\n  Fn::ForEach::Tenants:\n    - Tenant\n    - [{tenants}]\n    - ${{Tenant}}Table:\n        Type: AWS::DynamoDB::Table\n        Properties:\n          KeySchema:\n            - AttributeName: id\n              KeyType: HASH\n"
        )
    };
    repo.write("tenants.yaml", &template("acme, globex, initech"));
    repo.commit("base");
    repo.write("tenants.yaml", &template("acme, initech"));
    let found: Vec<_> = findings(repo.guard().args(["check", "--base", "main"]), 1)
        .into_iter()
        .filter(|f| f.0 == "DDB020")
        .collect();
    assert_eq!(found, vec![f("DDB020", "error", "tenants.yaml", 5)]);
    let text = messages(repo.guard().args(["check", "--base", "main"]), 1);
    assert!(
        text.iter()
            .any(|m| m.contains("for `Tenant` = `globex` were removed")),
        "{text:?}"
    );
    // Adding a tenant removes nothing.
    repo.write("tenants.yaml", &template("acme, globex, initech, umbrella"));
    assert!(findings(repo.guard().args(["check", "--base", "main"]), 1)
        .iter()
        .all(|f| f.0 != "DDB020"));
}

#[test]
fn paths_with_spaces_and_non_ascii_characters_survive_git() {
    let repo = Repo::new();
    repo.write("my stacks/commandes é.yaml", &without_policies(ORDERS));
    repo.write("my stacks/keep.yaml", ORDERS);
    repo.commit("base");
    repo.remove("my stacks/commandes é.yaml");
    repo.write("my stacks/keep.yaml", &ORDERS.replace("Queue:", "Queue2:"));
    assert_eq!(
        findings(repo.guard().args(["check", "--base", "main"]), 1),
        vec![f("DDB020", "error", "my stacks/commandes é.yaml", 5)]
    );
}

#[test]
fn removed_table_points_at_the_next_resource_that_is_still_there() {
    let repo = Repo::new();
    let base = format!(
        "{}  Topic:\n    Type: AWS::SNS::Topic\n",
        without_policies(ORDERS)
    );
    repo.write("orders.yaml", &base);
    repo.commit("base");
    repo.write(
        "orders.yaml",
        &format!("{QUEUE_ONLY}  Topic:\n    Type: AWS::SNS::Topic\n"),
    );
    assert_eq!(
        findings(repo.guard().args(["check", "--base", "main"]), 1),
        vec![f("DDB020", "error", "orders.yaml", 5)]
    );
}

#[test]
fn removed_table_with_nothing_left_around_it_points_at_resources() {
    let repo = Repo::new();
    repo.write("orders.yaml", &without_policies(ORDERS));
    repo.commit("base");
    repo.write(
        "orders.yaml",
        "Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n",
    );
    assert_eq!(
        findings(repo.guard().args(["check", "--base", "main"]), 1),
        vec![f("DDB020", "error", "orders.yaml", 1)]
    );
}

#[test]
fn tables_with_different_names_are_not_a_rename_even_with_the_same_key_schema() {
    let repo = Repo::new();
    repo.write("orders.yaml", ORDERS);
    repo.commit("base");
    repo.write(
        "orders.yaml",
        &ORDERS
            .replace("  OrdersTable:", "  InvoicesTable:")
            .replace("-orders'", "-invoices'"),
    );
    // The retained table is orphaned (a note) and a new table appears: not DDB021.
    let found = findings(repo.guard().args(["check", "--base", "main"]), 0);
    assert!(found.iter().all(|f| f.0 != "DDB021"), "{found:?}");
    assert!(
        found.iter().any(|f| f.0 == "DDB020" && f.1 == "note"),
        "{found:?}"
    );
}

#[test]
fn simple_table_primary_key_change_is_a_replacement() {
    let repo = Repo::new();
    let template = |key: &str| {
        format!(
            "Transform: AWS::Serverless-2016-10-31\nResources:\n  Sessions:\n    Type: AWS::Serverless::SimpleTable\n    DeletionPolicy: Retain\n    UpdateReplacePolicy: Retain\n    Properties:\n      PrimaryKey:\n        Name: {key}\n        Type: String\n"
        )
    };
    repo.write("template.yaml", &template("id"));
    repo.commit("base");
    repo.write("template.yaml", &template("sessionId"));
    let found = findings(repo.guard().args(["check", "--base", "main"]), 0);
    assert!(
        found.contains(&f("DDB022", "warning", "template.yaml", 8)),
        "{found:?}"
    );
}

#[test]
fn shallow_clone_without_a_merge_base_compares_with_the_base_itself_and_says_so() {
    let origin = Repo::new();
    origin.write("orders.yaml", &without_policies(ORDERS));
    origin.commit("base");
    origin.git(&["checkout", "-q", "-b", "feature"]);
    origin.write("orders.yaml", QUEUE_ONLY);
    origin.commit("drop the table");
    // What CI does: the head alone, then the base commit alone.
    let url = format!("file://{}", origin.path().display());
    let clone = Repo {
        dir: tempfile::tempdir().unwrap(),
    };
    clone.git(&[
        "clone", "-q", "--depth", "1", "--branch", "feature", &url, ".",
    ]);
    clone.git(&[
        "fetch",
        "-q",
        "--depth",
        "1",
        "origin",
        "main:refs/remotes/origin/main",
    ]);
    let out = clone
        .guard()
        .args(["check", "--base", "origin/main", "--format", "json"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("no merge base"));
    let json: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(json["findings"][0]["rule"], "DDB020", "{json}");
}

#[test]
fn hidden_templates_are_compared_only_when_the_walk_would_check_them() {
    let repo = Repo::new();
    repo.write(".build/orders.yaml", &without_policies(ORDERS));
    repo.commit("base");
    repo.remove(".build/orders.yaml");
    assert_eq!(
        findings(
            repo.guard()
                .args(["check", "--base", "main", "--allow-no-templates"]),
            0
        ),
        vec![]
    );
    assert_eq!(
        findings(
            repo.guard().args(["check", "--base", "main", "--hidden"]),
            1
        ),
        vec![f("DDB020", "error", ".build/orders.yaml", 5)]
    );
    assert_eq!(
        findings(repo.guard().args(["check", "--base", "main", ".build"]), 1),
        vec![f("DDB020", "error", ".build/orders.yaml", 5)]
    );
}
