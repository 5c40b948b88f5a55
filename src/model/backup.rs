//! AWS Backup and organization guardrails as a template declares them: which
//! `AWS::Backup::BackupSelection` covers a table, and which backup vaults and service
//! control policies deny deleting tables, backups or recovery points.
//!
//! Coverage is a proof, as everywhere in ddb-guard: a selection covers a table only when
//! its `Resources` (or tags and conditions) provably match that table, and the
//! assumptions under which it does are kept so that the inventory can say "only when
//! condition `IsProd` is true". Values that cannot be resolved cover nothing, and exclude
//! the table when they appear in `NotResources`.

use super::eval::{Assumption, Assumptions, Evaluator, Outcome, Piece, Value};
use super::expand::{self, combine, Branch};
use super::iam::{
    self, action_matches, glob_can_match_shape, glob_covers, lit, wildcard_match, Actions, Effect,
    Glob, Guarded, Marker, Part, PolicyDocument, PolicyKind, Resources, Statement,
};
use super::{Resource, Template, TABLE_TYPES};
use crate::load::{Document, NodeId};
use std::collections::HashSet;

/// More alternatives than this for one value resolve to nothing: the evaluator's bound.
const MAX_ALTERNATIVES: usize = super::eval::MAX_OUTCOMES;

/// One way a backup selection covers a table: the selection and when it does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Coverage<'d> {
    pub selection: &'d str,
    pub when: Assumptions,
    /// Tag keys that a negated test (`StringNotEquals`, `StringNotLike`) passes on only
    /// because the template gives the table no such tag. Tags a stack applies to all its
    /// resources are not in the template, so such coverage is not proven.
    pub absent_tags: Vec<String>,
}

/// Every way the `AWS::Backup::BackupSelection` resources of `template` cover `table`.
/// Empty: no selection covers it. One with no assumptions: covered in every case.
///
/// The selections are read once per template ([`Index`]); a table then reads only the list
/// items that can concern it, so a template of N tables and N selection items costs about
/// N, not N x N.
pub fn coverage<'d>(template: &Template<'d, '_>, table: &Resource<'d>) -> Vec<Coverage<'d>> {
    let index = template.backup_index.get_or_init(|| Index::of(template));
    let target = Target::of(template, table);
    let budget = (MAX_OPEN_WORK / index.tables.max(1)).max(MIN_OPEN_ITEMS);
    let mut out = Vec::new();
    // Selections by tag are read only when the table has a tag they test for; once one
    // covers it in every case, the rest cannot add to that.
    let mut tests_left = budget;
    for position in index.candidates(&target) {
        let Some(branch) = index.branches.get(position) else {
            continue;
        };
        let Some(selection) = template.resources.get(branch.selection) else {
            continue;
        };
        if branch.resources.is_none() {
            if tests_left == 0 {
                // Too many selections by tag to read for every table: the rest are not
                // proven to cover this one.
                break;
            }
            tests_left -= 1;
        }
        let ev = Evaluator::new(template, &selection.loops).keeping_parts();
        let mut always = false;
        let mut absent = Vec::new();
        for w in selection_covers(template, &ev, branch, &target, budget, &mut absent) {
            if let Some(when) = combine(&branch.when, &w) {
                always |= when.is_empty() && absent.is_empty();
                out.push(Coverage {
                    selection: selection.logical_id,
                    when,
                    absent_tags: absent.clone(),
                });
            }
        }
        if always {
            break;
        }
    }
    out
}

/// Items of `Resources`/`NotResources` lists that must be read for each table (their ARN
/// depends on which table asks, and no literal name prefix rules tables out), over all
/// tables of a template. Past it, a table reads at most [`MIN_OPEN_ITEMS`] of a list: what
/// is left unread covers nothing and, in `NotResources`, excludes the table (it cannot be
/// proven covered).
const MAX_OPEN_WORK: usize = 4_000_000;
const MIN_OPEN_ITEMS: usize = 256;

/// The backup selections of a template, read once: each `BackupSelection` body (one per
/// `Fn::If` branch) with its ARN lists evaluated and sorted by which tables an item can
/// concern.
pub struct Index {
    branches: Vec<SelectionBranch>,
    tables: usize,
    /// Branches filtered by tag, by the (key, value) pairs they test and by key alone.
    by_tag: std::collections::HashMap<(String, String), Vec<usize>>,
    by_key: std::collections::HashMap<String, Vec<usize>>,
    /// Branches with no `ListOfTags` whose `Resources` name only the tables they reference
    /// (`!GetAtt T.Arn`, `!Sub ...:table/${T}`), by those tables: no other table can be
    /// covered by them.
    by_table: std::collections::HashMap<String, Vec<usize>>,
    /// The other branches, read for every table.
    unfiltered: Vec<usize>,
}

struct SelectionBranch {
    /// Position of the selection in `Template::resources`.
    selection: usize,
    node: NodeId,
    when: Assumptions,
    resources: Option<Items>,
    not_resources: Option<Items>,
    /// For a selection by `ListOfTags` alone, written as literal `{ConditionKey,
    /// ConditionValue}` items: those pairs. A table can be covered only if it has one of
    /// these tags (or a tag with that key whose value is not literal).
    tag_filter: Option<Vec<(String, String)>>,
}

/// One ARN list. Only the `scan` items (and those `by_prefix` finds) are compared with a
/// table's ARN; the others are decided by a lookup, with the answer the comparison gives.
#[derive(Default)]
struct Items {
    /// `!GetAtt T.Arn` of a table `T` (in every case): names `T` in the cases the item
    /// exists, and no other table, since two tables of a stack never share an ARN.
    by_table: std::collections::HashMap<String, Vec<Assumptions>>,
    /// Every other item.
    open: Vec<Open>,
    /// Positions in `open` of the items whose ARN is the same whatever table asks and
    /// spells `...:${AWS::AccountId}:table/` then a literal name prefix, by that prefix:
    /// only a table whose name starts with it can be matched.
    by_prefix: std::collections::HashMap<String, Vec<usize>>,
    /// How many positions `by_prefix` holds (counted once: summing them per table made
    /// a list of n exclusions against n tables quadratic).
    by_prefix_count: usize,
    /// Positions in `open` of the items that can name only the tables they reference
    /// (`!Sub ...:table/${Orders}`), by those tables: for any other table each of their
    /// ARNs holds another table's name, which covers and excludes nothing.
    by_ref: std::collections::HashMap<String, Vec<usize>>,
    /// Positions in `open` of the items read for every table.
    scan: Vec<usize>,
}

enum Open {
    /// An item that names no table: its ARN globs are the same for every table.
    Fixed {
        arns: Vec<(Glob, Assumptions)>,
        when: Assumptions,
    },
    /// An item whose ARN depends on the table (its evaluated outcomes).
    Outcomes {
        outcomes: Vec<super::eval::Outcome>,
        when: Assumptions,
    },
    /// A list item that cannot be resolved.
    Unknown { when: Assumptions },
}

impl Index {
    fn of(template: &Template) -> Self {
        let doc = template.doc;
        let mut branches = Vec::new();
        for (position, selection) in template.resources.iter().enumerate() {
            if selection.type_name != Some("AWS::Backup::BackupSelection") {
                continue;
            }
            // Keeping parts: `${AWS::Region}` and `!GetAtt Orders.Arn` are the stack's own
            // Region and that table's ARN, not just unknown text.
            let ev = Evaluator::new(template, &selection.loops).keeping_parts();
            let Some(exists) = resource_condition(&ev, doc, selection) else {
                continue;
            };
            let Some(body) = doc
                .get_value(selection.node, "Properties")
                .and_then(|p| doc.get_value(p, "BackupSelection"))
            else {
                continue;
            };
            for branch in expand::branches(&ev, doc, body) {
                let Branch::Node { node, when } = branch else {
                    continue;
                };
                let Some(when) = combine(&exists, &when) else {
                    continue;
                };
                let list = |key: &str, exclude: bool| {
                    doc.get_value(node, key)
                        .map(|list| Items::of(template, &ev, list, exclude))
                };
                let resources = list("Resources", false);
                let tag_filter = if resources.is_none() {
                    doc.get_value(node, "ListOfTags")
                        .and_then(|l| literal_tags(doc, l))
                } else {
                    None
                };
                branches.push(SelectionBranch {
                    selection: position,
                    node,
                    when,
                    resources,
                    not_resources: list("NotResources", true),
                    tag_filter,
                });
            }
        }
        let mut index = Index {
            branches,
            tables: template.tables().count(),
            by_tag: std::collections::HashMap::new(),
            by_key: std::collections::HashMap::new(),
            by_table: std::collections::HashMap::new(),
            unfiltered: Vec::new(),
        };
        for (i, branch) in index.branches.iter().enumerate() {
            // Only the tables its `Resources` name by `!GetAtt T.Arn`: a list with no other
            // item and no `ListOfTags` covers no other table (`Conditions` only narrow it,
            // and `NotResources` only take tables away).
            let named = branch
                .resources
                .as_ref()
                .filter(|items| items.names_only_referenced())
                .filter(|_| doc.get_value(branch.node, "ListOfTags").is_none());
            match (&branch.tag_filter, named) {
                (Some(pairs), _) => {
                    for (key, value) in pairs {
                        index
                            .by_tag
                            .entry((key.clone(), value.clone()))
                            .or_default()
                            .push(i);
                        index.by_key.entry(key.clone()).or_default().push(i);
                    }
                }
                (None, Some(items)) => {
                    let mut tables: Vec<&String> =
                        items.by_table.keys().chain(items.by_ref.keys()).collect();
                    tables.sort_unstable();
                    tables.dedup();
                    for table in tables {
                        index.by_table.entry(table.clone()).or_default().push(i);
                    }
                }
                (None, None) => index.unfiltered.push(i),
            }
        }
        index
    }

