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
//!   base replica's `DeletionProtectionEnabled` was provably true (written `true`, or an
//!   intrinsic that is `true` in every case), the finding is a note: CloudFormation then
//!   fails the update instead of deleting the replica.
//!
//! - a `Deny` guardrail on a deletion (`dynamodb:DeleteTable`, `dynamodb:DeleteBackup`,
//!   AWS Backup's `backup:Delete*` actions on recovery points, vaults, selections and
//!   plans) that a policy-bearing resource had at the base and no longer has as fully
//!   under the same logical ID: a table's `ResourcePolicy`, an IAM policy, role, user or
//!   group, a SAM function's policies, a permission set, a service control policy
//!   (`AWS::Organizations::Policy`), or a policy file. A deny that covered every ARN in
//!   every case and now covers only some ARNs, holds under an IAM `Condition` or only in
//!   some CloudFormation cases is narrowed; one whose statement, document or resource is
//!   gone is removed. What a deny covers is the IAM model's own test, the one DDB010-DDB013
//!   use.
//!
//! "Provably" is decided by DDB003 and DDB004's own proofs, under every `Fn::If` branch,
//! parameter value and mapping entry, so a value that was true only in some cases at the
//! base is not a guardrail that can be lost. `DeletionPolicy` and `UpdateReplacePolicy`
//! going from `Retain` to not `Retain` are not reported here: DDB001 and DDB002 report the
//! head's policy on every check, and when the base's was provably `Retain` their message
//! says so with the base line ("DeletionPolicy was Retain at the base, `main:stack.yaml`
//! line 7").
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
use crate::model::iam::{self, DenyCoverage, Guarded};
use crate::model::{Resource, Template};
use crate::rules::layers::{self, LayerState};
use crate::rules::retention::policy::retains;
use crate::rules::retention::{deletion_policy, update_replace_policy};
use crate::rules::{diff_finding, Check, Comparison, Head, ResourceView, Rule};
use crate::source::Span;

pub const RULE: Rule = Rule {
    code: "DDB023",
    name: "protection-weakened",
    severity: Severity::Error,
    summary: "DynamoDB table loses deletion protection, point-in-time recovery, recovery days, a replica or a Deny guardrail it provably had at the base revision",
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
    let mut findings = denies_weakened(cmp);
    let Head::Template(head) = &cmp.head else {
        return findings;
    };
    let head: &Template = head;
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

/// The deletions a `Deny` guardrail stands in front of: the table, its backups, and AWS
/// Backup's recovery points, vaults, selections and plans (`backup:Delete*`).
const DENIED: &[Guarded] = iam::DELETIONS;

/// How much of one guarded deletion a policy-bearing resource's `Deny` statements take
/// away, by the IAM model's own deny test ([`iam::deny_coverage`], DDB010-DDB013's).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Denial {
    /// No statement denies it.
    None,
    /// A statement denies it only on some ARNs, under an IAM `Condition`, or in some
    /// CloudFormation cases.
    Partly,
    /// A statement denies it on every ARN of its shapes, in every case.
    Fully,
}

/// Each guarded deletion's strongest `Deny` in `resource`, with the statement's span.
fn denials(template: &Template, resource: &Resource) -> Vec<(Denial, Option<Span>)> {
    let mut out = vec![(Denial::None, None); DENIED.len()];
    let Some(type_name) = resource.type_name else {
        return out;
    };
    if !iam::has_documents(type_name) || resource.standalone_policy.is_some_and(|s| !s.in_effect) {
        return out;
    }
    let doc = template.doc;
    // A resource under a `Condition` may not exist: its denies hold only partly.
    let conditional =
        resource.standalone_policy.is_none() && doc.get_value(resource.node, "Condition").is_some();
    let ev = crate::model::Evaluator::for_resource(template, resource);
    for document in iam::documents(template, resource) {
        for statement in iam::statements(template, resource, &document) {
            if !ev.consistent(&statement.when) {
                continue;
            }
            for (guarded, best) in DENIED.iter().zip(out.iter_mut()) {
                let mut work = iam::MAX_DENY_WORK;
                let every: Vec<iam::Glob> =
                    guarded.shapes.iter().map(|s| iam::shape_glob(s)).collect();
                let denial = match iam::deny_coverage(&statement, guarded, &every, &[], &mut work) {
                    DenyCoverage::Irrelevant => continue,
                    DenyCoverage::Covers
                        if !conditional
                            && document.when.is_empty()
                            && statement.when.is_empty() =>
                    {
                        Denial::Fully
                    }
                    _ => Denial::Partly,
                };
                if denial > best.0 {
                    *best = (denial, Some(doc.span(statement.node)));
                }
            }
        }
    }
    out
}

