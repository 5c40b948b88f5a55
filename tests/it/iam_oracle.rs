//! The IAM oracle: DDB010-DDB012's proof ("no policy of the template allows this action on
//! such an ARN without a `Deny` in the same document that takes it back") checked against
//! a brute-force concrete IAM evaluator (`tests/support/iam_oracle.rs`) on generated
//! templates. The evaluator shares no code with `src/model/iam`.
//!
//! # What is generated
//! At most 3 parameters (table names, whole resource ARNs, environment words, actions; with
//! or without `AllowedValues`), 3 conditions (`Fn::Equals` on a parameter or on
//! `AWS::Region`/`AWS::AccountId`/`AWS::StackName`, `Fn::Not`, `Fn::And`, `Fn::Or`,
//! `Condition`), 1-2 tables (without `TableName`, or a literal, `!Ref` of a parameter,
//! `!Sub`/`!Join` of `${AWS::StackName}`, `Fn::If` with `AWS::NoValue`; some with a
//! `Condition`), and 1-2 policy resources (`AWS::IAM::Policy`, `ManagedPolicy`, `Role` and
//! `User` with one or two inline policies; some with a `Condition`). Each document has 1-4
//! `Allow`/`Deny` statements (the effect also as `Fn::If`), some under `Fn::If [C, stmt,
//! AWS::NoValue]`, with `Action`/`NotAction` (exact names, case variations, `*`,
//! `dynamodb:Delete*`, `?`, other services, a parameter, `dynamodb:${Verb}` of a
//! parameter, `Fn::If` with `AWS::NoValue`) and
//! `Resource`/`NotResource` (literal ARNs of tables, streams, indexes, backups, AWS Backup
//! plans and recovery points, S3; wildcards; `*`; `!GetAtt T.Arn`; `!Sub`/`!Join` with
//! `${AWS::Partition}`, `${AWS::Region}`, `${AWS::AccountId}`, `${AWS::StackName}`, a
//! table's `Ref`, a name parameter, `${T.Arn}`; `!Ref` of an ARN parameter; `Fn::If`), and
//! sometimes an IAM `Condition` (`Bool`, `StringEquals`, `StringLike`). Rendered as JSON.
//!
//! # The concrete evaluator
//! Every deployment: each parameter a policy reads takes each of its `AllowedValues`, or,
//! without them, each of a small set of values that match and miss the generated patterns;
//! each pseudo parameter it reads takes each of two values (partition `aws`/`aws-cn`, two
//! Regions, two accounts, two stack names). A table without `TableName` gets CloudFormation's
//! `<stack>-<LogicalId>-<suffix>` name. A deployment that references a table its condition
//! left out fails and grants nothing. In each deployment each document is a list of
//! concrete statements (a document left with a statement whose `Action`/`NotAction` or
//! `Resource`/`NotResource` `AWS::NoValue` emptied is refused by IAM, whose grammar needs
//! at least one value, and grants nothing). For each guarded action of a rule (DDB010
//! `dynamodb:DeleteTable`; DDB011 `dynamodb:DeleteBackup`, `backup:DeleteRecoveryPoint`,
//! `DeleteBackupVault`, `DeleteBackupSelection`, `DeleteBackupPlan`; DDB012
//! `dynamodb:UpdateTable`), each candidate ARN of the shapes the rule's documentation gives
//! (in the deployment's partition; Regions, accounts, table names and ids from a fixed set,
//! the deployment's tables, and what the policy's own patterns spell) and each request
//! context (MFA present/absent/true/false, three requested Regions, a principal tag), IAM's
//! decision: allowed when an `Allow` statement applies and no `Deny` statement does.
//!
//! # The property
//! **Soundness.** When some deployment allows a rule's action on some candidate ARN,
//! ddb-guard (in process, `Checker::check_bytes` with DDB010-DDB012 selected) reports that
//! rule on the policy resource, or fails the file. **Precision** is counted, not asserted:
//! pairs reported without a witness (ddb-guard's over-approximation, or a witness outside
//! the candidate ARNs); `IAM_ORACLE_SHOW_IMPRECISE=1` prints them. The number of cases is
//! `IAM_ORACLE_CASES` (default 64); the counts are printed (`--nocapture`).
//!
//! The oracle has teeth: with `covers_within` in `model::iam::grant` made to answer "covers"
//! once the literal head and tail agree, or with `has_condition` ignored in both deny
//! tests, 300 cases fail with a minimal template (checked by hand, not kept).

use crate::support::iam_oracle::{
    self as oracle, allowed, contexts, glob, Choices, Concrete, IamCond, Outcome, Policy,
    PolicyKind, Statement, Str, Table, Template,
};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::cell::RefCell;

