//! DDB022 table-replaced
//!
//! ## What it checks
//! Compares a template with its version at a base revision. For a table kept under the
//! same logical ID, a change to a property whose update requires replacement is a finding:
//! `TableName`, `KeySchema` (attribute names and key types, in order), the
//! `AttributeType` of each key attribute (of the table and of its local indexes) in
//! `AttributeDefinitions`, `LocalSecondaryIndexes` (names, keys, projections) and
//! `ImportSourceSpecification` (`AWS::DynamoDB::Table`; the first four for
//! `AWS::DynamoDB::GlobalTable`).
//!
//! Values are compared as CloudFormation resolves them, not as they are written, in
//! every case: each combination of the `AllowedValues` of the parameters they read
//! (values both revisions allow, since an update keeps the stack's parameter values), the
//! case of an update that leaves a parameter to its `Default` when the pull request
//! changed that default, and each branch of an `Fn::If` whose condition is still open. So a change that reaches a
//! value only through a `Mappings` entry, a `Conditions` definition (also behind the same
//! `!If [IsProd, a, b]`), a condition it refers to, or `Fn::Sub`/`Fn::Join` parts is a
//! replacement, and the message names the property, the base and head values and the
//! case (`when parameter Env is dev`). Another spelling of the same value is not:
//! `orders` and `!Sub "orders"`, reordered keys or `AttributeDefinitions`, YAML converted
//! to JSON, local indexes or their `NonKeyAttributes` in another order. A pseudo
//! parameter (`${AWS::StackName}`) or a parameter without `AllowedValues` is the same
//! stack value at both revisions. A value that cannot be resolved at either revision
//! (`Fn::ImportValue`, a tagged list where a literal list must be, more than 256
//! parameter combinations) is a finding saying it cannot be proven unchanged, unless it
//! is written the same way and reads nothing that changed. A `Ref` or `Fn::GetAtt` of
//! another resource (`!GetAtt Names.Value`, `${Bucket}` in `Fn::Sub`) is the same value at
//! both revisions only while that resource is provably unchanged (its whole definition,
//! the sections it reads, and every resource it reads in turn): an updated resource may
//! return another name, so otherwise it cannot be proven unchanged. A nested stack
//! (`AWS::CloudFormation::Stack`, `AWS::Serverless::Application`) returns the outputs its
//! own template decides (`!GetAtt Names.Outputs.TableName`): it is unchanged only while its
//! template is a local file with the same text at both revisions (the base's read from the
//! base revision) that nests no stack of its own; a template at a URL, computed, or from
//! the Serverless Application Repository can change behind the same location, so a value
//! read from its outputs cannot be proven unchanged. A template whose local nested
//! template changed is compared even when the template itself did not. In a Serverless Framework file,
//! a `${self:path}` variable is compared by the value at that path in each revision
//! (followed through the variables inside it), since the Framework substitutes it from
//! the same file; other variable sources are deploy-time inputs, the same at both.
//!
//! `AWS::Serverless::SimpleTable` is compared as the `AWS::DynamoDB::Table` SAM's transform
//! makes of it under the same logical ID: key `PrimaryKey.Name` (`id` without
//! `PrimaryKey`) of type `String`/`Number`/`Binary` as `S`/`N`/`B` (`S` by default),
//! `HASH`. A SimpleTable and the same table written out, or switched to
//! `AWS::DynamoDB::Table` with the same key and name, is no change; a new key or
//! `TableName` is a replacement. Global secondary indexes, throughput, streams and tags
//! update in place and are not findings.
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

use std::collections::BTreeSet;

use super::table_match::{fates, Fate};
use crate::finding::{Finding, Label, Severity};
use crate::load::{Document, NodeId};
use crate::model::resolve::{resolve, Case, Shape, Sym, Unresolved};
use crate::model::same::{same_value, Side};
use crate::model::{Assumption, Evaluator, Layout, Resource, Template};
use crate::rules::retention::policy::retains;
use crate::rules::retention::update_replace_policy;
use crate::rules::{diff_finding, Check, Comparison, Head, Rule};
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
    check: Check::Versions(check),
    source: include_str!("table_replaced.rs"),
};

/// More combinations of parameter values than this are not enumerated: the comparison
/// then cannot be proven (a finding), never silently skipped.
const MAX_CASES: usize = 256;

/// The physical resource a table type becomes. SAM's transform turns
/// `AWS::Serverless::SimpleTable` into an `AWS::DynamoDB::Table` under the same logical
/// ID, so the two are compared as one type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Physical {
    Table,
    GlobalTable,
}

fn physical(type_name: Option<&str>) -> Option<(Physical, bool)> {
    match type_name? {
        "AWS::DynamoDB::Table" => Some((Physical::Table, false)),
        "AWS::Serverless::SimpleTable" => Some((Physical::Table, true)),
        "AWS::DynamoDB::GlobalTable" => Some((Physical::GlobalTable, false)),
        _ => None,
    }
}

/// What is compared, in the order findings list it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Aspect {
    TableName,
    KeySchema,
    /// The `AttributeType` of each key attribute (table and local-index keys).
    KeyTypes,
    LocalIndexes,
    Import,
}

const ASPECTS: [Aspect; 5] = [
    Aspect::TableName,
    Aspect::KeySchema,
    Aspect::KeyTypes,
    Aspect::LocalIndexes,
    Aspect::Import,
];

impl Aspect {
    fn property(self) -> &'static str {
        match self {
            Aspect::TableName => "TableName",
            Aspect::KeySchema => "KeySchema",
            Aspect::KeyTypes => "AttributeDefinitions",
            Aspect::LocalIndexes => "LocalSecondaryIndexes",
            Aspect::Import => "ImportSourceSpecification",
        }
    }
}

/// One revision of a kept table.
struct TableSide<'a, 'd, 's> {
    template: &'a Template<'d, 's>,
    resource: &'a Resource<'d>,
    props: Option<NodeId>,
    /// An `AWS::Serverless::SimpleTable` (its key is `PrimaryKey`).
    simple: bool,
    /// The two revisions, with what is proven of them.
    versions: &'a Versions<'a, 'd, 's>,
}

impl<'a, 'd, 's> TableSide<'a, 'd, 's> {
    fn new(
        template: &'a Template<'d, 's>,
        resource: &'a Resource<'d>,
        simple: bool,
        versions: &'a Versions<'a, 'd, 's>,
    ) -> Self {
        TableSide {
            template,
            resource,
            props: template.doc.get_value(resource.node, "Properties"),
            simple,
            versions,
        }
    }

