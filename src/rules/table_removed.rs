//! DDB020 table-removed
//!
//! ## What it checks
//! Compares a template with its version at a base revision (`ddb-guard check --base REV`,
//! `ddb-guard diff OLD NEW`). A DynamoDB table present at the base must not disappear at
//! the head: neither the resource (and not by a logical-ID rename either, which is DDB021)
//! nor the whole template file. If the base `DeletionPolicy` was provably `Retain` (or
//! `RetainExceptOnCreate`) in every case, the finding is only a note.
//!
//! ## Why it matters
//! CloudFormation applies the policy of the *deployed* version: when a resource leaves the
//! template, the update deletes the table with all its data unless the deployed resource
//! had `DeletionPolicy: Retain`. Adding `Retain` in the same change that removes the table
//! is too late. With `Retain`, the table survives but the stack no longer manages it
//! (orphaned): nothing alerts on it, and a later stack may fail to create a table of the
//! same name.
//!
//! ## Example
//! ```yaml
//! # base                                # head
//! Resources:                            Resources:
//!   OrdersTable:                          Queue:
//!     Type: AWS::DynamoDB::Table            Type: AWS::SQS::Queue
//!   Queue:
//!     Type: AWS::SQS::Queue
//! ```
//!
//! ## Use instead
//! First merge and deploy `DeletionPolicy: Retain` (and `UpdateReplacePolicy: Retain`) on
//! the table; remove the resource in a later change, then delete or import the orphaned
//! table on purpose.
//!
//! ## Fix safety
//! No automatic fix: restoring a resource or changing what is deployed is a decision.

use super::deletion_policy;
use super::policy::retains;
use super::table_match::{fates, Fate};
use super::{compares_versions_only, diff_finding, Comparison, DiffRule, Head, Rule};
use crate::finding::{Finding, Severity};

pub const RULE: Rule = Rule {
    code: "DDB020",
    name: "table-removed",
    severity: Severity::Error,
    summary:
        "DynamoDB table present at the base revision is removed without a retained DeletionPolicy",
    needles: &[],
    default_enabled: true,
    check: compares_versions_only,
    source: include_str!("table_removed.rs"),
};

pub const DIFF: DiffRule = DiffRule { rule: &RULE, check };

fn check(cmp: &Comparison) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (table, fate) in fates(cmp) {
        if !matches!(fate, Fate::Removed) {
            continue;
        }
        let id = table.logical_id;
        let was_at = cmp.base_at(cmp.base.doc.span(table.key));
        let what = match cmp.head {
            Head::Template(_) => format!("table `{id}` was removed from the template"),
            Head::NotTemplate => {
                format!("table `{id}` is gone: the file is no longer a CloudFormation template")
            }
            Head::Deleted => format!("table `{id}` is gone: the template file was deleted"),
        };
        let retained = retains(
            &cmp.base_view(table),
            "DeletionPolicy",
            deletion_policy::SPEC.retains,
        );
        let (severity, message, label, help) = if retained {
            (
                Severity::Note,
                format!(
                    "{what} (it was at {was_at}); its base DeletionPolicy retains it, so CloudFormation keeps the table and its data but no longer manages it (orphaned)"
                ),
                format!("`{id}` leaves the stack here; the table is kept"),
                "if that is intended, delete or import the orphaned table on purpose later; otherwise restore the resource".to_string(),
            )
        } else {
            (
                Severity::Error,
                format!(
                    "{what} (it was at {was_at}) and its base DeletionPolicy is not provably Retain: deploying this change deletes the table and its data"
                ),
                format!("`{id}` is deleted with its data"),
                "restore the resource; to remove a table safely, first deploy it with `DeletionPolicy: Retain`, then remove it in a later change".to_string(),
            )
        };
        let mut finding = diff_finding(
            &RULE,
            severity,
            table,
            cmp.removal_span(table),
            message,
            label,
        );
        finding.help = Some(help);
        findings.push(finding);
    }
    findings
}
