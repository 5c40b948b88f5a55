//! DDB005 backup-plan
//!
//! ## What it checks
//! Every DynamoDB table (`AWS::DynamoDB::Table`, `AWS::DynamoDB::GlobalTable`,
//! `AWS::Serverless::SimpleTable`) must be covered by an `AWS::Backup::BackupSelection` in
//! the same template. A selection covers a table when its `Resources` name the table's
//! ARN (`!GetAtt Table.Arn`, a `!Sub` or `!Join` ARN built from `${Table}` or
//! `!Ref Table`, a wildcard such as `arn:aws:dynamodb:*:*:table/*`, or `*`), or when its
//! `ListOfTags` or `Conditions` (`StringEquals`, `StringLike`, `StringNotEquals`,
//! `StringNotLike` on `aws:ResourceTag/...`) match the table's `Tags` (with both
//! `Resources` and `ListOfTags`, both must: the tags filter the resources); and its
//! `NotResources` cannot name the table. An exclusion names the table when it *can* match
//! one of its ARNs: a literal Region or account names it whenever the stack runs there, and
//! a pattern can match the name CloudFormation generates for a table without `TableName`
//! (`<stack>-<LogicalId>-<random>`), and a `TableName` written with intrinsics is each
//! value it can take (`!If [IsProd, legacy, orders]`), any name where it cannot be known
//! (`!Ref Name`), or any name with its known parts (`!Sub legacy_${Env}`). `Fn::If`, parameters and the selection's own
//! `Condition` are followed: a table covered only in some cases is reported with the
//! cases. `Conditions` chosen by `Fn::If` (short or long form) are read case by case; any
//! other intrinsic there covers nothing. A tag key written twice for one deployment proves
//! no test on it (which value the table gets is not the template's to say), and a
//! SimpleTable's `Tags` map chosen by `Fn::If` is read case by case. A negated test
//! (`StringNotEquals`, `StringNotLike`) is never proven by a tag whose key or list cannot
//! be resolved, and one
//! that passes because the table has no such tag is conditional: tags a stack applies to
//! every resource are not in the template. A literal Region or account in a `Resources`
//! ARN proves nothing (the stack may be deployed elsewhere); use `${AWS::Region}`,
//! `${AWS::AccountId}` or `*`.
//!
//! An AWS Backup plan selects resources in its own Region, the stack's, so for an
//! `AWS::DynamoDB::GlobalTable` coverage is per replica: a selection covers the replica in
//! the stack's Region (the one whose `Region` is `!Ref AWS::Region`), and a tag test reads
//! that replica's `Tags` only; tags on a replica in another Region prove nothing. When no
//! replica's `Region` is `!Ref AWS::Region` (literal Regions), which one is local cannot be
//! decided and no replica's tags prove coverage (`!GetAtt Table.Arn` still names the local
//! replica). A global table covered in the stack's Region but with replicas elsewhere is
//! reported as a note (not a warning: no selection in this template can do more), saying
//! that those replicas need a backup plan in their own Region; the inventory shows it as
//! covered only for the local replica.
//!
//! Selections are read once per template and each table reads only the items that can
//! concern it; a template with more open items (ARNs that depend on the table) or more
//! selections by tag than the budget allows per table is not proven covered past that
//! budget (fail closed).
//!
//! Off by default: many organizations back tables up from a central account or stack,
//! which one template cannot show. Turn it on with `--select DDB005` (or `select` in
//! `ddb-guard.toml`) where each stack must carry its own backups.
//!
//! ## Why it matters
//! Point-in-time recovery reaches back at most 35 days and lives with the table, in its
//! account and Region; an AWS Backup plan keeps copies for as long as the plan says, in a
//! vault that can be locked against deletion, and can copy them to another Region or
//! account. Without a selection that covers
//! the table, the plan never backs it up, however well the plan is written.
//!
//! The rule can only fire on a file that names a DynamoDB table type, so its prefilter
//! patterns are `dynamodb` and `simpletable`.
//!
//! ## Example
//! ```yaml
//! OrdersTable:
//!   Type: AWS::DynamoDB::Table
//! TablesSelection:
//!   Type: AWS::Backup::BackupSelection
//!   Properties:
//!     BackupPlanId: !Ref DailyPlan
//!     BackupSelection:
//!       SelectionName: sessions
//!       IamRoleArn: !GetAtt BackupRole.Arn
//!       Resources: [!GetAtt SessionsTable.Arn]
//! ```
//!
//! ## Use instead
//! ```yaml
//! TablesSelection:
//!   Type: AWS::Backup::BackupSelection
//!   Properties:
//!     BackupPlanId: !Ref DailyPlan
//!     BackupSelection:
//!       SelectionName: tables
//!       IamRoleArn: !GetAtt BackupRole.Arn
//!       Resources:
//!         - !GetAtt SessionsTable.Arn
//!         - !GetAtt OrdersTable.Arn
//! ```
//!
//! ## Fix safety
//! No automatic fix: a backup selection needs a plan, a vault and an IAM role, and costs
//! storage; it is a decision to make on purpose.

