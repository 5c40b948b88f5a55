//! Real repositories (issue 20): a guard never passes on nothing, a path named on the
//! command line is never skipped by ignore rules, and the opt-out for pipelines that may
//! have no templates. Every test drives the real binary on a tree written to disk.

use crate::common;

use std::path::Path;

use common::{ddb_guard, write};

const UNRETAINED_JSON: &str = "{\"Resources\": {\"T\": {\"Type\": \"AWS::DynamoDB::Table\", \"Metadata\": {\"aws:cdk:path\": \"Stack/T/Resource\"}}}}";

/// A CDK app as `cdk init` leaves it: the only templates are under a gitignored cdk.out.
fn cdk_tree(dir: &Path) {
    std::fs::create_dir(dir.join(".git")).expect("git dir");
    write(dir, ".gitignore", "node_modules\ncdk.out\n");
    write(dir, "package.json", "{\"name\": \"app\"}");
    write(dir, "cdk.json", "{\"app\": \"npx ts-node bin/app.ts\"}");
    write(dir, "tsconfig.json", "{\"compilerOptions\": {}}");
    write(dir, "cdk.out/Stack.template.json", UNRETAINED_JSON);
    write(dir, "cdk.out/Other.template.json", UNRETAINED_JSON);
    write(dir, "cdk.out/manifest.json", "{\"version\": \"36.0.0\"}");
}

fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let output = ddb_guard()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_cdk_tree_with_an_ignored_cdk_out_fails_and_says_where_the_templates_are() {
    let dir = tempfile::tempdir().expect("tempdir");
    cdk_tree(dir.path());
    let (code, stdout, _) = run(dir.path(), &["check"]);
    assert_eq!(code, 2, "{stdout}");
    assert!(
        stdout.contains("no CloudFormation template was checked"),
        "{stdout}"
    );
    assert!(
        stdout.contains("`cdk.out/` holds 3 candidate files ignored by .gitignore"),
        "{stdout}"
    );
    assert!(stdout.contains("--no-ignore"), "{stdout}");
    assert!(stdout.contains("--allow-no-templates"), "{stdout}");
    // Every machine format carries the error too (the Action's annotations and summary).
    let (code, stdout, _) = run(dir.path(), &["check", "--format", "json"]);
    assert_eq!(code, 2);
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(report["summary"]["errors"], 1);
    assert_eq!(report["summary"]["templates"], 0);
    // What the message says to do works.
    let (code, stdout, _) = run(dir.path(), &["check", "--no-ignore"]);
    assert_eq!(code, 1, "{stdout}");
    let (code, stdout, _) = run(dir.path(), &["check", "cdk.out"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("cdk.out/Stack.template.json"), "{stdout}");
}

#[test]
fn hidden_build_output_is_named_with_its_flag() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "samconfig.toml", "version = 0.1\n");
    write(dir.path(), ".aws-sam/build/template.json", UNRETAINED_JSON);
    let (code, stdout, _) = run(dir.path(), &["check"]);
    assert_eq!(code, 2, "{stdout}");
    assert!(
        stdout.contains("`.aws-sam/` holds 1 candidate file hidden"),
        "{stdout}"
    );
    assert!(stdout.contains("--hidden"), "{stdout}");
}

#[test]
fn a_path_named_on_the_command_line_is_never_skipped_by_ignore_rules() {
    for rule in ["cdk.out\n", "cdk.out/\n", "/cdk.out\n", "cdk.out/*\n"] {
        let dir = tempfile::tempdir().expect("tempdir");
        cdk_tree(dir.path());
        write(dir.path(), ".gitignore", rule);
        for named in ["cdk.out", "cdk.out/Stack.template.json"] {
            let (code, stdout, _) = run(dir.path(), &["check", named, "--format", "compact"]);
            assert_eq!(code, 1, "{rule:?} {named}: {stdout}");
            assert!(stdout.contains("DDB001"), "{rule:?} {named}: {stdout}");
        }
    }
    // A named directory whose walk finds files keeps ripgrep's semantics: an ignored
    // directory inside it stays skipped.
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join(".git")).expect("git dir");
    write(dir.path(), ".gitignore", "node_modules\n");
    write(dir.path(), "svc/template.json", UNRETAINED_JSON);
    write(dir.path(), "svc/node_modules/x/broken.json", "{");
    let (code, stdout, _) = run(dir.path(), &["check", "svc", "--format", "compact"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(!stdout.contains("broken.json"), "{stdout}");
}

#[test]
fn files_that_are_not_templates_are_not_a_pass() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "package.json", "{\"name\": \"app\"}");
    write(dir.path(), "config.yaml", "key: value\n");
    let (code, stdout, _) = run(
        dir.path(),
        &[
            "check",
            "package.json",
            "config.yaml",
            "--format",
            "compact",
        ],
    );
    assert_eq!(code, 2, "{stdout}");
    assert!(
        stdout.contains("2 files were looked at, none is a CloudFormation template"),
        "{stdout}"
    );
    // An empty directory says there was nothing to look at.
    let empty = tempfile::tempdir().expect("tempdir");
    let (code, stdout, _) = run(empty.path(), &["check", "--format", "compact"]);
    assert_eq!(code, 2, "{stdout}");
    assert!(
        stdout.contains("no file with a template extension"),
        "{stdout}"
    );
}