    fn doc(&self) -> &'a Document<'s> {
        self.template.doc
    }

    fn prop(&self, name: &str) -> Option<NodeId> {
        self.props.and_then(|p| self.doc().get_value(p, name))
    }

    /// The properties an aspect is computed from.
    fn sources(&self, aspect: Aspect) -> Vec<&'static str> {
        match (aspect, self.simple) {
            (Aspect::TableName, _) => vec!["TableName"],
            (Aspect::KeySchema | Aspect::KeyTypes, true) => vec!["PrimaryKey"],
            (Aspect::KeySchema, false) => vec!["KeySchema"],
            (Aspect::KeyTypes, false) => {
                vec!["KeySchema", "AttributeDefinitions", "LocalSecondaryIndexes"]
            }
            (Aspect::LocalIndexes, false) => vec!["LocalSecondaryIndexes"],
            (Aspect::Import, false) => vec!["ImportSourceSpecification"],
            (Aspect::LocalIndexes | Aspect::Import, true) => Vec::new(),
        }
    }

    /// Where a reviewer looks for an aspect: the key of the property it is written in
    /// (`AttributeDefinitions` for a key type), else the logical ID.
    fn span(&self, aspect: Aspect) -> Span {
        let doc = self.doc();
        let mut names = vec![aspect.property()];
        names.extend(self.sources(aspect));
        names
            .iter()
            .find_map(|n| self.props.and_then(|p| doc.get(p, n)))
            .map_or(doc.span(self.resource.key), |e| doc.span(e.key))
    }

    /// The `AttributeType` value of the literal `AttributeDefinitions` item that defines
    /// `name` (the `PrimaryKey` of a SimpleTable).
    fn type_span(&self, name: &str) -> Option<Span> {
        let doc = self.doc();
        if self.simple {
            return self.prop("PrimaryKey").map(|p| doc.span(p));
        }
        let items = doc.list(self.prop("AttributeDefinitions")?)?;
        let item = items
            .iter()
            .copied()
            .find(|i| doc.get_value(*i, "AttributeName").and_then(|n| doc.str(n)) == Some(name))?;
        Some(doc.span(doc.get_value(item, "AttributeType").unwrap_or(item)))
    }

    fn evaluator(&self) -> Evaluator<'a, 'd, 's> {
        Evaluator::for_resource(self.template, self.resource).keeping_parts()
    }

    /// Whether the table exists in the evaluator's case.
    fn exists(&self, ev: &Evaluator) -> bool {
        if ev.given_contradicts() {
            return false;
        }
        let doc = self.doc();
        match doc
            .get_value(self.resource.node, "Condition")
            .and_then(|c| doc.str(c))
        {
            Some(name) => ev.condition(name, 0).can_be_true,
            None => true,
        }
    }

    /// Every value the aspect can take in the evaluator's case.
    fn cases(&self, ev: &Evaluator, aspect: Aspect) -> Vec<Case> {
        let doc = self.doc();
        let get = |name: &str| resolve(ev, doc, self.prop(name));
        match (aspect, self.simple) {
            (Aspect::TableName, _) => get("TableName"),
            (Aspect::KeySchema, true) => map_cases(get("PrimaryKey"), |pk| {
                let name = primary_key_name(pk)?;
                Ok(Shape::List(vec![key_item(name, "HASH")]))
            }),
            (Aspect::KeyTypes, true) => map_cases(get("PrimaryKey"), |pk| {
                let name = primary_key_name(pk)?;
                let attribute_type = primary_key_type(pk)?;
                Ok(Shape::Map(vec![(name.to_string(), attribute_type)]))
            }),
            (Aspect::KeySchema, false) => get("KeySchema"),
            (Aspect::KeyTypes, false) => {
                let parts = [
                    get("KeySchema"),
                    get("AttributeDefinitions"),
                    get("LocalSecondaryIndexes"),
                ];
                cross(&parts)
                    .into_iter()
                    .map(|(shapes, when)| Case {
                        shape: shapes.map(|s| key_types(&s[0], &s[1], &s[2])),
                        when,
                    })
                    .collect()
            }
            (Aspect::LocalIndexes, false) => {
                map_cases(get("LocalSecondaryIndexes"), |s| Ok(local_indexes(s)))
            }
            (Aspect::Import, false) => get("ImportSourceSpecification"),
            (Aspect::LocalIndexes, true) => vec![absent_case(Shape::List(Vec::new()))],
            (Aspect::Import, true) => vec![absent_case(Shape::Absent)],
        }
    }
}

fn absent_case(shape: Shape) -> Case {
    Case {
        shape: Ok(shape),
        when: crate::model::Assumptions::none(),
    }
}

fn map_cases(cases: Vec<Case>, f: impl Fn(&Shape) -> Result<Shape, String>) -> Vec<Case> {
    cases
        .into_iter()
        .map(|c| Case {
            shape: c.shape.and_then(|s| {
                f(&s).map_err(|why| Unresolved {
                    why,
                    span: Span::new(0, 0),
                })
            }),
            when: c.when,
        })
        .collect()
}

fn key_item(name: &str, key_type: &str) -> Shape {
    Shape::Map(vec![
        ("AttributeName".to_string(), Shape::text(name)),
        ("KeyType".to_string(), Shape::text(key_type)),
    ])
}

// SAM's translation of `AWS::Serverless::SimpleTable` (aws/serverless-application-model,
// samtranslator/model/sam_resources.py, `SamSimpleTable._construct_dynamodb_table`): an
// `AWS::DynamoDB::Table` under the same logical ID with `AttributeDefinitions:
// [{AttributeName: PrimaryKey.Name, AttributeType: T}]` and `KeySchema: [{AttributeName:
// PrimaryKey.Name, KeyType: HASH}]`, where T maps `String`/`Number`/`Binary` to
// `S`/`N`/`B` (any other Type is rejected); without `PrimaryKey` the key is `id` of type
// `S`. `TableName`, `SSESpecification` and `PointInTimeRecoverySpecification` pass
// through; `ProvisionedThroughput` passes through, and without it `BillingMode` is
// `PAY_PER_REQUEST`. Only the key and the name can replace the table.