use crate::finding::{Finding, Severity};
use crate::model::backup::{self, describe};
use crate::rules::layers::LayerState;
use crate::rules::{Check, ResourceView, Rule};

pub const RULE: Rule = Rule {
    code: "DDB005",
    name: "backup-plan",
    severity: Severity::Warning,
    summary: "DynamoDB table should be covered by an AWS Backup selection in the same template",
    needles: &[&["dynamodb"], &["simpletable"]],
    default_enabled: false,
    per_table: true,
    check: Check::Resource(check),
    source: include_str!("backup_plan.rs"),
};

fn check(view: &ResourceView) -> Vec<Finding> {
    if !view.resource.is_table() {
        return Vec::new();
    }
    let table = view.resource.logical_id;
    let decision = decide(view);
    let replicas = replica_note(&decision.scope);
    let (severity, message, label) = match decision.state {
        LayerState::Proven => return Vec::new(),
        LayerState::Conditional(why) if decision.only_other_regions => (
            // The template covers all it can: a plan in this stack cannot select resources
            // in another Region.
            Severity::Note,
            format!("global table `{table}` is covered by an AWS Backup selection {why}"),
            "covered in the stack's Region only".to_string(),
        ),
        LayerState::Conditional(why) => (
            RULE.severity,
            format!("table `{table}` is covered by an AWS Backup selection {why}; in the other cases no backup plan backs it up"),
            "covered by a backup selection only in some cases".to_string(),
        ),
        LayerState::No => (
            RULE.severity,
            format!("table `{table}` is covered by no AWS Backup selection in this template: no backup plan backs it up{replicas}"),
            "no backup selection covers this table".to_string(),
        ),
    };
    let mut finding = view.finding(&RULE, view.key_span(), message, label);
    finding.severity = severity;
    finding.help = Some(
        if view.resource.type_name == Some("AWS::DynamoDB::GlobalTable") {
            format!(
            "add `!GetAtt {table}.Arn` to the `Resources` of an `AWS::Backup::BackupSelection` (the replica in the stack's Region), or tag the replica whose `Region` is `!Ref AWS::Region` as a selection's `ListOfTags` asks; back up the replicas in other Regions with a plan in each of their Regions"
        )
        } else {
            format!(
            "add `!GetAtt {table}.Arn` to the `Resources` of an `AWS::Backup::BackupSelection`, or tag the table as a selection's `ListOfTags` asks"
        )
        },
    );
    vec![finding]
}

/// What this rule decides for one table.
struct Decision {
    state: LayerState,
    /// The state is conditional only because a global table has replicas in other Regions,
    /// which no selection of this stack can cover.
    only_other_regions: bool,
    scope: backup::ReplicaScope,
}

/// Covered by a backup selection, as this rule decides it (for the inventory).
pub(in crate::rules) fn state(view: &ResourceView) -> LayerState {
    decide(view).state
}

