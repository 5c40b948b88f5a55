//! DDB020 table-removed
//!
//! ## What it checks
//! Compares a template with its version at a base revision (`ddb-guard check --base REV`,
//! `ddb-guard diff OLD NEW`). A DynamoDB table present at the base must not disappear at
//! the head: neither the resource (and not by a logical-ID rename either, which is DDB021)
//! nor the whole template file. A table also disappears where it is still declared but
//! gained a `Condition` that can be false, or where its `Fn::ForEach` collection lost an
//! item (the copy for that item is removed). If the base `DeletionPolicy` was provably
//! `Retain` (or `RetainExceptOnCreate`) in every case, the finding is only a note.
//!
//! A nested stack (`AWS::CloudFormation::Stack`, `AWS::Serverless::Application`) or a
//! stack set given by `TemplateURL` that disappears from the head (or changes logical ID)
//! takes the tables of its template with it: reported at the same place, naming the tables
//! of the local nested template whose `DeletionPolicy` is not provably `Retain`, or saying
//! that a template ddb-guard cannot see (a URL, ...) cannot be proven to hold no table;
//! nothing when the nested stack's own `DeletionPolicy` retains it, or its local template
//! retains every table. (The nested template is read as it is now on disk: a pull request
//! that also edits it is compared as that file too.)
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

use super::table_match::{fates, Fate};
use crate::finding::{Finding, Severity};
use crate::load::{Document, NodeId};
use crate::model::same::{same_value, Side};
use crate::model::{Evaluator, Resource, Template};
use crate::rules::retention::deletion_policy;
use crate::rules::retention::policy::retains;
use crate::rules::{diff_finding, Check, Comparison, Head, Placement, Rule};
use crate::source::Span;

pub const RULE: Rule = Rule {
    code: "DDB020",
    name: "table-removed",
    severity: Severity::Error,
    summary:
        "DynamoDB table present at the base revision is removed without a retained DeletionPolicy",
    needles: &[],
    default_enabled: true,
    per_table: false,
    check: Check::Versions(check),
    source: include_str!("table_removed.rs"),
};

fn check(cmp: &Comparison) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (table, fate) in fates(cmp) {
        let id = table.logical_id;
        let removals = match fate {
            Fate::Removed => {
                let what = match cmp.head {
                    Head::Template(_) => format!("table `{id}` was removed from the template"),
                    Head::NotTemplate => format!(
                        "table `{id}` is gone: the file is no longer a CloudFormation template"
                    ),
                    Head::Deleted => {
                        format!("table `{id}` is gone: the template file was deleted")
                    }
                };
                let (span, placement) = cmp.removal_span(table);
                let place = match placement {
                    Placement::Above(next) => format!("was removed just above `{next}`"),
                    Placement::Below => "was removed just below".to_string(),
                    Placement::Resources => "is no longer under `Resources`".to_string(),
                    Placement::FileStart => "is gone: no longer a template".to_string(),
                    Placement::Base => "is gone with its file".to_string(),
                };
                vec![(what, span, place)]
            }
            Fate::Kept(now) => match &cmp.head {
                Head::Template(head) if now.is_table() => partly_removed(cmp, table, head, now),
                _ => Vec::new(),
            },
            Fate::Renamed(..) => Vec::new(),
        };
        for (what, span, place) in removals {
            findings.push(removal(cmp, table, what, span, &place));
        }
    }
    findings
}

/// A table still declared at the head that no longer exists in every deployment: it
/// gained a `Condition` that can be false, or its `Fn::ForEach` collection lost items.
fn partly_removed(
    cmp: &Comparison,
    was: &Resource,
    head: &Template,
    now: &Resource,
) -> Vec<(String, Span, String)> {
    let (bd, hd) = (cmp.base.doc, head.doc);
    let id = was.logical_id;
    let mut out = Vec::new();
    let condition_of = |doc: &Document, r: &Resource| {
        doc.get(r.node, "Condition")
            .and_then(|e| Some((doc.str(e.value)?.to_string(), e)))
    };
    if let Some((name, entry)) = condition_of(hd, now) {
        let before = condition_of(bd, was).map(|(n, _)| n);
        let unchanged = before.as_deref() == Some(name.as_str())
            && match (cmp.base.condition(&name), head.condition(&name)) {
                (Some(b), Some(h)) => same_value(Side::new(bd, b), Side::new(hd, h)),
                (None, None) => true,
                _ => false,
            };
        let can_be_false = Evaluator::new(head, &now.loops)
            .condition(&name, 0)
            .can_be_false;
        if !unchanged && can_be_false {
            let before = match before {
                Some(b) if b == name => format!("condition `{b}` defined differently"),
                Some(b) => format!("condition `{b}`"),
                None => "no condition".to_string(),
            };
            out.push((
                format!(
                    "table `{id}` now exists only when condition `{name}` is true (at the base it had {before}), so where `{name}` is false the update removes it"
                ),
                hd.span(entry.key),
                format!("now exists only when `{name}` is true"),
            ));
        }
    }
    for (before, after) in was.loops.iter().zip(&now.loops) {
        if before.identifier != after.identifier {
            break;
        }
        let (Some(old), Some(new)) = (
            literal_items(bd, before.collection),
            literal_items(hd, after.collection),
        ) else {
            continue;
        };
        let gone: Vec<String> = old
            .iter()
            .filter(|item| !new.contains(item))
            .map(|item| format!("`{item}`"))
            .collect();
        if !gone.is_empty() {
            out.push((
                format!(
                    "the copies of table `{id}` for `{}` = {} were removed from its `Fn::ForEach` collection",
                    before.identifier,
                    gone.join(", ")
                ),
                hd.span(after.collection),
                format!("loses its copies for {}", gone.join(", ")),
            ));
        }
    }
    out
}

