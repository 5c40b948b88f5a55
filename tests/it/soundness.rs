//! The proof cannot be fooled (issue 16): each class of template that once passed with a
//! deletable table (or, for a table's own `Condition`, failed with none), through the real
//! binary on the templates in `tests/fixtures/soundness/`.

use crate::common;

use std::path::Path;

use common::{check_json, findings};
use serde_json::Value;

/// (rule, resource, message) of every finding in the fixture `name`, and the exit code.
fn check(name: &str) -> (i32, Vec<(String, String, String)>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/soundness");
    let (code, report) = check_json(&dir, &[name]);
    assert!(
        report["errors"].as_array().is_none_or(Vec::is_empty),
        "{name} loads: {}",
        report["errors"]
    );
    let hits = findings(&report)
        .iter()
        .map(|f: &Value| {
            (
                f["rule"].as_str().unwrap_or_default().to_string(),
                f["resource"].as_str().unwrap_or_default().to_string(),
                f["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    (code, hits)
}

/// The messages of `rule` about `resource`.
fn messages(hits: &[(String, String, String)], rule: &str, resource: &str) -> Vec<String> {
    hits.iter()
        .filter(|(r, res, _)| r == rule && res == resource)
        .map(|(_, _, m)| m.clone())
        .collect()
}

fn one(hits: &[(String, String, String)], rule: &str, resource: &str) -> String {
    let found = messages(hits, rule, resource);
    assert_eq!(found.len(), 1, "one {rule} on {resource}: {hits:#?}");
    found[0].clone()
}

fn none(hits: &[(String, String, String)], rule: &str, resource: &str) {
    let found = messages(hits, rule, resource);
    assert!(found.is_empty(), "no {rule} on {resource}: {found:#?}");
}

// ---------------------------------------------------------------------------------------
// 1. SSM parameter types

#[test]
fn ssm_parameter_in_deletion_policy_is_unknown_whatever_its_allowed_values() {
    let (code, hits) = check("ssm_deletion_policy.yaml");
    assert_eq!(code, 1);
    let m = one(&hits, "DDB001", "Orders");
    assert!(m.contains("cannot be proven `Retain`"), "{m}");
    assert!(m.contains("parameter `PolicyName`"), "{m}");
    assert!(m.contains("AWS::SSM::Parameter::Value<String>"), "{m}");
    assert!(
        m.contains("constrain only the parameter's name"),
        "the message says why: {m}"
    );
}

#[test]
fn ssm_parameter_in_a_condition_keeps_both_branches() {
    let (_, hits) = check("ssm_condition.yaml");
    let m = one(&hits, "DDB001", "Orders");
    assert!(
        m.contains("`Delete` when condition `IsProd` is false"),
        "{m}"
    );
}

#[test]
fn ssm_parameter_as_a_mapping_key_can_select_any_entry() {
    let (_, hits) = check("ssm_mapping_key.yaml");
    let m = one(&hits, "DDB001", "Orders");
    assert!(m.contains("`Delete`"), "{m}");
}

#[test]
fn ssm_list_parameter_as_a_for_each_collection_is_unknown_with_its_reason() {
    let (_, hits) = check("ssm_for_each.yaml");
    let m = one(&hits, "DDB001", "${Env}Orders");
    assert!(m.contains("`Delete`"), "the `dev` entry is a case: {m}");
    let (_, hits) = check("ssm_commadelimited_for_each.yaml");
    let m = one(&hits, "DDB001", "${Env}Orders");
    assert!(m.contains("cannot be proven `Retain`"), "{m}");
    assert!(m.contains("Systems Manager"), "{m}");
}

#[test]
fn ssm_parameter_as_an_iam_resource_or_action_can_be_anything() {
    let (_, hits) = check("ssm_iam.yaml");
    let m = one(&hits, "DDB010", "ResourceRole");
    assert!(
        m.contains("on a resource chosen by parameter `Target`"),
        "{m}"
    );
    let m = one(&hits, "DDB010", "ActionRole");
    assert!(m.contains("may allow `dynamodb:DeleteTable`"), "{m}");
}

// ---------------------------------------------------------------------------------------
// 2. Fn::FindInMap DefaultValue

#[test]
fn find_in_map_default_is_a_case_for_a_region_without_an_entry() {
    let (code, hits) = check("find_in_map_default_region.yaml");
    assert_eq!(code, 1);
    let m = one(&hits, "DDB001", "Orders");
    assert!(m.contains("`Delete`"), "{m}");
}

#[test]
fn find_in_map_default_is_a_case_for_keys_without_an_entry() {
    let (_, hits) = check("find_in_map_default_parameter.yaml");
    let m = one(&hits, "DDB001", "ByEnv");
    assert!(
        m.contains("`Delete` when parameter `Env` is `staging`"),
        "{m}"
    );
    let m = one(&hits, "DDB002", "ByFree");
    assert!(m.contains("`Delete`"), "{m}");
    let m = one(&hits, "DDB001", "SecondKey");
    assert!(m.contains("`Delete`"), "{m}");
    none(&hits, "DDB001", "Proven");
    none(&hits, "DDB002", "Proven");
}

// ---------------------------------------------------------------------------------------
// 3. YAML 1.1 scalars in comparisons

#[test]
fn yaml_typed_scalars_never_prune_a_branch() {
    let (_, hits) = check("yaml11_equals.yaml");
    for table in [
        "TitleCaseTable",
        "YesTable",
        "OnTable",
        "FloatTable",
        "OctalTable",
        "TypedTable",
    ] {
        let m = one(&hits, "DDB001", table);
        assert!(m.contains("`Delete`"), "{table}: {m}");
    }
    // Plain `true` and canonical integers compare as written: the comparison is settled.
    none(&hits, "DDB001", "LowerTable");
    none(&hits, "DDB001", "IntTable");
}

#[test]
fn json_numbers_other_than_integers_are_not_settled_either() {
    let (_, hits) = check("yaml11_equals.json");
    for table in ["FloatTable", "ExpTable"] {
        let m = one(&hits, "DDB001", table);
        assert!(m.contains("`Delete`"), "{table}: {m}");
    }
    none(&hits, "DDB001", "BoolTable");
}

// ---------------------------------------------------------------------------------------
// 4. The resource's own Condition

#[test]
fn a_branch_taken_only_when_the_table_does_not_exist_is_no_finding() {
    let (_, hits) = check("own_condition.yaml");
    for rule in ["DDB001", "DDB002", "DDB003", "DDB004"] {
        none(&hits, rule, "ProdOnly");
    }
    none(&hits, "DDB001", "ProdInRegion");
    none(&hits, "DDB001", "ByParameter");
    let m = one(&hits, "DDB001", "OtherCondition");
    assert!(
        m.contains("`Delete` when condition `IsProd` is false"),
        "{m}"
    );
    none(&hits, "DDB010", "ProdPolicy");
}

// ---------------------------------------------------------------------------------------
// 5. IAM actions built with Fn::Sub / Fn::Join

#[test]
fn an_action_with_another_services_prefix_never_matches() {
    let (_, hits) = check("iam_action_parts.yaml");
    for rule in ["DDB010", "DDB011", "DDB012"] {
        none(&hits, rule, "LoadBalancerRole");
    }
}

#[test]
fn a_dynamodb_prefix_matches_only_dynamodb_actions() {
    let (_, hits) = check("iam_action_parts.yaml");
    let m = one(&hits, "DDB010", "DynamoRole");
    assert!(m.contains("may allow `dynamodb:DeleteTable` on `*`"), "{m}");
    let m = one(&hits, "DDB011", "DynamoRole");
    assert!(m.contains("`dynamodb:DeleteBackup`"), "{m}");
    assert!(
        !m.contains("backup:"),
        "a dynamodb: action is no backup: grant: {m}"
    );
    let m = one(&hits, "DDB010", "JoinedRole");
    assert!(
        m.contains("may allow `dynamodb:DeleteTable` on a resource chosen by parameter `Target`"),
        "{m}"
    );
}

// ---------------------------------------------------------------------------------------
// 6. IAM Effect is case-sensitive

#[test]
fn an_effect_in_the_wrong_case_is_an_invalid_policy_not_an_allow() {
    // Reported at DDB010's severity: were IAM to accept the effect, it would be a grant.
    let (_, hits) = check("iam_effect_case.yaml");
    for (resource, effect) in [("LowerCase", "allow"), ("UpperCase", "ALLOW")] {
        let m = one(&hits, "DDB010", resource);
        assert!(
            m.contains(&format!("is invalid: `Effect` is `{effect}`")),
            "{m}"
        );
        assert!(!m.contains("allows"), "never reported as an allow: {m}");
        none(&hits, "DDB011", resource);
    }
}

// ---------------------------------------------------------------------------------------
// Typed unknowns: no string a template spells is taken for one

#[test]
fn control_characters_in_a_template_are_text_not_unknowns_or_this_table() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/soundness");
    let output = common::ddb_guard()
        .current_dir(&dir)
        .args([
            "check",
            "control_characters.json",
            "--select",
            "DDB005,DDB010",
        ])
        .args(["--format", "json"])
        .output()
        .expect("runs");
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON report");
    let hits: Vec<(String, String, String)> = findings(&report)
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default().to_string(),
                f["resource"].as_str().unwrap_or_default().to_string(),
                f["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    // `arn:\u0002:dynamodb:\u0003:\u0004:table/\u0005` once spelled the markers of "this
    // stack's table": it names no table of this stack.
    let m = one(&hits, "DDB005", "Orders");
    assert!(!m.is_empty());
    // A `Deny` on text that spells the old unknown-segment marker takes nothing back.
    let m = one(&hits, "DDB010", "Role");
    assert!(m.contains("allows `dynamodb:DeleteTable`"), "{m}");
}

// ---------------------------------------------------------------------------------------
// 7. More grant channels for DDB010-DDB012

#[test]
fn a_table_resource_policy_allowing_delete_table_is_a_grant() {
    let (_, hits) = check("grant_channels.yaml");
    let m = one(&hits, "DDB010", "Orders");
    assert!(m.contains("`Orders (resource policy)`"), "{m}");
    // A resource policy that denies it grants nothing.
    none(&hits, "DDB010", "Guarded");
    let (_, hits) = check("global_table_replica_policy.yaml");
    let m = one(&hits, "DDB010", "Global");
    assert!(m.contains("resource policy in us-east-1"), "{m}");
}

#[test]
fn a_permission_set_inline_policy_and_managed_policies_are_grants() {
    let (_, hits) = check("grant_channels.yaml");
    let m = one(&hits, "DDB010", "Admins");
    assert!(m.contains("`dynamodb:DeleteTable`"), "{m}");
    let m = one(&hits, "DDB010", "Operators");
    assert!(m.contains("AWS managed policy `PowerUserAccess`"), "{m}");
}

#[test]
fn aws_managed_policies_by_arn_name_or_parameter_are_grants() {
    let (_, hits) = check("grant_channels.yaml");
    let found = messages(&hits, "DDB010", "AdminRole");
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(found
        .iter()
        .any(|m| m.contains("AWS managed policy `AdministratorAccess`, which allows")));
    assert!(found
        .iter()
        .any(|m| m.contains("cannot be resolved, which may allow")));
    assert!(!found.iter().any(|m| m.contains("ReadOnly")));
    let m = one(&hits, "DDB010", "Fn");
    assert!(m.contains("`AmazonDynamoDBFullAccess`"), "{m}");
}

#[test]
fn policy_documents_written_as_json_strings_are_read() {
    let (_, hits) = check("grant_channels.yaml");
    one(&hits, "DDB010", "StringPolicy");
    let m = one(&hits, "DDB010", "SubPolicy");
    assert!(m.contains("table/"), "{m}");
    none(&hits, "DDB010", "ReadOnlyStringPolicy");
}

#[test]
fn a_json_string_finding_points_inside_the_string() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/soundness");
    let text = std::fs::read_to_string(dir.join("grant_channels.yaml")).expect("fixture");
    let (_, report) = check_json(&dir, &["grant_channels.yaml"]);
    let f = findings(&report)
        .into_iter()
        .find(|f| f["rule"] == "DDB010" && f["resource"] == "StringPolicy")
        .expect("finding");
    let start = f["byte_offset"].as_u64().expect("offset") as usize;
    let end = start + f["byte_length"].as_u64().expect("length") as usize;
    assert_eq!(&text[start..end], "\"dynamodb:DeleteTable\"");
}

#[test]
fn a_table_resource_policy_that_denies_delete_table_is_a_guardrail() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/soundness");
    let output = common::ddb_guard()
        .current_dir(&dir)
        .args(["inventory", "--format", "json", "grant_channels.yaml"])
        .output()
        .expect("runs");
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let guardrails = report["guardrails"].as_array().cloned().unwrap_or_default();
    assert!(
        guardrails
            .iter()
            .any(|g| g["kind"] == "table-policy" && g["resource"] == "Guarded"),
        "{guardrails:#?}"
    );
}

// ---------------------------------------------------------------------------------------
// 8. Templates inside templates: a macro can rewrite every resource

#[test]
fn a_transform_macro_is_a_warning_that_points_at_it_and_recommends_the_change_set_gate() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/soundness");
    let text = std::fs::read_to_string(dir.join("transform_macro.yaml")).expect("fixture");
    let (_, report) = check_json(&dir, &["transform_macro.yaml"]);
    let found: Vec<Value> = findings(&report)
        .into_iter()
        .filter(|f| f["rule"] == "DDB009")
        .collect();
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!(f["severity"], "warning");
    assert!(f["message"]
        .as_str()
        .is_some_and(|m| m.contains("`CompanyDefaults`")));
    assert!(f["help"]
        .as_str()
        .is_some_and(|h| h.contains("ddb-guard changeset")));
    let start = f["byte_offset"].as_u64().expect("offset") as usize;
    let end = start + f["byte_length"].as_u64().expect("length") as usize;
    assert_eq!(&text[start..end], "CompanyDefaults");
    let (_, hits) = check("transform_known.yaml");
    assert!(hits.iter().all(|(r, _, _)| r != "DDB009"), "{hits:#?}");
}

// ---------------------------------------------------------------------------------------
// 8. Templates inside templates: a StackSet's TemplateBody

#[test]
fn a_stack_set_inline_template_is_checked_and_its_tables_are_in_every_target_account() {
    let (code, hits) = check("stackset_inline.yaml");
    assert_ne!(code, 0);
    let m = one(&hits, "DDB001", "Unretained/Orders");
    assert!(m.contains("every target account"), "{m}");
    assert!(m.contains("`Unretained`"), "{m}");
    // A JSON string body is read too.
    one(&hits, "DDB001", "JsonBody/Events");
    // The retained table inside the other body is clean.
    assert!(
        hits.iter().all(|(_, r, _)| !r.starts_with("Retained")),
        "{hits:#?}"
    );
}

#[test]
fn a_stack_set_finding_points_inside_the_template_body() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/soundness");
    let text = std::fs::read_to_string(dir.join("stackset_inline.yaml")).expect("fixture");
    let (_, report) = check_json(&dir, &["stackset_inline.yaml"]);
    let span = |resource: &str| {
        let f = findings(&report)
            .into_iter()
            .find(|f| f["rule"] == "DDB001" && f["resource"] == resource)
            .expect("finding");
        let start = f["byte_offset"].as_u64().expect("offset") as usize;
        let end = start + f["byte_length"].as_u64().expect("length") as usize;
        (start, text[start..end].to_string())
    };
    let (start, at) = span("Unretained/Orders");
    assert_eq!(at, "Orders");
    assert!(text[..start].ends_with("\n          "), "inside the block");
    assert_eq!(span("JsonBody/Events").1, "\"Events\"");
}