/// The key attribute's name of a SimpleTable's `PrimaryKey` (SAM's default `id`).
fn primary_key_name(pk: &Shape) -> Result<&str, String> {
    if *pk == Shape::Absent {
        return Ok("id");
    }
    pk.get("Name").literal().ok_or_else(|| {
        "SAM needs `PrimaryKey.Name` as a literal string (it does not resolve intrinsics there)"
            .to_string()
    })
}

fn primary_key_type(pk: &Shape) -> Result<Shape, String> {
    if *pk == Shape::Absent {
        return Ok(Shape::text("S"));
    }
    match pk.get("Type").literal() {
        Some("String") => Ok(Shape::text("S")),
        Some("Number") => Ok(Shape::text("N")),
        Some("Binary") => Ok(Shape::text("B")),
        Some(other) => Err(format!(
            "SAM rejects `PrimaryKey.Type` `{other}` (String, Number or Binary)"
        )),
        None => Err("SAM needs `PrimaryKey.Type` as a literal string".to_string()),
    }
}

/// The names of the key attributes of a key schema shape.
fn key_names(key_schema: &Shape) -> Vec<String> {
    match key_schema {
        Shape::List(items) => items
            .iter()
            .map(|i| i.get("AttributeName").to_string())
            .collect(),
        _ => Vec::new(),
    }
}

/// Key attribute name -> its `AttributeType` (`Absent` when not defined), for the keys of
/// the table and of its local indexes.
fn key_types(key_schema: &Shape, definitions: &Shape, local: &Shape) -> Shape {
    let mut names: BTreeSet<String> = key_names(key_schema).into_iter().collect();
    if let Shape::List(indexes) = local {
        for index in indexes {
            names.extend(key_names(index.get("KeySchema")));
        }
    }
    let defs: &[Shape] = match definitions {
        Shape::List(items) => items,
        _ => &[],
    };
    Shape::Map(
        names
            .into_iter()
            .map(|name| {
                let t = defs
                    .iter()
                    .find(|d| d.get("AttributeName").to_string() == name)
                    .map_or(Shape::Absent, |d| d.get("AttributeType").clone());
                (name, t)
            })
            .collect(),
    )
}

/// Local indexes as a set (by their resolved content), each with its projected
/// non-key attributes as a set; no list and an empty list are the same.
fn local_indexes(shape: &Shape) -> Shape {
    let Shape::List(items) = shape else {
        return if *shape == Shape::Absent {
            Shape::List(Vec::new())
        } else {
            shape.clone()
        };
    };
    let mut items: Vec<Shape> = items
        .iter()
        .map(|index| match index {
            Shape::Map(entries) => Shape::Map(
                entries
                    .iter()
                    .map(|(k, v)| {
                        let v = if k == "Projection" {
                            sorted_non_key(v)
                        } else {
                            v.clone()
                        };
                        (k.clone(), v)
                    })
                    .collect(),
            ),
            other => other.clone(),
        })
        .collect();
    items.sort();
    Shape::List(items)
}

fn sorted_non_key(projection: &Shape) -> Shape {
    let Shape::Map(entries) = projection else {
        return projection.clone();
    };
    Shape::Map(
        entries
            .iter()
            .map(|(k, v)| match (k.as_str(), v) {
                ("NonKeyAttributes", Shape::List(names)) => {
                    let mut names = names.clone();
                    names.sort();
                    (k.clone(), Shape::List(names))
                }
                _ => (k.clone(), v.clone()),
            })
            .collect(),
    )
}

type Combined = (Result<Vec<Shape>, Unresolved>, crate::model::Assumptions);