#[test]
fn the_opt_out_passes_a_run_with_no_template() {
    let dir = tempfile::tempdir().expect("tempdir");
    cdk_tree(dir.path());
    let (code, stdout, _) = run(dir.path(), &["check", "--allow-no-templates"]);
    assert_eq!(code, 0, "{stdout}");
    // As the pre-commit hook runs it: only changed files, none a template.
    let (code, stdout, _) = run(
        dir.path(),
        &[
            "check",
            "--force-exclude",
            "--allow-no-templates",
            "package.json",
        ],
    );
    assert_eq!(code, 0, "{stdout}");
}

#[test]
fn a_template_without_a_table_is_a_template_checked() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "bucket.yaml",
        "Resources:\n  B:\n    Type: AWS::S3::Bucket\n",
    );
    let (code, stdout, _) = run(dir.path(), &["check"]);
    assert_eq!(code, 0, "{stdout}");
}

#[test]
fn show_files_lists_what_is_checked_and_why_the_rest_is_not() {
    let dir = tempfile::tempdir().expect("tempdir");
    cdk_tree(dir.path());
    write(dir.path(), "ddb-guard.toml", "exclude = [\"generated/\"]\n");
    write(dir.path(), "generated/g.yaml", "Resources: {}\n");
    write(dir.path(), ".aws-sam/build/template.json", UNRETAINED_JSON);
    let (code, stdout, _) = run(dir.path(), &["check", "--show-files"]);
    assert_eq!(code, 0, "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines.contains(&"check  package.json  (config: ddb-guard.toml)"),
        "{stdout}"
    );
    assert!(
        lines.contains(&"skip   .aws-sam/build/template.json  (hidden: pass `--hidden`)"),
        "{stdout}"
    );
    assert!(
        lines.contains(&"skip   cdk.out/Stack.template.json  (ignored by .gitignore, .ignore or git exclude rules: pass `--no-ignore`)"),
        "{stdout}"
    );
    assert!(
        lines.contains(&"skip   generated/g.yaml  (excluded by `exclude` (the config's or `--exclude`): remove it from `exclude`)"),
        "{stdout}"
    );
    // Nothing is checked: no findings, no "nothing checked" error.
    assert!(!stdout.contains("DDB001"), "{stdout}");
    let (code, stdout, _) = run(
        dir.path(),
        &["check", "--show-files", "--isolated", "cdk.out"],
    );
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("check  cdk.out/Stack.template.json  (config: none (--isolated))"),
        "{stdout}"
    );
}