#[test]
fn a_stack_set_body_that_is_not_a_literal_string_fails_closed() {
    let (code, hits) = check("stackset_inline.yaml");
    assert_ne!(code, 0);
    for id in ["Joined", "SubWithVariable"] {
        let m = one(&hits, "DDB007", id);
        assert!(m.contains("cannot be read"), "{m}");
        assert!(m.contains("not checked"), "{m}");
    }
    let m = one(&hits, "DDB006", "Remote");
    assert!(m.contains("not visible"), "{m}");
}

#[test]
fn policies_written_as_json_strings_are_read_inside_stack_set_bodies() {
    // A JSON body (a string) holding a policy document that is itself a JSON string.
    let (code, hits) = check("stackset_policy_strings.json");
    assert_eq!(code, 0, "warnings only: {hits:#?}");
    let m = one(&hits, "DDB010", "JsonBody/Grant");
    assert!(m.contains("every target account"), "{m}");
    // A YAML block body whose role's inline policy is a JSON string.
    let (code, hits) = check("stackset_policy_strings.yaml");
    assert_eq!(code, 1, "{hits:#?}");
    one(&hits, "DDB010", "YamlBody/Role");
    one(&hits, "DDB011", "YamlBody/Role");
}

#[test]
fn a_policy_string_in_a_stack_set_body_that_cannot_be_read_fails_closed() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/soundness");
    let text = std::fs::read_to_string(dir.join("stackset_policy_strings.yaml")).expect("fixture");
    let (code, report) = check_json(&dir, &["stackset_policy_strings.yaml"]);
    assert_eq!(code, 1, "{report}");
    let unreadable: Vec<&Value> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["rule"] == "DDB007")
        .collect();
    assert_eq!(unreadable.len(), 1, "{report}");
    let f = unreadable[0];
    assert_eq!(f["resource"], "Unreadable");
    let m = f["message"].as_str().unwrap_or_default();
    assert!(m.contains("written as a string that cannot be read"), "{m}");
    // Placed at the policy string inside the body, not at the whole body.
    let start = f["byte_offset"].as_u64().expect("offset") as usize;
    assert!(
        text[start..].starts_with("!Sub '{\"Statement\""),
        "{}",
        &text[start..]
    );
}