/// A `Deny` on a guarded deletion that a policy-bearing resource (an IAM policy, role,
/// user or group, a SAM function, a permission set, a service control policy, a table's
/// `ResourcePolicy`) had at the base, and that the resource under the same logical ID no
/// longer has as fully at the head: removed with its statement, its document or its
/// resource, or narrowed (fewer ARNs, an IAM `Condition`, a CloudFormation condition).
fn denies_weakened(cmp: &Comparison) -> Vec<Finding> {
    let mut findings = Vec::new();
    let head = match &cmp.head {
        Head::Template(head) => Some(*head),
        _ => None,
    };
    for was in &cmp.base.resources {
        let before = denials(cmp.base, was);
        if before.iter().all(|(d, _)| *d == Denial::None) {
            continue;
        }
        // By the head's index (a scan per base resource was quadratic).
        let now = head.and_then(|h| {
            h.resource(was.logical_id)
                .filter(|r| r.type_name.is_some())
                .map(|r| (h, r))
        });
        let after = match now {
            Some((h, r)) => denials(h, r),
            None => vec![(Denial::None, None); DENIED.len()],
        };
        for ((guarded, (b, b_span)), (a, a_span)) in DENIED.iter().zip(&before).zip(&after) {
            if a >= b {
                continue;
            }
            let Some(b_span) = b_span else { continue };
            let id = was.logical_id;
            let action = guarded.action;
            let was_at = cmp.base_at(*b_span);
            let (how, label) = match (a, now) {
                (Denial::None, None) => (
                    format!("`{id}` is gone from the head"),
                    format!("`{id}` and its `Deny` on `{action}` removed"),
                ),
                (Denial::None, Some(_)) => (
                    format!("`{id}` no longer has a `Deny` on it"),
                    format!("`Deny` on `{action}` removed"),
                ),
                _ => (
                    format!("`{id}`'s `Deny` on it now holds only on some ARNs, under an IAM `Condition`, or in some cases"),
                    format!("`Deny` on `{action}` narrowed"),
                ),
            };
            let extent = if *b == Denial::Fully {
                "on every ARN, in every case"
            } else {
                "in part"
            };
            let message = format!(
                "a `Deny` on `{action}` in `{id}` took that deletion away {extent} at the base ({was_at}), and {how}: whoever it applied to may now be able to delete"
            );
            let span = match (a_span, now) {
                (Some(span), _) => *span,
                (None, Some((h, r))) => h.doc.span(r.key),
                (None, None) => match cmp.head {
                    Head::Template(_) => cmp.removal_span(was).0,
                    Head::NotTemplate => Span::new(0, 0),
                    Head::Deleted => cmp.base.doc.span(was.key),
                },
            };
            let mut f = diff_finding(&RULE, RULE.severity, was, span, message, label);
            f.help = Some(format!(
                "keep the `Deny` on `{action}`; removing a guardrail on purpose is a decision for the reviewer"
            ));
            findings.push(f);
        }
    }
    findings
}

/// DDB001 and DDB002 report the head's policy on every check; when the same table's
/// policy was provably `Retain` at the base, the change is what dropped it, and their
/// message says where it was (rather than a second finding here).
pub fn note_base_retain(cmp: &Comparison, findings: &mut [Finding]) {
    for finding in findings.iter_mut() {
        let (attribute, retained): (&str, &[&str]) = match finding.code {
            "DDB001" => ("DeletionPolicy", deletion_policy::SPEC.retains),
            "DDB002" => ("UpdateReplacePolicy", update_replace_policy::SPEC.retains),
            _ => continue,
        };
        let Some(table) = cmp
            .base
            .resource(&finding.resource)
            .filter(|t| t.is_table())
        else {
            continue;
        };
        let view = cmp.base_view(table);
        if !retains(&view, attribute, retained) {
            continue;
        }
        let Some(entry) = cmp.base.doc.get(table.node, attribute) else {
            continue;
        };
        let at = cmp.base_at(cmp.base.doc.span(entry.key));
        finding.message = format!(
            "{} ({attribute} was Retain at the base, {at}: this change drops it)",
            finding.message
        );
    }
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
        // By a set: a scan of the head's replicas for each base replica was quadratic.
        let head_regions: std::collections::HashSet<&str> =
            head_regions.iter().map(|(r, _, _)| r.as_str()).collect();
        for (region, replica, region_span) in base_regions {
            if head_regions.contains(region.as_str()) {
                continue;
            }
            let protected = base_doc
                .get_value(replica, "DeletionProtectionEnabled")
                .is_some_and(|v| literal_true(base_doc, v) || proven_true(cmp.base, table, v));
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

/// `true` in every case the base could be deployed with: an intrinsic (`!Ref` to a
/// parameter that only allows `true`, `!If` with `true` on both sides, a mapping entry)
/// whose every value is the text `true` (any case), none of them a YAML 1.1 spelling whose
/// reading is unsettled and none unknown.
fn proven_true(template: &Template, table: &Resource, node: NodeId) -> bool {
    if template.doc.call(node).is_none() {
        return false;
    }
    let outcomes = crate::model::Evaluator::for_resource(template, table).eval(node);
    !outcomes.is_empty()
        && outcomes.iter().all(|o| {
            !o.yaml_typed
                && matches!(&o.value, crate::model::Value::Text(t) if t.trim().eq_ignore_ascii_case("true"))
        })
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
