//! DDB022 table-replaced
//!
//! ## What it checks
//! Compares a template with its version at a base revision. For a table kept under the
//! same logical ID, a change to a property whose update requires replacement is a finding:
//! `TableName`, `KeySchema`, the `AttributeDefinitions` entry of an existing key attribute,
//! `LocalSecondaryIndexes` and `ImportSourceSpecification` (`AWS::DynamoDB::Table`; the
//! first four for `AWS::DynamoDB::GlobalTable`; `TableName` and `PrimaryKey` for
//! `AWS::Serverless::SimpleTable`). Values are compared by meaning, not text: a template
//! converted from YAML to JSON, or with reordered keys, has no change. Global secondary
//! indexes, throughput, streams and tags update in place and are not findings.
//!
//! ## Why it matters
//! A replacement creates a new, empty table and then deletes the old one with its data,
//! unless the *deployed* version had `UpdateReplacePolicy: Retain`; adding it in the same
//! change is too late. With `Retain` the data survives in an orphaned table, but the
//! application switches to an empty one, so it is still a warning. (With a fixed
//! `TableName` that does not change, CloudFormation refuses the replacement and the update
//! fails.)
//!
//! ## Example
//! ```yaml
//! # base                                # head
//! KeySchema:                            KeySchema:
//!   - AttributeName: id                   - AttributeName: orderId
//!     KeyType: HASH                         KeyType: HASH
//! ```
//!
//! ## Use instead
//! Create a new table next to the old one, migrate the data, then remove the old table
//! once it is retained. Add a global secondary index instead of changing the key.
//!
//! ## Fix safety
//! No automatic fix.

use super::policy::retains;
use super::table_match::{fates, Fate};
use super::update_replace_policy;
use super::{compares_versions_only, diff_finding, Comparison, DiffRule, Head, Rule};
use crate::finding::{Finding, Label, Severity};
use crate::load::{Document, NodeId};
use crate::model::same::{same_value, Side};
use crate::model::{Evaluator, Outcome, Resource, Template, Value};
use crate::source::Span;

pub const RULE: Rule = Rule {
    code: "DDB022",
    name: "table-replaced",
    severity: Severity::Error,
    summary:
        "DynamoDB table property change requires replacement without a retained UpdateReplacePolicy",
    needles: &[],
    default_enabled: true,
    per_table: false,
    check: compares_versions_only,
    source: include_str!("table_replaced.rs"),
};

pub const DIFF: DiffRule = DiffRule { rule: &RULE, check };

/// Properties whose change replaces the table, by resource type.
fn replacing_properties(type_name: &str) -> &'static [&'static str] {
    match type_name {
        "AWS::DynamoDB::Table" => &[
            "TableName",
            "KeySchema",
            "LocalSecondaryIndexes",
            "ImportSourceSpecification",
        ],
        "AWS::DynamoDB::GlobalTable" => &["TableName", "KeySchema", "LocalSecondaryIndexes"],
        "AWS::Serverless::SimpleTable" => &["TableName", "PrimaryKey"],
        _ => &[],
    }
}

/// One replacing change: what changed, where at the head, where it was at the base.
struct Change {
    what: String,
    head_span: Span,
    base_span: Span,
    label: String,
}

fn check(cmp: &Comparison) -> Vec<Finding> {
    let Head::Template(head) = &cmp.head else {
        return Vec::new();
    };
    let mut findings = Vec::new();
    for (table, fate) in fates(cmp) {
        let Fate::Kept(now) = fate else { continue };
        // A changed resource type is rejected by CloudFormation, not a replacement.
        let Some(type_name) = table.type_name.filter(|t| now.type_name == Some(*t)) else {
            continue;
        };
        let changes = changes(cmp.base, table, head, now, type_name);
        let Some(first) = changes.first() else {
            continue;
        };
        let id = table.logical_id;
        let list: Vec<String> = changes
            .iter()
            .map(|c| format!("{} (was at {})", c.what, cmp.base_at(c.base_span)))
            .collect();
        let retained = retains(
            &cmp.base_view(table),
            "UpdateReplacePolicy",
            update_replace_policy::SPEC.retains,
        );
        let (severity, consequence, help) = if retained {
            (
                Severity::Warning,
                "a new, empty table replaces it; its base UpdateReplacePolicy retains the old table and its data, but the stack no longer manages them",
                "if the new key is intended, create a new table beside the old one and migrate the data; otherwise revert the change",
            )
        } else {
            (
                Severity::Error,
                "CloudFormation creates a new, empty table and deletes the old one with its data, because the base UpdateReplacePolicy is not provably Retain",
                "revert the change; to change a key, create a new table beside the old one and migrate the data (and first deploy `UpdateReplacePolicy: Retain`)",
            )
        };
        let message = format!(
            "table `{id}` is replaced: {}; {consequence}",
            list.join(", ")
        );
        let mut finding = diff_finding(
            &RULE,
            severity,
            table,
            first.head_span,
            message,
            first.label.clone(),
        );
        for other in &changes[1..] {
            finding.labels.push(Label {
                span: other.head_span,
                text: other.label.clone(),
            });
        }
        finding.help = Some(help.to_string());
        findings.push(finding);
    }
    findings
}

