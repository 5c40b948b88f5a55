//! DDB021 table-renamed
//!
//! ## What it checks
//! Compares a template with its version at a base revision. A DynamoDB table whose logical
//! ID disappeared while a new logical ID holds a table of the same type with the same
//! `TableName`, or the same key schema, has been renamed. A `TableName` is the same when it
//! is written the same way and reads nothing the change modifies (a parameter whose
//! `Default` changed, a mapping, a condition, or a resource it `Ref`s or `Fn::GetAtt`s):
//! the same text can name another table, and then the old table is a removal (DDB020).
//!
//! ## Why it matters
//! CloudFormation knows resources only by logical ID: a new ID is a new table (created
//! empty) and the old ID is a removed table, deleted with its data unless the *deployed*
//! version had `DeletionPolicy: Retain`. Even when it was retained, the old table is only
//! orphaned: the application now talks to an empty table, and a `TableName` shared by the
//! old and the new resource makes the creation fail, because the old table still exists.
//!
//! ## Example
//! ```yaml
//! # base                                # head
//! OrdersTable:                          OrdersTableV2:
//!   Type: AWS::DynamoDB::Table            Type: AWS::DynamoDB::Table
//!   Properties:                           Properties:
//!     TableName: orders                     TableName: orders
//! ```
//!
//! ## Use instead
//! Keep the old logical ID. To really move a table to a new ID: deploy it with
//! `DeletionPolicy: Retain`, remove it from the template, then import the existing table
//! under the new ID (`aws cloudformation create-change-set --change-set-type IMPORT`).
//!
//! ## Fix safety
//! No automatic fix: which logical ID is right is the author's decision.

use super::table_match::{fates, Evidence, Fate};
use crate::finding::{Finding, Label, Severity};
use crate::rules::retention::deletion_policy;
use crate::rules::retention::policy::retains;
use crate::rules::{diff_finding, Check, Comparison, Head, Rule};

pub const RULE: Rule = Rule {
    code: "DDB021",
    name: "table-renamed",
    severity: Severity::Error,
    summary: "DynamoDB table's logical ID changed: CloudFormation creates a new empty table and drops the old one",
    needles: &[],
    default_enabled: true,
    per_table: false,
    check: Check::Versions(check),
    source: include_str!("table_renamed.rs"),
};

fn check(cmp: &Comparison) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (table, fate) in fates(cmp) {
        let Fate::Renamed(target, evidence) = fate else {
            continue;
        };
        let (old, new) = (table.logical_id, target.logical_id);
        let was_at = cmp.base_at(cmp.base.doc.span(table.key));
        let retained = retains(
            &cmp.base_view(table),
            "DeletionPolicy",
            deletion_policy::SPEC.retains,
        );
        let old_fate = if retained {
            format!(
                "orphans `{old}` (kept, no longer managed), as its base DeletionPolicy retains it"
            )
        } else {
            format!(
                "deletes `{old}` with its data, as its base DeletionPolicy is not provably Retain"
            )
        };
        let name_clash = if evidence == Evidence::TableName {
            format!("; and as `{old}` still holds that TableName when `{new}` is created, the deployment fails")
        } else {
            String::new()
        };
        let message = format!(
            "table `{old}` (at {was_at}) was renamed to `{new}` ({}): CloudFormation sees a new table and a removed one, so it creates `{new}` empty and {old_fate}{name_clash}",
            evidence.describe()
        );
        let Head::Template(head) = &cmp.head else {
            continue;
        };
        let mut finding = diff_finding(
            &RULE,
            Severity::Error,
            table,
            head.doc.span(target.key),
            message,
            format!("was `{old}` at the base"),
        );
        if let Some(props) = head.doc.get_value(target.node, "Properties") {
            let key = if evidence == Evidence::TableName {
                "TableName"
            } else if target.type_name == Some("AWS::Serverless::SimpleTable") {
                "PrimaryKey"
            } else {
                "KeySchema"
            };
            if let Some(entry) = head.doc.get(props, key) {
                finding.labels.push(Label {
                    span: head.doc.span(entry.key),
                    text: format!("same as `{old}` at the base"),
                });
            }
        }
        finding.help = Some(format!(
            "keep the logical ID `{old}`; to move a table to a new ID, retain it, remove it, and import it under the new ID"
        ));
        findings.push(finding);
    }
    findings
}