    /// The selection branches that can cover the table, in template order: every branch
    /// not filtered by tag or by table, those whose tags the table has, and those that
    /// name it. Lazy: a table that one selection covers in every case stops reading here,
    /// so the lists of a tag that thousands of selections test are not gathered (and
    /// sorted) for every table that carries it.
    fn candidates<'i>(&'i self, target: &Target) -> Candidates<'i> {
        let mut lists: Vec<&'i [usize]> = vec![&self.unfiltered];
        lists.extend(self.by_table.get(target.logical_id).map(Vec::as_slice));
        for tag in &target.tags {
            let texts: Option<Vec<&str>> = tag
                .values
                .iter()
                .map(|o| match &o.value {
                    Value::Text(t) if !o.yaml_typed => Some(t.as_str()),
                    _ => None,
                })
                .collect();
            match texts {
                Some(texts) => {
                    for value in texts {
                        let found = self.by_tag.get(&(tag.key.clone(), value.to_string()));
                        lists.extend(found.map(Vec::as_slice));
                    }
                }
                None => lists.extend(self.by_key.get(&tag.key).map(Vec::as_slice)),
            }
        }
        Candidates::new(lists)
    }
}

/// The union of sorted lists of branch positions, in order and without repeats, merged as
/// it is read.
struct Candidates<'i> {
    lists: Vec<&'i [usize]>,
    /// The next position of each list, smallest first, with the list it comes from.
    heads: std::collections::BinaryHeap<std::cmp::Reverse<(usize, usize)>>,
    last: Option<usize>,
}

impl<'i> Candidates<'i> {
    fn new(lists: Vec<&'i [usize]>) -> Self {
        let heads = lists
            .iter()
            .enumerate()
            .filter_map(|(i, l)| l.first().map(|&p| std::cmp::Reverse((p, i))))
            .collect();
        Candidates {
            lists,
            heads,
            last: None,
        }
    }
}

impl Iterator for Candidates<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        loop {
            let std::cmp::Reverse((position, list)) = self.heads.pop()?;
            if let Some(rest) = self.lists.get_mut(list) {
                *rest = rest.get(1..).unwrap_or_default();
                if let Some(&p) = rest.first() {
                    self.heads.push(std::cmp::Reverse((p, list)));
                }
            }
            if self.last != Some(position) {
                self.last = Some(position);
                return Some(position);
            }
        }
    }
}

/// `ListOfTags` as literal `(ConditionKey, ConditionValue)` pairs, when it is a plain list
/// of plain items (no intrinsic anywhere).
fn literal_tags(doc: &Document, list: NodeId) -> Option<Vec<(String, String)>> {
    if doc.call(list).is_some() {
        return None;
    }
    doc.seq(list)?
        .iter()
        .map(|&item| {
            if doc.call(item).is_some() {
                return None;
            }
            let text = |key: &str| {
                doc.get_value(item, key)
                    .filter(|&v| doc.call(v).is_none())
                    .and_then(|v| doc.str(v))
                    .map(str::to_string)
            };
            Some((text("ConditionKey")?, text("ConditionValue")?))
        })
        .collect()
}

impl Items {
    fn of(template: &Template, ev: &Evaluator, list: NodeId, exclude: bool) -> Self {
        let doc = template.doc;
        let mut items = Items::default();
        let unknown = if exclude { Part::Any } else { Part::Opaque };
        for item in expand::items(ev, doc, list) {
            let (node, when) = match item {
                Branch::Node { node, when } => (node, when),
                Branch::Unknown { when, .. } => {
                    items.open.push(Open::Unknown { when });
                    continue;
                }
                Branch::NoValue { .. } => continue,
            };
            let outcomes = ev.eval(node);
            if let [o] = outcomes.as_slice() {
                if let (true, Value::Partial(pieces)) = (o.when.is_empty(), &o.value) {
                    if let [Piece::Attribute {
                        resource,
                        attribute,
                    }] = pieces.as_slice()
                    {
                        if attribute == "Arn" && is_table(template, resource) {
                            items
                                .by_table
                                .entry(resource.clone())
                                .or_default()
                                .push(when);
                            continue;
                        }
                    }
                }
            }
            let names_a_table = outcomes.iter().any(|o| match &o.value {
                Value::Partial(pieces) => pieces.iter().any(|p| match p {
                    Piece::Ref(name) | Piece::Attribute { resource: name, .. } => {
                        is_table(template, name)
                    }
                    _ => false,
                }),
                _ => false,
            });
            // What the item is for a table it does not reference (the same for all).
            let nobody = Target {
                logical_id: "",
                name: Part::Opaque,
                names: Vec::new(),
                tags: Vec::new(),
                unknown_tags: None,
            };
            let arns = outcome_globs(template, &outcomes, &nobody, &unknown);
            if !names_a_table {
                items.open.push(Open::Fixed { arns, when });
                continue;
            }
            let position = items.open.len();
            // Another table's name is matched by nothing (`glob_covers` needs the same
            // marker in the table's ARN, `can_name` reads it as opaque): when every ARN
            // holds one, the item concerns only the tables it references.
            let other_table = Part::Marker(Marker::OtherTable);
            if arns.iter().all(|(glob, _)| glob.contains(&other_table)) {
                let mut referenced: Vec<&str> = outcomes
                    .iter()
                    .flat_map(|o| match &o.value {
                        Value::Partial(pieces) => pieces.as_slice(),
                        _ => &[],
                    })
                    .filter_map(|p| match p {
                        Piece::Ref(name) | Piece::Attribute { resource: name, .. } => {
                            Some(name.as_str())
                        }
                        _ => None,
                    })
                    .collect();
                referenced.sort_unstable();
                referenced.dedup();
                for name in referenced {
                    items
                        .by_ref
                        .entry(name.to_string())
                        .or_default()
                        .push(position);
                }
            } else {
                items.scan.push(position);
            }
            items.open.push(Open::Outcomes { outcomes, when });
        }
        for (i, item) in items.open.iter().enumerate() {
            let prefix = match item {
                Open::Fixed { arns, .. } => match arns.as_slice() {
                    [(glob, _)] => name_prefix(glob),
                    _ => None,
                },
                // Placed above, in `scan` or `by_ref`.
                Open::Outcomes { .. } => continue,
                Open::Unknown { .. } => None,
            };
            match prefix {
                Some(prefix) => {
                    items.by_prefix.entry(prefix).or_default().push(i);
                    items.by_prefix_count += 1;
                }
                None => items.scan.push(i),
            }
        }
        items.scan.sort_unstable();
        items
    }

    /// Every item is `!GetAtt T.Arn` of a table or names only the tables it references:
    /// the list names no table but those.
    fn names_only_referenced(&self) -> bool {
        self.scan.is_empty() && self.by_prefix.is_empty()
    }
}

/// DynamoDB's longest table name.
const MAX_TABLE_NAME: usize = 255;

/// The literal name prefix of a glob that spells `${AWS::AccountId}:table/` and then
/// literal text: a table ARN of the stack it covers has a name that starts with that text
/// (the account marker can only meet the table ARN's own).
fn name_prefix(glob: &[Part]) -> Option<String> {
    let at = glob
        .iter()
        .position(|p| matches!(p, Part::Marker(Marker::Account)))?;
    let Some(Part::Lit(text)) = glob.get(at + 1) else {
        return None;
    };
    let name = text.strip_prefix(":table/")?;
    let end = name.find(['*', '?']).unwrap_or(name.len());
    Some(name[..end].to_string())
}

/// The assumptions under which a resource exists (its `Condition` attribute), or `None`
/// when it never does.
fn resource_condition(ev: &Evaluator, doc: &Document, resource: &Resource) -> Option<Assumptions> {
    let Some(name) = doc
        .get_value(resource.node, "Condition")
        .and_then(|c| doc.str(c))
    else {
        return Some(Assumptions::none());
    };
    let truth = ev.condition(name, 0);
    if !truth.can_be_true {
        return None;
    }
    if !truth.can_be_false {
        return Some(Assumptions::none());
    }
    Some(Assumptions::from(Assumption::Condition {
        name: name.to_string(),
        holds: true,
    }))
}

/// The table whose coverage is asked: its logical ID, its ARN with markers for what the
/// stack decides, and its tags.
struct Target<'d> {
    logical_id: &'d str,
    /// The literal `TableName`, or [`Marker::ThisTable`] when it is generated or not a
    /// literal.
    name: Part,
    /// The names the table can have, as shapes (`{}` for any text): the literal
    /// `TableName`, each value a `TableName` written with intrinsics can take (`{}` where
    /// it cannot be known), or the generated `<stack>-<LogicalId>-<random>`. What an
    /// exclusion is compared with.
    names: Vec<String>,
    tags: Vec<Tag>,
    /// Why some tag (its key, or the list) cannot be known, if one cannot: it may be any
    /// tag, so no negated test can be proven to pass.
    unknown_tags: Option<String>,
}

struct Tag {
    key: String,
    /// The values the tag can have, read with the table's own `Fn::ForEach` bindings (a
    /// `${Name}` in a table made per item is that item's name).
    values: Vec<Outcome>,
    when: Assumptions,
}

