//! The pull-request guard cannot be blinded by the change it checks (issue 17): ignore
//! files, the head's `ddb-guard.toml`, suppressions and the `--baseline` file added in the
//! pull request never hide a removed table; each such change is DDB902 at its line.
//! Real git repositories in temp dirs, the real binary.

use assert_cmd::Command as Bin;
use serde_json::Value;

use crate::support;
use proptest::prelude::*;
use support::git_repo::*;
use support::pair_oracle_remove as pair_oracle;

/// A base with the table (no Retain, so its removal is an error) and a head without it.
fn removal() -> Repo {
    let repo = Repo::new();
    repo.write("stacks/orders.yaml", &without_policies(ORDERS));
    repo.commit("base");
    repo.write("stacks/orders.yaml", QUEUE_ONLY);
    repo
}

fn codes(found: &[(String, String, String, u64)]) -> Vec<(&str, &str)> {
    found
        .iter()
        .map(|(rule, severity, _, _)| (rule.as_str(), severity.as_str()))
        .collect()
}

#[test]
fn ignore_files_added_by_the_change_do_not_hide_a_removed_table() {
    for ignore_file in [".gitignore", ".ignore", "stacks/.gitignore"] {
        let repo = removal();
        repo.write(ignore_file, "*.yaml\nstacks/\n");
        repo.commit("hide it");
        let found = findings(repo.guard().args(["check", "--base", "HEAD~1"]), 1);
        assert_eq!(
            found,
            vec![f("DDB020", "error", "stacks/orders.yaml", 4)],
            "{ignore_file}"
        );
    }
}

#[test]
fn the_heads_config_cannot_switch_the_comparison_off() {
    let cases: &[(&str, usize)] = &[
        ("ignore = [\"DDB020\"]\n", 1),
        ("ignore = [\"DDB02\"]\n", 1),
        ("select = [\"DDB001\"]\n", 1),
        ("ignore = [\"table-removed\"]\n", 1),
        ("exclude = [\"stacks/\"]\nforce_exclude = true\n", 2),
        ("extensions = [\"json\"]\n", 1),
        (
            "respect_gitignore = true\n[severity]\nDDB020 = \"note\"\n",
            1,
        ),
        ("fail_on = \"never\"\n", 1),
    ];
    for (config, weakenings) in cases {
        let repo = removal();
        repo.write("ddb-guard.toml", config);
        repo.commit("weaken the guard");
        let found = findings(repo.guard().args(["check", "--base", "HEAD~1"]), 1);
        let removed: Vec<_> = found.iter().filter(|x| x.0 == "DDB020").collect();
        assert_eq!(
            removed,
            vec![&f("DDB020", "error", "stacks/orders.yaml", 4)],
            "{config}"
        );
        let weakened: Vec<_> = found
            .iter()
            .filter(|x| x.0 == "DDB902")
            .map(|x| (x.1.as_str(), x.2.as_str()))
            .collect();
        assert!(weakened.len() >= *weakenings, "{config}: {found:?}");
        assert!(
            weakened.iter().all(|w| *w == ("error", "ddb-guard.toml")),
            "{config}: {found:?}"
        );
    }
}

#[test]
fn a_weakening_config_change_points_at_its_line() {
    let repo = Repo::new();
    repo.write("stacks/orders.yaml", ORDERS);
    repo.write("ddb-guard.toml", "# the guard\nselect = [\"ALL\"]\n");
    repo.commit("base");
    repo.write(
        "ddb-guard.toml",
        "# the guard\nselect = [\"ALL\"]\nignore = [\n  \"DDB012\",\n  \"DDB021\",\n]\nfail_on = \"never\"\n",
    );
    repo.commit("weaken");
    let found = findings(repo.guard().args(["check", "--base", "HEAD~1"]), 1);
    let weakened: Vec<_> = found.iter().filter(|x| x.0 == "DDB902").cloned().collect();
    assert_eq!(
        weakened,
        vec![
            f("DDB902", "error", "ddb-guard.toml", 4),
            f("DDB902", "error", "ddb-guard.toml", 5),
            f("DDB902", "error", "ddb-guard.toml", 7),
        ]
    );
    let text = messages(repo.guard().args(["check", "--base", "HEAD~1"]), 1);
    assert!(
        text.iter().any(|m| m.contains("turns off DDB021")),
        "{text:?}"
    );
    assert!(text.iter().any(|m| m.contains("`fail_on`")), "{text:?}");
}

#[test]
fn a_config_change_that_strengthens_the_guard_is_not_a_finding() {
    let repo = Repo::new();
    repo.write("stacks/orders.yaml", ORDERS);
    repo.write(
        "ddb-guard.toml",
        "ignore = [\"DDB012\"]\nfail_on = \"error\"\n",
    );
    repo.commit("base");
    repo.write(
        "ddb-guard.toml",
        "extend_select = [\"DDB012\"]\nfail_on = \"warning\"\n[severity]\nDDB003 = \"error\"\n",
    );
    repo.commit("strengthen");
    let found = findings(repo.guard().args(["check", "--base", "HEAD~1"]), 0);
    assert!(found.iter().all(|x| x.0 != "DDB902"), "{found:?}");
}

#[test]
fn deleting_the_config_file_is_judged_against_the_defaults() {
    let repo = Repo::new();
    repo.write("stacks/orders.yaml", ORDERS);
    repo.write("ddb-guard.toml", "extend_select = [\"DDB012\"]\n");
    repo.commit("base");
    repo.remove("ddb-guard.toml");
    repo.commit("drop the config");
    let text = messages(repo.guard().args(["check", "--base", "HEAD~1"]), 1);
    assert!(
        text.iter()
            .any(|m| m.contains("deletes the configuration file") && m.contains("DDB012")),
        "{text:?}"
    );
}

#[test]
fn a_suppression_added_by_the_change_is_reported_where_it_is() {
    let repo = Repo::new();
    repo.write("stacks/orders.yaml", ORDERS);
    repo.commit("base");
    let suppressed = ORDERS.replace(
        "    DeletionPolicy: Retain\n",
        "    DeletionPolicy: Retain\n    Metadata:\n      ddb-guard:\n        ignore:\n          - rule: DDB003\n            reason: \"tests\"\n",
    );
    repo.write("stacks/orders.yaml", &suppressed);
    repo.commit("silence");
    let found = findings(repo.guard().args(["check", "--base", "HEAD~1"]), 1);
    // DDB901 too: the table passes DDB003, so the new suppression silences nothing yet.
    assert_eq!(
        found,
        vec![
            f("DDB901", "warning", "stacks/orders.yaml", 11),
            f("DDB902", "error", "stacks/orders.yaml", 11),
        ]
    );
    // The same suppression already at the base is not the change's.
    let repo = Repo::new();
    repo.write("stacks/orders.yaml", &suppressed);
    repo.commit("base");
    repo.write(
        "stacks/orders.yaml",
        &suppressed.replace("Queue:", "Queue2:"),
    );
    repo.commit("unrelated");
    let found = findings(repo.guard().args(["check", "--base", "HEAD~1"]), 0);
    assert!(found.iter().all(|x| x.0 != "DDB902"), "{found:?}");
}

#[test]
fn a_baseline_entry_added_by_the_change_neither_hides_the_removal_nor_goes_unseen() {
    let repo = removal();
    repo.write(
        "baseline.json",
        "{\n  \"version\": 1,\n  \"findings\": []\n}\n",
    );
    repo.git(&["add", "baseline.json"]);
    repo.git(&["commit", "-q", "--amend", "--no-edit"]);
    repo.write("stacks/orders.yaml", QUEUE_ONLY);
    repo.write(
        "baseline.json",
        "{\n  \"version\": 1,\n  \"findings\": [\n    {\n      \"path\": \"stacks/orders.yaml\",\n      \"resource\": \"OrdersTable\",\n      \"rule\": \"DDB020\"\n    }\n  ]\n}\n",
    );
    repo.commit("baseline the removal");
    let found = findings(
        repo.guard()
            .args(["check", "--base", "HEAD~1", "--baseline", "baseline.json"]),
        1,
    );
    assert_eq!(
        found,
        vec![
            f("DDB902", "error", "baseline.json", 4),
            f("DDB020", "error", "stacks/orders.yaml", 4),
        ]
    );
}

#[test]
fn diff_compares_a_file_the_new_sides_ignore_file_hides() {
    let dir = tempfile::tempdir().unwrap();
    let write = |p: &str, t: &str| {
        let full = dir.path().join(p);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, t).unwrap();
    };
    write("old/orders.yaml", &without_policies(ORDERS));
    write("old/same.yaml", ORDERS);
    write("new/orders.yaml", QUEUE_ONLY);
    write("new/same.yaml", ORDERS);
    write("new/.ignore", "*.yaml\n");
    let mut bin = Bin::cargo_bin("ddb-guard").unwrap();
    bin.current_dir(dir.path()).args(["diff", "old", "new"]);
    // Compared at the head (line 4), not reported as a deleted file; `same.yaml` unchanged.
    let found = findings(&mut bin, 1);
    assert_eq!(codes(&found), vec![("DDB020", "error")]);
    assert_eq!(found[0].2, "new/orders.yaml");
}

const NAMED: &str = "\
Mappings:
  Names:
    table:
      name: orders
Resources:
  OrdersTable:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: NAME
      KeySchema:
        - AttributeName: id
          KeyType: HASH
      AttributeDefinitions:
        - AttributeName: id
          AttributeType: S
";

/// DDB022 on resolved `TableName` values: a `Mappings` change behind the same expression
/// replaces the table; another spelling of the same name does not.
#[test]
fn table_name_replacement_is_decided_on_resolved_values() {
    let cases: &[(&str, &str, &str, bool)] = &[
        ("orders", "!Sub \"orders\"", "", false),
        ("orders", "!Join [\"\", [ord, ers]]", "", false),
        ("orders", "!FindInMap [Names, table, name]", "", false),
        (
            "!FindInMap [Names, table, name]",
            "!FindInMap [Names, table, name]",
            "orders-v2",
            true,
        ),
        ("orders", "!Sub \"orders-v2\"", "", true),
    ];
    for (was, now, mapped, replaced) in cases {
        let repo = Repo::new();
        repo.write("t.yaml", &NAMED.replace("NAME", was));
        repo.commit("base");
        let mut head = NAMED.replace("NAME", now);
        if !mapped.is_empty() {
            head = head.replace("name: orders", &format!("name: {mapped}"));
        }
        repo.write("t.yaml", &head);
        let found = findings(
            repo.guard()
                .args(["check", "--base", "main", "--select", "DDB022"]),
            if *replaced { 1 } else { 0 },
        );
        let codes: Vec<&str> = found.iter().map(|x| x.0.as_str()).collect();
        let expected: Vec<&str> = if *replaced { vec!["DDB022"] } else { vec![] };
        assert_eq!(codes, expected, "{was} -> {now} (mapping {mapped:?})");
    }
}