/// What a global table's replicas add to a message: which replicas no selection here can
/// cover, and why tags may prove nothing.
fn replica_note(scope: &backup::ReplicaScope) -> String {
    let mut note = String::new();
    if let Some(why) = &scope.undecided {
        note.push_str(&format!(
            "; {why}: tags on a replica count for that replica only (write the local replica's Region as `!Ref AWS::Region`)"
        ));
    }
    if !scope.others.is_empty() {
        note.push_str(&format!(
            "; replicas in other Regions ({}{}) are not selected by this stack's plan: AWS Backup selects resources in its own Region, so they need a backup plan in their Region",
            if scope.undecided.is_some() { "of " } else { "" },
            scope.others.join(", ")
        ));
    }
    note
}

fn decide(view: &ResourceView) -> Decision {
    let scope = backup::replica_scope(view.template, view.resource);
    let covers = backup::coverage(view.template, view.resource);
    let note = replica_note(&scope);
    if covers
        .iter()
        .any(|c| c.when.is_empty() && c.absent_tags.is_empty())
    {
        if scope.others.is_empty() {
            return Decision {
                state: LayerState::Proven,
                only_other_regions: false,
                scope,
            };
        }
        let selection = covers
            .iter()
            .find(|c| c.when.is_empty() && c.absent_tags.is_empty())
            .map_or("", |c| c.selection);
        return Decision {
            state: LayerState::Conditional(format!(
                "only for the replica in the stack's Region (selection `{selection}`){note}"
            )),
            only_other_regions: true,
            scope,
        };
    }
    if covers.is_empty() {
        return Decision {
            state: LayerState::No,
            only_other_regions: false,
            scope,
        };
    }
    let mut cases: Vec<String> = Vec::new();
    for c in &covers {
        let mut case = format!("{} (selection `{}`)", describe(&c.when), c.selection);
        if !c.absent_tags.is_empty() {
            let keys: Vec<String> = c.absent_tags.iter().map(|k| format!("`{k}`")).collect();
            case.push_str(&format!(
                " and only if the table has no tag {}: a negated test passes on its absence, and stack-level tags (applied to every resource) are not in the template",
                keys.join(", ")
            ));
        }
        if !cases.contains(&case) {
            cases.push(case);
        }
    }
    let local = if scope.others.is_empty() && scope.undecided.is_none() {
        ""
    } else {
        " (for the replica in the stack's Region)"
    };
    Decision {
        state: LayerState::Conditional(format!("only {}{local}{note}", cases.join(", or "))),
        only_other_regions: false,
        scope,
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{with_yaml_resource, with_yaml_template};
    use crate::rules::layers::{self, LayerState};
    use crate::rules::{ResourceView, RuleOptions};
    use crate::ruleset::check_template;

    const HEAD: &str = "Parameters:
  Env: {Type: String, AllowedValues: [prod, dev]}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Resources:
  Other:
    Type: AWS::DynamoDB::Table
";

    /// A template with table `T` (its properties indented under `Properties`) and one
    /// backup selection whose `BackupSelection` body is `selection`.
    fn template(table: &str, selection: &str) -> String {
        let indent = |text: &str, by: usize| -> String {
            text.lines()
                .map(|l| format!("{}{l}\n", " ".repeat(by)))
                .collect()
        };
        format!(
            "{HEAD}  T:\n    Type: AWS::DynamoDB::Table\n    Properties:\n{}  S:\n    Type: AWS::Backup::BackupSelection\n    Properties:\n      BackupPlanId: plan-id\n      BackupSelection:\n        SelectionName: s\n        IamRoleArn: arn:aws:iam::123456789012:role/backup\n{}",
            indent(if table.is_empty() { "BillingMode: PAY_PER_REQUEST" } else { table }, 6),
            indent(selection, 8),
        )
    }

    fn state_of(text: &str, table: &str) -> LayerState {
        with_yaml_resource(text, table, |template, resource| {
            layers::backup_plan(&ResourceView {
                template,
                resource,
                options: &RuleOptions::default(),
            })
        })
    }

    fn coverage(table: &str, selection: &str) -> LayerState {
        state_of(&template(table, selection), "T")
    }

    fn findings(text: &str) -> Vec<(String, String)> {
        with_yaml_template(text, |template| {
            check_template(template, &[&super::RULE], &RuleOptions::default())
                .into_iter()
                .map(|f| (f.resource, f.message))
                .collect()
        })
    }

    fn is_conditional_on(state: &LayerState, condition: &str) -> bool {
        matches!(state, LayerState::Conditional(why) if why.contains(condition))
    }

    #[test]
    fn get_att_arn_covers_that_table_only() {
        assert_eq!(
            coverage("", "Resources: [!GetAtt T.Arn]"),
            LayerState::Proven
        );
        assert_eq!(
            coverage("", "Resources: [{\"Fn::GetAtt\": [T, Arn]}]"),
            LayerState::Proven
        );
        assert_eq!(
            coverage("", "Resources: [!GetAtt Other.Arn]"),
            LayerState::No
        );
    }

    #[test]
    fn sub_arn_with_the_tables_name_covers_it() {
        let sub = "Resources:\n  - !Sub arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${T}";
        assert_eq!(coverage("", sub), LayerState::Proven);
        assert_eq!(
            coverage("", &sub.replace("${T}", "${Other}")),
            LayerState::No
        );
        assert_eq!(
            coverage("", "Resources: [!Sub '${T.Arn}']"),
            LayerState::Proven
        );
    }

    #[test]
    fn join_arn_with_ref_covers_the_table() {
        let join = "Resources:\n  - !Join ['', ['arn:', !Ref AWS::Partition, ':dynamodb:', !Ref AWS::Region, ':', !Ref AWS::AccountId, ':table/', !Ref T]]";
        assert_eq!(coverage("", join), LayerState::Proven);
        assert_eq!(
            coverage("", &join.replace("!Ref T]", "!Ref Other]")),
            LayerState::No
        );
    }

    #[test]
    fn wildcard_arns_cover_every_table_in_any_region() {
        for glob in [
            "'*'",
            "arn:aws:dynamodb:*:*:table/*",
            "'arn:*:dynamodb:*:*:*'",
        ] {
            assert_eq!(
                coverage("", &format!("Resources: [{glob}]")),
                LayerState::Proven,
                "{glob}"
            );
        }
    }

    #[test]
    fn a_literal_region_or_another_service_proves_nothing() {
        for glob in [
            "arn:aws:dynamodb:us-east-1:123456789012:table/*",
            "arn:aws:s3:::*",
            "arn:aws:dynamodb:*:*:table/orders",
        ] {
            assert_eq!(
                coverage("", &format!("Resources: [{glob}]")),
                LayerState::No,
                "{glob}"
            );
        }
    }

    #[test]
    fn a_literal_table_name_is_matched_by_a_literal_or_wildcard_arn() {
        let named = "TableName: orders";
        assert_eq!(
            coverage(named, "Resources: [arn:aws:dynamodb:*:*:table/orders]"),
            LayerState::Proven
        );
        assert_eq!(
            coverage(named, "Resources: [arn:aws:dynamodb:*:*:table/ord*]"),
            LayerState::Proven
        );
        assert_eq!(
            coverage(named, "Resources: [arn:aws:dynamodb:*:*:table/orders-*]"),
            LayerState::No
        );
    }

    const DAILY: &str = "Tags:\n  - Key: backup\n    Value: daily";

    #[test]
    fn list_of_tags_covers_a_table_with_that_tag() {
        let by_tag = "ListOfTags:\n  - {ConditionType: STRINGEQUALS, ConditionKey: backup, ConditionValue: daily}";
        assert_eq!(coverage(DAILY, by_tag), LayerState::Proven);
        assert_eq!(coverage("", by_tag), LayerState::No);
        assert_eq!(
            coverage(
                DAILY,
                &by_tag.replace("ConditionValue: daily", "ConditionValue: weekly")
            ),
            LayerState::No
        );
    }

    #[test]
    fn conditions_on_resource_tags_cover_a_matching_table() {
        let test = |op: &str, value: &str| {
            format!(
                "Resources: ['*']\nConditions:\n  {op}:\n    - {{ConditionKey: 'aws:ResourceTag/backup', ConditionValue: '{value}'}}"
            )
        };
        assert_eq!(
            coverage(DAILY, &test("StringEquals", "daily")),
            LayerState::Proven
        );
        assert_eq!(
            coverage(DAILY, &test("StringLike", "dai*")),
            LayerState::Proven
        );
        assert_eq!(
            coverage(DAILY, &test("StringNotEquals", "daily")),
            LayerState::No
        );
        assert_eq!(
            coverage(DAILY, &test("StringNotLike", "week*")),
            LayerState::Proven
        );
        assert_eq!(coverage("", &test("StringEquals", "daily")), LayerState::No);
        // Tests are joined by AND: the table has no `team` tag.
        let both = format!(
            "{}\n  StringLike:\n    - {{ConditionKey: 'aws:ResourceTag/team', ConditionValue: '*'}}",
            test("StringEquals", "daily")
        );
        assert_eq!(coverage(DAILY, &both), LayerState::No);
    }

    #[test]
    fn not_resources_that_can_name_the_table_exclude_it() {
        assert_eq!(
            coverage("", "Resources: ['*']\nNotResources: [!GetAtt T.Arn]"),
            LayerState::No
        );
        assert_eq!(
            coverage("", "Resources: ['*']\nNotResources: [!GetAtt Other.Arn]"),
            LayerState::Proven
        );
        assert_eq!(
            coverage(
                "",
                "Resources: ['*']\nNotResources: [arn:aws:dynamodb:*:*:table/*]"
            ),
            LayerState::No
        );
    }

    #[test]
    fn coverage_under_one_if_branch_is_conditional() {
        let state = coverage(
            "",
            "Resources:\n  - !If [IsProd, !GetAtt T.Arn, !Ref AWS::NoValue]",
        );
        assert!(is_conditional_on(&state, "IsProd"), "{state:?}");
        let tagged = "Tags:\n  - Key: backup\n    Value: !If [IsProd, daily, none]";
        let by_tag = "ListOfTags:\n  - {ConditionType: STRINGEQUALS, ConditionKey: backup, ConditionValue: daily}";
        let state = coverage(tagged, by_tag);
        assert!(is_conditional_on(&state, "IsProd"), "{state:?}");
        let param = "Tags:\n  - Key: backup\n    Value: !Ref Env";
        let state = coverage(param, &by_tag.replace("daily", "prod"));
        assert!(is_conditional_on(&state, "Env"), "{state:?}");
    }

    #[test]
    fn a_selection_with_a_condition_covers_only_when_it_holds() {
        let text = template("", "Resources: [!GetAtt T.Arn]")
            .replace("  S:\n    Type:", "  S:\n    Condition: IsProd\n    Type:");
        let state = state_of(&text, "T");
        assert!(is_conditional_on(&state, "IsProd"), "{state:?}");
    }

    #[test]
    fn simple_table_tags_are_a_mapping() {
        let text = "Resources:\n  T:\n    Type: AWS::Serverless::SimpleTable\n    Properties:\n      Tags: {backup: daily}\n  S:\n    Type: AWS::Backup::BackupSelection\n    Properties:\n      BackupPlanId: p\n      BackupSelection:\n        SelectionName: s\n        IamRoleArn: r\n        ListOfTags: [{ConditionType: STRINGEQUALS, ConditionKey: backup, ConditionValue: daily}]\n";
        assert_eq!(state_of(text, "T"), LayerState::Proven);
    }

    #[test]
    fn the_rule_reports_uncovered_and_conditionally_covered_tables() {
        let text = template(
            "",
            "Resources: [!If [IsProd, !GetAtt T.Arn, !Ref AWS::NoValue]]",
        );
        let found = findings(&text);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].0, "Other");
        assert!(found[0].1.contains("covered by no AWS Backup selection"));
        assert_eq!(found[1].0, "T");
        assert!(
            found[1].1.contains("when condition `IsProd` is true"),
            "{}",
            found[1].1
        );
    }

    #[test]
    fn the_rule_is_off_unless_selected() {
        assert!(!crate::rules::default_rules()
            .iter()
            .any(|r| r.code == "DDB005"));
        assert!(crate::rules::find("backup-plan").is_some_and(|r| r.code == "DDB005"));
    }
}