/// Every combination of one case of each part, contradictory ones dropped.
fn cross(parts: &[Vec<Case>]) -> Vec<Combined> {
    let mut acc: Vec<Combined> = vec![(Ok(Vec::new()), crate::model::Assumptions::none())];
    for cases in parts {
        let mut next = Vec::new();
        for (sofar, when) in &acc {
            for case in cases {
                let Some(w) = crate::model::expand::combine(when, &case.when) else {
                    continue;
                };
                let shapes = match (sofar, &case.shape) {
                    (Err(e), _) | (Ok(_), Err(e)) => Err(e.clone()),
                    (Ok(v), Ok(s)) => {
                        let mut v = v.clone();
                        v.push(s.clone());
                        Ok(v)
                    }
                };
                next.push((shapes, w));
            }
        }
        if next.len() > crate::model::eval::MAX_OUTCOMES {
            let why = "the key has too many possible cases to compare".to_string();
            return vec![(
                Err(Unresolved {
                    why,
                    span: Span::new(0, 0),
                }),
                crate::model::Assumptions::none(),
            )];
        }
        acc = next;
    }
    acc
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
    let head: &Template = head;
    let versions = Versions {
        base: cmp.base,
        head,
        nested_same: cmp.nested_same,
        proofs: &cmp.pr_guard.proofs,
    };
    let mut findings = Vec::new();
    for (table, fate) in fates(cmp) {
        let Fate::Kept(now) = fate else { continue };
        // A changed physical type is rejected by CloudFormation, not a replacement.
        let (Some((was_kind, was_simple)), Some((now_kind, now_simple))) =
            (physical(table.type_name), physical(now.type_name))
        else {
            continue;
        };
        if was_kind != now_kind {
            continue;
        }
        let base = TableSide::new(cmp.base, table, was_simple, &versions);
        let head_side = TableSide::new(head, now, now_simple, &versions);
        let changes = changes(&base, &head_side, was_kind);
        let Some(first) = changes.first() else {
            continue;
        };
        let id = table.logical_id;
        let list: Vec<String> = changes
            .iter()
            .map(|c| format!("{} (base at {})", c.what, cmp.base_at(c.base_span)))
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
            list.join("; ")
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

fn changes(base: &TableSide, head: &TableSide, kind: Physical) -> Vec<Change> {
    let mut out = Vec::new();
    for aspect in ASPECTS {
        if aspect == Aspect::Import && kind != Physical::Table {
            continue;
        }
        let reads_same =
            reads_same(base, head, aspect) && changed_resources(base, head, aspect).is_empty();
        if written_same(base, head, aspect) && reads_same {
            if let Some(what) = serverless_variable_change(base, head, aspect) {
                out.push(Change {
                    what,
                    head_span: head.span(aspect),
                    base_span: base.span(aspect),
                    label: format!("`{}` reads a changed variable", aspect.property()),
                });
            }
            continue;
        }
        if let Some((what, attribute)) = compare(base, head, aspect)
            .or_else(|| serverless_variable_change(base, head, aspect).map(|what| (what, None)))
        {
            let name = aspect.property();
            let (label, head_span, base_span) = match &attribute {
                Some(a) => (
                    format!("type of key attribute `{a}` changed"),
                    head.type_span(a).unwrap_or(head.span(aspect)),
                    base.type_span(a).unwrap_or(base.span(aspect)),
                ),
                None => (
                    format!("`{name}` changed"),
                    head.span(aspect),
                    base.span(aspect),
                ),
            };
            out.push(Change {
                what,
                head_span,
                base_span,
                label,
            });
        }
    }
    out
}

fn same_opt(bd: &Document, b: Option<NodeId>, hd: &Document, h: Option<NodeId>) -> bool {
    match (b, h) {
        (Some(b), Some(h)) => same_value(Side::new(bd, b), Side::new(hd, h)),
        (None, None) => true,
        _ => false,
    }
}

/// The aspect is written the same way at both revisions (same resource type too).
fn written_same(base: &TableSide, head: &TableSide, aspect: Aspect) -> bool {
    base.simple == head.simple
        && base
            .sources(aspect)
            .iter()
            .all(|name| same_opt(base.doc(), base.prop(name), head.doc(), head.prop(name)))
}

/// What the intrinsics of a value can read besides the value itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Reads {
    conditions: bool,
    mappings: bool,
    parameters: bool,
}

impl Reads {
    fn add(&mut self, call: &str) {
        match call {
            // A condition reads parameters and mappings in turn.
            "Fn::If" | "Condition" => {
                self.conditions = true;
                self.mappings = true;
                self.parameters = true;
            }
            "Fn::FindInMap" => {
                self.mappings = true;
                self.parameters = true;
            }
            "Ref" | "Fn::Sub" => self.parameters = true,
            _ => {}
        }
    }
}

/// Which sections the intrinsics in `node` can read; deeper than a template nests reads
/// everything.
fn reads_of(doc: &Document, node: NodeId, depth: usize, reads: &mut Reads) {
    if depth > crate::model::eval::MAX_EVAL_DEPTH {
        reads.add("Fn::If");
        return;
    }
    if let Some(call) = doc.call(node) {
        reads.add(call.name);
        if call.arg != node {
            reads_of(doc, call.arg, depth + 1, reads);
            return;
        }
    }
    if let Some(entries) = doc.map(node) {
        for e in entries {
            reads_of(doc, e.value, depth + 1, reads);
        }
    } else if let Some(items) = doc.seq(node) {
        for i in items {
            reads_of(doc, *i, depth + 1, reads);
        }
    }
}

/// Whether everything the aspect's intrinsics can read (at either revision) is the same
/// at both: the sections they read, and the enclosing `Fn::ForEach` collections.
fn reads_same(base: &TableSide, head: &TableSide, aspect: Aspect) -> bool {
    let mut reads = Reads::default();
    for side in [base, head] {
        for node in side.sources(aspect).iter().filter_map(|n| side.prop(n)) {
            reads_of(side.doc(), node, 0, &mut reads);
        }
    }
    let (bd, hd) = (base.doc(), head.doc());
    base.versions.sections_same(reads)
        && base.resource.loops.len() == head.resource.loops.len()
        && base
            .resource
            .loops
            .iter()
            .zip(&head.resource.loops)
            .all(|(x, y)| {
                x.identifier == y.identifier
                    && same_value(Side::new(bd, x.collection), Side::new(hd, y.collection))
            })
}

/// The resources the aspect's values read by `Ref`, `Fn::GetAtt` or a `Fn::Sub` variable
/// (at either revision) that are not provably unchanged: see [`Versions::unchanged`].
fn changed_resources(base: &TableSide, head: &TableSide, aspect: Aspect) -> BTreeSet<String> {
    let mut read = BTreeSet::new();
    for side in [base, head] {
        for node in side.sources(aspect).iter().filter_map(|n| side.prop(n)) {
            resources_read(side.template, node, 0, &mut read);
        }
    }
    let mut seen = BTreeSet::new();
    read.into_iter()
        .filter(|name| !base.versions.unchanged(name, &mut seen))
        .collect()
}

/// How many resources one comparison follows through `Ref`/`Fn::GetAtt` before it stops
/// proving them unchanged (and reports the value as unprovable).
const MAX_FOLLOWED: usize = 64;

/// What is proven the same at both revisions of one comparison, each proven once: a
/// section (`Parameters`, `Conditions`, `Mappings`) compared whole, a resource compared on
/// its own (see [`Versions::unchanged`]), a condition shared (see
/// [`SharedConditions::shared`]). Many tables read the same sections and resources; each
/// proved them again, so DDB021 and DDB022 grew with the square of the tables.
#[derive(Default)]
pub struct Proofs {
    /// `Parameters`, `Conditions` and `Mappings`, in [`Section`] order.
    sections: [std::sync::OnceLock<bool>; 3],
    /// By logical ID: `None` when the resource itself is not provably the same, else the
    /// resources it reads in turn.
    resources:
        std::sync::Mutex<std::collections::HashMap<String, Option<std::sync::Arc<[String]>>>>,
    /// The logical IDs that are a nested stack at either revision (any resource under the
    /// ID, duplicates included).
    nests: std::sync::OnceLock<std::collections::HashSet<String>>,
    /// By condition name: see [`SharedConditions::shared`].
    conditions: std::sync::Mutex<std::collections::HashMap<String, bool>>,
}

#[derive(Clone, Copy)]
enum Section {
    Parameters = 0,
    Conditions = 1,
    Mappings = 2,
}

/// A comparison's two templates, with what is proven of them.
pub struct Versions<'x, 'd, 's> {
    pub base: &'x Template<'d, 's>,
    pub head: &'x Template<'d, 's>,
    /// See [`crate::rules::Comparison::nested_same`].
    pub nested_same: &'x BTreeSet<String>,
    pub proofs: &'x Proofs,
}