fn run_stdin(dir: &Path, args: &[&str], input: &str) -> (i32, String, String) {
    let output = ddb_guard()
        .current_dir(dir)
        .args(args)
        .write_stdin(input)
        .output()
        .expect("runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_template_on_standard_input_is_checked_under_its_stdin_filename() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, stdout, _) = run_stdin(
        dir.path(),
        &["check", "-", "--format", "compact"],
        UNRETAINED_JSON,
    );
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.starts_with("-:1:16: DDB001"), "{stdout}");
    // The name gives positions and the layout: a Serverless service keeps its resources
    // under `resources.Resources`, at line 5 column 5 here.
    let serverless =
        "service: s\nresources:\n  Resources:\n    T:\n      Type: AWS::DynamoDB::Table\n";
    let (code, stdout, _) = run_stdin(
        dir.path(),
        &[
            "check",
            "--stdin-filename",
            "svc/serverless.yml",
            "--format",
            "compact",
        ],
        serverless,
    );
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("svc/serverless.yml:4:5: DDB001"),
        "{stdout}"
    );
    // Not a template: a guard never passes on nothing; the opt-out passes.
    let (code, stdout, _) = run_stdin(dir.path(), &["check", "-", "--format", "compact"], "a: 1\n");
    assert_eq!(code, 2, "{stdout}");
    let (code, _, _) = run_stdin(
        dir.path(),
        &["check", "-", "--allow-no-templates"],
        "a: 1\n",
    );
    assert_eq!(code, 0);
    // Standard input cannot be fixed in place.
    let (code, _, stderr) = run_stdin(dir.path(), &["check", "-", "--fix"], UNRETAINED_JSON);
    assert_eq!(code, 2);
    assert!(stderr.contains("standard input"), "{stderr}");
}

#[test]
fn statistics_count_findings_per_rule_and_quiet_drops_the_summary() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "a.json", UNRETAINED_JSON);
    write(dir.path(), "b.json", UNRETAINED_JSON);
    let (code, stdout, _) = run(
        dir.path(),
        &["check", "--statistics", "--select", "DDB001,DDB002"],
    );
    assert_eq!(code, 1, "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "2\tDDB001\tdeletion-policy", "{stdout}");
    assert_eq!(lines[1], "2\tDDB002\tupdate-replace-policy", "{stdout}");
    assert!(lines[2].starts_with("2 files checked"), "{stdout}");
    let (code, stdout, stderr) = run(dir.path(), &["check", "--quiet"]);
    assert_eq!(code, 1);
    assert!(stdout.contains("DDB001"), "{stdout}");
    assert!(!stdout.contains("files checked"), "{stdout}");
    assert!(!stderr.contains("fixable"), "{stderr}");
    let (_, stdout, _) = run(dir.path(), &["check", "-q", "--statistics"]);
    assert!(!stdout.contains("files checked"), "{stdout}");
    assert!(stdout.contains("DDB001"), "{stdout}");
}

#[test]
fn yaml_that_is_not_a_template_may_use_anchors_aliases_and_merge_keys() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "docker-compose.yml",
        "x-common: &common\n  restart: always\n  environment:\n    AWS_REGION: us-east-1\nservices:\n  dynamodb:\n    <<: *common\n    image: amazon/dynamodb-local\n  app:\n    <<: *common\n    image: app\n",
    );
    write(dir.path(), "template.json", UNRETAINED_JSON);
    let (code, stdout, _) = run(dir.path(), &["check", "--format", "compact"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(!stdout.contains("docker-compose.yml"), "{stdout}");
    // A template still follows CloudFormation's YAML rules.
    write(
        dir.path(),
        "t.yaml",
        "Resources:\n  T: &t\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: Retain\n",
    );
    let (code, stdout, _) = run(dir.path(), &["check", "t.yaml", "--format", "compact"]);
    assert_eq!(code, 2, "{stdout}");
    assert!(stdout.contains("anchors are not supported"), "{stdout}");
    // An alias bomb is refused even in a file that is not a template.
    let mut bomb = String::from("# dynamodb\na: &a [x, x, x, x, x, x, x, x, x]\n");
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for i in 1..names.len() {
        let (name, prev) = (names[i], names[i - 1]);
        bomb.push_str(&format!(
            "{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}]\n"
        ));
    }
    write(dir.path(), "lol.yaml", &bomb);
    let (code, stdout, _) = run(dir.path(), &["check", "lol.yaml", "--format", "compact"]);
    assert_eq!(code, 2, "{stdout}");
}

#[test]
fn force_color_and_clicolor_force_colour_piped_output_unless_no_color() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "a.json", UNRETAINED_JSON);
    let colored = |env: &[(&str, &str)]| {
        let mut cmd = ddb_guard();
        cmd.current_dir(dir.path())
            .env_remove("NO_COLOR")
            .args(["check"]);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let output = cmd.output().expect("runs");
        String::from_utf8_lossy(&output.stdout).contains('\u{1b}')
    };
    assert!(!colored(&[]));
    assert!(colored(&[("FORCE_COLOR", "1")]));
    assert!(colored(&[("CLICOLOR_FORCE", "1")]));
    assert!(!colored(&[("FORCE_COLOR", "0")]));
    assert!(!colored(&[("FORCE_COLOR", "1"), ("NO_COLOR", "1")]));
}