#[test]
fn stack_set_findings_have_their_own_rules_and_follow_selection() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/soundness");
    let (_, report) = check_json(&dir, &["stackset_inline.yaml", "--select", "DDB008"]);
    let codes: Vec<Value> = findings(&report)
        .iter()
        .map(|f| f["rule"].clone())
        .collect();
    assert!(
        codes.is_empty(),
        "--select DDB008 leaves stack sets alone: {codes:?}"
    );
    let (code, report) = check_json(&dir, &["stackset_inline.yaml", "--select", "DDB007"]);
    assert_eq!(code, 1);
    let codes: Vec<Value> = findings(&report)
        .iter()
        .map(|f| f["rule"].clone())
        .collect();
    assert_eq!(codes, ["DDB007", "DDB007"], "{codes:?}");
}

// ---------------------------------------------------------------------------------------
// 8. Templates inside templates: nested stacks

/// A table without any retention, in a template of its own.
const BARE_TABLE: &str = "Resources:
  Orders:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
";

fn nested_stack(id: &str, url: &str) -> String {
    format!("  {id}:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n      TemplateURL: {url}\n")
}

/// (path, rule, resource, message) of every finding.
fn hits_by_path(report: &Value) -> Vec<(String, String, String, String)> {
    findings(report)
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or_default().to_string();
            (s("path"), s("rule"), s("resource"), s("message"))
        })
        .collect()
}