/// A lock whose holder panicked still holds proofs: each entry is written whole.
fn locked<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Versions<'_, '_, '_> {
    /// Whether a whole section is written the same at both revisions.
    fn section(&self, section: Section) -> bool {
        let (b, h) = (self.base, self.head);
        *self.proofs.sections[section as usize].get_or_init(|| {
            let (x, y) = match section {
                Section::Parameters => (b.parameters, h.parameters),
                Section::Conditions => (b.conditions, h.conditions),
                Section::Mappings => (b.mappings, h.mappings),
            };
            same_opt(b.doc, x, h.doc, y)
        })
    }

    /// Whether the sections of `reads` are the same at both revisions.
    fn sections_same(&self, reads: Reads) -> bool {
        (!reads.parameters || self.section(Section::Parameters))
            && (!reads.conditions || self.section(Section::Conditions))
            && (!reads.mappings || self.section(Section::Mappings))
    }

    /// Whether logical ID `name` is a nested stack (`AWS::CloudFormation::Stack`,
    /// `AWS::Serverless::Application`) at either revision.
    fn nests(&self, name: &str) -> bool {
        self.proofs
            .nests
            .get_or_init(|| {
                self.base
                    .resources
                    .iter()
                    .chain(&self.head.resources)
                    .filter(|r| {
                        matches!(
                            r.type_name,
                            Some(crate::model::nested::STACK | crate::model::nested::APPLICATION)
                        )
                    })
                    .map(|r| r.logical_id.to_string())
                    .collect()
            })
            .contains(name)
    }

    /// Whether two values written the same way (`same_value`) read the same things at
    /// both revisions, so that they are the same value: the sections their intrinsics
    /// read, and every resource they `Ref` or `Fn::GetAtt` (provably unchanged). DDB021
    /// asks it before it takes a shared `TableName` as evidence of a rename.
    pub(super) fn reads_unchanged(&self, x: NodeId, y: NodeId) -> bool {
        let (base, head) = (self.base, self.head);
        let mut reads = Reads::default();
        reads_of(base.doc, x, 0, &mut reads);
        reads_of(head.doc, y, 0, &mut reads);
        let sections_same = self.sections_same(reads);
        let mut read = BTreeSet::new();
        resources_read(base, x, 0, &mut read);
        resources_read(head, y, 0, &mut read);
        let mut seen = BTreeSet::new();
        sections_same && read.iter().all(|n| self.unchanged(n, &mut seen))
    }

    /// Whether resource `name` is provably the same at both revisions, so that
    /// CloudFormation does not update it and its `Ref` and attributes keep their values:
    /// the whole resource (type, properties, condition, ...) is written the same, what its
    /// intrinsics read (parameters, conditions, mappings) is the same, and so is every
    /// resource it reads in turn. A resource in a `Fn::ForEach` loop is not followed (fail
    /// closed). A nested stack returns outputs its own template decides: it is unchanged
    /// only when that template is provably the same file (`nested_same`, see
    /// [`crate::rules::Comparison::nested_same`]); a remote or computed template can change
    /// behind the same URL. `seen` holds the resources already being proven (a cycle
    /// proves nothing new). What a resource is on its own is proven once per comparison
    /// ([`Versions::by_itself`]); the walk through what it reads is this call's.
    fn unchanged(&self, name: &str, seen: &mut BTreeSet<String>) -> bool {
        if !seen.insert(name.to_string()) {
            return true;
        }
        if seen.len() > MAX_FOLLOWED {
            return false;
        }
        let Some(next) = self.by_itself(name) else {
            return false;
        };
        next.iter().all(|n| self.unchanged(n, seen))
    }

    /// Resource `name` on its own is the same at both revisions (everything
    /// [`Versions::unchanged`] asks but the resources it reads): the resources it reads,
    /// or `None`.
    fn by_itself(&self, name: &str) -> Option<std::sync::Arc<[String]>> {
        if let Some(known) = locked(&self.proofs.resources).get(name) {
            return known.clone();
        }
        let proven = self.prove_by_itself(name);
        locked(&self.proofs.resources).insert(name.to_string(), proven.clone());
        proven
    }

    fn prove_by_itself(&self, name: &str) -> Option<std::sync::Arc<[String]>> {
        let (base, head) = (self.base, self.head);
        if self.nests(name) && !self.nested_same.contains(name) {
            return None;
        }
        // The first resource under the ID, as `Ref` resolves it.
        let find = |t: &Template| t.resource(name).map(|r| (r.node, r.loops.is_empty()));
        let (Some((b, true)), Some((h, true))) = (find(base), find(head)) else {
            return None;
        };
        let (bd, hd) = (base.doc, head.doc);
        if !same_value(Side::new(bd, b), Side::new(hd, h)) {
            return None;
        }
        let mut reads = Reads::default();
        reads_of(bd, b, 0, &mut reads);
        if !self.sections_same(reads) {
            return None;
        }
        let mut next = BTreeSet::new();
        resources_read(base, b, 0, &mut next);
        Some(next.into_iter().collect())
    }
}

/// The resources of `template` that `node` reads by `Ref`, `Fn::GetAtt` or a `Fn::Sub`
/// variable (`${Res}`, `${Res.Attr}`). Deeper than a template nests, a read may be
/// missed; [`reads_of`] then reports every section as read, so such a value is compared
/// case by case anyway.
fn resources_read(template: &Template, node: NodeId, depth: usize, out: &mut BTreeSet<String>) {
    if depth > crate::model::eval::MAX_EVAL_DEPTH {
        return;
    }
    let doc = template.doc;
    let mut add = |name: &str| {
        if template.has_resource(name) {
            out.insert(name.to_string());
        }
    };
    if let Some(call) = doc.call(node) {
        match call.name {
            "Ref" => {
                if let Some(s) = doc.scalar(call.arg) {
                    add(&s.text);
                }
            }
            "Fn::GetAtt" => match doc.seq(call.arg) {
                Some([r, ..]) => {
                    if let Some(r) = doc.str(*r) {
                        add(r);
                    }
                }
                Some(_) => {}
                None => {
                    if let Some((r, _)) = doc.scalar(call.arg).and_then(|s| s.text.split_once('.'))
                    {
                        add(r);
                    }
                }
            },
            "Fn::Sub" => {
                let (text, vars) = match doc.seq(call.arg) {
                    Some([t, v]) => (doc.scalar(*t), Some(*v)),
                    Some(_) => (None, None),
                    None => (doc.scalar(call.arg), None),
                };
                if let Some(text) = text {
                    let mut rest: &str = &text.text;
                    while let Some(open) = rest.find("${") {
                        let after = &rest[open + 2..];
                        let Some(close) = after.find('}') else { break };
                        let name = after[..close].trim();
                        let defined = vars.is_some_and(|v| doc.get_value(v, name).is_some());
                        if !name.starts_with('!') && !defined {
                            add(name.split_once('.').map_or(name, |(r, _)| r));
                        }
                        rest = &after[close + 1..];
                    }
                }
            }
            _ => {}
        }
        if call.arg != node {
            resources_read(template, call.arg, depth + 1, out);
            return;
        }
    }
    if let Some(entries) = doc.map(node) {
        for e in entries {
            resources_read(template, e.value, depth + 1, out);
        }
    } else if let Some(items) = doc.seq(node) {
        for i in items {
            resources_read(template, *i, depth + 1, out);
        }
    }
}