/// A CDK app after `cdk synth`: the cloud assembly under a gitignored `cdk.out`, its
/// manifest naming the stack, one `Table` that is not retained and one `TableV2` (a
/// global table) without deletion protection or point-in-time recovery.
fn synthesized_app(dir: &Path) {
    std::fs::create_dir(dir.join(".git")).expect("git dir");
    write(dir, ".gitignore", "node_modules\ncdk.out\n");
    write(dir, "cdk.json", "{\"app\": \"npx ts-node bin/app.ts\"}");
    write(
        dir,
        "cdk.out/manifest.json",
        r#"{
 "version": "36.0.0",
 "artifacts": {
  "AppStack": {
   "type": "aws:cloudformation:stack",
   "environment": "aws://unknown-account/unknown-region",
   "properties": {
    "templateFile": "AppStack.template.json",
    "stackName": "shop-prod-app"
   },
   "displayName": "AppStack"
  },
  "Tree": {"type": "cdk:tree", "properties": {"file": "tree.json"}}
 }
}
"#,
    );
    write(
        dir,
        "cdk.out/AppStack.template.json",
        r#"{
 "Resources": {
  "CartTableB8A5A2E6": {
   "Type": "AWS::DynamoDB::Table",
   "Properties": {
    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
    "DeletionProtectionEnabled": true,
    "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": true}
   },
   "UpdateReplacePolicy": "Delete",
   "DeletionPolicy": "Delete",
   "Metadata": {"aws:cdk:path": "AppStack/CartTable/Resource"}
  },
  "WishlistTable4A5F0C1D": {
   "Type": "AWS::DynamoDB::GlobalTable",
   "Properties": {
    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
    "Replicas": [{"Region": "eu-west-1"}]
   },
   "UpdateReplacePolicy": "Retain",
   "DeletionPolicy": "Retain",
   "Metadata": {"aws:cdk:path": "AppStack/WishlistTable/Resource"}
  }
 }
}
"#,
    );
}

