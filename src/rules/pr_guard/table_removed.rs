//! DDB020 table-removed
//!
//! ## What it checks
//! Compares a template with its version at a base revision (`ddb-guard check --base REV`,
//! `ddb-guard diff OLD NEW`). A DynamoDB table present at the base must not disappear at
//! the head: neither the resource (and not by a logical-ID rename either, which is DDB021)
//! nor the whole template file. If the base `DeletionPolicy` was provably `Retain` (or
//! `RetainExceptOnCreate`) in every case, the finding is only a note.
//!
//! A table also disappears in some deployments while still declared:
//! - **Its `Condition` flips.** Whether the table exists is decided deployment by
//!   deployment: every value each parameter its condition reads can take at either
//!   revision (the `AllowedValues`, the literals it is compared with or looks up, one value
//!   none of them spells, and "not passed", which takes each revision's `Default`), and
//!   the pseudo parameters likewise. It is a removal where the head's condition is false
//!   and the base's was true for the same deployment, through the condition itself, any
//!   condition it refers to, a mapping or a parameter; where the change offers a value
//!   the base did not allow (`AllowedValues` widened or dropped, a `Default` added) and
//!   the head's condition is false for it; and where the change takes away the value a
//!   stack was deployed with (`AllowedValues` narrowed, a `Default` dropped) and some
//!   value the head allows makes it false. The message names the deployment. Rewriting
//!   a condition into another with the same truth is no finding: the text is never
//!   compared. A parameter that cannot be fixed to one value (an SSM or list parameter, or
//!   one built into a longer string) leaves the condition undecided, which is a finding
//!   unless everything the condition reads is unchanged.
//! - **`Fn::ForEach` loses copies.** The logical IDs each side's loops produce are
//!   compared as sets, not fragment keys: an item dropped from a literal collection
//!   removes that copy. A collection that is no longer a literal list (`!Ref` to a list
//!   parameter, `!Split`, ...) produces whatever the deployment passes, so the base's
//!   copies are reported as no longer certain, naming the parameter; the same parameter
//!   on both sides is no change only when its type, `AllowedValues` and a `Default` that
//!   keeps every base item are the same. A table moved from an explicit resource into a
//!   loop (or out of one) that produces the same logical IDs with the same properties,
//!   the loop variable read as its item, is neither removed nor renamed.
//!
//! A nested stack (`AWS::CloudFormation::Stack`, `AWS::Serverless::Application`) or a
//! stack set that disappears from the head (or changes logical ID) takes the tables of its
//! template with it: reported at the same place, naming the tables of the local nested
//! template (or of the stack set's inline `TemplateBody`) whose `DeletionPolicy` is not
//! provably `Retain`, or saying
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
use crate::load::NodeId;
use crate::model::cases::{self, Cases, Inputs, Revisions};
use crate::model::eval::{short, Truth};
use crate::model::for_each::{self, Copies};
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
    // What the conditions read and which changed, found once for every table.
    let at_base = Revisions::new(cmp.base, cmp.base);
    let both = match &cmp.head {
        Head::Template(head) => Some(Revisions::new(cmp.base, head)),
        _ => None,
    };
    for (table, fate) in fates(cmp) {
        let id = table.logical_id;
        let removals = match fate {
            // A table whose base `Condition` is false in every deployment never existed.
            Fate::Removed if never_exists(&at_base, table) => Vec::new(),
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
            Fate::Kept(now) => match &both {
                Some(revisions) if now.is_table() => partly_removed(revisions, table, now),
                _ => Vec::new(),
            },
            Fate::Renamed(..) | Fate::Refactored => Vec::new(),
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
    revisions: &Revisions,
    was: &Resource,
    now: &Resource,
) -> Vec<(String, Span, String)> {
    let mut out = Vec::new();
    if let Some(flip) = condition_flip(revisions, was, now) {
        out.push(flip);
    }
    if let Some(lost) = copies_lost(revisions.base, was, revisions.head, now) {
        out.push(lost);
    }
    out
}

/// The table exists at the base but not at the head in some deployment: its head
/// `Condition` can be false where the base one could not, through the condition itself, a
/// condition it refers to, a mapping, or a parameter's `AllowedValues` or `Default`. Each
/// deployment that matters is tried ([`Cases`]), and the message names the first that
/// removes the table. A deployment the base could not take (a value added to
/// `AllowedValues`) counts when the base table could exist at all: the stack was deployed
/// with some other value, and the update may pass the new one.
fn condition_flip(
    revisions: &Revisions,
    was: &Resource,
    now: &Resource,
) -> Option<(String, Span, String)> {
    let (base, head) = (revisions.base, revisions.head);
    let hd = head.doc;
    let id = was.logical_id;
    let entry = hd.get(now.node, "Condition")?;
    let name = hd.str(entry.value).unwrap_or("(not a condition name)");
    let before = match cases::condition_name(base, was) {
        Some(b) if b == name => format!("condition `{b}`"),
        Some(b) => format!("condition `{b}`"),
        None => "no condition".to_string(),
    };
    let head_says = format!("table `{id}` now exists only when condition `{name}` is true (at the base it had {before})");
    let place = format!("now exists only when `{name}` is true");
    let span = hd.span(entry.key);
    let Some(cases) = Cases::new(revisions, was, now) else {
        // Too many deployments to try one by one: the coarse question, failing closed.
        let can_be_false = Evaluator::new(head, &now.loops)
            .condition(name, 0)
            .can_be_false;
        return can_be_false.then(|| (
            format!("{head_says}; the deployments that decide it are more than {} and were not compared one by one, so the update may remove it", cases::MAX_CASES),
            span,
            place,
        ));
    };
    // Each revision's inputs and existence under each case, decided once (the three
    // questions below ask them again).
    let base_side = Deployments::new(&cases, base, was, "base");
    let head_side = Deployments::new(&cases, head, now, "head");
    // Whether the table exists in some deployment each revision takes (the cases list
    // every value either revision allows).
    let base_exists_somewhere =
        (0..cases.cases.len()).any(|i| base_side.existence(i).is_some_and(|t| t.can_be_true));
    let head_absent_somewhere =
        (0..cases.cases.len()).any(|i| head_side.existence(i).is_some_and(|t| t.can_be_false));
    for (i, case) in cases.cases.iter().enumerate() {
        let why = match (&base_side.inputs[i], &head_side.inputs[i]) {
            (Inputs::Valid(_), Inputs::Valid(_)) => {
                let (Some(at_head), Some(at_base)) =
                    (head_side.existence(i), base_side.existence(i))
                else {
                    continue;
                };
                if !at_head.can_be_false || !at_base.can_be_true {
                    continue;
                }
                let decided = !at_base.can_be_false && !at_head.can_be_true;
                if !decided && cases.unchanged {
                    // Undecided alike on both sides from identical inputs: no change.
                    continue;
                }
                let when = cases.describe(case, base, head);
                if decided {
                    format!(
                        "{when}, `{name}` is false at the head and the table existed at the base"
                    )
                } else {
                    format!("{when}, `{name}` can be false at the head while the table could exist at the base (this checker cannot decide the condition there)")
                }
            }
            (Inputs::Invalid(reason), Inputs::Valid(_)) => {
                if !base_exists_somewhere || !head_side.existence(i).is_some_and(|t| t.can_be_false)
                {
                    continue;
                }
                let when = cases.describe(case, base, head);
                format!("{when}, `{name}` is false at the head, a deployment the base did not allow ({reason}), while a stack deployed from the base may have the table")
            }
            (Inputs::Valid(_), Inputs::Invalid(reason)) => {
                if !head_absent_somewhere || !base_side.existence(i).is_some_and(|t| t.can_be_true)
                {
                    continue;
                }
                let when = cases.describe(case, base, head);
                format!("{when} the table existed at the base, and the head no longer allows that deployment ({reason}), so the update must pass other values, under some of which `{name}` is false")
            }
            (Inputs::Invalid(_), Inputs::Invalid(_)) => continue,
        };
        return Some((
            format!("{head_says}: {why}, so the update removes it"),
            span,
            place,
        ));
    }
    None
}

/// One revision's inputs under each case, and whether the resource exists under them,
/// evaluated on first use and kept.
struct Deployments<'x, 'd, 's> {
    template: &'x Template<'d, 's>,
    resource: &'x Resource<'d>,
    inputs: Vec<Inputs>,
    existence: Vec<std::cell::OnceCell<Truth>>,
}