impl<'d> Target<'d> {
    fn of(template: &Template<'d, '_>, table: &Resource<'d>) -> Self {
        let doc = template.doc;
        let props = doc.get_value(table.node, "Properties");
        let name = props
            .and_then(|p| doc.get_value(p, "TableName"))
            .and_then(|n| doc.str(n))
            .filter(|n| !n.is_empty() && !n.contains(['*', '?']))
            .map_or(Part::Marker(Marker::ThisTable), |n| {
                Part::Lit(n.to_string())
            });
        let ev = Evaluator::new(template, &table.loops);
        let mut tags = Vec::new();
        let mut unknown_tags = None;
        if let Some(props) = props {
            if table.type_name == Some("AWS::DynamoDB::GlobalTable") {
                // Each replica carries its own tags, and AWS Backup selects resources in
                // the stack's Region only: a selection by tag reads the tags of the replica
                // in the stack's Region, in the cases it is known. Tags on another replica
                // prove nothing here.
                let scope = replica_scope(template, table);
                for (node, when) in &scope.local {
                    if let Some(t) = doc.get_value(*node, "Tags") {
                        tag_list(&ev, doc, t, when, &mut tags, &mut unknown_tags);
                    }
                }
                if let Some(why) = scope.undecided {
                    // In some case no replica is known to be the local one: its tags may be
                    // any, so no negated test is proven.
                    unknown_tags.get_or_insert(why);
                }
            } else if let Some(t) = doc.get_value(props, "Tags") {
                let plain_map = doc.map(t).is_some() && doc.call(t).is_none();
                if plain_map || table.type_name == Some("AWS::Serverless::SimpleTable") {
                    // SAM's SimpleTable: `Tags: {Key: Value}`, or one chosen by `Fn::If`.
                    for branch in expand::branches(&ev, doc, t) {
                        match branch {
                            Branch::Node { node, when }
                                if doc.map(node).is_some() && doc.call(node).is_none() =>
                            {
                                for entry in doc.map(node).unwrap_or(&[]) {
                                    tags.push(Tag {
                                        key: doc.key(entry).to_string(),
                                        values: ev.eval(entry.value),
                                        when: when.clone(),
                                    });
                                }
                            }
                            Branch::NoValue { .. } => {}
                            _ => {
                                unknown_tags
                                    .get_or_insert("the table's `Tags` cannot be resolved".into());
                            }
                        }
                    }
                } else {
                    tag_list(&ev, doc, t, &[], &mut tags, &mut unknown_tags);
                }
            }
        }
        let names = name_shapes(
            &Evaluator::new(template, &table.loops).keeping_parts(),
            props.and_then(|p| doc.get_value(p, "TableName")),
            table.logical_id,
        );
        Target {
            logical_id: table.logical_id,
            name,
            names,
            tags,
            unknown_tags,
        }
    }

    fn arn(&self) -> Glob {
        table_arn(self.name.clone())
    }

    /// Every ARN the table can have, as shapes: any partition, Region and account, and
    /// each name it can have ([`Target::names`]).
    fn arn_shapes(&self) -> Vec<String> {
        self.names
            .iter()
            .map(|name| format!("arn:{{}}:dynamodb:{{}}:{{}}:table/{name}"))
            .collect()
    }
}

/// The names a table can have, as shapes (`{}` for any text). Without `TableName` (or
/// where it is `AWS::NoValue`) CloudFormation generates `<stack>-<LogicalId>-<random>` (any
/// name, for an ID long enough to be truncated); a `TableName` written with intrinsics is
/// each value it can take, with `{}` for a part that cannot be known (`!Ref Name` may be
/// any name, `!Sub legacy_${Env}` any name starting `legacy_`).
fn name_shapes(ev: &Evaluator, table_name: Option<NodeId>, logical_id: &str) -> Vec<String> {
    let generated = || {
        if logical_id.len() <= MAX_UNTRUNCATED_ID && !logical_id.contains(['{', '}']) {
            format!("{{}}-{logical_id}-{{}}")
        } else {
            "{}".to_string()
        }
    };
    // Text that cannot hold the shape's `{}` marker as written (no valid table name holds
    // a brace) stands for any name.
    let text = |t: &str| {
        if t.contains(['{', '}']) {
            "{}".to_string()
        } else {
            t.to_string()
        }
    };
    let Some(node) = table_name else {
        return vec![generated()];
    };
    let mut out: Vec<String> = Vec::new();
    for o in ev.eval(node) {
        let shapes = match &o.value {
            Value::NoValue => vec![generated()],
            Value::Text(t) if t.is_empty() => vec![generated()],
            Value::Text(t) => vec![text(t)],
            Value::Partial(pieces) => {
                let unknown = pieces
                    .iter()
                    .filter(|p| !matches!(p, Piece::Lit(_)))
                    .count();
                let with = |stand_in: &str| -> String {
                    pieces
                        .iter()
                        .map(|p| match p {
                            Piece::Lit(t) => text(t),
                            _ => stand_in.to_string(),
                        })
                        .collect()
                };
                // A shape's `{}` is at least one character, and an unknown part may be
                // empty: one unknown part is both; more could be any mix, so any name.
                match unknown {
                    1 => vec![with("{}"), with("")],
                    _ => vec!["{}".to_string()],
                }
            }
            Value::Unknown(_) => vec!["{}".to_string()],
        };
        for shape in shapes.into_iter().filter(|s| !s.is_empty()) {
            if !out.contains(&shape) {
                out.push(shape);
            }
        }
    }
    if out.is_empty() {
        out.push("{}".to_string());
    }
    out
}

/// Which replicas of an `AWS::DynamoDB::GlobalTable` an AWS Backup selection of this stack
/// can cover. A selection's plan lives in the stack's Region and selects resources there:
/// it covers the replica whose `Region` is the stack's (`!Ref AWS::Region`), and no other.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReplicaScope {
    /// The replica in the stack's Region (its node), with the cases in which it is.
    pub local: Vec<(NodeId, Assumptions)>,
    /// The Regions of the other replicas, as written (`eu-west-1`, or what cannot be
    /// resolved): no selection in this stack covers them.
    pub others: Vec<String>,
    /// Why the replica in the stack's Region cannot be decided in some case (every
    /// `Region` literal or unresolved): a tag on any replica then proves nothing.
    pub undecided: Option<String>,
}

/// The [`ReplicaScope`] of a global table (empty for any other table type). A replica
/// whose Region is `!Ref AWS::Region` (or `!Sub ${AWS::Region}`) is the local one; when one
/// is in every case, every other replica is elsewhere (a global table has at most one
/// replica per Region). A literal Region may or may not be the stack's: when no replica is
/// the stack's Region in every case, which one is local is undecided.
pub fn replica_scope(template: &Template, table: &Resource) -> ReplicaScope {
    let mut scope = ReplicaScope::default();
    if table.type_name != Some("AWS::DynamoDB::GlobalTable") {
        return scope;
    }
    let doc = template.doc;
    let Some(replicas) = doc
        .get_value(table.node, "Properties")
        .and_then(|p| doc.get_value(p, "Replicas"))
    else {
        return scope;
    };
    let ev = Evaluator::new(template, &table.loops).keeping_parts();
    let mut unresolved = false;
    // The Regions already in `scope.others`: a global table may list thousands of
    // replicas, and a scan of the list per replica would be quadratic (issue 25).
    let mut others = HashSet::new();
    for replica in expand::items(&ev, doc, replicas) {
        let (node, when) = match replica {
            Branch::Node { node, when } => (node, when),
            Branch::NoValue { .. } => continue,
            Branch::Unknown { .. } => {
                unresolved = true;
                push_unique(
                    &mut scope.others,
                    &mut others,
                    "a replica that cannot be resolved".into(),
                );
                continue;
            }
        };
        let Some(region) = doc.get_value(node, "Region") else {
            unresolved = true;
            continue;
        };
        for o in ev.eval(region) {
            let Some(w) = combine(&when, &o.when) else {
                continue;
            };
            match &o.value {
                Value::Partial(pieces) if matches!(pieces.as_slice(), [Piece::Pseudo(p)] if p == "AWS::Region") =>
                {
                    scope.local.push((node, w));
                }
                Value::NoValue => {}
                Value::Text(t) => push_unique(&mut scope.others, &mut others, format!("`{t}`")),
                _ => {
                    unresolved = true;
                    push_unique(
                        &mut scope.others,
                        &mut others,
                        "a Region that cannot be resolved".into(),
                    );
                }
            }
        }
    }
    if !scope.local.iter().any(|(_, w)| w.is_empty()) {
        scope.undecided = Some(if scope.local.is_empty() && !unresolved {
            "no replica's `Region` is `!Ref AWS::Region`, so which replica is in the stack's Region (where its backup plan selects) cannot be decided".to_string()
        } else {
            "in some case no replica's `Region` is `!Ref AWS::Region`, so which replica is in the stack's Region (where its backup plan selects) cannot be decided".to_string()
        });
    }
    scope
}

/// Push `item` to `list` unless `seen` (what `list` holds) has it: first-seen order kept.
fn push_unique(list: &mut Vec<String>, seen: &mut HashSet<String>, item: String) {
    if seen.insert(item.clone()) {
        list.push(item);
    }
}

/// A logical ID up to this long is kept whole in a generated table name.
const MAX_UNTRUNCATED_ID: usize = 64;