/// DDB023: a table at both revisions that loses a guardrail it provably had at the base.
/// Only what was provable at the base counts, and what is still provable at the head is
/// no finding; `check --base` and `diff` agree.
#[test]
fn a_guardrail_the_table_provably_had_cannot_be_dropped_unseen() {
    let with_days = |days: &str| {
        ORDERS.replace(
            "        PointInTimeRecoveryEnabled: true\n",
            &format!(
                "        PointInTimeRecoveryEnabled: true\n        RecoveryPeriodInDays: {days}\n"
            ),
        )
    };
    let conditional = ORDERS
        .replace(
            "Resources:\n",
            "Parameters:\n  Env: {Type: String, AllowedValues: [prod, dev]}\nConditions:\n  IsProd: !Equals [!Ref Env, prod]\nResources:\n",
        )
        .replace(
            "DeletionProtectionEnabled: true",
            "DeletionProtectionEnabled: !If [IsProd, true, false]",
        );
    // (base, head, expected DDB023 count, a word each message must hold)
    let cases: Vec<(String, String, usize, &str)> = vec![
        (
            ORDERS.to_string(),
            ORDERS.replace(
                "DeletionProtectionEnabled: true",
                "DeletionProtectionEnabled: false",
            ),
            1,
            "DeletionProtectionEnabled",
        ),
        (
            ORDERS.to_string(),
            ORDERS.replace("      DeletionProtectionEnabled: true\n", ""),
            1,
            "DeletionProtectionEnabled",
        ),
        (ORDERS.to_string(), conditional.clone(), 1, "IsProd"),
        (
            ORDERS.to_string(),
            ORDERS.replace(
                "PointInTimeRecoveryEnabled: true",
                "PointInTimeRecoveryEnabled: false",
            ),
            1,
            "point-in-time",
        ),
        (with_days("35"), with_days("7"), 1, "shortened from 35"),
        // Not weakened: lengthened, unchanged, or never provable at the base.
        (with_days("7"), with_days("35"), 0, ""),
        (
            ORDERS.to_string(),
            ORDERS.replace(
                "DeletionProtectionEnabled: true",
                "DeletionProtectionEnabled: 'true'",
            ),
            0,
            "",
        ),
        (
            conditional.clone(),
            conditional.replace("!If [IsProd, true, false]", "false"),
            0,
            "",
        ),
    ];
    for (i, (base, head, expected, word)) in cases.iter().enumerate() {
        let repo = Repo::new();
        repo.write("stacks/orders.yaml", base);
        repo.commit("base");
        repo.write("stacks/orders.yaml", head);
        repo.commit("head");
        let exit = if *expected > 0 { 1 } else { 0 };
        let run = |bin: &mut Bin| -> Vec<String> {
            json_findings(bin.args(["--select", "DDB023"]), exit)
                .iter()
                .filter(|f| f["rule"] == "DDB023")
                .map(|f| {
                    assert_eq!(f["severity"], "error", "case {i}");
                    f["message"].as_str().unwrap().to_string()
                })
                .collect()
        };
        let checked = run(repo.guard().args(["check", "--base", "HEAD~1"]));
        assert_eq!(checked.len(), *expected, "case {i}: {checked:?}");
        assert!(
            checked.iter().all(|m| m.contains(word)),
            "case {i}: {checked:?}"
        );
        repo.write("old/orders.yaml", base);
        let diffed = run(repo
            .guard()
            .args(["diff", "old/orders.yaml", "stacks/orders.yaml"]));
        assert_eq!(
            diffed,
            checked
                .iter()
                .map(|m| m.replace("HEAD~1:stacks/orders.yaml", "old/orders.yaml"))
                .collect::<Vec<_>>(),
            "case {i}"
        );
    }
}