impl<'x, 'd, 's> Deployments<'x, 'd, 's> {
    fn new(
        cases: &Cases,
        template: &'x Template<'d, 's>,
        resource: &'x Resource<'d>,
        side: &str,
    ) -> Self {
        Deployments {
            template,
            resource,
            inputs: cases
                .cases
                .iter()
                .map(|c| cases.inputs(template, c, side))
                .collect(),
            existence: cases
                .cases
                .iter()
                .map(|_| std::cell::OnceCell::new())
                .collect(),
        }
    }

    /// Whether the resource exists under case `i`; `None` when the revision cannot be
    /// deployed with it.
    fn existence(&self, i: usize) -> Option<Truth> {
        let Some(Inputs::Valid(inputs)) = self.inputs.get(i) else {
            return None;
        };
        let cell = self.existence.get(i)?;
        Some(*cell.get_or_init(|| cases::existence(self.template, self.resource, inputs)))
    }
}

fn never_exists(revisions: &Revisions, table: &Resource) -> bool {
    let template = revisions.base;
    let doc = template.doc;
    let Some(name) = doc
        .get_value(table.node, "Condition")
        .and_then(|c| doc.str(c))
    else {
        return false;
    };
    match Cases::new(revisions, table, table) {
        Some(cases) => cases
            .cases
            .iter()
            .all(|c| match cases.inputs(template, c, "base") {
                Inputs::Valid(inputs) => !cases::existence(template, table, &inputs).can_be_true,
                Inputs::Invalid(_) => true,
            }),
        None => {
            !Evaluator::new(template, &table.loops)
                .condition(name, 0)
                .can_be_true
        }
    }
}