/// `Tags: [{Key, Value}]`, with items chosen by `Fn::If`. An item or a key that cannot be
/// resolved is remembered in `unknown`: it may be any tag.
fn tag_list(
    ev: &Evaluator,
    doc: &Document,
    list: NodeId,
    when: &[Assumption],
    out: &mut Vec<Tag>,
    unknown: &mut Option<String>,
) {
    for item in expand::items(ev, doc, list) {
        let (node, w) = match item {
            Branch::Node { node, when } => (node, when),
            Branch::NoValue { .. } => continue,
            Branch::Unknown { why, .. } => {
                unknown.get_or_insert(format!("a tag cannot be resolved ({why})"));
                continue;
            }
        };
        let Some(value) = doc.get_value(node, "Value") else {
            continue;
        };
        let Some(key) = doc.get_value(node, "Key") else {
            continue;
        };
        let Some(key) = literal(ev, key) else {
            unknown.get_or_insert("a tag key cannot be resolved".to_string());
            continue;
        };
        if let Some(when) = combine(when, &w) {
            out.push(Tag {
                key,
                values: ev.eval(value),
                when,
            });
        }
    }
}

/// The cases in which one `BackupSelection` mapping covers the table: (`Resources` or
/// `ListOfTags`) and every `Conditions` test, unless `NotResources` can name it.
fn selection_covers(
    template: &Template,
    ev: &Evaluator,
    branch: &SelectionBranch,
    target: &Target,
    budget: usize,
    absent: &mut Vec<String>,
) -> Vec<Assumptions> {
    let doc = template.doc;
    let selection = branch.node;
    let resources = branch.resources.as_ref();
    let list_of_tags = doc.get_value(selection, "ListOfTags");
    let conditions = doc.get_value(selection, "Conditions");
    let mut base = Vec::new();
    if let Some(items) = resources {
        base.extend(arn_list_covers(template, items, target, false, budget));
    }
    if let Some(list) = list_of_tags {
        // With both `Resources` and `ListOfTags`, AWS Backup's guide says the resources are
        // filtered by the tags ("the specified resource types are filtered first, then tags
        // further filter those resources"): the table is proven covered only when both name
        // it, which holds whichever way the two combine.
        let by_resources = std::mem::take(&mut base);
        for item in expand::items(ev, doc, list) {
            let Branch::Node { node, when } = item else {
                continue;
            };
            let key = doc
                .get_value(node, "ConditionKey")
                .and_then(|k| literal(ev, k));
            let value = doc
                .get_value(node, "ConditionValue")
                .and_then(|v| literal(ev, v));
            let (Some(key), Some(value)) = (key, value) else {
                continue;
            };
            for w in tag_test(target, &key, Test::Equals, &value, absent) {
                base.extend(combine(&when, &w));
            }
        }
        if resources.is_some() {
            base = if by_resources.len().saturating_mul(base.len()) > MAX_ALTERNATIVES {
                // Too many cases to pair: not proven.
                Vec::new()
            } else {
                by_resources
                    .iter()
                    .flat_map(|r| {
                        base.iter()
                            .filter_map(|t| combine(r, t))
                            .collect::<Vec<_>>()
                    })
                    .collect()
            };
        }
    }
    if resources.is_none() && list_of_tags.is_none() && conditions.is_some() {
        // Conditions alone select among every resource AWS Backup can protect.
        base.push(Assumptions::none());
    }
    if let Some(conditions) = conditions {
        base = conditions_hold(ev, doc, conditions, target, absent)
            .iter()
            .flat_map(|c| {
                base.iter()
                    .filter_map(|b| combine(b, c))
                    .collect::<Vec<_>>()
            })
            .collect();
    }
    if base.is_empty() {
        return base;
    }
    if let Some(items) = &branch.not_resources {
        if !arn_list_covers(template, items, target, true, budget).is_empty() {
            // A table that the exclusions can name is not proven covered.
            return Vec::new();
        }
    }
    base
}

/// The cases in which an ARN list names the table. For `NotResources` (`exclude`), a
/// value that cannot be resolved counts as naming it.
fn arn_list_covers(
    template: &Template,
    items: &Items,
    target: &Target,
    exclude: bool,
    budget: usize,
) -> Vec<Assumptions> {
    let inner = target.arn();
    let shapes = target.arn_shapes();
    // What a value that cannot be resolved stands for: it names no table proven covered,
    // and may name the table when it excludes.
    let unknown = if exclude { Part::Any } else { Part::Opaque };
    let mut out: Vec<Assumptions> = items
        .by_table
        .get(target.logical_id)
        .cloned()
        .unwrap_or_default();
    let generated = !matches!(target.name, Part::Lit(_));
    if exclude && out.iter().any(|w| w.is_empty()) {
        return out;
    }
    // The name's literal prefixes find its items; a name that is not a valid table name is
    // compared with every item rather than hashed by long prefixes.
    let name = match &target.name {
        Part::Lit(name) if name.len() <= MAX_TABLE_NAME => Some(name.as_str()),
        Part::Lit(_) => None,
        _ => Some(""),
    };
    // A generated name can be matched by almost any exclusion, each compared by a search:
    // a table without `TableName` reads at most the minimum budget of them, as does one
    // whose name is not valid (every item is read for it).
    let reads_all = (exclude && generated) || name.is_none();
    // The items that name only the tables they reference, this one among them.
    let referenced = items
        .by_ref
        .get(target.logical_id)
        .map_or(&[][..], Vec::as_slice);
    let (read, budget) = if reads_all {
        (
            items.scan.len() + referenced.len() + items.by_prefix_count,
            MIN_OPEN_ITEMS,
        )
    } else {
        (items.scan.len() + referenced.len(), budget)
    };
    if exclude && read > budget {
        // Too many exclusions to read for every table: this one is not proven kept.
        out.push(Assumptions::none());
        return out;
    }
    // The items whose literal name prefix starts the table's name, then those read for all.
    let mut positions: Vec<usize> = match name {
        // A generated name (`<stack>-<LogicalId>-<random>`) can start with almost any
        // text: every exclusion is read (at most the minimum budget, checked above).
        _ if reads_all => items
            .by_prefix
            .values()
            .flatten()
            .copied()
            .take(budget)
            .collect(),
        Some(name) => (0..=name.len())
            .filter(|&k| name.is_char_boundary(k))
            .filter_map(|k| items.by_prefix.get(&name[..k]))
            .flatten()
            .copied()
            .collect(),
        None => Vec::new(),
    };
    positions.extend(merged(&items.scan, referenced).take(budget));
    for item in positions.iter().filter_map(|&i| items.open.get(i)) {
        let (arns, when) = match item {
            Open::Fixed { arns, when } => (std::borrow::Cow::Borrowed(arns), when),
            Open::Outcomes { outcomes, when } => (
                std::borrow::Cow::Owned(outcome_globs(template, outcomes, target, &unknown)),
                when,
            ),
            Open::Unknown { when } => {
                if exclude {
                    out.push(when.clone());
                    if when.is_empty() {
                        // Excluded in every case: nothing else can change that.
                        return out;
                    }
                }
                continue;
            }
        };
        let covering: Vec<&(Glob, Assumptions)> = arns
            .iter()
            .filter(|(glob, _)| {
                if exclude {
                    shapes.iter().any(|shape| can_name(glob, shape))
                } else {
                    arn_covers(glob, &inner)
                }
            })
            .collect();
        if !arns.is_empty() && covering.len() == arns.len() {
            out.push(when.clone());
            if exclude && when.is_empty() {
                // Excluded in every case: nothing else can change that.
                return out;
            }
        } else {
            out.extend(covering.iter().filter_map(|(_, w)| combine(when, w)));
        }
    }
    out
}

/// Two ascending lists of positions as one, ascending.
fn merged<'a>(a: &'a [usize], b: &'a [usize]) -> impl Iterator<Item = usize> + 'a {
    let (mut a, mut b) = (a.iter().peekable(), b.iter().peekable());
    std::iter::from_fn(move || match (a.peek(), b.peek()) {
        (Some(&&x), Some(&&y)) if y < x => b.next().copied(),
        (Some(_), _) => a.next().copied(),
        (None, _) => b.next().copied(),
    })
}

/// Can the exclusion glob match some ARN the table can have? The stack's own partition,
/// Region and account (`${AWS::Region}`) are whatever the stack's are, so they match any
/// value there, and a literal Region or account matches whenever the stack runs there;
/// the table's own generated name is its own; another table's ARN never is this table's.
fn can_name(glob: &[Part], shape: &str) -> bool {
    let glob: Glob = glob
        .iter()
        .map(|p| match p {
            Part::Marker(Marker::OtherTable) => Part::Opaque,
            Part::Marker(_) => Part::AnySegment,
            other => other.clone(),
        })
        .collect();
    glob_can_match_shape(&glob, shape)
}

/// Does the selection glob match every ARN the table can have? A literal partition in the
/// glob (`arn:aws:...`) is taken as the stack's own; Region and account must be the
/// stack's (`${AWS::Region}`) or `*`, since a literal one may be another.
fn arn_covers(glob: &[Part], inner: &[Part]) -> bool {
    if glob_covers(glob, inner) {
        return true;
    }
    let Some(Part::Lit(first)) = glob.first() else {
        return false;
    };
    let partition = first
        .strip_prefix("arn:")
        .and_then(|rest| rest.split_once(':'))
        .map(|(partition, _)| partition)
        .filter(|p| !p.contains(|c: char| c == '*' || c == '?' || c < ' '));
    let Some(partition) = partition else {
        return false;
    };
    let inner: Glob = inner
        .iter()
        .map(|p| match p {
            Part::Marker(Marker::Partition) => Part::Lit(partition.to_string()),
            other => other.clone(),
        })
        .collect();
    glob_covers(glob, &inner)
}