fn errors(report: &Value) -> Vec<Value> {
    report["errors"].as_array().cloned().unwrap_or_default()
}

#[test]
fn a_local_nested_stack_is_checked_in_its_own_file_and_names_its_parent() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Not a word about DynamoDB in the parent: the prefilter must still read it.
    common::write(
        dir.path(),
        "stacks/main.yaml",
        &format!(
            "Resources:\n{}",
            nested_stack("Storage", "./db/tables.yaml")
        ),
    );
    common::write(dir.path(), "stacks/db/tables.yaml", BARE_TABLE);
    // Only the parent is named: the nested file is found through it.
    for select in [None, Some("DDB001")] {
        let mut args = vec!["stacks/main.yaml"];
        if let Some(rule) = select {
            args.extend(["--select", rule]);
        }
        let (code, report) = check_json(dir.path(), &args);
        assert_eq!(code, 1, "{report}");
        let hits = hits_by_path(&report);
        let ddb001: Vec<_> = hits.iter().filter(|h| h.1 == "DDB001").collect();
        assert_eq!(ddb001.len(), 1, "{hits:#?}");
        let (path, _, resource, message) = ddb001[0];
        assert_eq!(path, "stacks/db/tables.yaml");
        assert_eq!(resource, "Orders");
        assert!(
            message.contains("`stacks/main.yaml` as nested stack `Storage`"),
            "{message}"
        );
        let f = findings(&report)
            .into_iter()
            .find(|f| f["rule"] == "DDB001")
            .expect("DDB001");
        assert_eq!(
            (f["line"].as_u64(), f["column"].as_u64()),
            (Some(2), Some(3))
        );
    }
}

#[test]
fn a_nested_template_found_by_the_walk_too_is_checked_once_with_every_parent() {
    let dir = tempfile::tempdir().expect("tempdir");
    common::write(
        dir.path(),
        "a.yaml",
        &format!(
            "Resources:\n{}",
            nested_stack("First", "shared/tables.yaml")
        ),
    );
    common::write(
        dir.path(),
        "b/b.yaml",
        &format!(
            "Resources:\n{}",
            nested_stack("Second", "../shared/tables.yaml")
        ),
    );
    common::write(dir.path(), "shared/tables.yaml", BARE_TABLE);
    let (code, report) = check_json(dir.path(), &["."]);
    assert_eq!(code, 1);
    let hits = hits_by_path(&report);
    let ddb001: Vec<_> = hits.iter().filter(|h| h.1 == "DDB001").collect();
    assert_eq!(ddb001.len(), 1, "checked once: {hits:#?}");
    let (path, _, _, message) = ddb001[0];
    // Named as the walk names it (`./shared/tables.yaml`).
    assert_eq!(path.trim_start_matches("./"), "shared/tables.yaml");
    assert!(
        message.contains("a.yaml` as nested stack `First`"),
        "{message}"
    );
    assert!(
        message.contains("b/b.yaml` as nested stack `Second`"),
        "{message}"
    );
    assert_eq!(report["summary"]["files"], 3, "{}", report["summary"]);
}