/// Copies of a table in `Fn::ForEach` that the base produces and the head does not
/// (under this or another resource): an item dropped from the collection, or a collection
/// that can no longer be listed, such as one that became a parameter: then the copies
/// exist only if the deployment's value lists them, so it is reported with the
/// parameter's name. A collection that cannot be listed on both sides is no change only
/// when it is the same at both (the same parameter, declared the same way).
fn copies_lost(
    base: &Template,
    was: &Resource,
    head: &Template,
    now: &Resource,
) -> Option<(String, Span, String)> {
    if was.loops.is_empty() && now.loops.is_empty() {
        return None;
    }
    let (bd, hd) = (base.doc, head.doc);
    let id = was.logical_id;
    let produced_at_head = |copy_id: &str| for_each::produces(head, copy_id);
    let listing = |copies: &[for_each::Copy]| -> String {
        copies
            .iter()
            .map(|c| format!("`{}`", short(&c.id)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let head_span = |collection: Option<NodeId>| {
        collection
            .or_else(|| now.loops.last().map(|l| l.collection))
            .map_or(hd.span(now.key), |c| hd.span(c))
    };
    match (for_each::copies(base, was), for_each::copies(head, now)) {
        (Copies::Known(before), Copies::Known(_)) => {
            let gone: Vec<for_each::Copy> = before
                .into_iter()
                .filter(|c| !produced_at_head(&c.id))
                .collect();
            if gone.is_empty() {
                return None;
            }
            // One loop variable: name its items; otherwise the logical IDs.
            let single = gone.iter().all(|c| c.bound.len() == 1)
                && gone.windows(2).all(|w| w[0].bound[0].0 == w[1].bound[0].0);
            let (what, short_what) = if single && !gone.is_empty() {
                let items: Vec<String> = gone
                    .iter()
                    .map(|c| format!("`{}`", short(c.bound[0].1)))
                    .collect();
                (
                    format!("for `{}` = {}", gone[0].bound[0].0, items.join(", ")),
                    format!("for {}", items.join(", ")),
                )
            } else {
                let ids = listing(&gone);
                (format!("with logical IDs {ids}"), ids)
            };
            Some((
                format!(
                    "the copies of table `{id}` {what} were removed from its `Fn::ForEach` collection (logical IDs {})",
                    listing(&gone)
                ),
                head_span(None),
                format!("loses its copies {short_what}"),
            ))
        }
        (
            Copies::Known(before),
            Copies::Unknown {
                why,
                parameter,
                collection,
            },
        ) => {
            let gone: Vec<for_each::Copy> = before
                .into_iter()
                .filter(|c| !head.has_resource(&c.id))
                .collect();
            if gone.is_empty() {
                return None;
            }
            let which = match parameter {
                Some(p) => format!("parameter `{p}`"),
                None => "a value that cannot be listed".to_string(),
            };
            Some((
                format!(
                    "the copies of table `{id}` at the base ({}) are no longer certain: {why}, so a deployment whose value does not list them removes them",
                    listing(&gone)
                ),
                head_span(Some(collection)),
                format!("copies now depend on {which}"),
            ))
        }
        (
            Copies::Unknown {
                why,
                parameter,
                collection,
            },
            after,
        ) => {
            let unchanged = match (&after, parameter) {
                (
                    Copies::Unknown {
                        parameter: Some(q),
                        collection: c,
                        ..
                    },
                    Some(p),
                ) if *q == p => {
                    same_value(Side::new(bd, collection), Side::new(hd, *c))
                        && same_ids(was, now)
                        && same_list_parameter(base, head, p)
                }
                (Copies::Unknown { collection: c, .. }, None) => {
                    same_value(Side::new(bd, collection), Side::new(hd, *c)) && same_ids(was, now)
                }
                _ => false,
            };
            if unchanged {
                return None;
            }
            let at = match &after {
                Copies::Unknown { collection, .. } => Some(*collection),
                Copies::Known(_) => None,
            };
            let which = match parameter {
                Some(p) => format!("parameter `{p}`"),
                None => "a value that cannot be listed".to_string(),
            };
            Some((
                format!(
                    "the copies of table `{id}` at the base cannot be listed ({why}), and the head's `Fn::ForEach` is not the same, so the update may remove copies the base deployed"
                ),
                head_span(at),
                format!("base copies depend on {which}"),
            ))
        }
    }
}

/// A list parameter that gives the same items at both revisions whatever is passed: the
/// same type and `AllowedValues`, and a head `Default` (used when nothing is passed) that
/// keeps every item of the base's. A head default where the base had none offers a new
/// deployment (the base needed a value), and a base default the head drops forces a stack
/// deployed without the parameter to pass some list: neither is the same.
fn same_list_parameter(base: &Template, head: &Template, name: &str) -> bool {
    let (Some(b), Some(h)) = (base.parameter(name), head.parameter(name)) else {
        return false;
    };
    let same = |key: &str| match (base.doc.get_value(b, key), head.doc.get_value(h, key)) {
        (Some(x), Some(y)) => same_value(Side::new(base.doc, x), Side::new(head.doc, y)),
        (None, None) => true,
        _ => false,
    };
    let items = |t: &Template, p: NodeId| -> Option<Option<Vec<String>>> {
        match t.doc.get_value(p, "Default") {
            None => Some(None),
            Some(d) => t
                .doc
                .str(d)
                .map(|text| Some(text.split(',').map(|i| i.trim().to_string()).collect())),
        }
    };
    let defaults_kept = match (items(base, b), items(head, h)) {
        (Some(None), Some(None)) => true,
        (Some(Some(before)), Some(Some(after))) => before.iter().all(|i| after.contains(i)),
        _ => false,
    };
    same("Type") && same("AllowedValues") && defaults_kept
}

/// The same fragment key under the same loop variables (so the same items make the same
/// logical IDs).
fn same_ids(was: &Resource, now: &Resource) -> bool {
    was.logical_id == now.logical_id
        && was.loops.len() == now.loops.len()
        && was
            .loops
            .iter()
            .zip(&now.loops)
            .all(|(a, b)| a.identifier == b.identifier)
}

fn removal<'a, 'd>(
    cmp: &Comparison<'a, 'd, '_>,
    table: &'a Resource<'d>,
    what: String,
    span: Span,
    place: &str,
) -> Finding {
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
        let Some(stack) = cmp.base.resource(id) else {
            continue;
        };
        let kept = match &cmp.head {
            Head::Template(head) => head
                .resource(stack.logical_id)
                .is_some_and(|r| r.type_name == stack.type_name),
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