fn cases() -> u32 {
    std::env::var("IAM_ORACLE_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

#[test]
fn ddb_guard_reports_every_policy_some_deployment_lets_delete() {
    let totals = RefCell::new(Outcome::default());
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&prop::collection::vec(any::<u8>(), 0..200), |bytes| {
        let template = oracle::generate(&mut Choices::new(&bytes));
        match oracle::check(&template) {
            Ok(outcome) => {
                *totals.borrow_mut() += outcome;
                Ok(())
            }
            Err(violation) => Err(TestCaseError::fail(violation)),
        }
    });
    let t = totals.into_inner();
    eprintln!(
        "IAM oracle, {} cases (shrinking included): {} (policy, rule) pairs; {} granted and reported, \
         {} proven and not reported, {} reported without a witness (precision), {} templates failed closed",
        cases(),
        t.pairs,
        t.agreed_grant,
        t.agreed_safe,
        t.imprecise,
        t.failed
    );
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// The generator reaches both answers of the oracle, for every rule, so the property
/// checks something both ways.
#[test]
fn the_iam_oracle_generates_grants_and_proofs_for_every_rule() {
    let mut seen: Vec<(&str, usize, usize)> =
        oracle::RULES.iter().map(|(c, _)| (*c, 0, 0)).collect();
    for seed in 0u32..80 {
        let bytes: Vec<u8> = (0..200u32)
            .map(|i| {
                (seed
                    .wrapping_mul(2_654_435_761)
                    .wrapping_add(i.wrapping_mul(40_503))
                    >> 7) as u8
            })
            .collect();
        let t = oracle::generate(&mut Choices::new(&bytes));
        for p in &t.policies {
            for entry in seen.iter_mut() {
                if oracle::judge(&t, p, entry.0).witness.is_some() {
                    entry.1 += 1;
                } else {
                    entry.2 += 1;
                }
            }
        }
    }
    for (rule, granted, safe) in seen {
        assert!(
            granted > 10 && safe > 10,
            "{rule}: {granted} granted, {safe} safe"
        );
    }
}

// ---------------------------------------------------------------------------------------
// The oracle itself, on hand-built cases with known answers.
// ---------------------------------------------------------------------------------------

#[test]
fn oracle_glob_folds_case_for_actions_only() {
    assert!(glob("DynamoDB:deletetable", "dynamodb:DeleteTable", true));
    assert!(glob("dynamodb:Delete*", "dynamodb:DeleteTable", true));
    assert!(glob("dynamodb:delete?able", "dynamodb:DeleteTable", true));
    assert!(!glob("dynamodb:Delete?", "dynamodb:DeleteTable", true));
    assert!(glob("*", "backup:DeleteBackupPlan", true));
    assert!(!glob(
        "arn:aws:dynamodb:*:*:table/orders",
        "arn:aws:dynamodb:us-east-1:1:table/Orders",
        false
    ));
    // `*` crosses `/` and `:`: a table pattern ending in `*` covers its backups.
    assert!(glob(
        "arn:aws:dynamodb:*:*:table/Orders*",
        "arn:aws:dynamodb:us-east-1:1:table/Orders/backup/01",
        false
    ));
    assert!(glob(
        "arn:aws:dynamodb:*",
        "arn:aws:dynamodb:r:a:table/T",
        false
    ));
    assert!(!glob(
        "arn:aws:dynamodb:*:*:table/*/stream/*",
        "arn:aws:dynamodb:r:a:table/T",
        false
    ));
}

fn stmt(allow: bool, actions: &[&str], resources: &[&str]) -> Concrete {
    Concrete {
        allow,
        not_action: false,
        actions: actions.iter().map(|s| s.to_string()).collect(),
        not_resource: false,
        resources: resources.iter().map(|s| s.to_string()).collect(),
        condition: None,
    }
}

const ORDERS: &str = "arn:aws:dynamodb:us-east-1:111111111111:table/Orders";

#[test]
fn oracle_explicit_deny_wins_unless_its_condition_fails() {
    let ctxs = contexts();
    let allow = stmt(true, &["dynamodb:*"], &["*"]);
    let deny = stmt(
        false,
        &["dynamodb:Delete*"],
        &["arn:aws:dynamodb:*:*:table/*"],
    );
    let doc = vec![allow.clone(), deny.clone()];
    assert!(ctxs
        .iter()
        .all(|c| !allowed(&doc, "dynamodb:DeleteTable", ORDERS, c)));
    assert!(ctxs
        .iter()
        .all(|c| allowed(&doc, "dynamodb:GetItem", ORDERS, c)));
    // A conditional deny leaves a request context where the allow stands.
    let conditional = Concrete {
        condition: Some(IamCond::Mfa(false)),
        ..deny.clone()
    };
    let doc = vec![allow.clone(), conditional];
    assert!(ctxs
        .iter()
        .any(|c| allowed(&doc, "dynamodb:DeleteTable", ORDERS, c)));
    // No allow: implicit deny.
    let doc = vec![deny];
    assert!(ctxs
        .iter()
        .all(|c| !allowed(&doc, "dynamodb:DeleteTable", ORDERS, c)));
}

#[test]
fn oracle_not_action_and_not_resource_invert_the_match() {
    let ctx = &contexts()[0];
    let not_action = Concrete {
        not_action: true,
        ..stmt(true, &["dynamodb:Get*"], &["*"])
    };
    assert!(allowed(
        std::slice::from_ref(&not_action),
        "dynamodb:DeleteTable",
        ORDERS,
        ctx
    ));
    assert!(!allowed(&[not_action], "dynamodb:GetItem", ORDERS, ctx));
    let not_resource = Concrete {
        not_resource: true,
        ..stmt(true, &["*"], &["arn:aws:dynamodb:*:*:table/Orders"])
    };
    assert!(!allowed(
        std::slice::from_ref(&not_resource),
        "dynamodb:DeleteTable",
        ORDERS,
        ctx
    ));
    assert!(allowed(
        &[not_resource],
        "dynamodb:DeleteTable",
        "arn:aws:dynamodb:us-east-1:111111111111:table/Archive",
        ctx
    ));
}

fn one_policy(statements: Vec<Statement>, tables: Vec<Table>) -> (Template, Policy) {
    let policy = Policy {
        id: "Policy0".into(),
        kind: PolicyKind::ManagedPolicy,
        condition: None,
        documents: vec![statements],
        statement_scalar: false,
    };
    let t = Template {
        tables,
        policies: vec![policy.clone()],
        ..Template::default()
    };
    (t, policy)
}

fn statement(effect: &str, actions: Vec<Str>, resources: Vec<Str>) -> Statement {
    Statement {
        when: None,
        effect: Str::Lit(effect.into()),
        not_action: false,
        actions,
        action_scalar: false,
        not_resource: false,
        resources,
        resource_scalar: false,
        condition: None,
    }
}

fn lit(s: &str) -> Str {
    Str::Lit(s.into())
}

#[test]
fn oracle_deny_on_the_tables_own_arn_covers_it_but_not_other_tables() {
    let table = Table {
        id: "Table0".into(),
        name: None,
        condition: None,
    };
    // Allow on this table's ARN, deny on the same ARN spelled with `!Sub`: nothing left.
    let (t, p) = one_policy(
        vec![
            statement(
                "Allow",
                vec![lit("dynamodb:DeleteTable")],
                vec![Str::Arn("Table0".into())],
            ),
            statement(
                "Deny",
                vec![lit("dynamodb:*")],
                vec![Str::Sub {
                    parts: vec![
                        oracle::Part::Text("arn:".into()),
                        oracle::Part::Var("AWS::Partition".into()),
                        oracle::Part::Text(":dynamodb:".into()),
                        oracle::Part::Var("AWS::Region".into()),
                        oracle::Part::Text(":".into()),
                        oracle::Part::Var("AWS::AccountId".into()),
                        oracle::Part::Text(":table/".into()),
                        oracle::Part::Var("Table0".into()),
                    ],
                    join: false,
                }],
            ),
        ],
        vec![table.clone()],
    );
    assert!(oracle::judge(&t, &p, "DDB010").witness.is_none());
    // Allow on every table: the deny on one leaves the others.
    let (t, p) = one_policy(
        vec![
            statement("Allow", vec![lit("dynamodb:DeleteTable")], vec![lit("*")]),
            statement(
                "Deny",
                vec![lit("dynamodb:*")],
                vec![Str::Arn("Table0".into())],
            ),
        ],
        vec![table],
    );
    assert!(oracle::judge(&t, &p, "DDB010").witness.is_some());
    // Only `DeleteTable` is allowed.
    assert!(oracle::judge(&t, &p, "DDB011").witness.is_none());
    assert!(oracle::judge(&t, &p, "DDB012").witness.is_none());
}

#[test]
fn oracle_stream_and_index_arns_are_not_tables() {
    let (t, p) = one_policy(
        vec![statement(
            "Allow",
            vec![lit("dynamodb:*")],
            vec![
                lit("arn:aws:dynamodb:*:*:table/*/stream/*"),
                lit("arn:aws:dynamodb:*:*:table/*/index/*"),
            ],
        )],
        vec![],
    );
    assert!(oracle::judge(&t, &p, "DDB010").witness.is_none());
    assert!(oracle::judge(&t, &p, "DDB011").witness.is_none());
}