/// DDB023: a replica dropped from a kept global table's `Replicas` deletes that Region's
/// copy: an error naming the Region, a note when the base replica had deletion protection.
#[test]
fn a_replica_removed_from_a_global_table_is_reported_by_region() {
    let global = |replicas: &[(&str, bool)]| {
        let mut t = String::from("Resources:\n  Orders:\n    Type: AWS::DynamoDB::GlobalTable\n    DeletionPolicy: Retain\n    UpdateReplacePolicy: Retain\n    Properties:\n      BillingMode: PAY_PER_REQUEST\n      StreamSpecification: {StreamViewType: NEW_AND_OLD_IMAGES}\n      KeySchema: [{AttributeName: id, KeyType: HASH}]\n      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]\n      Replicas:\n");
        for (region, protected) in replicas {
            t.push_str(&format!("        - Region: {region}\n          DeletionProtectionEnabled: {protected}\n          PointInTimeRecoverySpecification: {{PointInTimeRecoveryEnabled: true}}\n"));
        }
        t
    };
    // (base, head, [(severity, Region)])
    type Case = (String, String, Vec<(&'static str, &'static str)>);
    let cases: Vec<Case> = vec![
        (
            global(&[("eu-west-1", false), ("us-east-1", false)]),
            global(&[("eu-west-1", false)]),
            vec![("error", "us-east-1")],
        ),
        (
            global(&[("eu-west-1", true), ("us-east-1", true)]),
            global(&[("us-east-1", true)]),
            vec![("note", "eu-west-1")],
        ),
        // Provably on through an intrinsic: a parameter that allows only `true` is a
        // note; one that also allows `false` is not proof, so an error.
        (
            format!(
                "Parameters:\n  Protect: {{Type: String, AllowedValues: ['true']}}\n{}",
                global(&[("eu-west-1", true), ("us-east-1", true)]).replace(
                    "DeletionProtectionEnabled: true",
                    "DeletionProtectionEnabled: !Ref Protect"
                )
            ),
            global(&[("us-east-1", true)]),
            vec![("note", "eu-west-1")],
        ),
        (
            format!(
                "Parameters:\n  Protect: {{Type: String, AllowedValues: ['true', 'false']}}\n{}",
                global(&[("eu-west-1", true), ("us-east-1", true)]).replace(
                    "DeletionProtectionEnabled: true",
                    "DeletionProtectionEnabled: !Ref Protect"
                )
            ),
            global(&[("us-east-1", true)]),
            vec![("error", "eu-west-1")],
        ),
        (
            global(&[("eu-west-1", false), ("us-east-1", false)]),
            global(&[
                ("us-east-1", false),
                ("eu-west-1", false),
                ("ap-south-1", false),
            ]),
            vec![],
        ),
    ];
    for (i, (base, head, expected)) in cases.iter().enumerate() {
        let repo = Repo::new();
        repo.write("global.yaml", base);
        repo.commit("base");
        repo.write("global.yaml", head);
        repo.commit("head");
        let exit = if expected.iter().any(|(s, _)| *s == "error") {
            1
        } else {
            0
        };
        let found: Vec<(String, String)> = json_findings(
            repo.guard()
                .args(["check", "--base", "HEAD~1", "--select", "DDB023"]),
            exit,
        )
        .iter()
        .filter(|f| f["rule"] == "DDB023")
        .map(|f| {
            (
                f["severity"].as_str().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
        assert_eq!(found.len(), expected.len(), "case {i}: {found:?}");
        for ((severity, message), (want, region)) in found.iter().zip(expected) {
            assert_eq!(severity, want, "case {i}");
            assert!(
                message.contains(&format!("Region `{region}`")),
                "case {i}: {message}"
            );
        }
    }
}

/// The DDB022 messages for a change from `base` to `head`, through `check --base` on a
/// real git repository and through `diff OLD NEW`; the two must agree.
fn replacements(base: &str, head: &str) -> Vec<String> {
    replacements_in("t.yaml", base, head)
}

/// [`replacements`] for a file of another name (`serverless.yml`).
fn replacements_in(file: &str, base: &str, head: &str) -> Vec<String> {
    replacements_with(file, base, head, &[], &[])
}

/// [`replacements_in`] with other files beside the template (`nested.yaml`), as they are
/// at the base and at the head.
fn replacements_with(
    file: &str,
    base: &str,
    head: &str,
    base_files: &[(&str, &str)],
    head_files: &[(&str, &str)],
) -> Vec<String> {
    let repo = Repo::new();
    repo.write(file, base);
    for (name, text) in base_files {
        repo.write(name, text);
    }
    repo.commit("base");
    repo.write(file, head);
    for (name, text) in head_files {
        repo.write(name, text);
    }
    let run = |bin: &mut Bin| -> Vec<String> {
        let out = bin
            .args(["--select", "DDB022", "--format", "json"])
            .assert()
            .get_output()
            .clone();
        let json: Value = serde_json::from_slice(&out.stdout).unwrap();
        json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["message"].as_str().unwrap().to_string())
            .collect()
    };
    let checked = run(repo.guard().args(["check", "--base", "main"]));
    let dir = tempfile::tempdir().unwrap();
    for (side, text, others) in [("old", base, base_files), ("new", head, head_files)] {
        std::fs::create_dir_all(dir.path().join(side)).unwrap();
        std::fs::write(dir.path().join(side).join(file), text).unwrap();
        for (name, other) in others {
            std::fs::write(dir.path().join(side).join(name), other).unwrap();
        }
    }
    let mut bin = Bin::cargo_bin("ddb-guard").unwrap();
    bin.current_dir(dir.path()).args(["diff", "old", "new"]);
    let diffed = run(&mut bin);
    let strip = |m: &[String]| -> Vec<String> {
        m.iter()
            .map(|x| {
                x.replace(&format!("`main:{file}`"), "BASE")
                    .replace(&format!("`old/{file}`"), "BASE")
            })
            .collect()
    };
    assert_eq!(
        strip(&checked),
        strip(&diffed),
        "check --base and diff disagree"
    );
    checked
}

/// A table whose properties are `PROPS`, with `SECTIONS` (parameters, conditions,
/// mappings) before `Resources`.
fn table(sections: &str, props: &str) -> String {
    format!(
        "{sections}Resources:\n  Orders:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      BillingMode: PAY_PER_REQUEST\n{props}"
    )
}

const ENV: &str = "Parameters:\n  Env:\n    Type: String\n    AllowedValues: [prod, dev]\n";
const ID_KEY: &str = "      KeySchema: [{AttributeName: id, KeyType: HASH}]\n      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]\n";

/// DDB022 on resolved values: changes reached only through a mapping value, a condition's
/// definition, a condition it refers to, or `Fn::Sub`/`Fn::Join` parts replace the table,
/// and the message names the property, both values and the case.
#[test]
fn a_replacement_reached_through_what_a_value_reads_is_reported_with_its_case() {
    let names = |dev: &str| {
        format!("{ENV}Mappings:\n  Names:\n    prod: {{name: orders}}\n    dev: {{name: {dev}}}\n")
    };
    let by_map = "      TableName: !FindInMap [Names, !Ref Env, name]\n";
    let is_prod = |def: &str| format!("{ENV}Conditions:\n  IsProd: {def}\n");
    let by_if = "      TableName: !If [IsProd, orders, orders-dev]\n";
    let nested = |def: &str| {
        format!("{ENV}Conditions:\n  IsDev: {def}\n  IsProd: !Not [!Condition IsDev]\n")
    };
    // (base, head, what the message must say)
    let cases: Vec<(String, String, Vec<&str>)> = vec![
        (
            table(&names("orders-dev"), &format!("{by_map}{ID_KEY}")),
            table(&names("orders-test"), &format!("{by_map}{ID_KEY}")),
            vec![
                "`TableName` is `orders-dev` at the base and `orders-test` at the head when parameter `Env` is `dev`",
            ],
        ),
        (
            table(&is_prod("!Equals [!Ref Env, prod]"), &format!("{by_if}{ID_KEY}")),
            table(&is_prod("!Equals [!Ref Env, dev]"), &format!("{by_if}{ID_KEY}")),
            vec![
                "`TableName` is `orders` at the base and `orders-dev` at the head when parameter `Env` is `prod`",
                "(at the base condition `IsProd` is true; at the head condition `IsProd` is false)",
            ],
        ),
        (
            table(&nested("!Equals [!Ref Env, dev]"), &format!("{by_if}{ID_KEY}")),
            table(&nested("!Equals [!Ref Env, prod]"), &format!("{by_if}{ID_KEY}")),
            vec!["`TableName` is `orders"],
        ),
        (
            table(ENV, &format!("      TableName: !Sub '${{Env}}-orders'\n{ID_KEY}")),
            table(ENV, &format!("      TableName: !Join ['_', [!Ref Env, orders]]\n{ID_KEY}")),
            vec!["`TableName` is `prod-orders` at the base and `prod_orders` at the head when parameter `Env` is `prod`"],
        ),
        (
            table(
                &format!("{ENV}Mappings:\n  Keys:\n    prod: {{k: id}}\n    dev: {{k: id}}\n"),
                "      KeySchema: [{AttributeName: !FindInMap [Keys, !Ref Env, k], KeyType: HASH}]\n      AttributeDefinitions: [{AttributeName: id, AttributeType: S}, {AttributeName: pk, AttributeType: S}]\n",
            ),
            table(
                &format!("{ENV}Mappings:\n  Keys:\n    prod: {{k: id}}\n    dev: {{k: pk}}\n"),
                "      KeySchema: [{AttributeName: !FindInMap [Keys, !Ref Env, k], KeyType: HASH}]\n      AttributeDefinitions: [{AttributeName: id, AttributeType: S}, {AttributeName: pk, AttributeType: S}]\n",
            ),
            vec!["`KeySchema` is `[{AttributeName: id, KeyType: HASH}]` at the base and `[{AttributeName: pk, KeyType: HASH}]` at the head when parameter `Env` is `dev`"],
        ),
        (
            table(
                &format!("{ENV}Mappings:\n  Types:\n    prod: {{t: S}}\n    dev: {{t: S}}\n"),
                "      KeySchema: [{AttributeName: id, KeyType: HASH}]\n      AttributeDefinitions: [{AttributeName: id, AttributeType: !FindInMap [Types, !Ref Env, t]}]\n",
            ),
            table(
                &format!("{ENV}Mappings:\n  Types:\n    prod: {{t: N}}\n    dev: {{t: S}}\n"),
                "      KeySchema: [{AttributeName: id, KeyType: HASH}]\n      AttributeDefinitions: [{AttributeName: id, AttributeType: !FindInMap [Types, !Ref Env, t]}]\n",
            ),
            vec!["the `AttributeType` of key attribute `id` is `S` at the base and `N` at the head when parameter `Env` is `prod`"],
        ),
        (
            table("", &format!("{ID_KEY}      LocalSecondaryIndexes:\n        - IndexName: byDate\n          KeySchema: [{{AttributeName: id, KeyType: HASH}}, {{AttributeName: d, KeyType: RANGE}}]\n          Projection: {{ProjectionType: INCLUDE, NonKeyAttributes: [a, b]}}\n")),
            table("", &format!("{ID_KEY}      LocalSecondaryIndexes:\n        - IndexName: byDate\n          KeySchema: [{{AttributeName: id, KeyType: HASH}}, {{AttributeName: d, KeyType: RANGE}}]\n          Projection: {{ProjectionType: INCLUDE, NonKeyAttributes: [a, c]}}\n")),
            vec!["`LocalSecondaryIndexes` is `[{IndexName: byDate"],
        ),
        (
            table("", &format!("{ID_KEY}      ImportSourceSpecification: {{InputFormat: CSV, S3BucketSource: {{S3Bucket: a}}}}\n")),
            table("", &format!("{ID_KEY}      ImportSourceSpecification: {{InputFormat: CSV, S3BucketSource: {{S3Bucket: b}}}}\n")),
            vec!["`ImportSourceSpecification` is `{InputFormat: CSV, S3BucketSource: {S3Bucket: a}}` at the base and `{InputFormat: CSV, S3BucketSource: {S3Bucket: b}}` at the head"],
        ),
    ];
    for (i, (base, head, wanted)) in cases.iter().enumerate() {
        let found = replacements(base, head);
        assert_eq!(found.len(), 1, "case {i}: {found:?}");
        for w in wanted {
            assert!(found[0].contains(w), "case {i}: {w}\n in {}", found[0]);
        }
    }
}

/// Equivalent spellings of the same values are no replacement, whatever else changed.
#[test]
fn equivalent_spellings_and_unrelated_changes_are_not_a_replacement() {
    let lsi = |attrs: &str| {
        format!("      LocalSecondaryIndexes:\n        - IndexName: byDate\n          KeySchema: [{{AttributeName: id, KeyType: HASH}}, {{AttributeName: d, KeyType: RANGE}}]\n          Projection: {{ProjectionType: INCLUDE, NonKeyAttributes: [{attrs}]}}\n")
    };
    let is_prod = |def: &str| format!("{ENV}Conditions:\n  IsProd: {def}\n");
    let cases: Vec<(String, String)> = vec![
        (
            table("", &format!("      TableName: orders\n{ID_KEY}")),
            table("", &format!("      TableName: !Sub \"orders\"\n{ID_KEY}")),
        ),
        (
            table("", "      KeySchema: [{AttributeName: id, KeyType: HASH}, {AttributeName: d, KeyType: RANGE}]\n      AttributeDefinitions: [{AttributeName: id, AttributeType: S}, {AttributeName: d, AttributeType: N}]\n"),
            table("", "      KeySchema:\n        - KeyType: HASH\n          AttributeName: !Sub id\n        - {AttributeName: d, KeyType: RANGE}\n      AttributeDefinitions:\n        - {AttributeName: d, AttributeType: N}\n        - {AttributeName: id, AttributeType: !Join ['', [S]]}\n        - {AttributeName: other, AttributeType: S}\n"),
        ),
        (
            table("", &format!("{ID_KEY}{}", lsi("a, b"))),
            table("", &format!("{ID_KEY}{}", lsi("b, a"))),
        ),
        (
            table(&is_prod("!Equals [!Ref Env, prod]"), &format!("      TableName: !If [IsProd, orders, orders-dev]\n{ID_KEY}")),
            table(&is_prod("!Equals [prod, !Ref Env]"), &format!("      TableName: !If [IsProd, orders, orders-dev]\n{ID_KEY}")),
        ),
        (
            table(&is_prod("!Equals [!Ref Env, prod]"), &format!("      TableName: orders\n{ID_KEY}")),
            table(&is_prod("!Equals [!Ref Env, dev]"), &format!("      TableName: orders\n{ID_KEY}")),
        ),
        (
            table(ENV, &format!("      TableName: !Sub '${{Env}}-orders'\n{ID_KEY}")),
            table(
                &ENV.replace("[prod, dev]", "[prod, dev, test]"),
                &format!("      TableName: !Sub '${{Env}}-orders'\n{ID_KEY}"),
            ),
        ),
        (
            table("", &format!("      TableName: !ImportValue shared-name\n{ID_KEY}")),
            table("Mappings:\n  M: {a: {b: c}}\n", &format!("      TableName: !ImportValue shared-name\n{ID_KEY}")),
        ),
        (
            table("", &format!("      TableName: !Sub '${{AWS::StackName}}-orders'\n{ID_KEY}")),
            table(ENV, &format!("      TableName: !Join ['-', [!Ref AWS::StackName, orders]]\n{ID_KEY}")),
        ),
    ];
    for (i, (base, head)) in cases.iter().enumerate() {
        assert_eq!(replacements(base, head), Vec::<String>::new(), "case {i}");
    }
}

/// What cannot be resolved at one revision is a finding saying so, not silence.
#[test]
fn a_value_that_cannot_be_resolved_is_not_proven_unchanged() {
    let found = replacements(
        &table("", &format!("      TableName: !ImportValue a\n{ID_KEY}")),
        &table("", &format!("      TableName: !ImportValue b\n{ID_KEY}")),
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("`TableName` cannot be proven unchanged: at the base, `Fn::ImportValue` cannot be resolved"),
        "{}",
        found[0]
    );
    // A tagged list where a literal list must be: not read as its argument list.
    let found = replacements(
        &table("", ID_KEY),
        &table("", "      KeySchema: !Split [',', 'id']\n      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]\n"),
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("`KeySchema` cannot be proven unchanged"),
        "{}",
        found[0]
    );
}

const SAM: &str = "Transform: AWS::Serverless-2016-10-31\n";

/// SAM's `SimpleTable` is compared as the `AWS::DynamoDB::Table` its transform makes
/// under the same logical ID: the default key `id` (String, HASH) written out, or the
/// switch to an explicit table of the same shape, is no replacement; a new key or
/// TableName is.
#[test]
fn a_simple_table_is_compared_as_the_table_sam_makes_of_it() {
    let simple = |props: &str| {
        format!("{SAM}Resources:\n  Orders:\n    Type: AWS::Serverless::SimpleTable\n{props}")
    };
    let explicit = |name: &str, key: &str, t: &str| {
        format!("{SAM}Resources:\n  Orders:\n    Type: AWS::DynamoDB::Table\n    Properties:\n{name}      BillingMode: PAY_PER_REQUEST\n      KeySchema: [{{AttributeName: {key}, KeyType: HASH}}]\n      AttributeDefinitions: [{{AttributeName: {key}, AttributeType: {t}}}]\n")
    };
    let same: Vec<(String, String)> = vec![
        (
            simple(""),
            simple("    Properties:\n      PrimaryKey: {Name: id, Type: String}\n"),
        ),
        (simple(""), explicit("", "id", "S")),
        (
            simple("    Properties:\n      TableName: orders\n      PrimaryKey: {Name: pk, Type: Number}\n"),
            explicit("      TableName: orders\n", "pk", "N"),
        ),
        (explicit("", "id", "S"), simple("")),
    ];
    for (i, (base, head)) in same.iter().enumerate() {
        assert_eq!(replacements(base, head), Vec::<String>::new(), "case {i}");
    }
    let replaced: Vec<(String, String, &str)> = vec![
        (
            simple(""),
            explicit("", "pk", "S"),
            "`KeySchema` is `[{AttributeName: id, KeyType: HASH}]` at the base and `[{AttributeName: pk, KeyType: HASH}]` at the head",
        ),
        (
            simple(""),
            explicit("      TableName: orders\n", "id", "S"),
            "`TableName` is `(not set)` at the base and `orders` at the head",
        ),
        (
            simple("    Properties:\n      PrimaryKey: {Name: id, Type: String}\n"),
            simple("    Properties:\n      PrimaryKey: {Name: id, Type: Number}\n"),
            "the `AttributeType` of key attribute `id` is `S` at the base and `N` at the head",
        ),
    ];
    for (i, (base, head, wanted)) in replaced.iter().enumerate() {
        let found = replacements(base, head);
        assert_eq!(found.len(), 1, "case {i}: {found:?}");
        assert!(found[0].contains(wanted), "case {i}: {}", found[0]);
    }
}

/// `ddb-guard diff OLD NEW --select DDB022` on two texts: the messages.
fn diff_ddb022(old: &str, new: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("old.yaml"), old).unwrap();
    std::fs::write(dir.path().join("new.yaml"), new).unwrap();
    let out = Bin::cargo_bin("ddb-guard")
        .unwrap()
        .current_dir(dir.path())
        .args([
            "diff", "old.yaml", "new.yaml", "--select", "DDB022", "--format", "json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.code().is_some_and(|c| c < 2),
        "exit {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect()
}

mod replacement_property {
    use super::support::pair_oracle_replace::{generate, mutate, render, replaced_under, Rng};
    use super::*;

    /// The generator reaches a `TableName` read from custom resource `Gen` whose `Suffix`
    /// the change edits (a replacement), and pairs that read `Gen` without editing it (no
    /// replacement from it), so the property checks the `Ref`/`Fn::GetAtt` rule both ways.
    #[test]
    fn the_generator_edits_a_resource_the_table_name_reads() {
        let (mut replaced, mut untouched) = (0, 0);
        for seed in 0..4000u64 {
            let mut rng = Rng::new(seed);
            let base = generate(&mut rng);
            let head = mutate(&mut rng, &base);
            let (old, new) = (render(&base), render(&head));
            if !(old.contains("Gen.Value") && new.contains("Gen.Value")) {
                continue;
            }
            if base.gen_suffix == head.gen_suffix {
                untouched += 1;
            } else if !replaced_under(&base, &head).is_empty() {
                replaced += 1;
            }
        }
        // About one pair in a hundred of each: a few per default run of the property.
        assert!(
            replaced > 40 && untouched > 40,
            "replaced {replaced}, untouched {untouched}"
        );
    }

    proptest! {
        // `PAIR_CASES=5000 cargo test --test it pr_guard::replacement_property` for a longer run.
        #![proptest_config(ProptestConfig {
            cases: std::env::var("PAIR_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(40),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        /// DDB022 reports a generated pair exactly when the independent concrete
        /// evaluator finds an assignment that replaces the table, and the case a message
        /// names is one of those assignments.
        #[test]
        fn ddb022_reports_exactly_the_replacements_of_the_ground_truth(seed in any::<u64>()) {
            let mut rng = Rng::new(seed);
            let base = generate(&mut rng);
            let head = mutate(&mut rng, &base);
            let (old, new) = (render(&base), render(&head));
            let truth = replaced_under(&base, &head);
            let found = diff_ddb022(&old, &new);
            prop_assert_eq!(
                found.len(),
                usize::from(!truth.is_empty()),
                "replaced under {:?}; found {:?}\n--- base\n{}--- head\n{}",
                truth, found, old, new
            );
            for message in &found {
                // Only what `Gen` returns after an edit is unknown to the guard.
                prop_assert!(
                    !message.contains("cannot be proven") || message.contains("resource `Gen`"),
                    "{}", message
                );
                for env in ["prod", "dev", "test"] {
                    if message.contains(&format!("parameter `Env` is `{env}`")) {
                        prop_assert!(truth.iter().any(|t| t == env), "{} not in {:?}", message, truth);
                    }
                }
            }
        }
    }
}

/// A condition that no parameter decides (it reads the Region) is one open case at both
/// revisions only while it means the same there: an unrelated change does not make its
/// branches a replacement, a changed definition or swapped branches do.
#[test]
fn an_open_condition_is_the_same_case_at_both_revisions_only_while_it_means_the_same() {
    let template = |params: &str, region: &str, value: &str| {
        table(
            &format!("{params}Conditions:\n  InMain: !Equals [!Ref AWS::Region, {region}]\n"),
            &format!("      TableName: {value}\n{ID_KEY}"),
        )
    };
    let by_region = "!If [InMain, orders, orders-eu]";
    let base = template("", "us-east-1", by_region);
    let unrelated = template(
        "Parameters:\n  Other:\n    Type: String\n",
        "us-east-1",
        by_region,
    );
    assert_eq!(replacements(&base, &unrelated), Vec::<String>::new());
    let moved = replacements(&base, &template("", "eu-west-1", by_region));
    assert_eq!(moved.len(), 1, "{moved:?}");
    assert!(
        moved[0].contains(
            "(at the base condition `InMain` is true; at the head condition `InMain` is false)"
        ),
        "{}",
        moved[0]
    );
    let swapped = replacements(
        &base,
        &template("", "us-east-1", "!If [InMain, orders-eu, orders]"),
    );
    assert_eq!(swapped.len(), 1, "{swapped:?}");
    assert!(
        swapped[0].contains("`TableName` is `orders` at the base and `orders-eu` at the head when condition `InMain` is true"),
        "{}",
        swapped[0]
    );
}

/// An update that does not pass a parameter takes its Default: a Default changed by the
/// pull request changes every value read from that parameter (with or without
/// `AllowedValues`), and only those.
#[test]
fn a_changed_parameter_default_is_a_case_of_its_own() {
    let named = |param: &str, value: &str| {
        table(
            &format!("Parameters:\n  Name:\n    Type: String\n{param}"),
            &format!("      TableName: {value}\n{ID_KEY}"),
        )
    };
    let found = replacements(
        &named("    Default: orders\n", "!Ref Name"),
        &named("    Default: orders-v2\n", "!Ref Name"),
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("`TableName` is `orders` at the base and `orders-v2` at the head when parameter `Name` is left to its Default (`orders` at the base, `orders-v2` at the head)"),
        "{}",
        found[0]
    );
    let found = replacements(
        &named(
            "    AllowedValues: [a, b]\n    Default: a\n",
            "!Sub '${Name}-orders'",
        ),
        &named(
            "    AllowedValues: [a, b]\n    Default: b\n",
            "!Sub '${Name}-orders'",
        ),
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("`a-orders` at the base and `b-orders` at the head"),
        "{}",
        found[0]
    );
    let unchanged: Vec<(String, String)> = vec![
        (
            named("    Default: orders\n", "orders"),
            named("    Default: orders-v2\n", "orders"),
        ),
        (
            named("    Default: orders\n", "!Ref Name"),
            named(
                "    Default: orders\n    Description: the table's name\n",
                "!Ref Name",
            ),
        ),
    ];
    for (i, (base, head)) in unchanged.iter().enumerate() {
        assert_eq!(replacements(base, head), Vec::<String>::new(), "case {i}");
    }
}

#[test]
fn a_services_own_config_added_by_the_change_cannot_switch_its_comparison_off() {
    // The base has only the root's config; the change adds one for `stacks/` that turns
    // the comparison rules off there, and removes the table. The base's nearest config
    // (the root's) still governs `stacks/`, and the new file is DDB902 at its line, from
    // the root and from the service.
    let repo = removal();
    repo.write("ddb-guard.toml", "select = [\"ALL\"]\n");
    repo.commit("base config");
    repo.write("stacks/orders.yaml", &without_policies(ORDERS));
    repo.commit("table back");
    repo.write("stacks/orders.yaml", QUEUE_ONLY);
    repo.write("stacks/ddb-guard.toml", "# service\nignore = [\"DDB02\"]\n");
    repo.commit("weaken the service");
    for (dir, orders, config) in [
        ("", "stacks/orders.yaml", "stacks/ddb-guard.toml"),
        ("stacks", "orders.yaml", "ddb-guard.toml"),
    ] {
        let found = findings(repo.guard_in(dir).args(["check", "--base", "HEAD~1"]), 1);
        assert!(
            found.contains(&f("DDB020", "error", orders, 4)),
            "{dir}: {found:?}"
        );
        let weakened: Vec<_> = found.iter().filter(|x| x.0 == "DDB902").collect();
        assert!(!weakened.is_empty(), "{dir}: {found:?}");
        assert!(
            weakened.iter().all(|x| x.2 == config && x.1 == "error"),
            "{dir}: {found:?}"
        );
        // The `ignore` line; the rest is what the service's file drops by not merging
        // with the root's `select = ["ALL"]` (the off-by-default rules).
        assert!(weakened.iter().any(|x| x.3 == 2), "{dir}: {found:?}");
    }
}

#[test]
fn a_services_config_at_the_base_governs_its_files() {
    // The base turned the comparison off for `legacy/` in its own config; the change
    // does not touch it, so removing a table there is not DDB020, while `stacks/` is.
    let repo = Repo::new();
    repo.write("stacks/orders.yaml", &without_policies(ORDERS));
    repo.write("legacy/orders.yaml", &without_policies(ORDERS));
    repo.write(
        "legacy/ddb-guard.toml",
        "ignore = [\"DDB020\", \"DDB902\"]\n",
    );
    repo.commit("base");
    repo.write("stacks/orders.yaml", QUEUE_ONLY);
    repo.write("legacy/orders.yaml", QUEUE_ONLY);
    repo.commit("remove both");
    let found = findings(repo.guard().args(["check", "--base", "HEAD~1"]), 1);
    let removed: Vec<_> = found.iter().filter(|x| x.0 == "DDB020").collect();
    assert_eq!(
        removed,
        vec![&f("DDB020", "error", "stacks/orders.yaml", 4)],
        "{found:?}"
    );
}

/// The hook's own command line (`entry` in .pre-commit-hooks.yaml), split into words.
fn pre_commit_entry() -> Vec<String> {
    let manifest = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml"),
    )
    .unwrap();
    let entry = manifest
        .lines()
        .find_map(|l| l.trim().strip_prefix("entry: "))
        .unwrap();
    entry
        .split_whitespace()
        .skip(1)
        .map(str::to_string)
        .collect()
}

#[test]
fn the_pre_commit_hook_with_base_head_catches_a_staged_deletion_and_rename() {
    // As docs/pre-commit.md configures it: the hook's entry, `args: [--base, HEAD]`,
    // `pass_filenames: false` (so no paths).
    let mut words = pre_commit_entry();
    assert!(words.contains(&"--force-exclude".to_string()), "{words:?}");
    words.extend(["--base".to_string(), "HEAD".to_string()]);
    let repo = Repo::new();
    repo.write("stacks/orders.yaml", &without_policies(ORDERS));
    repo.commit("base");
    // Staged deletion.
    repo.git(&["rm", "-q", "stacks/orders.yaml"]);
    let found = findings(repo.guard().args(&words), 1);
    assert_eq!(
        found,
        vec![f("DDB020", "error", "stacks/orders.yaml", 5)],
        "{found:?}"
    );
    // A staged rename of the table's logical ID.
    repo.git(&["reset", "-q", "--hard"]);
    repo.write(
        "stacks/orders.yaml",
        &without_policies(ORDERS).replace("OrdersTable:", "OrdersTableV2:"),
    );
    repo.git(&["add", "-A"]);
    let found = findings(repo.guard().args(&words), 1);
    assert!(
        found.iter().any(|x| x.0 == "DDB021" || x.0 == "DDB020"),
        "{found:?}"
    );
    // Nothing changed: no comparison finding (the template's own DDB001/DDB002 remain).
    repo.git(&["reset", "-q", "--hard"]);
    let found = findings(repo.guard().args(&words), 1);
    assert!(found.iter().all(|x| !x.0.starts_with("DDB02")), "{found:?}");
}

/// In a Serverless Framework file, `${self:custom.tableName}` is substituted from the same
/// file at deploy time: the same text names another table when the value it points at
/// (or a variable inside that value) changed; a change elsewhere is no finding.
#[test]
fn a_serverless_self_variable_is_compared_by_the_value_it_points_at() {
    let service = |name: &str, custom: &str| {
        format!("service: {name}\ncustom:\n  tableName: {custom}\nresources:\n  Resources:\n    OrdersTable:\n      Type: AWS::DynamoDB::Table\n      Properties:\n        TableName: ${{self:custom.tableName}}\n        KeySchema: [{{AttributeName: id, KeyType: HASH}}]\n        AttributeDefinitions: [{{AttributeName: id, AttributeType: S}}]\n")
    };
    let base = service("orders", "${self:service}-${sls:stage}");
    let found = replacements_in(
        "serverless.yml",
        &base,
        &service("orders", "ledger-${sls:stage}"),
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("`TableName` reads the Serverless variable `${self:custom.tableName}`, which is `${self:service}-${sls:stage}` at the base and `ledger-${sls:stage}` at the head"),
        "{}",
        found[0]
    );
    let found = replacements_in(
        "serverless.yml",
        &base,
        &service("orders-v2", "${self:service}-${sls:stage}"),
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains(
            "`${self:service}`, which is `orders` at the base and `orders-v2` at the head"
        ),
        "{}",
        found[0]
    );
    let unrelated = base.replace(
        "service: orders\n",
        "service: orders\nprovider:\n  name: aws\n",
    );
    assert_eq!(
        replacements_in("serverless.yml", &base, &unrelated),
        Vec::<String>::new()
    );
}

/// The property of issue 17 for removals: over generated (base, head) pairs, every table
/// the brute-force evaluator of `tests/support/pair_oracle_remove.rs` finds deleted by
/// some deployment is reported as DDB020 (or the file fails closed), and no table it
/// finds deleted by none is reported, where its answer is exact (no map lookup fails).
/// A copy of the `Fn::ForEach` loop is reported under the loop's fragment key. The
/// number of cases is `PROPTEST_CASES` (default 64: a few seconds).
fn removal_oracle_holds(bytes: &[u8]) -> Result<(), TestCaseError> {
    let (base, head) = pair_oracle::generate(&mut pair_oracle::Choices::new(bytes));
    let (base_text, head_text) = (pair_oracle::render(&base), pair_oracle::render(&head));
    let reported = pair_oracle::guard(&base_text, &head_text);
    let reported_for = |name: &str| -> bool {
        let key = if name.ends_with("Tenant") {
            "${T}Tenant"
        } else {
            name
        };
        match &reported {
            Ok(found) => found.iter().any(|r| r == key),
            Err(_) => true,
        }
    };
    let names = pair_oracle::names(&base, &head);
    let mut loop_deleted = false;
    let mut loop_exact = true;
    for name in &names {
        let truth = pair_oracle::judge(&base, &head, name);
        let context = || {
            format!(
                "{name}: {truth:?}, reported {reported:?}\nbase:\n{base_text}\nhead:\n{head_text}"
            )
        };
        if truth.deleted {
            prop_assert!(reported_for(name), "not reported: {}", context());
        }
        if name.ends_with("Tenant") {
            loop_deleted |= truth.deleted;
            loop_exact &= truth.exact;
        } else if !truth.deleted && truth.exact {
            prop_assert!(reported.is_ok(), "failed: {}", context());
            prop_assert!(!reported_for(name), "reported, not deleted: {}", context());
        }
    }
    if !loop_deleted && loop_exact {
        prop_assert!(
            !reported_for("aTenant"),
            "loop reported, no copy deleted: {reported:?}\nbase:\n{base_text}\nhead:\n{head_text}"
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_deletion_the_pair_oracle_finds_is_reported_and_no_other(bytes in prop::collection::vec(any::<u8>(), 0..96)) {
        removal_oracle_holds(&bytes)?;
    }
}

/// The generator reaches both answers, so the property checks something both ways.
#[test]
fn the_pair_oracle_generates_deletions_and_safe_changes() {
    let (mut deleted, mut kept) = (0, 0);
    for seed in 0u32..300 {
        let bytes: Vec<u8> = (0..96u32)
            .map(|i| {
                (seed
                    .wrapping_mul(2_654_435_761)
                    .wrapping_add(i.wrapping_mul(40_503))
                    >> 7) as u8
            })
            .collect();
        let (base, head) = pair_oracle::generate(&mut pair_oracle::Choices::new(&bytes));
        for name in pair_oracle::names(&base, &head) {
            let truth = pair_oracle::judge(&base, &head, &name);
            if truth.exact {
                if truth.deleted {
                    deleted += 1;
                } else {
                    kept += 1;
                }
            }
        }
    }
    assert!(deleted > 50 && kept > 50, "{deleted} deleted, {kept} kept");
}

/// One (base, head) pair through `check --base` on a real git repository and through
/// `diff OLD NEW`: the findings of `rule` as (severity, resource, message); both commands
/// must report the same (the base's name aside).
fn compared(base: &str, head: &str, rule: &str) -> Vec<(String, String, String)> {
    let repo = Repo::new();
    repo.write("stack.yaml", base);
    repo.commit("base");
    repo.write("stack.yaml", head);
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "--allow-empty", "-m", "head"]);
    let run = |bin: &mut Bin| -> Vec<(String, String, String)> {
        let out = bin
            .args(["--select", rule, "--format", "json"])
            .assert()
            .get_output()
            .stdout
            .clone();
        let json: Value = serde_json::from_slice(&out).unwrap();
        json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == rule)
            .map(|f| {
                (
                    f["severity"].as_str().unwrap().to_string(),
                    f["resource"].as_str().unwrap().to_string(),
                    f["message"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let checked = run(repo.guard().args(["check", "--base", "HEAD~1"]));
    repo.write("old/stack.yaml", base);
    let diffed = run(repo.guard().args(["diff", "old/stack.yaml", "stack.yaml"]));
    let renamed: Vec<_> = checked
        .iter()
        .map(|(s, r, m)| {
            (
                s.clone(),
                r.clone(),
                m.replace("HEAD~1:stack.yaml", "old/stack.yaml"),
            )
        })
        .collect();
    assert_eq!(diffed, renamed, "check --base and diff disagree");
    checked
}

/// A template with parameter `Env`, mapping `Tier`, conditions and one table whose
/// existence they decide. `{params}`, `{conditions}`, `{map}` and `{table_condition}`
/// are filled per case.
fn conditional(params: &str, map: &str, conditions: &str, table_condition: &str) -> String {
    format!(
        "Parameters:\n  Env:\n    Type: String\n{params}Mappings:\n  Tier:\n{map}Conditions:\n{conditions}Resources:\n  Queue:\n    Type: AWS::SQS::Queue\n  Orders:\n    Type: AWS::DynamoDB::Table\n{table_condition}    Properties:\n      KeySchema: [{{AttributeName: id, KeyType: HASH}}]\n"
    )
}

/// DDB020 by truth sets, not condition text: a table whose `Condition` can be false at the
/// head in a deployment where it existed at the base, through its condition, a condition
/// that one refers to, a mapping value or a parameter's `AllowedValues` or `Default`. The
/// message names the deployment. Rewriting the same truth set differently is no finding.
#[test]
fn a_condition_flip_through_any_input_is_a_removal_in_the_cases_it_flips() {
    let allowed = "    AllowedValues: [prod, dev]\n";
    let map = "    prod: {keep: 'yes'}\n    dev: {keep: 'no'}\n";
    let is_prod = "  IsProd: !Equals [!Ref Env, prod]\n";
    let on = "    Condition: IsProd\n";
    let keep = "  Keep: !Equals [!FindInMap [Tier, !Ref Env, keep], 'yes']\n";
    let via = "  IsProd: !Condition Inner\n  Inner: !Equals [!Ref Env, prod]\n";
    // (base, head, words the message must hold; empty: no finding)
    let cases: Vec<(String, String, Vec<&str>)> = vec![
        // The condition's definition changed.
        (
            conditional(allowed, map, is_prod, on),
            conditional(allowed, map, "  IsProd: !Equals [!Ref Env, dev]\n", on),
            vec!["parameter `Env` is `prod`", "`IsProd` is false at the head"],
        ),
        // A condition it refers to changed.
        (
            conditional(allowed, map, via, on),
            conditional(
                allowed,
                map,
                &via.replace("[!Ref Env, prod]", "[!Ref Env, dev]"),
                on,
            ),
            vec!["parameter `Env` is `prod`"],
        ),
        // AllowedValues widened: `test` is a new deployment, where the table is gone.
        (
            conditional("    AllowedValues: [prod]\n", map, is_prod, on),
            conditional("    AllowedValues: [prod, test]\n", map, is_prod, on),
            vec!["parameter `Env` is `test`", "the base did not allow"],
        ),
        // AllowedValues dropped: any value can be passed now.
        (
            conditional("    AllowedValues: [prod]\n", map, is_prod, on),
            conditional("", map, is_prod, on),
            vec!["parameter `Env`", "the base did not allow"],
        ),
        // Default changed: a stack deployed without `Env` loses the table.
        (
            conditional(
                "    AllowedValues: [prod, dev]\n    Default: prod\n",
                map,
                is_prod,
                on,
            ),
            conditional(
                "    AllowedValues: [prod, dev]\n    Default: dev\n",
                map,
                is_prod,
                on,
            ),
            vec!["`Env` is not passed", "Default `dev` at the head"],
        ),
        // A mapping value changed.
        (
            conditional(allowed, map, keep, "    Condition: Keep\n"),
            conditional(
                allowed,
                &map.replace("prod: {keep: 'yes'}", "prod: {keep: 'no'}"),
                keep,
                "    Condition: Keep\n",
            ),
            vec!["parameter `Env` is `prod`", "`Keep` is false"],
        ),
        // The table gained a condition.
        (
            conditional(allowed, map, is_prod, ""),
            conditional(allowed, map, is_prod, on),
            vec![
                "at the base it had no condition",
                "parameter `Env` is `dev`",
            ],
        ),
        // Not removals: the same truth set written differently, a condition that only
        // widens, a Default that keeps the table, a mapping change that keeps it.
        (
            conditional(allowed, map, is_prod, on),
            conditional(
                allowed,
                map,
                "  IsProd: !Not [!Equals [dev, !Ref Env]]\n",
                on,
            ),
            vec![],
        ),
        (
            conditional(allowed, map, is_prod, on),
            conditional(
                allowed,
                map,
                "  IsProd: !Or [!Equals [!Ref Env, prod], !Equals [!Ref Env, dev]]\n",
                on,
            ),
            vec![],
        ),
        (
            conditional(
                "    AllowedValues: [prod, dev]\n    Default: dev\n",
                map,
                is_prod,
                on,
            ),
            conditional(
                "    AllowedValues: [prod, dev]\n    Default: prod\n",
                map,
                is_prod,
                on,
            ),
            vec![],
        ),
        (
            conditional(allowed, map, keep, "    Condition: Keep\n"),
            conditional(
                allowed,
                &map.replace("dev: {keep: 'no'}", "dev: {keep: 'yes'}"),
                keep,
                "    Condition: Keep\n",
            ),
            vec![],
        ),
    ];
    for (i, (base, head, words)) in cases.iter().enumerate() {
        let found = compared(base, head, "DDB020");
        if words.is_empty() {
            assert!(found.is_empty(), "case {i}: {found:?}");
            continue;
        }
        assert_eq!(found.len(), 1, "case {i}: {found:?}");
        let (severity, resource, message) = &found[0];
        assert_eq!(
            (severity.as_str(), resource.as_str()),
            ("error", "Orders"),
            "case {i}"
        );
        for w in words {
            assert!(message.contains(w), "case {i}: `{w}` not in {message}");
        }
    }
}

fn tenants(collection: &str, params: &str) -> String {
    format!(
        "Transform: AWS::LanguageExtensions\nParameters:\n  Stage: {{Type: String, AllowedValues: [a]}}\n{params}Resources:\n  Fn::ForEach::Tenants:\n    - Tenant\n    - {collection}\n    - ${{Tenant}}Table:\n        Type: AWS::DynamoDB::Table\n        Properties:\n          TableName: !Sub '${{Tenant}}-orders'\n          KeySchema: [{{AttributeName: id, KeyType: HASH}}]\n"
    )
}

/// `Fn::ForEach`: the sets of logical IDs are compared. A collection that is no longer a
/// literal can drop copies: reported naming the parameter, or failing closed when it
/// cannot be listed at all (`!Split`); the same parameter with a Default that keeps every
/// copy is no change; an explicit table <-> `Fn::ForEach` refactor that produces the same
/// logical IDs and properties is neither a removal nor a rename.
#[test]
fn for_each_copies_are_compared_as_sets_of_logical_ids() {
    let list = "  Names: {Type: CommaDelimitedList, Default: 'acme,globex'}\n";
    let explicit = "Transform: AWS::LanguageExtensions\nParameters:\n  Stage: {Type: String, AllowedValues: [a]}\nResources:\n  acmeTable:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      TableName: !Sub 'acme-orders'\n      KeySchema: [{AttributeName: id, KeyType: HASH}]\n  globexTable:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      TableName: !Sub 'globex-orders'\n      KeySchema: [{AttributeName: id, KeyType: HASH}]\n";
    // (base, head, rule, expected [(resource, words)])
    type Case = (
        String,
        String,
        &'static str,
        Vec<(&'static str, Vec<&'static str>)>,
    );
    let cases: Vec<Case> = vec![
        (
            tenants("[acme, globex]", ""),
            tenants("!Ref Names", list),
            "DDB020",
            vec![(
                "${Tenant}Table",
                vec!["parameter `Names`", "`acmeTable`, `globexTable`"],
            )],
        ),
        (
            tenants("[acme, globex]", ""),
            tenants("!Split [',', 'acme,globex']", ""),
            "DDB020",
            vec![("${Tenant}Table", vec!["`Fn::Split`, not a literal list"])],
        ),
        (
            tenants("!Ref Names", list),
            tenants("!Ref Names", &list.replace("acme,globex", "acme")),
            "DDB020",
            vec![("${Tenant}Table", vec!["parameter `Names`"])],
        ),
        (
            tenants("!Ref Names", list),
            tenants("[acme]", ""),
            "DDB020",
            vec![("${Tenant}Table", vec!["parameter `Names`"])],
        ),
        // No change: the same parameter, a Default that keeps every copy.
        (
            tenants("!Ref Names", list),
            tenants(
                "!Ref Names",
                &list.replace("acme,globex", "acme,globex,initech"),
            ),
            "DDB020",
            vec![],
        ),
        // The refactor, both ways: no removal, no rename.
        (
            explicit.to_string(),
            tenants("[acme, globex]", ""),
            "DDB020",
            vec![],
        ),
        (
            explicit.to_string(),
            tenants("[acme, globex]", ""),
            "DDB021",
            vec![],
        ),
        (
            tenants("[acme, globex]", ""),
            explicit.to_string(),
            "DDB020",
            vec![],
        ),
        (
            tenants("[acme, globex]", ""),
            explicit.to_string(),
            "DDB021",
            vec![],
        ),
        // A refactor that drops a copy removes it.
        (
            explicit.to_string(),
            tenants("[acme]", ""),
            "DDB020",
            vec![("globexTable", vec!["was removed from the template"])],
        ),
    ];
    for (i, (base, head, rule, expected)) in cases.iter().enumerate() {
        let found = compared(base, head, rule);
        assert_eq!(found.len(), expected.len(), "case {i}: {found:?}");
        for ((severity, resource, message), (want, words)) in found.iter().zip(expected) {
            assert_eq!(
                (severity.as_str(), resource.as_str()),
                ("error", *want),
                "case {i}"
            );
            for w in words {
                assert!(message.contains(w), "case {i}: `{w}` not in {message}");
            }
        }
    }
}

/// DDB023: a `Deny` guardrail on a deletion that the base had, removed or narrowed at the
/// head: a table's `ResourcePolicy` Deny on `dynamodb:DeleteTable`, an IAM policy's Deny on
/// DeleteTable/DeleteBackup/`backup:Delete*`, a service control policy's. Unchanged or
/// widened denies are no finding.
#[test]
fn a_deny_guardrail_removed_or_narrowed_is_protection_weakened() {
    let table = |policy: &str| {
        format!("Resources:\n  Orders:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: Retain\n    UpdateReplacePolicy: Retain\n    Properties:\n      KeySchema: [{{AttributeName: id, KeyType: HASH}}]\n      DeletionProtectionEnabled: true\n      PointInTimeRecoverySpecification: {{PointInTimeRecoveryEnabled: true}}\n{policy}")
    };
    let resource_policy = "      ResourcePolicy:\n        PolicyDocument:\n          Statement:\n            - Effect: Deny\n              Principal: '*'\n              Action: dynamodb:DeleteTable\n              Resource: '*'\n";
    let iam = |actions: &str, resource: &str| {
        format!("Resources:\n  Guard:\n    Type: AWS::IAM::ManagedPolicy\n    Properties:\n      PolicyDocument:\n        Statement:\n          - Effect: Deny\n            Action: {actions}\n            Resource: '{resource}'\n")
    };
    let scp = |actions: &str| {
        format!("Resources:\n  NoDeletes:\n    Type: AWS::Organizations::Policy\n    Properties:\n      Type: SERVICE_CONTROL_POLICY\n      Name: no-deletes\n      Content:\n        Statement:\n          - Effect: Deny\n            Action: {actions}\n            Resource: '*'\n")
    };
    // (base, head, [(resource, words)])
    type Case = (String, String, Vec<(&'static str, Vec<&'static str>)>);
    let cases: Vec<Case> = vec![
        (
            table(resource_policy),
            table(""),
            vec![("Orders", vec!["`dynamodb:DeleteTable`", "no longer has a `Deny`"])],
        ),
        (
            table(resource_policy),
            table(&resource_policy.replace("Resource: '*'", "Resource: '*'\n              Condition: {StringEquals: {'aws:PrincipalTag/team': ops}}")),
            vec![("Orders", vec!["`dynamodb:DeleteTable`", "now holds only"])],
        ),
        (
            iam("[dynamodb:DeleteTable, dynamodb:DeleteBackup]", "*"),
            iam("[dynamodb:DeleteTable]", "*"),
            vec![("Guard", vec!["`dynamodb:DeleteBackup`"])],
        ),
        (
            iam("dynamodb:DeleteTable", "*"),
            iam("dynamodb:DeleteTable", "arn:aws:dynamodb:*:*:table/orders"),
            vec![("Guard", vec!["`dynamodb:DeleteTable`", "now holds only"])],
        ),
        (
            iam("dynamodb:DeleteTable", "*"),
            QUEUE_ONLY.to_string(),
            vec![("Guard", vec!["`Guard` is gone from the head"])],
        ),
        (
            scp("['backup:Delete*']"),
            scp("[backup:DeleteRecoveryPoint]"),
            vec![
                ("NoDeletes", vec!["`backup:DeleteBackupVault`"]),
                ("NoDeletes", vec!["`backup:DeleteBackupVaultLockConfiguration`"]),
                ("NoDeletes", vec!["`backup:DeleteBackupVaultAccessPolicy`"]),
                ("NoDeletes", vec!["`backup:DeleteBackupSelection`"]),
                ("NoDeletes", vec!["`backup:DeleteBackupPlan`"]),
            ],
        ),
        // Unchanged, widened, or moved into a list: no finding.
        (table(resource_policy), table(resource_policy), vec![]),
        (
            iam("[dynamodb:DeleteTable]", "arn:aws:dynamodb:*:*:table/orders"),
            iam("['dynamodb:Delete*']", "*"),
            vec![],
        ),
    ];
    for (i, (base, head, expected)) in cases.iter().enumerate() {
        let found = compared(base, head, "DDB023");
        assert_eq!(found.len(), expected.len(), "case {i}: {found:?}");
        for ((severity, resource, message), (want, words)) in found.iter().zip(expected) {
            assert_eq!(
                (severity.as_str(), resource.as_str()),
                ("error", *want),
                "case {i}"
            );
            for w in words {
                assert!(message.contains(w), "case {i}: `{w}` not in {message}");
            }
        }
    }
}

/// `DeletionPolicy`/`UpdateReplacePolicy` Retain at the base and not at the head: DDB001
/// and DDB002 say where it was, rather than a second finding.
#[test]
fn a_retain_dropped_by_the_change_is_named_in_ddb001_and_ddb002() {
    let head = ORDERS
        .replace("DeletionPolicy: Retain", "DeletionPolicy: Delete")
        .replace("    UpdateReplacePolicy: Retain\n", "");
    for (rule, attribute, line) in [
        ("DDB001", "DeletionPolicy", 7),
        ("DDB002", "UpdateReplacePolicy", 8),
    ] {
        let found = compared(ORDERS, &head, rule);
        assert_eq!(found.len(), 1, "{rule}: {found:?}");
        assert!(
            found[0].2.contains(&format!(
                "{attribute} was Retain at the base, `HEAD~1:stack.yaml` line {line}"
            )),
            "{rule}: {}",
            found[0].2
        );
    }
    // Never Retain at the base: the message is DDB001's own.
    let never = without_policies(ORDERS);
    let found = compared(&never, &never.replace("Queue:", "Queue2:"), "DDB001");
    assert!(
        found.iter().all(|f| !f.2.contains("at the base")),
        "{found:?}"
    );
}

/// A global table is compared the same way (its name, key, key types and local indexes);
/// a replica change is DDB023's, not a replacement.
#[test]
fn a_global_table_is_replaced_by_a_resolved_key_change_only() {
    let global = |key_type: &str, regions: &str| {
        format!("{ENV}Mappings:\n  Types:\n    prod: {{t: S}}\n    dev: {{t: {key_type}}}\nResources:\n  Orders:\n    Type: AWS::DynamoDB::GlobalTable\n    Properties:\n      BillingMode: PAY_PER_REQUEST\n      StreamSpecification: {{StreamViewType: NEW_AND_OLD_IMAGES}}\n      KeySchema: [{{AttributeName: id, KeyType: HASH}}]\n      AttributeDefinitions: [{{AttributeName: id, AttributeType: !FindInMap [Types, !Ref Env, t]}}]\n      Replicas: [{regions}]\n")
    };
    let base = global("S", "{Region: us-east-1}, {Region: eu-west-1}");
    let found = replacements(
        &base,
        &global("N", "{Region: us-east-1}, {Region: eu-west-1}"),
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("the `AttributeType` of key attribute `id` is `S` at the base and `N` at the head when parameter `Env` is `dev`"),
        "{}",
        found[0]
    );
    assert_eq!(
        replacements(&base, &global("S", "{Region: us-east-1}")),
        Vec::<String>::new()
    );
}

/// DDB022: `Fn::GetAtt Nested.Outputs.X` is the value the nested template decides. With
/// the parent unchanged, it is the same only while the nested stack's local template is
/// the same file (same bytes at base and head, nesting nothing itself); a changed local
/// template, a remote or computed one, a SAM application, or one that nests another
/// cannot be proven unchanged (fail closed).
#[test]
fn a_table_name_from_a_nested_stack_output_is_unchanged_only_with_its_template() {
    let parent = |kind: &str, location: &str| {
        let (type_name, property) = match kind {
            "app" => ("AWS::Serverless::Application", "Location"),
            _ => ("AWS::CloudFormation::Stack", "TemplateURL"),
        };
        format!(
            "Resources:\n  Names:\n    Type: {type_name}\n    Properties:\n      {property}: {location}\n  Orders:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      BillingMode: PAY_PER_REQUEST\n      TableName: !GetAtt Names.Outputs.Name\n{ID_KEY}"
        )
    };
    let nested = |name: &str| {
        format!("Resources:\n  Topic:\n    Type: AWS::SNS::Topic\nOutputs:\n  Name:\n    Value: {name}\n")
    };
    // A nested template with a nested stack of its own.
    let nesting = nested("orders").replace(
        "Outputs:",
        "  Inner:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n      TemplateURL: https://example.com/inner.yaml\nOutputs:",
    );
    let local = parent("stack", "./nested.yaml");
    let (v1, v2) = (nested("orders"), nested("orders-v2"));
    let cases: [(String, &str, &str, bool); 6] = [
        // The local template changed its output: the table may be replaced.
        (local.clone(), &v1, &v2, true),
        // The same bytes at both revisions: the output is the same.
        (local.clone(), &v1, &v1, false),
        // A template that nests another: that one may change unseen.
        (local.clone(), &nesting, &nesting, true),
        // The same for a SAM application with a local `Location`.
        (parent("app", "nested.yaml"), &v1, &v2, true),
        (parent("app", "nested.yaml"), &v1, &v1, false),
        // A remote template can change behind the same URL (the parent changes
        // elsewhere, so the pull request compares it).
        (
            parent("stack", "https://s3.amazonaws.com/b/nested.yaml"),
            &v1,
            &v1,
            true,
        ),
    ];
    for (i, (template, before, after, replaced)) in cases.iter().enumerate() {
        let head = format!("{template}  Queue:\n    Type: AWS::SQS::Queue\n");
        let head = if i == 5 { &head } else { template };
        let found = replacements_with(
            "t.yaml",
            template,
            head,
            &[("nested.yaml", before)],
            &[("nested.yaml", after)],
        );
        if *replaced {
            assert_eq!(found.len(), 1, "case {i}: {found:?}");
            assert!(
                found[0].contains("`TableName` cannot be proven unchanged")
                    && found[0].contains("resource `Names`"),
                "case {i}: {}",
                found[0]
            );
        } else {
            assert_eq!(found, Vec::<String>::new(), "case {i}");
        }
    }
}

/// DDB022: `Ref`/`Fn::GetAtt` of a resource inside `TableName` is the same value at both
/// revisions only while that resource (and whatever it reads in turn) is unchanged; an
/// updated resource may return another name, so the table may be replaced. A parameter's
/// changed `Default` and a changed mapping behind `Fn::Sub` variables are compared by
/// value.
#[test]
fn a_table_name_read_from_a_changed_resource_cannot_be_proven_unchanged() {
    let with = |resources: &str, name: &str| {
        format!(
            "Parameters:\n  Prefix:\n    Type: String\n    Default: {}\nMappings:\n  Names:\n    all: {{n: {}}}\nResources:\n{resources}  Orders:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      BillingMode: PAY_PER_REQUEST\n      TableName: {name}\n{ID_KEY}",
            "app", "orders"
        )
    };
    let generator = |suffix: &str, reads: &str| {
        format!("  Gen:\n    Type: Custom::Name\n    Properties:\n      ServiceToken: arn:aws:lambda:us-east-1:1:function:f\n      Suffix: {suffix}\n      From: {reads}\n  Source:\n    Type: Custom::Source\n    Properties:\n      ServiceToken: arn:aws:lambda:us-east-1:1:function:f\n      Seed: one\n")
    };
    let bucket = |name: &str| {
        format!("  Bucket:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: {name}\n")
    };
    let by_attribute = "!GetAtt Gen.Value";
    let by_sub = "!Sub '${Bucket}-orders'";
    // (base, head, the resource the message names)
    let changed = [
        (
            with(&generator("v1", "x"), by_attribute),
            with(&generator("v2", "x"), by_attribute),
            "Gen",
        ),
        (
            with(&bucket("b1"), by_sub),
            with(&bucket("b2"), by_sub),
            "Bucket",
        ),
        // Through a resource the named one reads.
        (
            with(&generator("v1", "!GetAtt Source.Id"), by_attribute),
            with(
                &generator("v1", "!GetAtt Source.Id").replace("Seed: one", "Seed: two"),
                by_attribute,
            ),
            "Gen",
        ),
    ];
    for (i, (base, head, resource)) in changed.iter().enumerate() {
        let found = replacements(base, head);
        assert_eq!(found.len(), 1, "case {i}: {found:?}");
        assert!(
            found[0].contains("`TableName` cannot be proven unchanged")
                && found[0].contains(&format!("resource `{resource}`")),
            "case {i}: {}",
            found[0]
        );
    }
    // The same resources unchanged, whatever else changes: no finding.
    let unchanged = [
        (
            with(&generator("v1", "!GetAtt Source.Id"), by_attribute),
            with(&generator("v1", "!GetAtt Source.Id"), by_attribute).replace(
                "BillingMode: PAY_PER_REQUEST",
                "BillingMode: PAY_PER_REQUEST\n      StreamSpecification: {StreamViewType: KEYS_ONLY}",
            ),
        ),
        (
            with(&bucket("b1"), by_sub),
            with(&format!("{}  Queue:\n    Type: AWS::SQS::Queue\n", bucket("b1")), by_sub),
        ),
    ];
    for (i, (base, head)) in unchanged.iter().enumerate() {
        assert_eq!(replacements(base, head), Vec::<String>::new(), "case {i}");
    }
    // A changed `Default` and a changed mapping entry are compared by value.
    let by_default = "!Sub '${Prefix}-orders'";
    let found = replacements(
        &with("", by_default),
        &with("", by_default).replace("Default: app", "Default: shop"),
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("`app-orders` at the base and `shop-orders` at the head"),
        "{}",
        found[0]
    );
    let by_mapping = "!Sub ['${N}-x', {N: !FindInMap [Names, all, n]}]";
    let found = replacements(
        &with("", by_mapping),
        &with("", by_mapping).replace("{n: orders}", "{n: invoices}"),
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("`orders-x` at the base and `invoices-x` at the head"),
        "{}",
        found[0]
    );
}

// ---------------------------------------------------------------------------------------
// The base side reads every file it needs from the base revision: a Serverless service's
// `${file(...)}` fragments and the templates of nested stacks, never the head's version.

/// A table no policy retains: its removal is DDB020's error.
const BARE_TABLE: &str = "Resources:\n  Orders:\n    Type: AWS::DynamoDB::Table\n";
const RETAINED_TABLE: &str =
    "Resources:\n  Orders:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: Retain\n";
const SERVICE: &str =
    "service: s\nprovider:\n  name: aws\nresources: ${file(resources/tables.yml)}\n";

/// (rule, resource, path, message) of every finding of `--select DDB020 --format json`.
fn ddb020(bin: &mut Bin, expected_exit: i32) -> Vec<(String, String, String, String)> {
    json_findings(
        bin.args(["--isolated", "--select", "DDB020"]),
        expected_exit,
    )
    .iter()
    .map(|f| {
        let s = |k: &str| f[k].as_str().unwrap_or_default().to_string();
        (s("rule"), s("resource"), s("path"), s("message"))
    })
    .collect()
}

/// What a change does to the working tree, and the paths then checked.
type Change = (&'static str, fn(&Repo), &'static [&'static str]);

#[test]
fn a_table_removed_from_a_serverless_fragment_is_removed_whatever_else_changed() {
    let changes: [Change; 4] = [
        (
            "the fragment alone changes",
            |r| r.write("svc/resources/tables.yml", "Resources: {}\n"),
            &[],
        ),
        (
            "the fragment and the service change",
            |r| {
                r.write("svc/resources/tables.yml", "Resources: {}\n");
                r.write("svc/serverless.yml", &format!("{SERVICE}# touched\n"));
            },
            &[],
        ),
        (
            "only the service file is named",
            |r| r.write("svc/resources/tables.yml", "Resources: {}\n"),
            &["svc/serverless.yml"],
        ),
        (
            "the service drops the fragment, which is deleted",
            |r| {
                r.remove("svc/resources/tables.yml");
                r.write("svc/serverless.yml", "service: s\nprovider:\n  name: aws\n");
            },
            &[],
        ),
    ];
    for (what, change, paths) in changes {
        let repo = Repo::new();
        repo.write("svc/serverless.yml", SERVICE);
        repo.write("svc/resources/tables.yml", BARE_TABLE);
        repo.commit("base");
        change(&repo);
        let found = ddb020(
            repo.guard().args(["check", "--base", "main"]).args(paths),
            1,
        );
        assert!(
            found
                .iter()
                .any(|(rule, resource, path, message)| rule == "DDB020"
                    && resource == "Orders"
                    && path == "svc/serverless.yml"
                    && message.contains("main:svc/resources/tables.yml")),
            "{what}: {found:#?}"
        );
    }
}

#[test]
fn the_base_service_reads_its_fragments_at_the_base_not_in_the_working_tree() {
    // The head retains the table in the fragment: the base did not, and the table is gone
    // from the service. Read from the working tree, the base would look retained.
    let repo = Repo::new();
    repo.write("svc/serverless.yml", SERVICE);
    repo.write("svc/resources/tables.yml", BARE_TABLE);
    repo.commit("base");
    repo.write("svc/resources/tables.yml", RETAINED_TABLE);
    repo.write("svc/serverless.yml", "service: s\nprovider:\n  name: aws\n");
    let found = ddb020(repo.guard().args(["check", "--base", "main"]), 1);
    assert!(
        found
            .iter()
            .any(|(_, resource, _, m)| resource == "Orders" && !m.contains("orphaned")),
        "{found:#?}"
    );
    // A fragment the base names but does not hold: the base cannot be read, an error.
    let repo = Repo::new();
    repo.write("svc/serverless.yml", SERVICE);
    repo.commit("base");
    repo.write("svc/resources/tables.yml", RETAINED_TABLE);
    let out = repo
        .guard()
        .args(["check", "--base", "main", "--isolated", "--format", "json"])
        .assert()
        .code(2);
    let json: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let message = json["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("does not exist at the base `main`"),
        "{json}"
    );
}

fn parent_with(nested: &str) -> String {
    format!(
        "Resources:\n  Storage:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n      TemplateURL: {nested}\n  Topic:\n    Type: AWS::SNS::Topic\n"
    )
}

const TOPIC_ONLY: &str = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n";

#[test]
fn a_removed_nested_stack_is_judged_by_its_template_at_the_base() {
    // The change retains the nested template's table and removes the stack: at the base,
    // the table was not retained, so removing the stack deletes it.
    let repo = Repo::new();
    repo.write("stacks/main.yaml", &parent_with("db/tables.yaml"));
    repo.write("stacks/db/tables.yaml", BARE_TABLE);
    repo.commit("base");
    repo.write("stacks/main.yaml", TOPIC_ONLY);
    repo.write("stacks/db/tables.yaml", RETAINED_TABLE);
    let found = ddb020(repo.guard().args(["check", "--base", "main"]), 1);
    let storage: Vec<_> = found.iter().filter(|f| f.1 == "Storage").collect();
    assert_eq!(storage.len(), 1, "{found:#?}");
    assert!(storage[0].3.contains("`Orders`"), "{}", storage[0].3);
    // Run from the nested template's directory, paths still resolve at the base.
    let found = ddb020(repo.guard_in("stacks").args(["check", "--base", "main"]), 1);
    assert!(found.iter().any(|f| f.1 == "Storage"), "{found:#?}");
}

#[test]
fn a_nested_template_the_base_cannot_show_is_unknown_not_a_pass() {
    for (what, location, setup) in [
        (
            "missing at the base",
            "db/tables.yaml",
            (|r: &Repo| r.write("stacks/db/tables.yaml", RETAINED_TABLE)) as fn(&Repo),
        ),
        (
            "outside the directory ddb-guard runs in",
            "../../outside.yaml",
            |_: &Repo| {},
        ),
    ] {
        let repo = Repo::new();
        repo.write("stacks/main.yaml", &parent_with(location));
        repo.commit("base");
        setup(&repo);
        repo.write("stacks/main.yaml", TOPIC_ONLY);
        let found = ddb020(repo.guard().args(["check", "--base", "main"]), 1);
        let storage: Vec<_> = found.iter().filter(|f| f.1 == "Storage").collect();
        assert_eq!(storage.len(), 1, "{what}: {found:#?}");
        assert!(
            storage[0].3.contains("cannot be proven to hold no table"),
            "{what}: {}",
            storage[0].3
        );
    }
}

#[test]
fn a_nested_template_outside_the_paths_compared_is_compared_with_its_base() {
    // Only the parent is named; the nested template it includes lost its table.
    let repo = Repo::new();
    repo.write("stacks/main.yaml", &parent_with("db/tables.yaml"));
    repo.write("stacks/db/tables.yaml", BARE_TABLE);
    repo.commit("base");
    repo.write("stacks/db/tables.yaml", TOPIC_ONLY);
    let found = ddb020(
        repo.guard()
            .args(["check", "--base", "main", "stacks/main.yaml"]),
        1,
    );
    assert!(
        found
            .iter()
            .any(|f| f.1 == "Orders" && f.2 == "stacks/db/tables.yaml"),
        "{found:#?}"
    );
}

/// DDB021 takes a shared `TableName` as evidence of a rename only when it is the same
/// name: the same text that reads a parameter whose `Default` changed, or a resource the
/// change modifies, names another table, so the old table is a removal (DDB020) rather
/// than a rename whose new table clashes with it.
#[test]
fn a_shared_table_name_text_is_rename_evidence_only_while_what_it_reads_is_unchanged() {
    let stack = |default: &str, id: &str, key: &str| {
        format!("Parameters:\n  Prefix:\n    Type: String\n    Default: {default}\nResources:\n  {id}:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      BillingMode: PAY_PER_REQUEST\n      TableName: !Sub '${{Prefix}}-orders'\n      KeySchema: [{{AttributeName: {key}, KeyType: HASH}}]\n      AttributeDefinitions: [{{AttributeName: {key}, AttributeType: S}}]\n")
    };
    let base = stack("app", "Orders", "id");
    // The same name: a rename, and the new table's creation fails on the name.
    let renamed = compared(&base, &stack("app", "OrdersV2", "pk"), "DDB021");
    assert_eq!(renamed.len(), 1, "{renamed:?}");
    assert!(
        renamed[0].2.contains("the same TableName"),
        "{}",
        renamed[0].2
    );
    // Another name behind the same text: no rename, and the removal is reported.
    let moved = stack("shop", "OrdersV2", "pk");
    assert!(compared(&base, &moved, "DDB021").is_empty());
    let removed = compared(&base, &moved, "DDB020");
    assert_eq!(removed.len(), 1, "{removed:?}");
    assert_eq!(removed[0].1, "Orders");
}

#[test]
fn a_fragment_inlined_into_its_service_and_deleted_removes_nothing() {
    let repo = Repo::new();
    repo.write("svc/serverless.yml", SERVICE);
    repo.write("svc/resources/tables.yml", BARE_TABLE);
    repo.commit("base");
    repo.remove("svc/resources/tables.yml");
    repo.write(
        "svc/serverless.yml",
        &format!(
            "service: s\nprovider:\n  name: aws\nresources:\n  {}",
            BARE_TABLE.replace("\n  ", "\n    ")
        ),
    );
    let found = ddb020(repo.guard().args(["check", "--base", "main"]), 0);
    assert!(found.is_empty(), "{found:#?}");
}