fn changes(
    base: &Template,
    was: &Resource,
    head: &Template,
    now: &Resource,
    type_name: &str,
) -> Vec<Change> {
    let (bd, hd) = (base.doc, head.doc);
    let base_props = bd.get_value(was.node, "Properties");
    let head_props = hd.get_value(now.node, "Properties");
    let mut out = Vec::new();
    for &name in replacing_properties(type_name) {
        let b = base_props.and_then(|p| bd.get(p, name));
        let h = head_props.and_then(|p| hd.get(p, name));
        let same = match (b, h) {
            (Some(b), Some(h)) if name == "TableName" => {
                same_name(base, was, b.value, head, now, h.value)
            }
            (Some(b), Some(h)) => same_value(Side::new(bd, b.value), Side::new(hd, h.value)),
            (None, None) => true,
            // An empty list of local indexes is the same as none.
            (Some(e), None) => is_empty_seq(bd, e.value),
            (None, Some(e)) => is_empty_seq(hd, e.value),
        };
        if same {
            continue;
        }
        let (what, label) = match (b, h) {
            (Some(_), Some(_)) => (format!("`{name}` changed"), format!("`{name}` changed")),
            (None, _) => (format!("`{name}` was added"), format!("`{name}` added")),
            (_, None) => (
                format!("`{name}` was removed"),
                format!("`{name}` removed from this table"),
            ),
        };
        out.push(Change {
            what,
            head_span: h.map_or(hd.span(now.key), |e| hd.span(e.key)),
            base_span: b.map_or(bd.span(was.key), |e| bd.span(e.key)),
            label,
        });
    }
    if type_name != "AWS::Serverless::SimpleTable" {
        if let (Some(bp), Some(hp)) = (base_props, head_props) {
            out.extend(key_attribute_changes(bd, bp, hd, hp));
        }
    }
    out
}

/// A key attribute of the base table whose `AttributeType` changed while its definition
/// is still there (a changed key schema is reported as such).
fn key_attribute_changes(bd: &Document, bp: NodeId, hd: &Document, hp: NodeId) -> Vec<Change> {
    let keys: Vec<&str> = bd
        .get_value(bp, "KeySchema")
        .and_then(|k| bd.seq(k))
        .unwrap_or(&[])
        .iter()
        .filter_map(|item| bd.get_value(*item, "AttributeName").and_then(|n| bd.str(n)))
        .collect();
    let mut out = Vec::new();
    for key in keys {
        let (Some(was), Some(now)) = (definition(bd, bp, key), definition(hd, hp, key)) else {
            continue;
        };
        let was_type = bd.get(was, "AttributeType");
        let now_type = hd.get(now, "AttributeType");
        let same = match (was_type, now_type) {
            (Some(a), Some(b)) => same_value(Side::new(bd, a.value), Side::new(hd, b.value)),
            (None, None) => true,
            _ => false,
        };
        if same {
            continue;
        }
        out.push(Change {
            what: format!("the `AttributeType` of key attribute `{key}` changed"),
            head_span: now_type.map_or(hd.span(now), |e| hd.span(e.value)),
            base_span: was_type.map_or(bd.span(was), |e| bd.span(e.value)),
            label: format!("type of key attribute `{key}` changed"),
        });
    }
    out
}

/// The `AttributeDefinitions` item that defines `name`.
fn definition(doc: &Document, props: NodeId, name: &str) -> Option<NodeId> {
    doc.get_value(props, "AttributeDefinitions")
        .and_then(|d| doc.seq(d))?
        .iter()
        .copied()
        .find(|item| {
            doc.get_value(*item, "AttributeName")
                .and_then(|n| doc.str(n))
                == Some(name)
        })
}

/// Whether two `TableName` values name the same table, judged on resolved values: the
/// same expression is still a replacement when what it reads changed (a `Mappings` value,
/// a parameter's allowed values), and two spellings of one known name (`orders`,
/// `!Sub "orders"`) are the same. Anything not fully known keeps the structural answer
/// when the expressions are the same, and is a change otherwise (fail closed).
fn same_name(
    base: &Template,
    was: &Resource,
    b: NodeId,
    head: &Template,
    now: &Resource,
    h: NodeId,
) -> bool {
    let was_values = Evaluator::for_resource(base, was).eval(b);
    let now_values = Evaluator::for_resource(head, now).eval(h);
    let known = |o: &[Outcome]| {
        !o.is_empty()
            && o.iter()
                .all(|x| matches!(x.value, Value::Text(_)) && !x.yaml_typed)
    };
    let cases = |o: &[Outcome]| {
        let mut v: Vec<(String, String)> = o
            .iter()
            .map(|x| (format!("{:?}", x.value), x.describe_when()))
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let both_known = known(&was_values) && known(&now_values);
    if same_value(Side::new(base.doc, b), Side::new(head.doc, h)) {
        return !both_known || cases(&was_values) == cases(&now_values);
    }
    both_known
        && was_values.iter().all(|x| x.when.is_empty())
        && now_values.iter().all(|x| x.when.is_empty())
        && cases(&was_values) == cases(&now_values)
}

fn is_empty_seq(doc: &Document, node: NodeId) -> bool {
    doc.seq(node).is_some_and(|s| s.is_empty())
}