/// The ARN globs a selection's `Resources` item can be, each with its assumptions, read
/// from the evaluator's outcomes: references to the table itself, to other tables and to
/// the stack become markers, and what cannot be resolved becomes `unknown`.
fn outcome_globs(
    template: &Template,
    outcomes: &[super::eval::Outcome],
    target: &Target,
    unknown: &Part,
) -> Vec<(Glob, Assumptions)> {
    let mut out = Vec::new();
    for o in outcomes {
        let glob = match &o.value {
            Value::NoValue => continue,
            Value::Text(t) => lit(t.clone()),
            Value::Unknown(_) => vec![unknown.clone()],
            Value::Partial(pieces) => pieces
                .iter()
                .flat_map(|piece| match piece {
                    Piece::Lit(t) => lit(t.clone()),
                    Piece::Pseudo(name) => vec![match name.as_str() {
                        "AWS::Partition" => Part::Marker(Marker::Partition),
                        "AWS::Region" => Part::Marker(Marker::Region),
                        "AWS::AccountId" => Part::Marker(Marker::Account),
                        _ => unknown.clone(),
                    }],
                    Piece::Ref(name) if is_target(target, name) => vec![target.name.clone()],
                    Piece::Ref(name) if is_table(template, name) => {
                        vec![Part::Marker(Marker::OtherTable)]
                    }
                    Piece::Attribute {
                        resource,
                        attribute,
                    } if attribute == "Arn" => {
                        if is_target(target, resource) {
                            target.arn()
                        } else if is_table(template, resource) {
                            table_arn(Part::Marker(Marker::OtherTable))
                        } else {
                            vec![unknown.clone()]
                        }
                    }
                    Piece::Unknown { .. }
                    | Piece::Ref(_)
                    | Piece::Attribute { .. }
                    | Piece::Import(_) => {
                        vec![unknown.clone()]
                    }
                })
                .collect(),
        };
        out.push((glob, o.when.clone()));
    }
    out
}

/// Is `name` the table whose coverage is asked? (The stand-in target of an item that names
/// no table has an empty ID, which no reference names.)
fn is_target(target: &Target, name: &str) -> bool {
    !target.logical_id.is_empty() && name == target.logical_id
}

/// A table's ARN in this stack, with the stack's own partition, Region and account.
fn table_arn(name: Part) -> Glob {
    vec![
        Part::Lit("arn:".into()),
        Part::Marker(Marker::Partition),
        Part::Lit(":dynamodb:".into()),
        Part::Marker(Marker::Region),
        Part::Lit(":".into()),
        Part::Marker(Marker::Account),
        Part::Lit(":table/".into()),
        name,
    ]
}

fn is_table(template: &Template, name: &str) -> bool {
    template
        .resource(name)
        .is_some_and(|r| r.type_name.is_some_and(|t| TABLE_TYPES.contains(&t)))
}