/// The items of a literal `Fn::ForEach` collection; `None` when it is not literal.
fn literal_items<'d>(doc: &'d Document, collection: NodeId) -> Option<Vec<&'d str>> {
    doc.seq(collection)?.iter().map(|i| doc.str(*i)).collect()
}

fn removal(cmp: &Comparison, table: &Resource, what: String, span: Span, place: &str) -> Finding {
    let id = table.logical_id;
    let was_at = cmp.base_at(cmp.base.doc.span(table.key));
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
            format!("`{id}` {place}: kept, but orphaned"),
            "if that is intended, delete or import the orphaned table on purpose later; otherwise restore the resource",
        )
    } else {
        (
            Severity::Error,
            format!(
                "{what} (it was at {was_at}) and its base DeletionPolicy is not provably Retain: deploying this change deletes the table and its data"
            ),
            format!("`{id}` {place}: deleted with its data"),
            "restore the resource; to remove a table safely, first deploy it with `DeletionPolicy: Retain`, then remove it in a later change",
        )
    };
    let mut finding = diff_finding(&RULE, severity, table, span, message, label);
    finding.help = Some(help.to_string());
    finding
}

/// What the checker read of the template of a nested stack the base deploys (rules read
/// no files).
#[derive(Clone, Debug)]
pub enum NestedTables {
    /// The local template `file`: its tables that are not provably retained, and whether
    /// it includes further templates (deleted with it, not looked into here).
    Read {
        file: String,
        unretained: Vec<String>,
        includes: bool,
    },
    /// A template that cannot be read here, and why.
    Unknown(String),
}

/// The nested stacks of the base that are gone from the head (removed, renamed, or no
/// longer of their type), with what their templates deploy: `nested` holds, by logical
/// ID, what the checker read of each one's template.
pub fn nested_stacks_removed(cmp: &Comparison, nested: &[(String, NestedTables)]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (id, tables) in nested {
        let Some(stack) = cmp
            .base
            .resources
            .iter()
            .find(|r| r.logical_id == id.as_str())
        else {
            continue;
        };
        let kept = match &cmp.head {
            Head::Template(head) => head
                .resources
                .iter()
                .any(|r| r.logical_id == stack.logical_id && r.type_name == stack.type_name),
            _ => false,
        };
        if kept
            || retains(
                &cmp.base_view(stack),
                "DeletionPolicy",
                deletion_policy::SPEC.retains,
            )
        {
            continue;
        }
        let what = match tables {
            Read {
                unretained,
                includes: false,
                ..
            } if unretained.is_empty() => continue,
            Read {
                file,
                unretained,
                includes,
            } => {
                let mut parts = Vec::new();
                if !unretained.is_empty() {
                    let names: Vec<String> = unretained.iter().map(|t| format!("`{t}`")).collect();
                    parts.push(format!(
                        "its template `{file}` declares {} whose DeletionPolicy is not provably Retain",
                        names.join(", ")
                    ));
                }
                if *includes {
                    parts.push(format!(
                        "its template `{file}` includes further templates, deleted with it"
                    ));
                }
                parts.join("; ")
            }
            Unknown(why) => format!(
                "its template is not visible to ddb-guard ({why}), so it cannot be proven to hold no table"
            ),
        };
        let (span, _) = cmp.removal_span(stack);
        let was_at = cmp.base_at(cmp.base.doc.span(stack.key));
        let kind = crate::model::nested::kind(stack.type_name.unwrap_or_default());
        let message = format!(
            "{kind} `{id}` is gone from the template (it was at {was_at}): CloudFormation deletes it and the resources it deployed; {what}"
        );
        let mut finding = diff_finding(
            &RULE,
            Severity::Error,
            stack,
            span,
            message,
            format!("{kind} `{id}` removed: its tables are deleted"),
        );
        finding.help = Some(
            "restore the nested stack; to remove it safely, first deploy `DeletionPolicy: Retain` on its tables (or on the nested stack), then remove it in a later change"
                .to_string(),
        );
        findings.push(finding);
    }
    findings
}

use NestedTables::{Read, Unknown};