/// The resources a resolved value reads by `Ref` or `Fn::GetAtt`.
fn resources_in(shape: &Shape) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![shape];
    while let Some(s) = stack.pop() {
        match s {
            Shape::Text(syms) => out.extend(syms.iter().filter_map(|x| match x {
                Sym::Ref(n) | Sym::Attr(n, _) => Some(n.clone()),
                _ => None,
            })),
            Shape::List(items) => stack.extend(items),
            Shape::Map(entries) => stack.extend(entries.iter().map(|(_, v)| v)),
            Shape::Absent => {}
        }
    }
    out
}

/// The first case in which the aspect differs (or cannot be proven the same), described,
/// with the key attribute whose type differs, if that is what differs.
fn compare(base: &TableSide, head: &TableSide, aspect: Aspect) -> Option<(String, Option<String>)> {
    let changed = changed_resources(base, head, aspect);
    // A first pass without assignment learns which parameters the values read.
    let (bev, hev) = (base.evaluator(), head.evaluator());
    let _ = (base.exists(&bev), head.exists(&hev));
    let _ = (base.cases(&bev, aspect), head.cases(&hev, aspect));
    let mut names: BTreeSet<String> = bev.parameters_read().into_iter().collect();
    names.extend(hev.parameters_read());
    let mut domains: Vec<(String, Vec<String>)> = Vec::new();
    for name in names.iter().cloned() {
        let values = match (allowed(base.template, &name), allowed(head.template, &name)) {
            (Some(b), Some(h)) => h.into_iter().filter(|v| b.contains(v)).collect(),
            (Some(v), None) | (None, Some(v)) => v,
            (None, None) => continue,
        };
        domains.push((name, values));
    }
    let property = aspect.property();
    let Some(assignments) = product(&domains) else {
        let names: Vec<String> = domains.iter().map(|(n, _)| format!("`{n}`")).collect();
        return Some((
            format!(
                "`{property}` cannot be proven unchanged: parameters {} have more than {MAX_CASES} combinations of values to compare",
                names.join(", ")
            ),
            None,
        ));
    };
    // The update keeps the stack's parameter values (each assignment, the same at both
    // revisions), or, when it does not pass a parameter, takes its Default: a Default
    // changed by the pull request is a case with each revision's own default.
    let mut changed_defaults = Vec::new();
    for name in &names {
        if let (Some(b), Some(h)) = (default(base.template, name), default(head.template, name)) {
            if b != h {
                changed_defaults.push((name.clone(), b, h));
            }
        }
    }
    let mut scenarios = Vec::new();
    for assignment in assignments {
        if !changed_defaults.is_empty() {
            let with = |pick: fn(&(String, String, String)) -> &String| {
                let mut a: Vec<Assumption> = assignment
                    .iter()
                    .filter(|x| {
                        !matches!(x, Assumption::Parameter { name, .. } if changed_defaults.iter().any(|c| c.0 == *name))
                    })
                    .cloned()
                    .collect();
                a.extend(changed_defaults.iter().map(|c| Assumption::Parameter {
                    name: c.0.clone(),
                    value: pick(c).clone(),
                }));
                a
            };
            let (b, h) = (with(|c| &c.1), with(|c| &c.2));
            let mut shown: Vec<String> = b
                .iter()
                .filter(|x| h.contains(x))
                .map(ToString::to_string)
                .collect();
            shown.extend(changed_defaults.iter().map(|(n, x, y)| {
                format!(
                    "parameter `{n}` is left to its Default (`{x}` at the base, `{y}` at the head)"
                )
            }));
            scenarios.push((b, h, shown));
        }
        let shown = assignment.iter().map(ToString::to_string).collect();
        scenarios.push((assignment.clone(), assignment, shown));
    }
    let shared = SharedConditions { base, head };
    for (base_assignment, head_assignment, shown) in scenarios {
        let bev = base.evaluator().under(&base_assignment);
        let hev = head.evaluator().under(&head_assignment);
        if !base.exists(&bev) || !head.exists(&hev) {
            continue;
        }
        let was = base.cases(&bev, aspect);
        let now = head.cases(&hev, aspect);
        let assumed: Vec<Assumption> = base_assignment
            .iter()
            .chain(&head_assignment)
            .cloned()
            .collect();
        for b in &was {
            for h in &now {
                if !shared.compatible(&b.when, &h.when, &changed_defaults) {
                    continue;
                }
                let case = describe_case(&shown, &assumed, &b.when, &h.when);
                let (bs, hs) = match (&b.shape, &h.shape) {
                    (Err(u), _) => return Some((unprovable(property, &case, "base", u), None)),
                    (_, Err(u)) => return Some((unprovable(property, &case, "head", u), None)),
                    (Ok(bs), Ok(hs)) => (bs, hs),
                };
                // `Ref`/`Fn::GetAtt` of a resource compare by its logical ID only while the
                // resource is unchanged: an updated resource can return another name.
                if let Some(name) = [bs, hs]
                    .into_iter()
                    .flat_map(resources_in)
                    .find(|n| changed.contains(n))
                {
                    let why = if base.versions.nests(&name) {
                        "a nested stack whose template this change modifies or ddb-guard cannot prove the same (not a local file with the same text at both revisions that nests nothing), so the outputs it returns may change with it"
                    } else {
                        "which this change modifies, so the value it returns may change with it"
                    };
                    return Some((
                        format!(
                            "`{property}` cannot be proven unchanged{case}: it reads `Ref` or `Fn::GetAtt` of resource `{name}`, {why}"
                        ),
                        None,
                    ));
                }
                if let Some(what) = differs(aspect, bs, hs, &case) {
                    return Some(what);
                }
            }
        }
    }
    None
}