#[test]
fn a_nested_application_location_is_followed_like_a_template_url() {
    let dir = tempfile::tempdir().expect("tempdir");
    common::write(
        dir.path(),
        "template.yaml",
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Storage:\n    Type: AWS::Serverless::Application\n    Properties:\n      Location: storage/template.yaml\n",
    );
    common::write(dir.path(), "storage/template.yaml", BARE_TABLE);
    let (code, report) = check_json(dir.path(), &["template.yaml"]);
    assert_eq!(code, 1);
    let hits = hits_by_path(&report);
    assert!(
        hits.iter().any(|(p, r, _, m)| p == "storage/template.yaml"
            && r == "DDB001"
            && m.contains("nested application `Storage`")),
        "{hits:#?}"
    );
}

#[test]
fn a_nested_stack_cycle_ends_and_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    common::write(
        dir.path(),
        "a.yaml",
        &format!("Resources:\n{}", nested_stack("ToB", "b.yaml")),
    );
    common::write(
        dir.path(),
        "b.yaml",
        &format!("{BARE_TABLE}{}", nested_stack("ToA", "./a.yaml")),
    );
    common::write(
        dir.path(),
        "self.yaml",
        &format!("Resources:\n{}", nested_stack("Me", "self.yaml")),
    );
    let (code, report) = check_json(dir.path(), &["a.yaml", "self.yaml"]);
    assert_eq!(code, 2, "{report}");
    let errors = errors(&report);
    let mut places: Vec<(String, u64)> = errors
        .iter()
        .map(|e| {
            assert!(
                e["message"].as_str().unwrap_or_default().contains("again"),
                "{e}"
            );
            (
                e["path"].as_str().unwrap_or_default().to_string(),
                e["line"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    places.sort();
    let at = |p: &str, l| (p.to_string(), l);
    assert_eq!(
        places,
        [at("a.yaml", 5), at("b.yaml", 9), at("self.yaml", 5)]
    );
    // The table in the cycle is still checked, once.
    let hits = hits_by_path(&report);
    assert_eq!(
        hits.iter().filter(|h| h.1 == "DDB001").count(),
        1,
        "{hits:#?}"
    );
}

#[test]
fn a_missing_local_nested_template_fails_closed_at_its_location() {
    let dir = tempfile::tempdir().expect("tempdir");
    common::write(
        dir.path(),
        "stacks/main.yaml",
        &format!(
            "Resources:\n{}{}",
            nested_stack("Gone", "./tables.yaml"),
            nested_stack("Dir", "./db")
        ),
    );
    std::fs::create_dir_all(dir.path().join("stacks/db")).expect("dir");
    let (code, report) = check_json(dir.path(), &["stacks/main.yaml"]);
    assert_eq!(code, 2, "{report}");
    let errors = errors(&report);
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert_eq!(errors[0]["path"], "stacks/main.yaml");
    assert_eq!(
        (errors[0]["line"].as_u64(), errors[0]["column"].as_u64()),
        (Some(5), Some(20))
    );
    let message = errors[0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("`Gone`")
            && message.contains("`stacks/tables.yaml`")
            && message.contains("does not exist"),
        "{message}"
    );
    assert!(errors[1]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("is not a file"));
}

#[test]
fn remote_nested_templates_are_one_note_per_parent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let parent = format!(
        "Parameters:\n  Bucket: {{Type: String}}\nResources:\n{}{}{}  Sar:\n    Type: AWS::Serverless::Application\n    Properties:\n      Location:\n        ApplicationId: arn:aws:serverlessrepo:us-east-1:123456789012:applications/x\n        SemanticVersion: 1.0.0\n",
        nested_stack("Https", "https://bucket.s3.amazonaws.com/t.yaml"),
        nested_stack("S3", "s3://bucket/t.yaml"),
        nested_stack("Computed", "!Sub 'https://${Bucket}.s3.amazonaws.com/t.yaml'"),
    );
    common::write(dir.path(), "parent.yaml", &parent);
    common::write(dir.path(), "other.yaml", &parent);
    let (code, report) = check_json(dir.path(), &["parent.yaml", "other.yaml"]);
    assert_eq!(code, 0, "a note does not fail: {report}");
    let hits = hits_by_path(&report);
    for file in ["parent.yaml", "other.yaml"] {
        let notes: Vec<_> = hits
            .iter()
            .filter(|h| h.0 == file && h.1 == "DDB006")
            .collect();
        assert_eq!(notes.len(), 1, "{file}: {hits:#?}");
        let message = &notes[0].3;
        for id in ["Https", "S3", "Computed", "Sar"] {
            assert!(message.contains(&format!("`{id}`")), "{message}");
        }
        assert!(message.contains("not visible"), "{message}");
    }
}

#[test]
fn human_output_of_a_nested_stack_finding_names_the_parent() {
    let dir = tempfile::tempdir().expect("tempdir");
    common::write(
        dir.path(),
        "stacks/main.yaml",
        &format!(
            "Resources:\n{}{}",
            nested_stack("Storage", "db/tables.yaml"),
            nested_stack("Remote", "https://bucket.s3.amazonaws.com/t.yaml")
        ),
    );
    common::write(dir.path(), "stacks/db/tables.yaml", BARE_TABLE);
    let out = common::ddb_guard()
        .current_dir(dir.path())
        .args([
            "check",
            "stacks/main.yaml",
            "--select",
            "DDB001,DDB006",
            "--color",
            "never",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    // The summary line ends with the elapsed time, which differs between runs.
    let text = match text.rfind(" in ") {
        Some(i) => text[..i].to_string(),
        None => text,
    };
    insta::assert_snapshot!(text);
}

#[test]
fn fix_leaves_a_stack_set_body_alone_and_still_reports_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/soundness");
    let text = std::fs::read_to_string(fixture.join("stackset_inline.yaml")).expect("fixture");
    common::write(dir.path(), "t.yaml", &text);
    let out = common::ddb_guard()
        .current_dir(dir.path())
        .args(["check", "t.yaml", "--fix", "--format", "json"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let after = std::fs::read_to_string(dir.path().join("t.yaml")).expect("reads");
    assert_eq!(after, text, "the body is not edited");
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(
        findings(&report).iter().any(|f| f["rule"] == "DDB001"
            && f["resource"] == "Unretained/Orders"
            && f["fix"].is_null()),
        "{report}"
    );
}

// ---------------------------------------------------------------------------------------
// 8. Templates inside templates: the pull-request guard inside stack set bodies

fn stack_set(id: &str, body: &str) -> String {
    let body: String = body.lines().map(|l| format!("        {l}\n")).collect();
    format!(
        "  {id}:\n    Type: AWS::CloudFormation::StackSet\n    Properties:\n      StackSetName: s\n      TemplateBody: |\n{body}"
    )
}

const TOPIC: &str = "Other:\n  Type: AWS::SNS::Topic\n";

/// `ddb-guard diff old.yaml new.yaml --format json` on the two texts.
fn diff_json(old: &str, new: &str) -> (i32, Value, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    common::write(dir.path(), "old.yaml", old);
    common::write(dir.path(), "new.yaml", new);
    let out = common::ddb_guard()
        .current_dir(dir.path())
        .args(["diff", "old.yaml", "new.yaml", "--format", "json"])
        .output()
        .expect("runs");
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    (out.status.code().unwrap_or(-1), report, new.to_string())
}

fn body(tables: &str) -> String {
    format!(
        "Resources:\n{}{}",
        tables,
        TOPIC
            .lines()
            .map(|l| format!("  {l}\n"))
            .collect::<String>()
    )
}

const ORDERS_IN_BODY: &str = "  Orders:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      TableName: orders\n      KeySchema: [{AttributeName: id, KeyType: HASH}]\n";

#[test]
fn a_table_removed_from_a_stack_set_body_is_a_pull_request_finding_inside_the_body() {
    let old = format!(
        "Resources:\n{}",
        stack_set("Everywhere", &body(ORDERS_IN_BODY))
    );
    let new = format!("Resources:\n{}", stack_set("Everywhere", &body("")));
    let (code, report, text) = diff_json(&old, &new);
    assert_eq!(code, 1, "{report}");
    let f = findings(&report)
        .into_iter()
        .find(|f| f["rule"] == "DDB020")
        .unwrap_or_else(|| panic!("DDB020: {report}"));
    assert_eq!(f["resource"], "Everywhere/Orders");
    let message = f["message"].as_str().unwrap_or_default();
    assert!(message.contains("every target account"), "{message}");
    let start = f["byte_offset"].as_u64().expect("offset") as usize;
    let end = start + f["byte_length"].as_u64().expect("length") as usize;
    assert_eq!(&text[start..end], "Other", "points inside the head body");
}

#[test]
fn a_table_renamed_inside_a_stack_set_body_is_matched_by_stack_set_and_logical_id() {
    let old = format!(
        "Resources:\n{}",
        stack_set("Everywhere", &body(ORDERS_IN_BODY))
    );
    let renamed = ORDERS_IN_BODY.replace("  Orders:", "  OrdersV2:");
    let new = format!("Resources:\n{}", stack_set("Everywhere", &body(&renamed)));
    let (code, report, _) = diff_json(&old, &new);
    assert_eq!(code, 1, "{report}");
    let hits = hits_by_path(&report);
    assert!(
        hits.iter()
            .any(|(_, r, res, _)| r == "DDB021" && res.starts_with("Everywhere/")),
        "{hits:#?}"
    );
    // The same body under another stack set ID is another stack set: the old one's
    // tables are removed.
    let moved = format!(
        "Resources:\n{}",
        stack_set("Elsewhere", &body(ORDERS_IN_BODY))
    );
    let (code, report, _) = diff_json(&old, &moved);
    assert_eq!(code, 1, "{report}");
    let hits = hits_by_path(&report);
    assert!(
        hits.iter()
            .any(|(_, r, res, m)| r == "DDB020" && res == "Everywhere" && m.contains("`Orders`")),
        "{hits:#?}"
    );
}

#[test]
fn an_unchanged_stack_set_body_passes_the_pull_request_guard() {
    let retained = ORDERS_IN_BODY.replace(
        "    Type: AWS::DynamoDB::Table\n",
        "    Type: AWS::DynamoDB::Table\n    DeletionPolicy: Retain\n    UpdateReplacePolicy: Retain\n",
    );
    let old = format!("Resources:\n{}", stack_set("Everywhere", &body(&retained)));
    let (_, report, _) = diff_json(&old, &old);
    let hits = hits_by_path(&report);
    assert!(
        hits.iter()
            .all(|(_, r, _, _)| !["DDB020", "DDB021", "DDB022", "DDB023"].contains(&r.as_str())),
        "{hits:#?}"
    );
}

#[test]
fn removing_a_stack_set_removes_the_tables_of_its_body() {
    let old = format!(
        "Resources:\n{}",
        stack_set("Everywhere", &body(ORDERS_IN_BODY))
    );
    let new = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n";
    let (code, report, text) = diff_json(&old, new);
    assert_eq!(code, 1, "{report}");
    let f = findings(&report)
        .into_iter()
        .find(|f| f["rule"] == "DDB020" && f["resource"] == "Everywhere")
        .unwrap_or_else(|| panic!("{report}"));
    let message = f["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("stack set `Everywhere`") && message.contains("`Orders`"),
        "{message}"
    );
    let start = f["byte_offset"].as_u64().expect("offset") as usize;
    // No resource of the base is left after it: at the head's `Resources:` key.
    assert!(text[start..].starts_with("Resources"), "{}", &text[start..]);
}

// ---------------------------------------------------------------------------------------
// Correlated conditions: a case is one deployment, so its assumptions hold together

#[test]
fn a_case_whose_conditions_contradict_each_other_is_no_finding() {
    let (_, hits) = check("correlated_conditions.yaml");
    // `!If [IsProd, Retain, !If [NotProd, Retain, Delete]]`: Delete needs IsProd and
    // its negation both false.
    none(&hits, "DDB001", "ThroughNot");
    none(&hits, "DDB001", "ThroughNotOfUnknown");
    // Env is prod or dev: both conditions false is no deployment.
    none(&hits, "DDB001", "ThroughParameter");
    none(&hits, "DDB002", "ThroughParameter");
    // The table's own condition fixes Env to dev, so IsProd is false.
    none(&hits, "DDB001", "ExistsInDev");
    none(&hits, "DDB010", "AppPolicy");
}

#[test]
fn a_case_some_deployment_produces_is_still_a_finding_with_all_its_assumptions() {
    let (code, hits) = check("correlated_conditions.yaml");
    assert_eq!(code, 1);
    let m = one(&hits, "DDB001", "ThirdValue");
    assert!(
        m.contains("when condition `ProdStage` is false and condition `DevStage` is false"),
        "{m}"
    );
}

// ---------------------------------------------------------------------------------------
// Fn::ForEach: every copy of a resource reads its own item (issue 25)

fn check_selected(name: &str, rules: &str) -> Vec<(String, String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/soundness");
    let output = common::ddb_guard()
        .current_dir(&dir)
        .args(["check", name, "--select", rules, "--format", "json"])
        .output()
        .expect("runs");
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON report");
    assert!(
        report["errors"].as_array().is_none_or(Vec::is_empty),
        "{name} loads: {}",
        report["errors"]
    );
    findings(&report)
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default().to_string(),
                f["resource"].as_str().unwrap_or_default().to_string(),
                f["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_tag_of_a_for_each_table_is_read_with_that_tables_item() {
    let hits = check_selected("for_each_tags_and_denies.yaml", "DDB005");
    // The selection by `backup: orders` covers the copy for `orders` only.
    let m = one(&hits, "DDB005", "${Name}Table");
    assert!(m.contains("only when `Name` is `orders`"), "{m}");
}

#[test]
fn a_deny_in_a_for_each_copy_takes_back_that_copys_allow() {
    let hits = check_selected("for_each_tags_and_denies.yaml", "DDB010");
    none(&hits, "DDB010", "${Name}Policy");
    // The copy for `invoices` also allows `orders`, which its Deny does not name.
    let m = one(&hits, "DDB010", "${Name}Leaky");
    assert!(m.contains("allows `dynamodb:DeleteTable`"), "{m}");
}

#[test]
fn a_template_on_standard_input_has_its_nested_stacks_followed() {
    let dir = tempfile::tempdir().expect("tempdir");
    common::write(dir.path(), "stacks/db/tables.yaml", BARE_TABLE);
    let parent = format!(
        "Resources:\n{}",
        nested_stack("Storage", "./db/tables.yaml")
    );
    let out = common::ddb_guard()
        .current_dir(dir.path())
        .args([
            "check",
            "-",
            "--stdin-filename",
            "stacks/main.yaml",
            "--format",
            "json",
        ])
        .write_stdin(parent)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let hits = hits_by_path(&report);
    assert!(
        hits.iter().any(|(p, r, _, m)| p == "stacks/db/tables.yaml"
            && r == "DDB001"
            && m.contains("`stacks/main.yaml` as nested stack `Storage`")),
        "{hits:#?}"
    );
}

// ---------------------------------------------------------------------------------------
// 8. Templates inside templates: the pull-request guard and nested stacks

/// `ddb-guard diff old new --select DDB020 --format json` over two directories.
fn diff_dirs(files: &[(&str, &str)]) -> (i32, Value) {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        common::write(dir.path(), name, text);
    }
    let out = common::ddb_guard()
        .current_dir(dir.path())
        .args([
            "diff", "old", "new", "--select", "DDB020", "--format", "json",
        ])
        .output()
        .expect("runs");
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    (out.status.code().unwrap_or(-1), report)
}

const TOPIC_ONLY: &str = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n";

#[test]
fn removing_a_nested_stack_deletes_the_unretained_tables_of_its_template() {
    let parent = format!(
        "Resources:\n{}{}  Topic:\n    Type: AWS::SNS::Topic\n",
        nested_stack("Storage", "./db/tables.yaml"),
        nested_stack("Remote", "https://bucket.s3.amazonaws.com/t.yaml"),
    );
    let (code, report) = diff_dirs(&[
        ("old/main.yaml", &parent),
        ("old/db/tables.yaml", BARE_TABLE),
        ("new/main.yaml", TOPIC_ONLY),
        ("new/db/tables.yaml", BARE_TABLE),
    ]);
    assert_eq!(code, 1, "{report}");
    let hits = hits_by_path(&report);
    let storage = hits
        .iter()
        .find(|h| h.2 == "Storage")
        .unwrap_or_else(|| panic!("{hits:#?}"));
    assert_eq!(storage.0, "new/main.yaml");
    assert!(storage.3.contains("`Orders`"), "{}", storage.3);
    let remote = hits
        .iter()
        .find(|h| h.2 == "Remote")
        .unwrap_or_else(|| panic!("{hits:#?}"));
    assert!(remote.3.contains("not visible"), "{}", remote.3);
}

#[test]
fn removing_a_nested_stack_whose_tables_are_retained_is_not_a_finding() {
    let retained = BARE_TABLE.replace(
        "    Type: AWS::DynamoDB::Table\n",
        "    Type: AWS::DynamoDB::Table\n    DeletionPolicy: Retain\n",
    );
    let parent = format!(
        "Resources:\n{}  Topic:\n    Type: AWS::SNS::Topic\n",
        nested_stack("Storage", "db/tables.yaml")
    );
    let (_, report) = diff_dirs(&[
        ("old/main.yaml", &parent),
        ("old/db/tables.yaml", &retained),
        ("new/main.yaml", TOPIC_ONLY),
        ("new/db/tables.yaml", &retained),
    ]);
    let hits = hits_by_path(&report);
    assert!(hits.iter().all(|h| h.2 != "Storage"), "{hits:#?}");
    // A retained nested stack keeps its tables, whatever they say.
    let kept = parent.replace(
        "    Type: AWS::CloudFormation::Stack\n",
        "    Type: AWS::CloudFormation::Stack\n    DeletionPolicy: Retain\n",
    );
    let (_, report) = diff_dirs(&[
        ("old/main.yaml", &kept),
        ("old/db/tables.yaml", BARE_TABLE),
        ("new/main.yaml", TOPIC_ONLY),
        ("new/db/tables.yaml", BARE_TABLE),
    ]);
    let hits = hits_by_path(&report);
    assert!(hits.iter().all(|h| h.2 != "Storage"), "{hits:#?}");
}

#[test]
fn renaming_a_nested_stack_deletes_its_tables() {
    let parent = |id: &str| {
        format!(
            "Resources:\n{}  Topic:\n    Type: AWS::SNS::Topic\n",
            nested_stack(id, "db/tables.yaml")
        )
    };
    let (code, report) = diff_dirs(&[
        ("old/main.yaml", &parent("Storage")),
        ("old/db/tables.yaml", BARE_TABLE),
        ("new/main.yaml", &parent("StorageV2")),
        ("new/db/tables.yaml", BARE_TABLE),
    ]);
    assert_eq!(code, 1, "{report}");
    let hits = hits_by_path(&report);
    assert!(
        hits.iter().any(|h| h.1 == "DDB020" && h.2 == "Storage"),
        "{hits:#?}"
    );
}

#[test]
fn a_nested_template_outside_the_working_directory_is_not_read() {
    let outside = tempfile::tempdir().expect("tempdir");
    common::write(outside.path(), "secret.yaml", "password: hunter2\n");
    let dir = tempfile::tempdir().expect("tempdir");
    let secret = outside.path().join("secret.yaml");
    common::write(
        dir.path(),
        "main.yaml",
        &format!(
            "Resources:\n{}{}",
            nested_stack("Absolute", &secret.display().to_string()),
            nested_stack("Relative", "../../../../../../../../etc/hostname")
        ),
    );
    let (code, report) = check_json(dir.path(), &["main.yaml"]);
    assert_eq!(code, 2, "fails closed: {report}");
    let errors = errors(&report);
    assert!(!errors.is_empty(), "{report}");
    for e in &errors {
        assert_eq!(e["path"], "main.yaml", "{e}");
        let message = e["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("outside the directory") || message.contains("does not exist"),
            "{message}"
        );
    }
    assert!(
        errors.iter().any(|e| e["message"]
            .as_str()
            .is_some_and(|m| m.contains("`Absolute`") && m.contains("outside"))),
        "{errors:#?}"
    );
    assert!(!report.to_string().contains("hunter2"), "{report}");
}

// ---------------------------------------------------------------------------------------
// A Deny and an Allow of one policy read the same stack: the same unresolved value on
// both sides is the same text (issue 25)

#[test]
fn a_deny_written_with_the_allows_stack_values_takes_it_back() {
    let hits = check_selected("same_stack_values.yaml", "DDB010");
    // `${AWS::Partition}` in `Fn::Sub` and `Fn::Join`, `!GetAtt Orders.Arn` and the
    // ARN built from `${Orders}`, a parameter with `${AWS::URLSuffix}`, one import.
    for policy in ["SamePseudo", "SameTable", "SameParameter", "SameImport"] {
        none(&hits, "DDB010", policy);
    }
    // Another table, another parameter, a literal Region where the stack's may be any,
    // another export: the grant stands.
    for policy in [
        "OtherTable",
        "OtherParameter",
        "LiteralRegion",
        "OtherImport",
    ] {
        let m = one(&hits, "DDB010", policy);
        assert!(m.contains("allows `dynamodb:DeleteTable`"), "{m}");
    }
}
