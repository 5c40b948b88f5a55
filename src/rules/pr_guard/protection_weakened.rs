//! DDB023 protection-weakened
//!
//! ## What it checks
//! Compares a template with its version at a base revision. A DynamoDB table that is at
//! both revisions under the same logical ID, and that provably had a guardrail at the base,
//! must still provably have it at the head:
//! - `DeletionProtectionEnabled` provably true (on the table, or on every replica of a
//!   global table) at the base, and not provably true at the head (false, removed, made
//!   conditional or unresolvable);
//! - point-in-time recovery provably on at the base, and not provably on at the head;
//! - `PointInTimeRecoverySpecification.RecoveryPeriodInDays` shortened, when both sides
//!   write it as a literal number;
//! - a replica of an `AWS::DynamoDB::GlobalTable` (by its literal `Region`) that is in
//!   `Replicas` at the base and not at the head. Removing a replica deletes that Region's
//!   copy of the table with its data, while the logical table survives, so it is reported
//!   here rather than as DDB020. When the head's `Replicas` or a head `Region` is not a
//!   literal, a base Region that cannot be found is reported too (fail closed). When the
//!   base replica had `DeletionProtectionEnabled: true` written literally, the finding is a
//!   note: CloudFormation then fails the update instead of deleting the replica.
//!
//! "Provably" is decided by DDB003 and DDB004's own proofs, under every `Fn::If` branch,
//! parameter value and mapping entry, so a value that was true only in some cases at the
//! base is not a guardrail that can be lost. `DeletionPolicy` and `UpdateReplacePolicy`
//! going from `Retain` to not `Retain` are not reported here: DDB001 and DDB002 already
//! report the head's policy on every check.
//!
//! ## Why it matters
//! A pull request that turns a guardrail off does not delete anything yet, so DDB020-DDB022
//! stay silent; but it removes the layer that would have stopped the next mistake, and a
//! per-table warning from DDB003 or DDB004 looks the same as on a table that never had the
//! guardrail. Losing a guardrail the table had is a decision a reviewer must see.
//!
//! ## Example
//! ```yaml
//! # base                                # head
//! OrdersTable:                          OrdersTable:
//!   Type: AWS::DynamoDB::Table            Type: AWS::DynamoDB::Table
//!   Properties:                           Properties:
//!     DeletionProtectionEnabled: true       DeletionProtectionEnabled: false
//! ```
//!
//! ## Use instead
//! Keep the guardrail (`DeletionProtectionEnabled: true`, `PointInTimeRecoveryEnabled:
//! true`, the same or a longer `RecoveryPeriodInDays`). Turning one off on purpose is a
//! decision the reviewer signs off on, with this finding in front of them.
//!
//! ## Fix safety
//! No automatic fix: whether the guardrail should go is the author's decision.

use super::table_match::{fates, Fate};
use crate::finding::{Finding, Severity};
use crate::load::{Document, NodeId};
use crate::model::{Resource, Template};
use crate::rules::layers::{self, LayerState};
use crate::rules::{diff_finding, Check, Comparison, Head, ResourceView, Rule};
use crate::source::Span;

pub const RULE: Rule = Rule {
    code: "DDB023",
    name: "protection-weakened",
    severity: Severity::Error,
    summary: "DynamoDB table loses deletion protection, point-in-time recovery or recovery days it provably had at the base revision",
    needles: &[],
    default_enabled: true,
    per_table: false,
    check: Check::Versions(check),
    source: include_str!("protection_weakened.rs"),
};

/// One guardrail decided by a layer proof.
struct Guardrail {
    what: &'static str,
    path: &'static [&'static str],
    state: fn(&ResourceView) -> LayerState,
}

const GUARDRAILS: [Guardrail; 2] = [
    Guardrail {
        what: "DeletionProtectionEnabled true",
        path: &["DeletionProtectionEnabled"],
        state: layers::deletion_protection,
    },
    Guardrail {
        what: "point-in-time recovery on",
        path: &[
            "PointInTimeRecoverySpecification",
            "PointInTimeRecoveryEnabled",
        ],
        state: layers::pitr,
    },
];

const PERIOD: &[&str] = &["PointInTimeRecoverySpecification", "RecoveryPeriodInDays"];

fn check(cmp: &Comparison) -> Vec<Finding> {
    let Head::Template(head) = &cmp.head else {
        return Vec::new();
    };
    let head: &Template = head;
    let mut findings = Vec::new();
    for (table, fate) in fates(cmp) {
        let Fate::Kept(now) = fate else { continue };
        if !now.is_table() {
            continue;
        }
        let base_view = cmp.base_view(table);
        let head_view = ResourceView {
            template: head,
            resource: now,
            options: cmp.options,
        };
        for guard in &GUARDRAILS {
            if !(guard.state)(&base_view).holds() {
                continue;
            }
            let at_head = (guard.state)(&head_view);
            if at_head.holds() {
                continue;
            }
            let why = match &at_head {
                LayerState::Conditional(why) => format!("it no longer holds in every case: {why}"),
                _ => "at the head it is false, missing or cannot be resolved".to_string(),
            };
            let was_at = cmp.base_at(deepest_span(cmp.base.doc, table, guard.path));
            let message = format!(
                "table `{}` had {} provably at the base ({was_at}), and {why}",
                table.logical_id, guard.what
            );
            let span = deepest_span(head.doc, now, guard.path);
            findings.push(finding(
                table,
                span,
                message,
                format!("{} no longer proven", guard.what),
            ));
        }
        if let (Some((base_days, base_span)), Some((head_days, head_span))) = (
            literal_days(cmp.base.doc, table),
            literal_days(head.doc, now),
        ) {
            if head_days < base_days {
                let was_at = cmp.base_at(base_span);
                let message = format!(
                    "table `{}` keeps point-in-time recovery for {head_days} days, shortened from {base_days} at the base ({was_at}): changes older than {head_days} days can no longer be restored",
                    table.logical_id
                );
                findings.push(finding(
                    table,
                    head_span,
                    message,
                    format!("was {base_days} at the base"),
                ));
            }
        }
    }
    findings.extend(replicas_removed(cmp, head));
    findings
}

