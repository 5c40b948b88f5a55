//! What became of each base table at the head: kept under its logical ID, renamed (a new
//! logical ID for what is recognisably the same table), or removed. Shared by DDB020,
//! DDB021 and DDB022 so that each base table gets exactly one fate.

use super::table_replaced::Versions;
use crate::model::for_each::{copies, Copies, Copy};
use crate::model::same::{fingerprint, same_value, same_value_bound, Side};
use crate::model::{Resource, Template};

use crate::rules::{Comparison, Head};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Evidence {
    TableName,
    KeySchema,
}

impl Evidence {
    pub fn describe(self) -> &'static str {
        match self {
            Evidence::TableName => "the same TableName",
            Evidence::KeySchema => "the same key schema",
        }
    }
}

#[derive(Clone, Copy)]
pub enum Fate<'a, 'd> {
    /// Same logical ID at the head (whatever its type now).
    Kept(&'a Resource<'d>),
    /// Gone under its ID, and a new ID at the head holds a table of the same type with the
    /// same TableName or key schema.
    Renamed(&'a Resource<'d>, Evidence),
    /// Moved into or out of `Fn::ForEach` (or between loops): every logical ID the base
    /// resource produces is produced at the head by a resource that is the same, copy by
    /// copy, with the loop variables read as their items. Nothing is removed or renamed,
    /// and the resources are the same, so no comparison rule has anything to report.
    Refactored,
    Removed,
}

/// A base table with its fate.
pub type Fated<'a, 'd> = (&'a Resource<'d>, Fate<'a, 'd>);

/// Every base table with its fate, in base order. A head table is the rename target of at
/// most one base table; TableName evidence is matched before key-schema evidence, since a
/// key schema like `id HASH` is shared by many unrelated tables. Found once per comparison
/// (five rules ask).
pub fn fates<'c, 'a, 'd>(
    cmp: &'c Comparison<'a, 'd, '_>,
) -> impl Iterator<Item = Fated<'a, 'd>> + 'c {
    cmp.pr_guard
        .fates
        .get_or_init(|| find_fates(cmp))
        .iter()
        .copied()
}