/// A parameter's literal `Default`.
fn default(template: &Template, name: &str) -> Option<String> {
    let doc = template.doc;
    let node = doc.get_value(template.parameter(name)?, "Default")?;
    doc.str(node).map(str::to_string)
}

fn unprovable(property: &str, case: &str, side: &str, u: &Unresolved) -> String {
    format!(
        "`{property}` cannot be proven unchanged{case}: at the {side}, {}",
        u.why
    )
}

/// How the base and head values differ in one case, if they do.
fn differs(
    aspect: Aspect,
    was: &Shape,
    now: &Shape,
    case: &str,
) -> Option<(String, Option<String>)> {
    if aspect == Aspect::KeyTypes {
        // Only attributes that are keys at both revisions: a key that changed is the
        // `KeySchema` change.
        let (Shape::Map(b), Shape::Map(_)) = (was, now) else {
            return (was != now).then(|| {
                (
                    format!("the key attribute types are `{was}` at the base and `{now}` at the head{case}"),
                    None,
                )
            });
        };
        for (name, bt) in b {
            let ht = now.get(name);
            if ht != bt && now_has(now, name) {
                return Some((
                    format!(
                        "the `AttributeType` of key attribute `{name}` is `{bt}` at the base and `{ht}` at the head{case}"
                    ),
                    Some(name.clone()),
                ));
            }
        }
        return None;
    }
    (was != now).then(|| {
        (
            format!(
                "`{}` is `{was}` at the base and `{now}` at the head{case}",
                aspect.property()
            ),
            None,
        )
    })
}

fn now_has(shape: &Shape, key: &str) -> bool {
    matches!(shape, Shape::Map(e) if e.iter().any(|(k, _)| k == key))
}

/// " when parameter `Env` is `prod` (at the base condition `C` is true; at the head
/// condition `C` is false)", or "" when the values differ in every case.
fn describe_case(
    shown: &[String],
    assumed: &[Assumption],
    was: &[Assumption],
    now: &[Assumption],
) -> String {
    let fresh = |a: &&Assumption| !assumed.contains(a);
    let mut common: Vec<String> = shown.to_vec();
    common.extend(
        was.iter()
            .filter(fresh)
            .filter(|a| now.contains(a))
            .map(ToString::to_string),
    );
    let only = |these: &[Assumption], other: &[Assumption]| -> Vec<String> {
        these
            .iter()
            .filter(fresh)
            .filter(|a| !other.contains(a))
            .map(ToString::to_string)
            .collect()
    };
    let (base_only, head_only) = (only(was, now), only(now, was));
    let mut text = String::new();
    if !common.is_empty() {
        text = format!(" when {}", common.join(" and "));
    }
    let mut sides = Vec::new();
    if !base_only.is_empty() {
        sides.push(format!("at the base {}", base_only.join(" and ")));
    }
    if !head_only.is_empty() {
        sides.push(format!("at the head {}", head_only.join(" and ")));
    }
    if !sides.is_empty() {
        text.push_str(&format!(" ({})", sides.join("; ")));
    }
    text
}

/// The literal `AllowedValues` of a parameter.
fn allowed(template: &Template, name: &str) -> Option<Vec<String>> {
    let doc = template.doc;
    let list = doc
        .get_value(template.parameter(name)?, "AllowedValues")
        .and_then(|a| doc.list(a))?;
    list.iter()
        .map(|i| doc.str(*i).map(str::to_string))
        .collect()
}

/// Every assignment of one value to each parameter; `None` past [`MAX_CASES`].
fn product(domains: &[(String, Vec<String>)]) -> Option<Vec<Vec<Assumption>>> {
    let mut acc: Vec<Vec<Assumption>> = vec![Vec::new()];
    for (name, values) in domains {
        let mut next = Vec::new();
        for sofar in &acc {
            for v in values {
                let mut a = sofar.clone();
                a.push(Assumption::Parameter {
                    name: name.clone(),
                    value: v.clone(),
                });
                next.push(a);
            }
        }
        if next.len() > MAX_CASES {
            return None;
        }
        acc = next;
    }
    Some(acc)
}

/// Which conditions mean the same at both revisions, so that a case at the base and a
/// case at the head that assume opposite values of one of them cannot happen together.
/// A condition is shared only when its definition, the conditions it refers to, and the
/// parameters and mappings it reads are the same; otherwise its name says nothing across
/// revisions (its definition may have changed behind the same `Fn::If`). A condition
/// decided by the assigned parameter values is no open case anyway: each side keeps only
/// the branch it takes.
struct SharedConditions<'x, 'a, 'd, 's> {
    base: &'x TableSide<'a, 'd, 's>,
    head: &'x TableSide<'a, 'd, 's>,
}

impl SharedConditions<'_, '_, '_, '_> {
    /// Whether a base case and a head case can happen in one update. A parameter whose
    /// Default changed takes each revision's own default in the defaults case, so its
    /// values are not compared across revisions.
    fn compatible(
        &self,
        was: &[Assumption],
        now: &[Assumption],
        per_revision: &[(String, String, String)],
    ) -> bool {
        !was.iter().any(|a| {
            now.iter().any(|b| {
                a.contradicts(b)
                    && match a {
                        Assumption::Condition { name, .. } => self.shared(name),
                        Assumption::Parameter { name, .. } => {
                            !per_revision.iter().any(|c| c.0 == *name)
                        }
                        Assumption::LoopItem { .. } => true,
                    }
            })
        })
    }

    /// Proven once per comparison (every case of every table asks).
    fn shared(&self, name: &str) -> bool {
        let proofs = &self.base.versions.proofs;
        if let Some(&known) = locked(&proofs.conditions).get(name) {
            return known;
        }
        let proven = self.prove_shared(name);
        locked(&proofs.conditions).insert(name.to_string(), proven);
        proven
    }

    fn prove_shared(&self, name: &str) -> bool {
        let mut deps = Deps::default();
        if !self.same_definition(name, &mut BTreeSet::new(), &mut deps) || deps.too_deep {
            return false;
        }
        let (b, h) = (self.base.template, self.head.template);
        let versions = self.base.versions;
        (!deps.mappings || versions.section(Section::Mappings))
            && (!deps.all_parameters || versions.section(Section::Parameters))
            && deps
                .refs
                .iter()
                .all(|r| same_opt(b.doc, b.parameter(r), h.doc, h.parameter(r)))
    }