/// Replicas of a kept global table whose literal base `Region` is gone at the head.
fn replicas_removed(cmp: &Comparison, head: &Template) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (table, fate) in fates(cmp) {
        let Fate::Kept(now) = fate else { continue };
        let global = Some("AWS::DynamoDB::GlobalTable");
        if table.type_name != global || now.type_name != global {
            continue;
        }
        let base_doc = cmp.base.doc;
        let (base_regions, _) = regions(base_doc, table);
        let (head_regions, head_all_literal) = regions(head.doc, now);
        for (region, replica, region_span) in base_regions {
            if head_regions.iter().any(|(r, _, _)| *r == region) {
                continue;
            }
            let protected = base_doc
                .get_value(replica, "DeletionProtectionEnabled")
                .is_some_and(|v| literal_true(base_doc, v));
            let was_at = cmp.base_at(region_span);
            let gone = if head_all_literal {
                "is no longer in `Replicas`"
            } else {
                "cannot be shown to be in the head's `Replicas` (not every Region there is a literal)"
            };
            let (severity, outcome) = if protected {
                (
                    Severity::Note,
                    "its deletion protection is on, so CloudFormation fails the update instead of deleting it",
                )
            } else {
                (
                    RULE.severity,
                    "CloudFormation deletes that Region's replica with its data",
                )
            };
            let span = head
                .doc
                .get_value(now.node, "Properties")
                .and_then(|p| head.doc.get(p, "Replicas"))
                .map_or(head.doc.span(now.key), |e| head.doc.span(e.key));
            let message = format!(
                "the replica of global table `{}` in Region `{region}` ({was_at}) {gone}: {outcome}",
                table.logical_id
            );
            let mut f = diff_finding(
                &RULE,
                severity,
                table,
                span,
                message,
                format!("replica `{region}` removed"),
            );
            f.help = Some(format!(
                "keep the `{region}` replica; to drop it on purpose, first make sure its data is not needed there"
            ));
            findings.push(f);
        }
    }
    findings
}

/// The replicas with a literal `Region` (region, replica node, region span), and whether
/// `Replicas` is a literal sequence whose every replica has a literal `Region`.
fn regions(doc: &Document, resource: &Resource) -> (Vec<(String, NodeId, Span)>, bool) {
    let Some(items) = doc
        .get_value(resource.node, "Properties")
        .and_then(|p| doc.get_value(p, "Replicas"))
        .and_then(|r| doc.seq(r))
    else {
        return (Vec::new(), false);
    };
    let mut all_literal = true;
    let mut found = Vec::new();
    for &replica in items {
        match doc
            .get_value(replica, "Region")
            .and_then(|v| doc.str(v).map(|s| (s.to_string(), doc.span(v))))
        {
            Some((region, span)) => found.push((region, replica, span)),
            None => all_literal = false,
        }
    }
    (found, all_literal)
}

/// `true` written as a literal boolean or string (any case).
fn literal_true(doc: &Document, node: NodeId) -> bool {
    doc.scalar(node).is_some_and(|s| {
        doc.node(node)
            .tag
            .as_deref()
            .is_none_or(|t| t == "!!bool" || t == "!!str")
            && s.text.trim().eq_ignore_ascii_case("true")
    })
}

fn finding(table: &Resource, span: Span, message: String, label: String) -> Finding {
    let mut f = diff_finding(&RULE, RULE.severity, table, span, message, label);
    f.help = Some("keep the guardrail the table had at the base".to_string());
    f
}

/// The key of the deepest entry of `path` under the resource's `Properties` that exists
/// (the resource's logical-ID key when there is none): where a reviewer looks.
fn deepest_span(doc: &Document, resource: &Resource, path: &[&str]) -> Span {
    let mut span = doc.span(resource.key);
    let mut node: Option<NodeId> = doc.get_value(resource.node, "Properties");
    for key in path {
        let Some(entry) = node.and_then(|n| doc.get(n, key)) else {
            break;
        };
        span = doc.span(entry.key);
        node = Some(entry.value);
    }
    span
}

/// `RecoveryPeriodInDays` written as a plain number, with its value's span.
fn literal_days(doc: &Document, resource: &Resource) -> Option<(u64, Span)> {
    let mut node = doc.get_value(resource.node, "Properties")?;
    for key in PERIOD {
        node = doc.get_value(node, key)?;
    }
    let days = doc.str(node)?.trim().parse::<u64>().ok()?;
    Some((days, doc.span(node)))
}