fn json_of(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

#[test]
fn a_finding_in_a_synthesized_template_names_the_construct_and_the_stack() {
    let dir = tempfile::tempdir().expect("tempdir");
    synthesized_app(dir.path());
    let (code, stdout, _) = run(dir.path(), &["check", "cdk.out", "--format", "json"]);
    assert_eq!(code, 1, "{stdout}");
    let report = json_of(&stdout);
    let found = common::findings(&report);
    let by_rule = |rule: &str| {
        found
            .iter()
            .find(|f| f["rule"] == rule)
            .unwrap_or_else(|| panic!("{rule} in {report}"))
            .clone()
    };
    let ddb001 = by_rule("DDB001");
    assert_eq!(
        ddb001["cdk"],
        serde_json::json!({"construct_path": "AppStack/CartTable", "stack": "shop-prod-app"})
    );
    let help = ddb001["help"].as_str().unwrap_or_default();
    assert!(
        help.contains("`removalPolicy: RemovalPolicy.RETAIN` on `AppStack/CartTable`")
            && help.contains("RETAIN_ON_UPDATE_OR_DELETE")
            && help.contains("stack `shop-prod-app`")
            && help.contains("cdk synth"),
        "{help}"
    );
    assert!(ddb001.get("fix").is_none(), "no template edit: {ddb001}");
    // TableV2 spellings.
    let ddb003 = by_rule("DDB003");
    assert_eq!(ddb003["cdk"]["construct_path"], "AppStack/WishlistTable");
    assert!(
        ddb003["help"]
            .as_str()
            .is_some_and(|h| h
                .contains("`deletionProtection: true` on the TableV2 `AppStack/WishlistTable`")),
        "{ddb003}"
    );
    let ddb004 = by_rule("DDB004");
    assert!(
        ddb004["help"].as_str().is_some_and(|h| h.contains(
            "`pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true }` on the TableV2"
        )),
        "{ddb004}"
    );

    // SARIF carries it as result properties; every text format in the message.
    let (_, stdout, _) = run(dir.path(), &["check", "cdk.out", "--format", "sarif"]);
    let sarif = json_of(&stdout);
    let results = sarif["runs"][0]["results"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let cart = results
        .iter()
        .find(|r| r["ruleId"] == "DDB001")
        .expect("a DDB001 result");
    assert_eq!(cart["properties"]["cdkConstructPath"], "AppStack/CartTable");
    assert_eq!(cart["properties"]["cdkStack"], "shop-prod-app");
    for format in ["compact", "github", "gitlab", "junit"] {
        let (_, stdout, _) = run(dir.path(), &["check", "cdk.out", "--format", format]);
        assert!(
            stdout.contains("CDK construct `AppStack/CartTable`"),
            "{format}: {stdout}"
        );
    }
}

#[test]
fn a_synthesized_template_in_human_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    synthesized_app(dir.path());
    let (code, stdout, _) = run(
        dir.path(),
        &["check", "cdk.out", "--quiet", "--color", "never"],
    );
    assert_eq!(code, 1, "{stdout}");
    insta::assert_snapshot!("cdk_synthesized_human", stdout);
}

#[test]
fn the_cdk_fix_follows_the_retain_except_on_create_setting() {
    let dir = tempfile::tempdir().expect("tempdir");
    synthesized_app(dir.path());
    write(
        dir.path(),
        "ddb-guard.toml",
        "allow_retain_except_on_create = false\n",
    );
    let (_, stdout, _) = run(dir.path(), &["check", "cdk.out", "--format", "json"]);
    let report = json_of(&stdout);
    let help: Vec<String> = common::findings(&report)
        .iter()
        .filter(|f| f["rule"] == "DDB001")
        .map(|f| f["help"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(help.len(), 1, "{report}");
    assert!(help[0].contains("RemovalPolicy.RETAIN`"), "{}", help[0]);
    assert!(
        !help[0].contains("RETAIN_ON_UPDATE_OR_DELETE"),
        "{}",
        help[0]
    );
}

#[test]
fn cdk_path_metadata_outside_a_cloud_assembly_is_synthesized_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "stack.template.json", UNRETAINED_JSON);
    let (_, stdout, _) = run(dir.path(), &["check", "--format", "json"]);
    let report = json_of(&stdout);
    let ddb001: Vec<_> = common::findings(&report)
        .into_iter()
        .filter(|f| f["rule"] == "DDB001")
        .collect();
    assert_eq!(ddb001.len(), 1, "{report}");
    assert_eq!(
        ddb001[0]["cdk"],
        serde_json::json!({"construct_path": "Stack/T", "stack": null})
    );
    // A hand-written template has no `cdk` field and keeps its fix.
    write(
        dir.path(),
        "stack.template.json",
        "{\"Resources\": {\"T\": {\"Type\": \"AWS::DynamoDB::Table\"}}}",
    );
    let (_, stdout, _) = run(dir.path(), &["check", "--format", "json"]);
    let report = json_of(&stdout);
    let found = common::findings(&report);
    assert!(found.iter().all(|f| f.get("cdk").is_none()), "{report}");
    assert!(found.iter().any(|f| f.get("fix").is_some()), "{report}");
}

#[test]
fn fix_leaves_the_cloud_assembly_to_the_cdk_app_and_fixes_the_rest() {
    let dir = tempfile::tempdir().expect("tempdir");
    synthesized_app(dir.path());
    write(
        dir.path(),
        "legacy/table.yaml",
        "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n",
    );
    let before = std::fs::read_to_string(dir.path().join("cdk.out/AppStack.template.json"))
        .expect("template");
    let (_, _, stderr) = run(
        dir.path(),
        &["check", "--fix", "cdk.out", "legacy", "--format", "compact"],
    );
    let after = std::fs::read_to_string(dir.path().join("cdk.out/AppStack.template.json"))
        .expect("template");
    assert_eq!(before, after);
    assert!(
        stderr.contains("cdk.out/AppStack.template.json: not edited: synthesized by the CDK"),
        "{stderr}"
    );
    assert!(
        stderr.contains("2 fixes applied in 1 file; 1 synthesized template left to the CDK app"),
        "{stderr}"
    );
    let fixed = std::fs::read_to_string(dir.path().join("legacy/table.yaml")).expect("fixed");
    assert!(fixed.contains("DeletionPolicy: Retain"), "{fixed}");
}