    /// The condition and every condition it refers to are written the same at both
    /// revisions; what they read is collected into `deps`.
    fn same_definition(&self, name: &str, seen: &mut BTreeSet<String>, deps: &mut Deps) -> bool {
        if !seen.insert(name.to_string()) {
            return true;
        }
        let (b, h) = (self.base.template, self.head.template);
        let (Some(x), Some(y)) = (b.condition(name), h.condition(name)) else {
            return false;
        };
        if !same_value(Side::new(b.doc, x), Side::new(h.doc, y)) {
            return false;
        }
        let before = deps.conditions.len();
        deps.collect(b.doc, x, 0);
        let nested: Vec<String> = deps.conditions[before..].to_vec();
        nested.iter().all(|n| self.same_definition(n, seen, deps))
    }
}

/// What a condition body reads: the conditions it refers to, the parameters it `Ref`s,
/// whether it looks up a mapping, whether a `Fn::Sub` may read any parameter.
#[derive(Default)]
struct Deps {
    conditions: Vec<String>,
    refs: Vec<String>,
    mappings: bool,
    all_parameters: bool,
    too_deep: bool,
}

impl Deps {
    fn collect(&mut self, doc: &Document, node: NodeId, depth: usize) {
        if depth > crate::model::eval::MAX_EVAL_DEPTH {
            self.too_deep = true;
            return;
        }
        if let Some(call) = doc.call(node) {
            match call.name {
                "Condition" | "Ref" => {
                    if let Some(s) = doc.scalar(call.arg) {
                        let list = if call.name == "Ref" {
                            &mut self.refs
                        } else {
                            &mut self.conditions
                        };
                        list.push(s.text.to_string());
                    }
                    return;
                }
                "Fn::FindInMap" => self.mappings = true,
                "Fn::Sub" => self.all_parameters = true,
                _ => {}
            }
            if call.arg != node {
                self.collect(doc, call.arg, depth + 1);
                return;
            }
        }
        if let Some(entries) = doc.map(node) {
            for e in entries {
                self.collect(doc, e.value, depth + 1);
            }
        } else if let Some(items) = doc.seq(node) {
            for i in items {
                self.collect(doc, *i, depth + 1);
            }
        }
    }
}

/// How deep `${self:...}` variables that point at other variables are followed.
const MAX_VARIABLE_HOPS: usize = 8;

/// In a Serverless Framework file, a value holding `${self:path}` is what the Framework
/// substitutes from the same file at deploy time (`${self:custom.tableName}`), so the
/// same text can name another table when the value at that path changed. The first such
/// variable (followed through the values it points at) whose value differs between the
/// revisions, described. Other variable sources (`${opt:...}`, `${env:...}`,
/// `${sls:...}`, `${ssm:...}`) are deploy-time inputs, the same for both revisions.
fn serverless_variable_change(
    base: &TableSide,
    head: &TableSide,
    aspect: Aspect,
) -> Option<String> {
    let (b, h) = (base.template, head.template);
    if b.layout != Layout::Serverless && h.layout != Layout::Serverless {
        return None;
    }
    let mut paths = Vec::new();
    for side in [base, head] {
        for node in side.sources(aspect).iter().filter_map(|n| side.prop(n)) {
            self_paths(side.doc(), node, 0, &mut paths);
        }
    }
    let mut seen = BTreeSet::new();
    let mut hops = 0;
    while let Some(path) = paths.pop() {
        if !seen.insert(path.clone()) {
            continue;
        }
        hops += 1;
        if hops > MAX_VARIABLE_HOPS * 4 {
            return Some(format!(
                "`{}` reads more Serverless `${{self:...}}` variables than can be followed",
                aspect.property()
            ));
        }
        let was = b.doc.root.and_then(|r| lookup(b.doc, r, &path));
        let now = h.doc.root.and_then(|r| lookup(h.doc, r, &path));
        if !same_opt(b.doc, was, h.doc, now) {
            let show = |doc: &Document, n: Option<NodeId>| match n {
                Some(n) => doc.str(n).map_or_else(
                    || "a value that is not a string".to_string(),
                    |t| format!("`{t}`"),
                ),
                None => "not set".to_string(),
            };
            return Some(format!(
                "`{}` reads the Serverless variable `${{self:{path}}}`, which is {} at the base and {} at the head",
                aspect.property(),
                show(b.doc, was),
                show(h.doc, now)
            ));
        }
        if seen.len() <= MAX_VARIABLE_HOPS {
            if let Some(n) = was {
                self_paths(b.doc, n, 0, &mut paths);
            }
        }
    }
    None
}

/// The paths of the `${self:...}` variables in the strings under `node`: up to the first
/// character that ends a plain path (a nested variable, a default, the closing brace),
/// so a path built from another variable is compared at its fixed prefix (the whole
/// `custom` mapping for `${self:custom.${opt:stage}.name}`).
fn self_paths(doc: &Document, node: NodeId, depth: usize, out: &mut Vec<String>) {
    if depth > crate::model::eval::MAX_EVAL_DEPTH {
        return;
    }
    if let Some(s) = doc.scalar(node) {
        let mut rest: &str = &s.text;
        while let Some(at) = rest.find("${self:") {
            rest = &rest[at + 7..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
                .unwrap_or(rest.len());
            let path = rest[..end].trim_end_matches('.');
            let path = if rest[end..].starts_with("${") {
                path.rsplit_once('.').map_or("", |(p, _)| p)
            } else {
                path
            };
            out.push(path.to_string());
        }
        return;
    }
    if let Some(entries) = doc.map(node) {
        for e in entries {
            self_paths(doc, e.value, depth + 1, out);
        }
    } else if let Some(items) = doc.seq(node) {
        for i in items {
            self_paths(doc, *i, depth + 1, out);
        }
    }
}

/// The node at a dotted path from the file's root (the root itself for "").
fn lookup(doc: &Document, root: NodeId, path: &str) -> Option<NodeId> {
    let mut node = root;
    for key in path.split('.').filter(|k| !k.is_empty()) {
        node = doc.get_value(node, key)?;
    }
    Some(node)
}
