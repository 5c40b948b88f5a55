//! DDB005 backup-plan
//!
//! ## What it checks
//! Every DynamoDB table (`AWS::DynamoDB::Table`, `AWS::DynamoDB::GlobalTable`,
//! `AWS::Serverless::SimpleTable`) must be covered by an `AWS::Backup::BackupSelection` in
//! the same template. A selection covers a table when its `Resources` name the table's
//! ARN (`!GetAtt Table.Arn`, a `!Sub` or `!Join` ARN built from `${Table}` or
//! `!Ref Table`, a wildcard such as `arn:aws:dynamodb:*:*:table/*`, or `*`), or when its
//! `ListOfTags` or `Conditions` (`StringEquals`, `StringLike`, `StringNotEquals`,
//! `StringNotLike` on `aws:ResourceTag/...`) match the table's `Tags`; and its
//! `NotResources` cannot name the table. `Fn::If`, parameters and the selection's own
//! `Condition` are followed: a table covered only in some cases is reported with the
//! cases. A literal Region or account in an ARN proves nothing (the stack may be deployed
//! elsewhere); use `${AWS::Region}`, `${AWS::AccountId}` or `*`.
//!
//! Off by default: many organizations back tables up from a central account or stack,
//! which one template cannot show. Turn it on with `--select DDB005` (or `select` in
//! `ddb-guard.toml`) where each stack must carry its own backups.
//!
//! ## Why it matters
//! Point-in-time recovery covers 35 days and is deleted with the table's account access;
//! an AWS Backup plan keeps copies for as long as the plan says, in a vault that can be
//! locked against deletion, in another Region or account. Without a selection that covers
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

use super::layers::LayerState;
use super::{ResourceView, Rule};
use crate::finding::{Finding, Severity};
use crate::model::backup::{self, describe};

pub const RULE: Rule = Rule {
    code: "DDB005",
    name: "backup-plan",
    severity: Severity::Warning,
    summary: "DynamoDB table should be covered by an AWS Backup selection in the same template",
    needles: &["dynamodb", "simpletable"],
    default_enabled: false,
    check,
    source: include_str!("backup_plan.rs"),
};

fn check(view: &ResourceView) -> Vec<Finding> {
    if !view.resource.is_table() {
        return Vec::new();
    }
    let table = view.resource.logical_id;
    let (message, label) = match state(view) {
        LayerState::Proven => return Vec::new(),
        LayerState::Conditional(why) => (
            format!("table `{table}` is covered by an AWS Backup selection {why}; in the other cases no backup plan backs it up"),
            "covered by a backup selection only in some cases".to_string(),
        ),
        LayerState::No => (
            format!("table `{table}` is covered by no AWS Backup selection in this template: no backup plan backs it up"),
            "no backup selection covers this table".to_string(),
        ),
    };
    let mut finding = view.finding(&RULE, view.key_span(), message, label);
    finding.help = Some(format!(
        "add `!GetAtt {table}.Arn` to the `Resources` of an `AWS::Backup::BackupSelection`, or tag the table as a selection's `ListOfTags` asks"
    ));
    vec![finding]
}

/// Covered by a backup selection, as this rule decides it (for the inventory).
pub(super) fn state(view: &ResourceView) -> LayerState {
    let covers = backup::coverage(view.template, view.resource);
    if covers.iter().any(|c| c.when.is_empty()) {
        return LayerState::Proven;
    }
    if covers.is_empty() {
        return LayerState::No;
    }
    let mut cases: Vec<String> = Vec::new();
    for c in &covers {
        let case = format!("{} (selection `{}`)", describe(&c.when), c.selection);
        if !cases.contains(&case) {
            cases.push(case);
        }
    }
    LayerState::Conditional(format!("only {}", cases.join(", or ")))
}