fn find_fates<'a, 'd>(cmp: &Comparison<'a, 'd, '_>) -> Vec<Fated<'a, 'd>> {
    let base = cmp.base;
    let tables: Vec<&'a Resource<'d>> = base.resources.iter().filter(|r| r.is_table()).collect();
    let Head::Template(head) = &cmp.head else {
        return tables.into_iter().map(|t| (t, Fate::Removed)).collect();
    };
    let head: &'a Template<'d, '_> = head;
    let versions = Versions {
        base,
        head,
        nested_same: cmp.nested_same,
        proofs: &cmp.pr_guard.proofs,
    };
    let mut fates: Vec<Option<Fate<'a, 'd>>> = tables
        .iter()
        .map(|t| head.resource(t.logical_id).map(Fate::Kept))
        .collect();
    // Tables moved into or out of `Fn::ForEach` with the same logical IDs and properties.
    let mut refactor_targets: Vec<&'a Resource<'d>> = Vec::new();
    // The head's copies by logical ID, listed once and only if a table needs them (listing
    // them for every table gone under its ID was quadratic).
    let head_copies = std::cell::OnceCell::new();
    for (i, table) in tables.iter().enumerate() {
        if fates[i].is_some() {
            continue;
        }
        let head_copies = head_copies.get_or_init(|| copies_by_id(head));
        if let Some(targets) = refactored(base, table, head, head_copies) {
            refactor_targets.extend(targets);
            fates[i] = Some(Fate::Refactored);
        }
    }
    let refactor_targets: std::collections::HashSet<*const Resource<'d>> = refactor_targets
        .into_iter()
        .map(|t| t as *const Resource<'d>)
        .collect();
    // Head tables under logical IDs the base does not have: the candidates for a rename.
    let mut candidates: Vec<Option<&'a Resource<'d>>> = head
        .tables()
        .filter(|r| !base.has_resource(r.logical_id))
        .filter(|r| !refactor_targets.contains(&(*r as *const Resource<'d>)))
        .map(Some)
        .collect();
    for evidence in [Evidence::TableName, Evidence::KeySchema] {
        // The candidates by the fingerprint of what `same_by` compares, so that a base table
        // reads only those that can be the same (thousands removed and thousands added were
        // compared pair by pair).
        let mut index = RenameIndex::of(head, &candidates, evidence);
        for (i, table) in tables.iter().enumerate() {
            if fates[i].is_some() {
                continue;
            }
            let found = index.first(base, table, &candidates, |c| {
                c.type_name == table.type_name && same_by(&versions, table, c, evidence)
            });
            if let Some(target) = found.and_then(|j| candidates.get_mut(j)?.take()) {
                fates[i] = Some(Fate::Renamed(target, evidence));
            }
        }
    }
    tables
        .into_iter()
        .zip(fates)
        .map(|(t, f)| (t, f.unwrap_or(Fate::Removed)))
        .collect()
}

/// A table's identifying value for an evidence: absent (it can be the same as nothing),
/// or its fingerprint (`None`: unknown, compared with everything).
fn identity_print(t: &Template, r: &Resource, property: &str) -> Option<Option<u64>> {
    let value = t
        .doc
        .get_value(r.node, "Properties")
        .and_then(|p| t.doc.get_value(p, property))?;
    Some(fingerprint(Side::new(t.doc, value)))
}

/// Positions of rename candidates in head order, read from `start` on: the ones before it
/// are taken.
#[derive(Default)]
struct Positions {
    start: usize,
    list: Vec<usize>,
}

type TypeName<'d> = Option<&'d str>;

/// The rename candidates for one evidence by the fingerprint of what [`same_by`] compares:
/// the identifying property (with the type), and for key-schema evidence also the
/// `TableName`, which must be the same when both tables have one. A candidate whose print
/// is unknown is read by every base table, and a base table whose print is unknown reads
/// every candidate (the comparison pair by pair, as without the index).
struct RenameIndex<'d> {
    evidence: Evidence,
    /// By type and identifying print.
    by_print: std::collections::HashMap<(TypeName<'d>, u64), Positions>,
    /// Key schema only: by type, key schema print and `TableName` print.
    by_name: std::collections::HashMap<(TypeName<'d>, u64, u64), Positions>,
    /// Key schema only: those without a `TableName`, or with one whose print is unknown.
    unnamed: std::collections::HashMap<(TypeName<'d>, u64), Positions>,
    /// The identifying print is unknown.
    unknown: Positions,
}

impl<'d> RenameIndex<'d> {
    fn of(
        head: &Template<'d, '_>,
        candidates: &[Option<&Resource<'d>>],
        evidence: Evidence,
    ) -> Self {
        let mut index = RenameIndex {
            evidence,
            by_print: std::collections::HashMap::new(),
            by_name: std::collections::HashMap::new(),
            unnamed: std::collections::HashMap::new(),
            unknown: Positions::default(),
        };
        for (j, c) in candidates.iter().enumerate() {
            let Some(c) = c else { continue };
            // No identifying property: the same as nothing.
            let Some(print) = identity_print(head, c, identity_property(c, evidence)) else {
                continue;
            };
            let Some(print) = print else {
                index.unknown.list.push(j);
                continue;
            };
            let kind = c.type_name;
            index
                .by_print
                .entry((kind, print))
                .or_default()
                .list
                .push(j);
            if evidence == Evidence::KeySchema {
                let positions = match identity_print(head, c, "TableName") {
                    Some(Some(name)) => index.by_name.entry((kind, print, name)).or_default(),
                    _ => index.unnamed.entry((kind, print)).or_default(),
                };
                positions.list.push(j);
            }
        }
        index
    }

    /// The first candidate (in head order) for which `same` holds, of those that can be the
    /// same as `table` by this evidence.
    fn first(
        &mut self,
        base: &Template<'d, '_>,
        table: &Resource<'d>,
        candidates: &[Option<&Resource<'d>>],
        mut same: impl FnMut(&Resource<'d>) -> bool,
    ) -> Option<usize> {
        let mut test = |j: usize| candidates.get(j).copied().flatten().is_some_and(&mut same);
        let print = identity_print(base, table, identity_property(table, self.evidence))?;
        let Some(print) = print else {
            return (0..candidates.len()).find(|&j| test(j));
        };
        let kind = table.type_name;
        let mut lists: Vec<&mut Positions> = vec![&mut self.unknown];
        let name = match self.evidence {
            Evidence::TableName => None,
            Evidence::KeySchema => identity_print(base, table, "TableName").flatten(),
        };
        match name {
            // Named: the candidates with the same name, or none.
            Some(name) => {
                lists.extend(self.by_name.get_mut(&(kind, print, name)));
                lists.extend(self.unnamed.get_mut(&(kind, print)));
            }
            None => lists.extend(self.by_print.get_mut(&(kind, print))),
        }
        // The lists are disjoint and in head order: merged, the first that is the same.
        for l in &mut lists {
            while l
                .list
                .get(l.start)
                .is_some_and(|&j| candidates.get(j).is_some_and(Option::is_none))
            {
                l.start += 1;
            }
        }
        let mut at: Vec<usize> = lists.iter().map(|l| l.start).collect();
        loop {
            let (k, j) = lists
                .iter()
                .zip(&at)
                .enumerate()
                .filter_map(|(k, (l, &p))| l.list.get(p).map(|&j| (k, j)))
                .min_by_key(|&(_, j)| j)?;
            if let Some(p) = at.get_mut(k) {
                *p += 1;
            }
            if test(j) {
                return Some(j);
            }
        }
    }
}

/// Each logical ID the head's resources produce (copies whose resources can list them),
/// with the resources that produce it in template order, each with its first copy of
/// that ID.
type CopiesById<'a, 'd> = std::collections::HashMap<String, Vec<(&'a Resource<'d>, Copy<'d>)>>;

fn copies_by_id<'a, 'd>(head: &'a Template<'d, '_>) -> CopiesById<'a, 'd> {
    let mut out: CopiesById<'a, 'd> = std::collections::HashMap::new();
    for r in &head.resources {
        let Copies::Known(cs) = copies(head, r) else {
            continue;
        };
        for c in cs {
            let produced = out.entry(c.id.clone()).or_default();
            // The resources are listed one after the other: this one's earlier copy of
            // the ID, if any, is the last entry.
            if !produced.last().is_some_and(|(p, _)| std::ptr::eq(*p, r)) {
                produced.push((r, c));
            }
        }
    }
    out
}

/// The head resources that produce every copy of `table`, each the same as its base copy
/// (the whole resource: type, attributes, properties), or `None`.
fn refactored<'a, 'd>(
    base: &Template<'d, '_>,
    table: &Resource<'d>,
    head: &'a Template<'d, '_>,
    head_copies: &CopiesById<'a, 'd>,
) -> Option<Vec<&'a Resource<'d>>> {
    let Copies::Known(base_copies) = copies(base, table) else {
        return None;
    };
    if base_copies.is_empty() {
        return None;
    }
    let mut targets = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for copy in &base_copies {
        let produced = head_copies.get(&copy.id)?;
        let found = produced.iter().find_map(|(r, c)| {
            if r.type_name != table.type_name {
                return None;
            }
            same_value_bound(
                Side::new(base.doc, table.node),
                &copy.bound,
                Side::new(head.doc, r.node),
                &c.bound,
            )
            .then_some(*r)
        })?;
        if seen.insert(found as *const Resource<'d>) {
            targets.push(found);
        }
    }
    Some(targets)
}

/// The property that identifies a table for `evidence` (SAM's SimpleTable names its key
/// `PrimaryKey`).
fn identity_property(resource: &Resource, evidence: Evidence) -> &'static str {
    match (evidence, resource.type_name) {
        (Evidence::TableName, _) => "TableName",
        (Evidence::KeySchema, Some("AWS::Serverless::SimpleTable")) => "PrimaryKey",
        (Evidence::KeySchema, _) => "KeySchema",
    }
}

/// Both resources have the identifying property, and it means the same thing.
fn same_by(versions: &Versions, a: &Resource, b: &Resource, evidence: Evidence) -> bool {
    let (base, head) = (versions.base, versions.head);
    let name = identity_property(a, evidence);
    let value = |t: &Template, r: &Resource| {
        t.doc
            .get_value(r.node, "Properties")
            .and_then(|p| t.doc.get_value(p, name))
    };
    let same = match (value(base, a), value(head, b)) {
        // The same text is the same name only while what it reads is unchanged
        // (`!Ref Prefix` whose Default changed names another table).
        (Some(x), Some(y)) if evidence == Evidence::TableName => {
            same_value(Side::new(base.doc, x), Side::new(head.doc, y))
                && versions.reads_unchanged(x, y)
        }
        (Some(x), Some(y)) => same_value(Side::new(base.doc, x), Side::new(head.doc, y)),
        _ => false,
    };
    if !same || evidence == Evidence::TableName {
        return same;
    }
    // A key schema like `id HASH` is everywhere: two tables with different explicit names
    // are two tables, not one renamed.
    let name = |t: &Template, r: &Resource| {
        t.doc
            .get_value(r.node, "Properties")
            .and_then(|p| t.doc.get_value(p, "TableName"))
    };
    match (name(base, a), name(head, b)) {
        (Some(x), Some(y)) => same_value(Side::new(base.doc, x), Side::new(head.doc, y)),
        _ => true,
    }
}