/// A value that is one literal string in every case.
fn literal(ev: &Evaluator, node: NodeId) -> Option<String> {
    match ev.eval(node).as_slice() {
        [o] if o.when.is_empty() => match &o.value {
            Value::Text(t) => Some(t.clone()),
            _ => None,
        },
        _ => None,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Test {
    Equals,
    Like,
    NotEquals,
    NotLike,
}

impl Test {
    fn accepts(self, pattern: &str, value: &str) -> bool {
        match self {
            Test::Equals => value == pattern,
            Test::Like => wildcard_match(pattern, value, false),
            Test::NotEquals => value != pattern,
            Test::NotLike => !wildcard_match(pattern, value, false),
        }
    }

    fn negated(self) -> bool {
        matches!(self, Test::NotEquals | Test::NotLike)
    }
}

/// The cases in which the table's tag `key` passes `test`. A negated test also passes
/// when the table has no such tag.
fn tag_test(
    target: &Target,
    key: &str,
    test: Test,
    pattern: &str,
    absent: &mut Vec<String>,
) -> Vec<Assumptions> {
    if test.negated() && target.unknown_tags.is_some() {
        // Some tag cannot be known: it may be this one, with any value.
        return Vec::new();
    }
    let tags: Vec<&Tag> = target.tags.iter().filter(|t| t.key == key).collect();
    // (More than DynamoDB's 50 tags under one key is compared with nothing: not proven.)
    let twice = tags.len() > 64
        || tags.iter().enumerate().any(|(i, t)| {
            tags.iter()
                .skip(i + 1)
                .any(|u| combine(&t.when, &u.when).is_some())
        });
    if twice {
        // The key is written twice for one deployment: which value the table gets is not
        // the template's to say, so no test on it is proven.
        return Vec::new();
    }
    if test.negated() && tags.iter().all(|t| !t.when.is_empty()) && !absent.iter().any(|k| k == key)
    {
        // It passes (also) because the tag is absent, which the template cannot show.
        absent.push(key.to_string());
    }
    if tags.is_empty() {
        return if test.negated() {
            vec![Assumptions::none()]
        } else {
            Vec::new()
        };
    }
    let mut out = Vec::new();
    for tag in tags {
        let outcomes = &tag.values;
        let passing: Vec<_> = outcomes
            .iter()
            .filter(|o| matches!(&o.value, Value::Text(t) if test.accepts(pattern, t)))
            .collect();
        if passing.len() == outcomes.len() {
            out.push(tag.when.clone());
        } else {
            out.extend(passing.iter().filter_map(|o| combine(&tag.when, &o.when)));
        }
    }
    out
}

/// The cases in which every test of `Conditions` passes (they are joined by AND). A test
/// that is not on a resource tag, or cannot be resolved, passes in no case.
fn conditions_hold(
    ev: &Evaluator,
    doc: &Document,
    conditions: NodeId,
    target: &Target,
    absent: &mut Vec<String>,
) -> Vec<Assumptions> {
    // `Conditions` chosen by `Fn::If` (in either form): each case on its own; removed
    // (`AWS::NoValue`): no test; anything else that is not a plain mapping (`!Ref`,
    // `!FindInMap`, an unresolvable `Fn::If`) passes in no case.
    let mut out = Vec::new();
    for branch in expand::branches(ev, doc, conditions) {
        let (node, when) = match branch {
            Branch::Node { node, when } => (node, when),
            Branch::NoValue { when, .. } => {
                out.push(when);
                continue;
            }
            Branch::Unknown { .. } => continue,
        };
        if doc.call(node).is_some() || doc.map(node).is_none() {
            continue;
        }
        for w in conditions_hold_in(ev, doc, node, target, absent) {
            out.extend(combine(&when, &w));
        }
    }
    out
}

fn conditions_hold_in(
    ev: &Evaluator,
    doc: &Document,
    conditions: NodeId,
    target: &Target,
    absent: &mut Vec<String>,
) -> Vec<Assumptions> {
    let mut acc: Vec<Assumptions> = vec![Assumptions::none()];
    for entry in doc.map(conditions).unwrap_or(&[]) {
        let test = match doc.key(entry) {
            "StringEquals" => Test::Equals,
            "StringLike" => Test::Like,
            "StringNotEquals" => Test::NotEquals,
            "StringNotLike" => Test::NotLike,
            _ => return Vec::new(),
        };
        for item in expand::items(ev, doc, entry.value) {
            // A test that exists only in some cases passes wherever it passes while
            // present, so its own cases are kept as they are.
            let Branch::Node { node, .. } = item else {
                return Vec::new();
            };
            if doc.call(node).is_some() {
                return Vec::new();
            }
            let key = doc
                .get_value(node, "ConditionKey")
                .and_then(|k| literal(ev, k));
            let value = doc
                .get_value(node, "ConditionValue")
                .and_then(|v| literal(ev, v));
            let tag = key
                .as_deref()
                .and_then(|k| k.strip_prefix("aws:ResourceTag/"));
            let (Some(tag), Some(value)) = (tag, value) else {
                return Vec::new();
            };
            let passes = tag_test(target, tag, test, &value, absent);
            acc = acc
                .iter()
                .flat_map(|a| {
                    passes
                        .iter()
                        .filter_map(|p| combine(a, p))
                        .collect::<Vec<_>>()
                })
                .collect();
            if acc.len() > MAX_ALTERNATIVES {
                return Vec::new();
            }
        }
    }
    acc
}

// ---------------------------------------------------------------------------------------
// Guardrails

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuardrailKind {
    /// A service control policy that denies deleting tables, backups or recovery points.
    Scp,
    /// A backup vault with `LockConfiguration`.
    VaultLock,
    /// A backup vault whose `AccessPolicy` denies `backup:DeleteRecoveryPoint`.
    VaultPolicy,
    /// An identity policy in a policy file that denies deleting tables, backups or
    /// recovery points to the principals it is attached to.
    IdentityPolicy,
    /// A table whose resource-based policy (`ResourcePolicy`, or a global table replica's)
    /// denies `dynamodb:DeleteTable`.
    TablePolicy,
}

impl GuardrailKind {
    pub fn as_str(self) -> &'static str {
        match self {
            GuardrailKind::Scp => "scp",
            GuardrailKind::VaultLock => "vault-lock",
            GuardrailKind::VaultPolicy => "vault-policy",
            GuardrailKind::IdentityPolicy => "identity-policy",
            GuardrailKind::TablePolicy => "table-policy",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Guardrail<'d> {
    pub resource: &'d str,
    pub kind: GuardrailKind,
    pub denies: Vec<&'static str>,
    /// Set when the guardrail holds only in some cases: which.
    pub conditional: Option<String>,
    /// What else a reader should know (a lock in governance mode can be removed).
    pub note: Option<String>,
    /// The ARNs the denies of a policy apply to, as written (`NotResource` values
    /// prefixed with `not `); empty for a vault, which applies to its own recovery points.
    pub scope: Vec<String>,
}

/// The deletions a service control policy is recognized for (`backup:Delete*` as the
/// actions it matches), and the ARNs each acts on.
const SCP_ACTIONS: &[Guarded] = &[
    iam::DELETE_TABLE,
    iam::DELETE_BACKUP,
    iam::DELETE_RECOVERY_POINT,
    iam::DELETE_BACKUP_VAULT,
    iam::DELETE_BACKUP_VAULT_LOCK_CONFIGURATION,
    iam::DELETE_BACKUP_VAULT_ACCESS_POLICY,
    iam::DELETE_BACKUP_PLAN,
    iam::DELETE_BACKUP_SELECTION,
];

/// What a vault's access policy is recognized for; it must deny the first.
const VAULT_ACTIONS: &[Guarded] = &[
    iam::DELETE_RECOVERY_POINT,
    iam::UPDATE_RECOVERY_POINT_LIFECYCLE,
    iam::DELETE_BACKUP_VAULT,
];

/// Every guardrail the template declares, in resource order.
pub fn guardrails<'d>(template: &Template<'d, '_>) -> Vec<Guardrail<'d>> {
    let doc = template.doc;
    let mut out = Vec::new();
    for resource in &template.resources {
        let ev = Evaluator::new(template, &resource.loops);
        let Some(exists) = resource_condition(&ev, doc, resource) else {
            continue;
        };
        if let Some(standalone) = resource.standalone_policy {
            if standalone.in_effect {
                out.extend(policy_file_guardrail(template, resource));
            }
            continue;
        }
        let props = doc.get_value(resource.node, "Properties");
        match (resource.type_name, props) {
            (Some("AWS::Backup::BackupVault"), Some(props)) => {
                if let Some(lock) = doc.get_value(props, "LockConfiguration") {
                    out.extend(vault_lock(&ev, doc, resource, lock, &exists));
                }
                if let Some(policy) = doc.get_value(props, "AccessPolicy") {
                    let document = PolicyDocument {
                        node: policy,
                        kind: PolicyKind::Identity,
                        name: None,
                        when: exists.clone(),
                    };
                    let statements = iam::statements(template, resource, &document);
                    let denied = denied_actions(doc, &statements, VAULT_ACTIONS);
                    if denied
                        .first()
                        .is_some_and(|(a, _)| *a == VAULT_ACTIONS[0].action)
                    {
                        out.push(guardrail(resource, GuardrailKind::VaultPolicy, denied));
                    }
                }
            }
            (Some("AWS::DynamoDB::Table" | "AWS::DynamoDB::GlobalTable"), Some(_)) => {
                const TABLE_ACTIONS: &[Guarded] = &[iam::DELETE_TABLE];
                let mut denied = Vec::new();
                let mut scope = Vec::new();
                for document in iam::documents(template, resource) {
                    let Some(when) = combine(&exists, &document.when) else {
                        continue;
                    };
                    let document = PolicyDocument { when, ..document };
                    let statements = iam::statements(template, resource, &document);
                    for (action, reason) in denied_actions(doc, &statements, TABLE_ACTIONS) {
                        merge(&mut denied, action, reason);
                    }
                    deny_scope(&statements, &mut scope);
                }
                if !denied.is_empty() {
                    let mut g = guardrail(resource, GuardrailKind::TablePolicy, denied);
                    g.scope = scope;
                    out.push(g);
                }
            }
            (Some("AWS::Organizations::Policy"), Some(props)) => {
                let is_scp = doc
                    .get_value(props, "Type")
                    .and_then(|t| literal(&ev, t))
                    .is_some_and(|t| t == "SERVICE_CONTROL_POLICY");
                if !is_scp {
                    continue;
                }
                let mut denied = Vec::new();
                let mut scope = Vec::new();
                for document in iam::documents(template, resource) {
                    let Some(when) = combine(&exists, &document.when) else {
                        continue;
                    };
                    let document = PolicyDocument { when, ..document };
                    let statements = iam::statements(template, resource, &document);
                    for (action, reason) in denied_actions(doc, &statements, SCP_ACTIONS) {
                        merge(&mut denied, action, reason);
                    }
                    deny_scope(&statements, &mut scope);
                }
                if !denied.is_empty() {
                    let mut g = guardrail(resource, GuardrailKind::Scp, denied);
                    g.scope = scope;
                    if let Some(detached) = not_attached(&ev, doc, props) {
                        g.conditional = Some(match g.conditional {
                            Some(c) => format!("{detached}; {c}"),
                            None => detached,
                        });
                    }
                    out.push(g);
                }
            }
            _ => {}
        }
    }
    out
}

/// A policy file's document that denies deleting tables, backups or recovery points: an
/// SCP or an identity policy, with the ARNs its denies name.
fn policy_file_guardrail<'d>(
    template: &Template<'d, '_>,
    resource: &Resource<'d>,
) -> Option<Guardrail<'d>> {
    let mut denied = Vec::new();
    let mut scope: Vec<String> = Vec::new();
    let mut kind = GuardrailKind::IdentityPolicy;
    for document in iam::documents(template, resource) {
        if document.kind == PolicyKind::ServiceControl {
            kind = GuardrailKind::Scp;
        }
        let statements = iam::statements(template, resource, &document);
        for (action, reason) in denied_actions(template.doc, &statements, SCP_ACTIONS) {
            merge(&mut denied, action, reason);
        }
        deny_scope(&statements, &mut scope);
    }
    if denied.is_empty() {
        return None;
    }
    let mut g = guardrail(resource, kind, denied);
    g.scope = scope;
    Some(g)
}

/// The resources (as written; `NotResource` values as `not ...`) of the statements that
/// deny one of [`SCP_ACTIONS`], added to `scope` once each.
fn deny_scope(statements: &[Statement], scope: &mut Vec<String>) {
    for s in statements {
        let denies_one = s.effect == Effect::Deny
            && SCP_ACTIONS
                .iter()
                .any(|g| denies_action(&s.actions, g.action).is_some());
        if !denies_one {
            continue;
        }
        let written: Vec<String> = match &s.resources {
            Resources::Resource(items) => {
                items.iter().map(|r| iam::display_glob(&r.glob)).collect()
            }
            Resources::NotResource { items, .. } => items
                .iter()
                .map(|r| format!("not {}", iam::display_glob(&r.glob)))
                .collect(),
            Resources::Missing => Vec::new(),
        };
        for w in written {
            if !scope.contains(&w) {
                scope.push(w);
            }
        }
    }
}

/// When a service control policy is attached to no account: it has no `TargetIds`, or
/// they are removed (`AWS::NoValue`) or empty in some case.
fn not_attached(ev: &Evaluator, doc: &Document, props: NodeId) -> Option<String> {
    let Some(targets) = doc.get_value(props, "TargetIds") else {
        return Some("not attached: no `TargetIds`, so it applies to no account".to_string());
    };
    let mut cases: Vec<String> = Vec::new();
    for b in expand::branches(ev, doc, targets) {
        match b {
            Branch::NoValue { when, .. } => cases.push(describe(&when)),
            Branch::Node { node, when } if doc.list(node).is_some() => {
                // The list is empty in some case unless one item is there in every case
                // the list is: `[!If [C, r-root, !Ref AWS::NoValue]]` attaches nothing
                // when `C` is false.
                let always = expand::items(ev, doc, node).iter().any(|item| match item {
                    Branch::Node { when: w, .. } | Branch::Unknown { when: w, .. } => {
                        w.len() <= when.len()
                    }
                    Branch::NoValue { .. } => false,
                });
                if !always {
                    let removed = "every `TargetIds` item is removed (`AWS::NoValue`)";
                    cases.push(if doc.list(node).is_some_and(<[NodeId]>::is_empty) {
                        describe(&when)
                    } else if when.is_empty() {
                        format!("when {removed}")
                    } else {
                        format!("{} and {removed}", describe(&when))
                    });
                }
            }
            _ => {}
        }
    }
    (!cases.is_empty()).then(|| {
        format!(
            "not attached {}: without `TargetIds` it applies to no account",
            cases.join(", or ")
        )
    })
}

fn vault_lock<'d>(
    ev: &Evaluator,
    doc: &Document,
    resource: &Resource<'d>,
    lock: NodeId,
    exists: &[Assumption],
) -> Option<Guardrail<'d>> {
    let branches = expand::branches(ev, doc, lock);
    let locked: Vec<(NodeId, Assumptions)> = branches
        .iter()
        .filter_map(|b| match b {
            Branch::Node { node, when } => combine(exists, when).map(|w| (*node, w)),
            _ => None,
        })
        .collect();
    locked.first()?;
    let conditional = if locked.len() == branches.len() && exists.is_empty() {
        None
    } else {
        let cases: Vec<String> = locked.iter().map(|(_, w)| describe(w)).collect();
        Some(format!("the vault is locked only {}", cases.join(", or ")))
    };
    // Without `ChangeableForDays` the lock is in governance mode: it can be removed at any
    // time. Whenever the value may be absent (`Fn::If`, `AWS::NoValue`) or is not known to
    // be a number of days (a parameter), that case is governance mode.
    let mut governance: Vec<String> = Vec::new();
    for (node, when) in &locked {
        let Some(days) = doc.get_value(*node, "ChangeableForDays") else {
            governance.push(describe(when));
            continue;
        };
        for o in ev.eval(days) {
            let fixed =
                matches!(&o.value, Value::Text(t) if t.trim().parse::<u32>().is_ok_and(|d| d > 0));
            if fixed {
                continue;
            }
            let Some(w) = combine(when, &o.when) else {
                continue;
            };
            let case = match &o.value {
                Value::Unknown(why) => format!(
                    "{} (`ChangeableForDays` cannot be known: {why})",
                    describe(&w)
                ),
                _ => describe(&w),
            };
            if !governance.contains(&case) {
                governance.push(case);
            }
        }
    }
    let note = (!governance.is_empty()).then(|| {
        format!(
            "governance mode {}: without `ChangeableForDays` the lock can be removed at any time by principals allowed `backup:DeleteBackupVaultLockConfiguration`",
            governance.join(", or ")
        )
    });
    let conditional = match (conditional, governance.is_empty()) {
        (c, true) => c,
        (None, false) => Some(format!(
            "the lock is removable (governance mode) {}",
            governance.join(", or ")
        )),
        (Some(c), false) => Some(format!(
            "{c}; the lock is removable (governance mode) {}",
            governance.join(", or ")
        )),
    };
    Some(Guardrail {
        resource: resource.logical_id,
        kind: GuardrailKind::VaultLock,
        denies: vec!["backup:DeleteRecoveryPoint"],
        conditional,
        note,
        scope: Vec::new(),
    })
}

fn guardrail<'d>(
    resource: &Resource<'d>,
    kind: GuardrailKind,
    denied: Vec<(&'static str, Option<String>)>,
) -> Guardrail<'d> {
    // One line per reason, naming the actions it applies to.
    let mut conditions: Vec<(String, Vec<&str>)> = Vec::new();
    for (action, why) in &denied {
        let Some(why) = why else { continue };
        match conditions.iter_mut().find(|(w, _)| w == why) {
            Some((_, actions)) => actions.push(action),
            None => conditions.push((why.clone(), vec![action])),
        }
    }
    let every = conditions.len() == 1 && conditions[0].1.len() == denied.len();
    let conditions: Vec<String> = conditions
        .into_iter()
        .map(|(why, actions)| {
            if every {
                return format!("denied {why}");
            }
            let actions: Vec<String> = actions.iter().map(|a| format!("`{a}`")).collect();
            format!("{} denied {why}", actions.join(", "))
        })
        .collect();
    Guardrail {
        resource: resource.logical_id,
        kind,
        denies: denied.iter().map(|(a, _)| *a).collect(),
        conditional: (!conditions.is_empty()).then(|| conditions.join("; ")),
        note: None,
        scope: Vec::new(),
    }
}

/// Keep the better of two findings for one action: an unconditional deny wins.
fn merge(
    denied: &mut Vec<(&'static str, Option<String>)>,
    action: &'static str,
    why: Option<String>,
) {
    match denied.iter_mut().find(|(a, _)| *a == action) {
        Some(existing) => {
            if why.is_none() {
                existing.1 = None;
            }
        }
        None => denied.push((action, why)),
    }
}

/// Which of `actions` some `Deny` statement denies on an ARN they act on, each with why
/// the deny is conditional (`None`: in every case, for everyone, on every such ARN), in
/// the order of `actions`. What a statement covers is [`iam::deny_reach`], DDB010's own.
fn denied_actions(
    doc: &Document,
    statements: &[Statement],
    actions: &[Guarded],
) -> Vec<(&'static str, Option<String>)> {
    let mut out: Vec<(&'static str, Option<String>)> = Vec::new();
    for guarded in actions {
        let action = guarded.action;
        for s in statements {
            if s.effect != Effect::Deny {
                continue;
            }
            let Some(item_when) = denies_action(&s.actions, action) else {
                continue;
            };
            let mut why: Vec<String> = Vec::new();
            match iam::deny_reach(s, guarded) {
                iam::DenyReach::None => continue,
                iam::DenyReach::Some(which) => why.push(which),
                iam::DenyReach::All => {}
            }
            let Some(when) = combine(&s.when, &item_when) else {
                continue;
            };
            why.extend(principal_limit(doc, s.node));
            if s.has_condition {
                why.push(condition_limit(doc, s.node));
            }
            if !when.is_empty() {
                why.push(format!("only {}", describe(&when)));
            }
            merge(&mut out, action, (!why.is_empty()).then(|| why.join(", ")));
        }
    }
    out
}

/// Who a `Deny` leaves out, when it does not apply to every principal: `Principal` other
/// than `*` (or `{AWS: "*"}`), or `NotPrincipal`.
fn principal_limit(doc: &Document, statement: NodeId) -> Option<String> {
    if let Some(p) = doc.get_value(statement, "NotPrincipal") {
        return Some(format!(
            "not for the principals `NotPrincipal` lists ({})",
            principals(doc, p)
        ));
    }
    let p = doc.get_value(statement, "Principal")?;
    let everyone = |n: NodeId| doc.str(n).is_some_and(|t| t.trim() == "*");
    if everyone(p) {
        return None;
    }
    if let Some(entries) = doc.map(p) {
        if doc.call(p).is_none()
            && entries.iter().any(|e| {
                doc.key(e) == "AWS"
                    && (everyone(e.value)
                        // A literal list only: `!If [C, '*', role]` is a tagged sequence
                        // whose items are not principals, and names `*` in one case only.
                        || doc
                            .list(e.value)
                            .is_some_and(|l| l.iter().any(|&i| everyone(i))))
            })
        {
            return None;
        }
    }
    Some(format!(
        "only for the principals it names ({}): every other principal is not denied",
        principals(doc, p)
    ))
}

/// The principals of a `Principal`/`NotPrincipal` value, as written (literal ones only).
fn principals(doc: &Document, node: NodeId) -> String {
    let mut names: Vec<String> = Vec::new();
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        if doc.call(n).is_some() {
            names.push("a value computed at deploy time".into());
            continue;
        }
        if let Some(text) = doc.str(n) {
            names.push(format!("`{text}`"));
        } else if let Some(items) = doc.seq(n) {
            stack.extend(items.iter().rev().copied());
        } else if let Some(entries) = doc.map(n) {
            stack.extend(entries.iter().rev().map(|e| e.value));
        }
        if names.len() > 4 {
            names.push("...".into());
            break;
        }
    }
    names.join(", ")
}

/// What a statement's IAM `Condition` tests: a `Deny` applies only when it holds. The
/// audit's live policies say it in the same words.
pub fn condition_limit(doc: &Document, statement: NodeId) -> String {
    let mut tests: Vec<String> = Vec::new();
    if let Some(condition) = doc.get_value(statement, "Condition") {
        for op in doc.map(condition).unwrap_or(&[]) {
            let keys: Vec<String> = doc
                .map(op.value)
                .unwrap_or(&[])
                .iter()
                .map(|k| format!("`{}`", doc.key(k)))
                .collect();
            tests.push(format!("`{}` on {}", doc.key(op), keys.join(", ")));
        }
    }
    if tests.is_empty() {
        "only when the statement's IAM `Condition` holds".to_string()
    } else {
        format!(
            "only when the statement's IAM `Condition` holds ({}): requests it does not match are not denied",
            tests.join("; ")
        )
    }
}

/// The assumptions under which the action list names `action`, if it can.
fn denies_action(actions: &Actions, action: &str) -> Option<Assumptions> {
    match actions {
        Actions::Action(items) => items
            .iter()
            .filter(|i| i.pattern.as_ref().is_ok_and(|p| action_matches(p, action)))
            .min_by_key(|i| i.when.len())
            .map(|i| i.when.clone()),
        Actions::NotAction { items, .. } => items
            .iter()
            .all(|i| i.pattern.as_ref().is_ok_and(|p| !action_matches(p, action)))
            .then(Assumptions::none),
        Actions::Missing => None,
    }
}

/// "when condition `IsProd` is true and parameter `Env` is `prod`".
pub fn describe(when: &[Assumption]) -> String {
    match Assumptions::all(when) {
        Some(all) if !all.is_empty() => all.to_string(),
        _ => "in every case".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::with_yaml_template;

    fn with_guardrails(text: &str, check: impl FnOnce(Vec<Guardrail>)) {
        with_yaml_template(text, |template| check(guardrails(template)));
    }

    const CONDITIONS: &str = "Parameters:\n  Env: {Type: String, AllowedValues: [prod, dev]}\nConditions:\n  IsProd: !Equals [!Ref Env, prod]\n";

    /// A service control policy is recognized for every deletion DDB023 guards, in the
    /// inventory's own order.
    #[test]
    fn scp_actions_are_the_deletions() {
        let mut scp: Vec<&str> = SCP_ACTIONS.iter().map(|g| g.action).collect();
        let mut all: Vec<&str> = iam::DELETIONS.iter().map(|g| g.action).collect();
        scp.sort_unstable();
        all.sort_unstable();
        assert_eq!(scp, all);
    }

    fn vault(properties: &str) -> String {
        format!("{CONDITIONS}Resources:\n  Vault:\n    Type: AWS::Backup::BackupVault\n    Properties:\n      BackupVaultName: v\n{properties}")
    }

    fn scp(policy_type: &str, statement: &str) -> String {
        format!("Resources:\n  Guard:\n    Type: AWS::Organizations::Policy\n    Properties:\n      Name: g\n      Type: {policy_type}\n      TargetIds: [r-root]\n      Content:\n        Version: '2012-10-17'\n        Statement:\n{statement}")
    }

    #[test]
    fn a_vault_lock_is_a_guardrail_and_governance_mode_is_noted() {
        let compliance =
            vault("      LockConfiguration: {MinRetentionDays: 35, ChangeableForDays: 3}\n");
        with_guardrails(&compliance, |g| {
            assert_eq!(g.len(), 1);
            assert_eq!(g[0].kind, GuardrailKind::VaultLock);
            assert_eq!(g[0].denies, ["backup:DeleteRecoveryPoint"]);
            assert_eq!(
                (g[0].conditional.as_deref(), g[0].note.as_deref()),
                (None, None)
            );
        });
        let governance = vault("      LockConfiguration: {MinRetentionDays: 35}\n");
        with_guardrails(&governance, |g| {
            assert!(g[0]
                .note
                .as_deref()
                .is_some_and(|n| n.contains("governance")));
        });
    }

    #[test]
    fn a_lock_in_one_if_branch_is_conditional() {
        let text = vault(
            "      LockConfiguration: !If [IsProd, {MinRetentionDays: 35}, !Ref AWS::NoValue]\n",
        );
        with_guardrails(&text, |g| {
            assert_eq!(g.len(), 1);
            assert!(g[0]
                .conditional
                .as_deref()
                .is_some_and(|c| c.contains("condition `IsProd` is true")));
        });
    }

    #[test]
    fn a_vault_policy_must_deny_deleting_recovery_points() {
        let deny = |actions: &str, effect: &str| {
            vault(&format!("      AccessPolicy:\n        Statement:\n          - Effect: {effect}\n            Principal: '*'\n            Action: {actions}\n            Resource: '*'\n"))
        };
        with_guardrails(&deny("backup:DeleteRecoveryPoint", "Deny"), |g| {
            assert_eq!(g.len(), 1);
            assert_eq!(g[0].kind, GuardrailKind::VaultPolicy);
            assert_eq!(g[0].denies, ["backup:DeleteRecoveryPoint"]);
        });
        with_guardrails(&deny("'backup:Delete*'", "Deny"), |g| {
            assert_eq!(
                g[0].denies,
                ["backup:DeleteRecoveryPoint", "backup:DeleteBackupVault"]
            );
        });
        with_guardrails(&deny("backup:DeleteRecoveryPoint", "Allow"), |g| {
            assert!(g.is_empty())
        });
        with_guardrails(&deny("backup:DeleteBackupVault", "Deny"), |g| {
            assert!(g.is_empty())
        });
    }

    const DENY_DELETES: &str = "          - Effect: Deny\n            Action: [dynamodb:DeleteTable, 'backup:Delete*']\n            Resource: '*'\n";

    #[test]
    fn a_service_control_policy_that_denies_deletions_is_a_guardrail() {
        with_guardrails(&scp("SERVICE_CONTROL_POLICY", DENY_DELETES), |g| {
            assert_eq!(g.len(), 1);
            assert_eq!(g[0].kind, GuardrailKind::Scp);
            assert_eq!(
                g[0].denies[..2],
                ["dynamodb:DeleteTable", "backup:DeleteRecoveryPoint"]
            );
            assert!(!g[0].denies.contains(&"dynamodb:DeleteBackup"));
            assert_eq!(g[0].conditional, None);
        });
    }

    #[test]
    fn other_policy_types_and_allow_only_scps_are_not_guardrails() {
        with_guardrails(&scp("TAG_POLICY", DENY_DELETES), |g| assert!(g.is_empty()));
        let allow = DENY_DELETES.replace("Deny", "Allow");
        with_guardrails(&scp("SERVICE_CONTROL_POLICY", &allow), |g| {
            assert!(g.is_empty())
        });
        let elsewhere = DENY_DELETES.replace("'*'", "arn:aws:s3:::bucket");
        with_guardrails(&scp("SERVICE_CONTROL_POLICY", &elsewhere), |g| {
            assert!(g.is_empty())
        });
    }

    #[test]
    fn an_iam_condition_makes_an_scp_deny_conditional() {
        let text = format!(
            "{DENY_DELETES}            Condition:\n              ArnNotLike: {{aws:PrincipalArn: 'arn:aws:iam::*:role/break-glass'}}\n"
        );
        with_guardrails(&scp("SERVICE_CONTROL_POLICY", &text), |g| {
            assert_eq!(g.len(), 1);
            let why = g[0].conditional.as_deref().unwrap_or_default();
            assert!(
                why.starts_with("denied only when the statement's IAM `Condition` holds")
                    && why.contains("`ArnNotLike` on `aws:PrincipalArn`"),
                "{why}"
            );
        });
    }

    #[test]
    fn not_resource_denies_everything_except_what_it_lists() {
        let deny = |not_resource: &str| {
            format!("          - Effect: Deny\n            Action: [dynamodb:DeleteTable, 'backup:Delete*']\n            NotResource: {not_resource}\n")
        };
        // `NotResource: "*"` denies nothing.
        with_guardrails(&scp("SERVICE_CONTROL_POLICY", &deny("'*'")), |g| {
            assert!(g.is_empty(), "{g:?}")
        });
        // Table ARNs left out: deleting tables is not denied; the rest is.
        let tables = deny("'arn:aws:dynamodb:*:*:table/*'");
        with_guardrails(&scp("SERVICE_CONTROL_POLICY", &tables), |g| {
            assert_eq!(g.len(), 1);
            assert!(!g[0].denies.contains(&"dynamodb:DeleteTable"), "{g:?}");
            assert!(g[0].denies.contains(&"backup:DeleteRecoveryPoint"), "{g:?}");
        });
        // Some tables left out: conditional, saying which.
        let some = deny("'arn:aws:dynamodb:*:*:table/scratch-*'");
        with_guardrails(&scp("SERVICE_CONTROL_POLICY", &some), |g| {
            let why = g[0].conditional.as_deref().unwrap_or_default();
            assert!(why.contains("except") && why.contains("scratch-*"), "{why}");
        });
        // An S3 ARN left out: every table ARN is denied.
        let s3 = deny("'arn:aws:s3:::bucket'");
        with_guardrails(&scp("SERVICE_CONTROL_POLICY", &s3), |g| {
            assert_eq!(g[0].conditional, None, "{g:?}");
        });
    }

    #[test]
    fn a_deny_for_named_principals_or_with_not_principal_is_conditional() {
        let deny = |principal: &str| {
            vault(&format!("      AccessPolicy:\n        Statement:\n          - Effect: Deny\n            {principal}\n            Action: backup:DeleteRecoveryPoint\n            Resource: '*'\n"))
        };
        for everyone in ["Principal: '*'", "Principal: {AWS: '*'}"] {
            with_guardrails(&deny(everyone), |g| {
                assert_eq!(g[0].conditional, None, "{everyone}: {g:?}")
            });
        }
        let named = deny("Principal: {AWS: 'arn:aws:iam::123456789012:role/app'}");
        with_guardrails(&named, |g| {
            let why = g[0].conditional.as_deref().unwrap_or_default();
            assert!(
                why.contains("only for the principals it names") && why.contains("role/app"),
                "{why}"
            );
        });
        let not = deny("NotPrincipal: {AWS: 'arn:aws:iam::123456789012:role/admin'}");
        with_guardrails(&not, |g| {
            let why = g[0].conditional.as_deref().unwrap_or_default();
            assert!(
                why.contains("not for the principals") && why.contains("role/admin"),
                "{why}"
            );
        });
    }

    #[test]
    fn a_lock_whose_changeable_days_may_be_absent_is_governance_mode_in_that_case() {
        for days in ["!If [IsProd, 3, !Ref AWS::NoValue]", "!Ref Days"] {
            let text = vault(&format!(
                "      LockConfiguration: {{MinRetentionDays: 35, ChangeableForDays: {days}}}\n"
            ))
            .replace("Parameters:\n", "Parameters:\n  Days: {Type: Number}\n");
            with_guardrails(&text, |g| {
                let why = g[0].conditional.as_deref().unwrap_or_default();
                assert!(why.contains("governance mode"), "{days}: {why}");
                assert!(g[0]
                    .note
                    .as_deref()
                    .is_some_and(|n| n.contains("removed at any time")));
            });
        }
    }

    #[test]
    fn an_scp_without_target_ids_is_not_attached() {
        let text =
            scp("SERVICE_CONTROL_POLICY", DENY_DELETES).replace("      TargetIds: [r-root]\n", "");
        with_guardrails(&text, |g| {
            let why = g[0].conditional.as_deref().unwrap_or_default();
            assert!(why.starts_with("not attached"), "{why}");
        });
        let conditional = scp("SERVICE_CONTROL_POLICY", DENY_DELETES)
            .replace("[r-root]", "!If [IsProd, [r-root], !Ref AWS::NoValue]");
        let text = format!("{CONDITIONS}{conditional}");
        with_guardrails(&text, |g| {
            let why = g[0].conditional.as_deref().unwrap_or_default();
            assert!(
                why.contains("not attached when condition `IsProd` is false"),
                "{why}"
            );
        });
    }
}
