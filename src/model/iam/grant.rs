//! The grant question: can a document allow a guarded action on an ARN of a guarded
//! shape, with no `Deny` in the same document that certainly takes it back?

use super::statement::{
    Actions, Effect, PolicyDocument, PolicyKind, ResourceItem, Resources, Statement,
};
use super::wildcard::{
    action_matches, display_glob, glob_can_match_shape, glob_covers, lit, shape_glob,
    wildcard_match, Glob, Part,
};
use super::Guarded;
use crate::model::eval::{Assumption, Assumptions};
use crate::model::expand::combine;
use crate::source::Span;

/// Why a statement's action list grants the guarded action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Via {
    /// An `Action` pattern matches it; the pattern text.
    Pattern(String),
    /// An `Action` value that cannot be resolved; why.
    Unresolved(String),
    /// `NotAction` does not list it.
    NotAction,
    /// An AWS managed policy the resource names allows it; the policy's name.
    Managed(String),
}

/// An `Allow` that grants a guarded action on a resource that can be a guarded ARN.
#[derive(Clone, Debug)]
pub struct Grant {
    pub action: &'static str,
    pub via: Via,
    /// The action value (or the `NotAction` key) that grants it.
    pub action_span: Span,
    /// The resource value (or `NotResource` key) that can be a guarded ARN.
    pub resource_span: Span,
    /// Its glob, as people read it; `None` for `NotResource`.
    pub resource: Option<String>,
    /// The parameter whose value decides (part of) that resource.
    pub chosen_by: Option<String>,
    pub when: Assumptions,
    /// A `Deny` of the document might take it back but was too large to compare within
    /// [`MAX_DENY_WORK`]: it is not credited.
    pub deny_unchecked: bool,
}

/// How many glob-against-glob comparison cells (pattern length x glob length) one
/// document may spend proving that its `Deny` statements cover its `Allow`s. Past it, the
/// remaining denies are not credited: the grant stands, with a note, so a crafted policy
/// can slow the check down by at most this much and never turn a grant into a pass.
pub const MAX_DENY_WORK: u64 = 20_000_000;

/// Every grant of `guarded` in one document's statements, except those a `Deny` of the
/// same document takes back. `Allow`s of a service control policy never grant.
///
/// Near-linear in the size of the document: what a `Deny` takes back depends on the
/// `Allow` statement and on the few assumptions the `Deny` itself mentions, not on which
/// of the statement's action items grants, so it is computed once per (Allow, Deny, those
/// assumptions); the `Deny`'s literal resources are looked up in a hash set.
pub fn grants(
    document: &PolicyDocument,
    statements: &[Statement],
    guarded: &Guarded,
) -> Vec<Grant> {
    if document.kind == PolicyKind::ServiceControl {
        return Vec::new();
    }
    // Indexed on the first grant: most documents grant no guarded action at all.
    let mut indexed: Option<Vec<DenyIndex>> = None;
    let mut work = MAX_DENY_WORK;
    let mut out = Vec::new();
    for s in statements {
        // A `Deny` grants nothing, nor does an invalid effect (IAM refuses the policy).
        if matches!(s.effect, Effect::Deny | Effect::Invalid { .. }) {
            continue;
        }
        // Most statements name none of the guarded actions: their resources need no look.
        let granting = granting(&s.actions, guarded.action);
        if granting.is_empty() {
            continue;
        }
        let Some((resource_span, resource, chosen_by, allowed)) = reachable(&s.resources, guarded)
        else {
            continue;
        };
        let denies: &[DenyIndex] = indexed.get_or_insert_with(|| {
            statements
                .iter()
                .filter_map(|d| DenyIndex::new(d, guarded))
                .collect()
        });
        let instances = loop_instances(s, denies);
        let mut cache: crate::hash::HashMap<(usize, usize, Vec<Assumption>), Cover> =
            crate::hash::HashMap::default();
        for (via, action_span, item_when) in granting {
            let Some(when) = combine(&s.when, &item_when) else {
                continue;
            };
            let mut unchecked = false;
            // Denied when, in every copy of a `Fn::ForEach` resource that grants, some
            // `Deny` of that copy takes the grant back.
            let mut denied = true;
            for (n, instance) in instances.iter().enumerate() {
                let Some(when) = when.and(instance) else {
                    continue;
                };
                // Borrowed unless a loop copy narrows it: a clone per action item made a
                // policy with n actions and n resources quadratic (bench/adversarial.py).
                let allowed: std::borrow::Cow<'_, [Glob]> = match &s.resources {
                    Resources::Resource(items) if !instance.is_empty() => items
                        .iter()
                        .filter(|r| {
                            !r.when.iter().any(|a| instance.contradicts(a))
                                && guarded
                                    .shapes
                                    .iter()
                                    .any(|shape| glob_can_match_shape(&r.glob, shape))
                        })
                        .map(|r| r.glob.clone())
                        .collect::<Vec<Glob>>()
                        .into(),
                    _ => std::borrow::Cow::Borrowed(&allowed[..]),
                };
                if allowed.is_empty() {
                    continue;
                }
                let mut here = false;
                for (i, deny) in denies.iter().enumerate() {
                    let key = (n, i, deny.relevant(&when));
                    let cover = *cache
                        .entry(key)
                        .or_insert_with(|| deny.covers(guarded, &allowed, &when, &mut work));
                    match cover {
                        Cover::Yes => {
                            here = true;
                            break;
                        }
                        Cover::No => {}
                        Cover::Unchecked => unchecked = true,
                    }
                }
                if !here {
                    denied = false;
                    break;
                }
            }
            if denied {
                continue;
            }
            out.push(Grant {
                action: guarded.action,
                via,
                action_span,
                resource_span,
                resource: resource.clone(),
                chosen_by: chosen_by.clone(),
                when,
                deny_unchecked: unchecked,
            });
        }
    }
    out
}

/// More copies of a `Fn::ForEach` resource than this are not told apart: its `Deny`s then
/// take back only what they cover in every copy.
const MAX_LOOP_INSTANCES: usize = 64;

/// The copies of a `Fn::ForEach` resource a statement and the document's denies can be
/// in: one binding of each loop identifier they mention, to each value they mention it
/// with (an expression of the copy for a value it does not mention failed to deploy). A
/// single empty instance when they mention none, or too many.
fn loop_instances<'a>(statement: &'a Statement, denies: &'a [DenyIndex]) -> Vec<Assumptions> {
    loop_bindings(statement, denies.iter().map(|d| d.mentions.as_slice()))
}

/// The copies of a `Fn::ForEach` resource one statement is in, each as the loop items it
/// binds (a single empty instance outside a loop, or past [`MAX_LOOP_INSTANCES`]): each
/// copy is a policy of its own, and a `Deny` is judged copy by copy.
pub fn statement_copies(statement: &Statement) -> Vec<Assumptions> {
    loop_bindings(statement, std::iter::empty())
}

fn loop_bindings<'a>(
    statement: &'a Statement,
    others: impl Iterator<Item = &'a [Assumption]>,
) -> Vec<Assumptions> {
    let mut values: std::collections::BTreeMap<&'a str, Vec<&'a str>> = Default::default();
    let mut note = |w: &'a [Assumption]| {
        for a in w {
            if let Assumption::LoopItem { identifier, value } = a {
                let seen = values.entry(identifier).or_default();
                if !seen.contains(&value.as_str()) {
                    seen.push(value);
                }
            }
        }
    };
    note(&statement.when);
    if let Actions::Action(items) = &statement.actions {
        items.iter().for_each(|i| note(&i.when));
    }
    if let Resources::Resource(items) = &statement.resources {
        items.iter().for_each(|r| note(&r.when));
    }
    for w in others {
        note(w);
    }
    let mut instances = vec![Assumptions::none()];
    for (identifier, vals) in values {
        let mut next = Vec::new();
        for base in &instances {
            for v in &vals {
                next.extend(base.and(&[Assumption::LoopItem {
                    identifier: identifier.to_string(),
                    value: v.to_string(),
                }]));
            }
        }
        if next.len() > MAX_LOOP_INSTANCES {
            return vec![Assumptions::none()];
        }
        instances = next;
    }
    instances
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cover {
    Yes,
    No,
    /// The work budget ran out before it could be proven.
    Unchecked,
}

/// One unconditional `Deny` that names the guarded action in some case, indexed once per
/// document, with the assumptions its parts depend on.
struct DenyIndex<'s> {
    deny: &'s Statement,
    /// Every assumption the statement or its items depend on (not a conjunction: items
    /// may depend on different values of one parameter).
    mentions: Vec<Assumption>,
}

impl<'s> DenyIndex<'s> {
    fn new(deny: &'s Statement, guarded: &Guarded) -> Option<Self> {
        if deny.effect != Effect::Deny || deny.has_condition {
            return None;
        }
        let mut mentions: Vec<Assumption> = deny.when.to_vec();
        let mut mention = |w: &[Assumption]| {
            for a in w {
                if !mentions.contains(a) {
                    mentions.push(a.clone());
                }
            }
        };
        match &deny.actions {
            Actions::Action(items) => {
                let mut names = false;
                for i in items {
                    if i.pattern
                        .as_ref()
                        .is_ok_and(|p| action_matches(p, guarded.action))
                    {
                        names = true;
                        mention(&i.when);
                    }
                }
                if !names {
                    return None;
                }
            }
            Actions::NotAction { .. } => {}
            Actions::Missing => return None,
        }
        if let Resources::Resource(items) = &deny.resources {
            for r in items {
                mention(&r.when);
            }
        }
        Some(DenyIndex { deny, mentions })
    }

    /// The part of `when` that can change what this deny covers.
    fn relevant(&self, when: &[Assumption]) -> Vec<Assumption> {
        when.iter()
            .filter(|a| self.mentions.contains(a))
            .cloned()
            .collect()
    }

    /// Does the deny take back the guarded action on every glob in `allowed` whenever
    /// `when` holds?
    fn covers(
        &self,
        guarded: &Guarded,
        allowed: &[Glob],
        when: &[Assumption],
        work: &mut u64,
    ) -> Cover {
        if denies(self.deny, guarded, allowed, when, work) {
            Cover::Yes
        } else if *work == 0 {
            Cover::Unchecked
        } else {
            Cover::No
        }
    }
}

/// The text a glob certainly starts with: its literal text up to the first wildcard or
/// stand-in.
fn literal_head(glob: &[Part]) -> String {
    let mut out = String::new();
    for part in glob {
        let Part::Lit(text) = part else { break };
        match text.find(['*', '?']) {
            Some(i) => {
                out.push_str(&text[..i]);
                break;
            }
            None => out.push_str(text),
        }
    }
    out
}

/// The text a glob certainly ends with: its literal text after the last wildcard or
/// stand-in.
fn literal_tail(glob: &[Part]) -> String {
    let mut pieces: Vec<&str> = Vec::new();
    for part in glob.iter().rev() {
        let Part::Lit(text) = part else { break };
        match text.rfind(['*', '?']) {
            Some(i) => {
                pieces.push(&text[i + 1..]);
                break;
            }
            None => pieces.push(text),
        }
    }
    pieces.iter().rev().copied().collect()
}

/// Literal text only, without IAM wildcards: such a glob covers only itself.
fn plain_text(glob: &[Part]) -> Option<String> {
    let mut out = String::new();
    for part in glob {
        let Part::Lit(text) = part else { return None };
        if text.contains(['*', '?']) {
            return None;
        }
        out.push_str(text);
    }
    Some(out)
}

/// Does `outer` cover `inner` (see [`glob_covers`]), spending from `work`? The literal
/// text `outer` starts and ends with must start and end `inner`'s literal text, so most
/// misses cost nothing; a comparison the budget cannot pay for is not made and counts as a
/// miss (the grant stands).
fn covers_within(outer: &[Part], inner: &[Part], work: &mut u64) -> bool {
    if !literal_head(inner).starts_with(&literal_head(outer))
        || !literal_tail(inner).ends_with(&literal_tail(outer))
    {
        return false;
    }
    let size = |g: &[Part]| {
        g.iter()
            .map(|p| match p {
                Part::Lit(t) => t.len() as u64,
                _ => 1,
            })
            .sum::<u64>()
            + 1
    };
    let cost = size(outer) * size(inner);
    if cost > *work {
        *work = 0;
        return false;
    }
    *work -= cost;
    glob_covers(outer, inner)
}

/// The first resource value that can be a guarded ARN (its span, glob and the parameter
/// that chooses it), and every glob that can (which a `Deny` must cover).
type Reachable = (Span, Option<String>, Option<String>, Vec<Glob>);

fn reachable(resources: &Resources, guarded: &Guarded) -> Option<Reachable> {
    match resources {
        Resources::Resource(items) => {
            let hits: Vec<&ResourceItem> = items
                .iter()
                .filter(|r| {
                    guarded
                        .shapes
                        .iter()
                        .any(|s| glob_can_match_shape(&r.glob, s))
                })
                .collect();
            let first = hits.first()?;
            Some((
                first.span,
                Some(display_glob(&first.glob)),
                first.chosen_by.clone(),
                hits.iter().map(|r| r.glob.clone()).collect(),
            ))
        }
        Resources::NotResource { key, items } => {
            let excluded = |shape: &&str| {
                items.iter().any(|r| {
                    r.exact && r.when.is_empty() && glob_covers(&r.glob, &shape_glob(shape))
                })
            };
            if guarded.shapes.iter().all(excluded) {
                return None;
            }
            let allowed = guarded.shapes.iter().map(|s| shape_glob(s)).collect();
            Some((*key, None, None, allowed))
        }
        Resources::Missing => None,
    }
}

fn granting(actions: &Actions, action: &str) -> Vec<(Via, Span, Assumptions)> {
    match actions {
        Actions::Action(items) => items
            .iter()
            .filter_map(|i| match &i.pattern {
                Ok(p) if action_matches(p, action) => {
                    Some((Via::Pattern(p.clone()), i.span, i.when.clone()))
                }
                Ok(_) => None,
                // Only when the known parts of the value let it match.
                Err(why) if action_matches(&i.can_match, action) => {
                    Some((Via::Unresolved(why.clone()), i.span, i.when.clone()))
                }
                Err(_) => None,
            })
            .collect(),
        Actions::NotAction { key, items } => {
            let listed = items.iter().any(|i| {
                i.when.is_empty() && i.pattern.as_ref().is_ok_and(|p| action_matches(p, action))
            });
            if listed {
                Vec::new()
            } else {
                vec![(Via::NotAction, *key, Assumptions::none())]
            }
        }
        Actions::Missing => Vec::new(),
    }
}

/// Does `deny` take back `action` on every glob in `allowed` whenever `when` holds?
fn denies(
    deny: &Statement,
    guarded: &Guarded,
    allowed: &[Glob],
    when: &[Assumption],
    work: &mut u64,
) -> bool {
    if deny.effect != Effect::Deny || deny.has_condition {
        return false;
    }
    let applies = |w: &[Assumption]| w.iter().all(|a| when.contains(a));
    if !applies(&deny.when) {
        return false;
    }
    let action_denied = match &deny.actions {
        Actions::Action(items) => items.iter().any(|i| {
            applies(&i.when)
                && i.pattern
                    .as_ref()
                    .is_ok_and(|p| action_matches(p, guarded.action))
        }),
        Actions::NotAction { items, .. } => items.iter().all(|i| {
            i.pattern
                .as_ref()
                .is_ok_and(|p| !action_matches(p, guarded.action))
        }),
        Actions::Missing => false,
    };
    if !action_denied {
        return false;
    }
    match &deny.resources {
        Resources::Resource(items) => {
            let usable: Vec<&ResourceItem> = items
                .iter()
                .filter(|r| comparable(r) && applies(&r.when))
                .collect();
            let covers_shapes = guarded.shapes.iter().all(|s| {
                let shape = shape_glob(s);
                usable.iter().any(|r| covers_within(&r.glob, &shape, work))
            });
            if covers_shapes {
                return true;
            }
            // A glob of literal text covers only itself: look those up; compare the others.
            let literal: std::collections::HashSet<String> =
                usable.iter().filter_map(|r| plain_text(&r.glob)).collect();
            let patterns: Vec<&ResourceItem> = usable
                .iter()
                .copied()
                .filter(|r| plain_text(&r.glob).is_none())
                .collect();
            allowed.iter().all(|a| {
                plain_text(a).is_some_and(|t| literal.contains(&t))
                    || patterns.iter().any(|p| covers_within(&p.glob, a, work))
            })
        }
        Resources::NotResource { items, .. } => {
            not_resource_excludes_nothing(items, guarded)
                || allowed
                    .iter()
                    .all(|a| plain_text(a).is_some_and(|arn| not_resource_leaves_in(items, &arn)))
        }
        Resources::Missing => false,
    }
}

/// Whether a `Deny`'s resource glob can be credited: literal text, wildcards and values
/// the stack reads once ([`Part::Same`], covered only by the same value). An unresolved
/// part ([`Part::Any`], a policy variable) may be anything, so it proves no deny.
fn comparable(r: &ResourceItem) -> bool {
    r.exact
        || r.glob
            .iter()
            .all(|p| matches!(p, Part::Lit(_) | Part::Same { .. }))
}

/// Does a `NotResource` list certainly leave the literal ARN `arn` in, so that the `Deny`
/// applies to it? Only when no item can match it, each item taken as widely as it can
/// be: what cannot be resolved, a stand-in, and an IAM policy variable (`${aws:username}`)
/// may be any text, and an item that exists only in some cases is counted in every case.
fn not_resource_leaves_in(items: &[ResourceItem], arn: &str) -> bool {
    if arn.contains("${") || arn.contains(['*', '?']) {
        return false;
    }
    items.iter().all(|r| {
        if !r.exact {
            return false;
        }
        let mut widest = String::new();
        for part in &r.glob {
            match part {
                Part::Lit(text) => widest.push_str(&policy_variables_as_any(text)),
                _ => widest.push('*'),
            }
        }
        !wildcard_match(&widest, arn, false)
    })
}

/// `${...}` (an IAM policy variable, or a substitution nobody resolved) as `*`.
fn policy_variables_as_any(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("${") {
        out.push_str(&rest[..at]);
        out.push('*');
        rest = match rest[at..].find('}') {
            Some(end) => &rest[at + end + 1..],
            // Unclosed: the rest may be anything.
            None => "",
        };
    }
    out.push_str(rest);
    out
}

/// How much of the guarded action's ARNs one `Deny` statement takes back, by its `Action`
/// and `Resource`/`NotResource` alone (its IAM `Condition`, principals and CloudFormation
/// cases are for the caller to report). The inventory's guardrails use this, so what they
/// show a `Deny` covers is what DDB010 credits it with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DenyReach {
    /// Every ARN of every shape.
    All,
    /// Some ARNs only: which (or which it leaves out), as people read it.
    Some(String),
    /// None: the action is not denied, or on no ARN of the shapes.
    None,
}

pub fn deny_reach(deny: &Statement, guarded: &Guarded) -> DenyReach {
    if deny.effect != Effect::Deny {
        return DenyReach::None;
    }
    let action_denied = match &deny.actions {
        Actions::Action(items) => items.iter().any(|i| {
            i.pattern
                .as_ref()
                .is_ok_and(|p| action_matches(p, guarded.action))
        }),
        Actions::NotAction { items, .. } => items.iter().all(|i| {
            i.pattern
                .as_ref()
                .is_ok_and(|p| !action_matches(p, guarded.action))
        }),
        Actions::Missing => false,
    };
    if !action_denied {
        return DenyReach::None;
    }
    let listed = |items: &[&ResourceItem]| {
        items
            .iter()
            .map(|r| format!("`{}`", display_glob(&r.glob)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match &deny.resources {
        Resources::Resource(items) => {
            let mut work = MAX_DENY_WORK;
            if shapes_covered(items, guarded, &|_| true, &mut work) {
                return DenyReach::All;
            }
            let reaching: Vec<&ResourceItem> = items
                .iter()
                .filter(|r| {
                    guarded
                        .shapes
                        .iter()
                        .any(|s| glob_can_match_shape(&r.glob, s))
                })
                .collect();
            if reaching.is_empty() {
                DenyReach::None
            } else {
                DenyReach::Some(format!("only on {}", listed(&reaching)))
            }
        }
        Resources::NotResource { items, .. } => {
            if not_resource_excludes_nothing(items, guarded) {
                return DenyReach::All;
            }
            // `NotResource` denies everything except what it lists: a list that takes in
            // every ARN of the shapes (`"*"`, `table/*`) denies none of them.
            let excluded_all = guarded.shapes.iter().all(|shape| {
                let whole = shape_glob(shape);
                items.iter().any(|r| {
                    // What a stand-in may be, taken as widely as it can (`*`): the `Deny`
                    // is then credited with less, never more.
                    let glob: Glob = r
                        .glob
                        .iter()
                        .map(|p| match p {
                            Part::Opaque => Part::Opaque,
                            Part::Lit(t) => Part::Lit(t.clone()),
                            _ => Part::Lit("*".into()),
                        })
                        .collect();
                    // `arn:aws:...` leaves out the ARNs of the partition the stack runs in.
                    let partition = match glob.first() {
                        Some(Part::Lit(t)) => t
                            .strip_prefix("arn:")
                            .and_then(|g| g.split_once(':'))
                            .map(|(p, _)| p.to_string())
                            .filter(|p| !p.contains(['*', '?'])),
                        _ => None,
                    };
                    let in_partition = match partition {
                        Some(p) => lit(shape.replace("{}", "*").replacen(
                            "arn:*:",
                            &format!("arn:{p}:"),
                            1,
                        )),
                        None => whole.clone(),
                    };
                    r.when.is_empty()
                        && (glob_covers(&glob, &whole) || glob_covers(&glob, &in_partition))
                })
            });
            if excluded_all {
                return DenyReach::None;
            }
            let reaching: Vec<&ResourceItem> = items
                .iter()
                .filter(|r| {
                    guarded
                        .shapes
                        .iter()
                        .any(|s| glob_can_match_shape(&r.glob, s))
                })
                .collect();
            DenyReach::Some(format!(
                "on every ARN except those `NotResource` lists ({})",
                listed(&reaching)
            ))
        }
        Resources::Missing => DenyReach::None,
    }
}

/// Does some usable (exact, applying) resource glob cover every ARN of every shape?
fn shapes_covered(
    items: &[ResourceItem],
    guarded: &Guarded,
    applies: &dyn Fn(&[Assumption]) -> bool,
    work: &mut u64,
) -> bool {
    let usable: Vec<&ResourceItem> = items
        .iter()
        .filter(|r| r.exact && applies(&r.when))
        .collect();
    guarded.shapes.iter().all(|s| {
        let shape = shape_glob(s);
        usable.iter().any(|r| covers_within(&r.glob, &shape, work))
    })
}

/// A `NotResource` list none of whose items can be an ARN of the shapes: the `Deny` covers
/// all of them.
fn not_resource_excludes_nothing(items: &[ResourceItem], guarded: &Guarded) -> bool {
    items.iter().all(|r| {
        r.exact
            && guarded
                .shapes
                .iter()
                .all(|s| !glob_can_match_shape(&r.glob, s))
    })
}

/// What one statement does about `guarded`, as a `Deny` that must take it back.
#[derive(Clone, Debug)]
pub enum DenyCoverage {
    /// Not a `Deny`, or its actions do not name the action.
    Irrelevant,
    /// It takes the action back on every glob in `allowed` (or every ARN of the shapes)
    /// whenever the given assumptions hold: [`denies`] says so.
    Covers,
    /// It names the action but does not certainly take it back: why.
    Short(Shortfall),
}

/// Why a `Deny` that names the action does not certainly take it back.
#[derive(Clone, Debug)]
pub enum Shortfall {
    /// An IAM `Condition` may be false.
    Condition,
    /// It exists (or names the action) only under these CloudFormation assumptions.
    When(Assumptions),
    /// Its `Resource` values that can be a guarded ARN (empty: none can); together they
    /// do not cover every one, or one of them cannot be resolved.
    Resources(Vec<ResourceItem>),
    /// The `NotResource` values that leave guarded ARNs out (or cannot be resolved).
    NotResource(Vec<ResourceItem>),
    /// Neither `Resource` nor `NotResource`: IAM refuses the statement.
    MissingResource,
}

/// [`denies`], the deny test of DDB010-DDB012, with the reason when a `Deny` that names
/// the action falls short: DDB013 ("the required guardrail exists") uses it so that the
/// two can never disagree about what a deny covers.
pub fn deny_coverage(
    deny: &Statement,
    guarded: &Guarded,
    allowed: &[Glob],
    when: &[Assumption],
    work: &mut u64,
) -> DenyCoverage {
    if deny.effect != Effect::Deny {
        return DenyCoverage::Irrelevant;
    }
    let applies = |w: &[Assumption]| w.iter().all(|a| when.contains(a));
    let names =
        |p: &Result<String, String>| p.as_ref().is_ok_and(|p| action_matches(p, guarded.action));
    let named_when: Option<Assumptions> = match &deny.actions {
        Actions::Action(items) => {
            let matching: Vec<_> = items.iter().filter(|i| names(&i.pattern)).collect();
            matching.first().map(|first| {
                if matching.iter().any(|i| applies(&i.when)) {
                    Assumptions::none()
                } else {
                    first.when.clone()
                }
            })
        }
        Actions::NotAction { items, .. } => items
            .iter()
            .all(|i| {
                i.pattern
                    .as_ref()
                    .is_ok_and(|p| !action_matches(p, guarded.action))
            })
            .then(Assumptions::none),
        Actions::Missing => None,
    };
    let Some(named_when) = named_when else {
        return DenyCoverage::Irrelevant;
    };
    if denies(deny, guarded, allowed, when, work) {
        return DenyCoverage::Covers;
    }
    if deny.has_condition {
        return DenyCoverage::Short(Shortfall::Condition);
    }
    if !applies(&deny.when) {
        return DenyCoverage::Short(Shortfall::When(deny.when.clone()));
    }
    if !named_when.is_empty() {
        return DenyCoverage::Short(Shortfall::When(named_when));
    }
    // Values that cannot exist when `when` holds (another `Fn::ForEach` copy's) are not
    // what this deny lacks.
    let reaching = |r: &&ResourceItem| {
        !r.when.iter().any(|a| when.iter().any(|b| b.contradicts(a)))
            && guarded
                .shapes
                .iter()
                .any(|s| glob_can_match_shape(&r.glob, s))
    };
    match &deny.resources {
        Resources::Resource(items) => DenyCoverage::Short(Shortfall::Resources(
            items.iter().filter(reaching).cloned().collect(),
        )),
        Resources::NotResource { items, .. } => DenyCoverage::Short(Shortfall::NotResource(
            items
                .iter()
                .filter(|r| !r.exact || reaching(r))
                .cloned()
                .collect(),
        )),
        Resources::Missing => DenyCoverage::Short(Shortfall::MissingResource),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::iam::{documents, statements, DELETE_RECOVERY_POINT, DELETE_TABLE};
    use crate::model::with_yaml_resource;

    /// The grants of `guarded` by a policy whose one statement is `statement`.
    fn grants_of(statement: &str, guarded: &Guarded) -> Vec<Grant> {
        let text = format!("Parameters:\n  A: {{Type: String}}\n  R: {{Type: String}}\nResources:\n  P:\n    Type: AWS::IAM::Policy\n    Properties:\n      PolicyName: p\n      PolicyDocument:\n        Statement:\n          - {statement}\n");
        grants_in(&text, "P", guarded)
    }

    /// The grants of `guarded` by every document of the resource `logical_id` of the YAML
    /// template `text` (for a `Fn::ForEach` loop, its expanded name: every copy).
    fn grants_in(text: &str, logical_id: &str, guarded: &Guarded) -> Vec<Grant> {
        with_yaml_resource(text, logical_id, |template, resource| {
            let mut out = Vec::new();
            for document in documents(template, resource) {
                let s = statements(template, resource, &document);
                out.extend(grants(&document, &s, guarded));
            }
            out
        })
    }

    /// The grants of `DeleteTable` by the copies of a policy made by `Fn::ForEach` over
    /// `[orders, invoices]` with identifier `Name`, whose statements are `list`.
    fn for_each_grants(list: &str) -> Vec<Grant> {
        let text = format!("Transform: AWS::LanguageExtensions\nResources:\n  Fn::ForEach::P:\n    - Name\n    - [orders, invoices]\n    - ${{Name}}Policy:\n        Type: AWS::IAM::ManagedPolicy\n        Properties:\n          PolicyDocument:\n            Statement: {list}\n");
        grants_in(&text, "${Name}Policy", &DELETE_TABLE)
    }

    /// The grants of `DeleteTable` by policy `P` of a template with a table `T`, list
    /// parameter `L` and string parameters `A` and `B`, whose statements are an `Allow` on
    /// `allow` and a `Deny` on `deny` (resource values as YAML).
    fn allow_then_deny(allow: &str, deny: &str) -> usize {
        let text = format!("Parameters:\n  A: {{Type: String}}\n  B: {{Type: String}}\n  L: {{Type: CommaDelimitedList}}\nResources:\n  T:\n    Type: AWS::DynamoDB::Table\n  U:\n    Type: AWS::DynamoDB::Table\n  P:\n    Type: AWS::IAM::ManagedPolicy\n    Properties:\n      PolicyDocument:\n        Statement:\n          - {{Effect: Allow, Action: dynamodb:DeleteTable, Resource: {allow}}}\n          - {{Effect: Deny, Action: dynamodb:DeleteTable, Resource: {deny}}}\n");
        grants_in(&text, "P", &DELETE_TABLE).len()
    }

    #[test]
    fn a_deny_written_with_the_same_stack_values_as_the_allow_takes_it_back() {
        let sub =
            "!Sub 'arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/orders'";
        let join = "!Join ['', ['arn:', !Ref 'AWS::Partition', ':dynamodb:', !Ref 'AWS::Region', ':', !Ref 'AWS::AccountId', ':table/orders']]";
        let table =
            "!Sub 'arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${T}'";
        let same = [
            (sub, sub),
            (sub, join),
            (join, sub),
            (
                "!Sub 'arn:aws:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${A}'",
                "!Sub 'arn:aws:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${A}'",
            ),
            (
                "!Sub 'arn:aws:dynamodb:*:*:table/${A}'",
                "!Sub 'arn:aws:dynamodb:*:*:table/*'",
            ),
            (
                "!Sub 'arn:aws:dynamodb:us-east-1:1:table/x.${AWS::URLSuffix}'",
                "!Sub 'arn:aws:dynamodb:us-east-1:1:table/x.${AWS::URLSuffix}'",
            ),
            ("!ImportValue OrdersArn", "!ImportValue OrdersArn"),
            ("!ImportValue OrdersArn", "'*'"),
            // A table's ARN is its name in the stack's partition, Region and account.
            ("!GetAtt T.Arn", table),
            (table, "!GetAtt T.Arn"),
            ("!GetAtt T.Arn", "!GetAtt T.Arn"),
            ("!Sub '${T.Arn}'", "!GetAtt T.Arn"),
        ];
        for (allow, deny) in same {
            assert_eq!(
                allow_then_deny(allow, deny),
                0,
                "Allow {allow} / Deny {deny}"
            );
        }
        // Another value, a literal that may differ, or a value only `*` covers: the grant
        // stands.
        let different = [
            (sub, "!Sub 'arn:${AWS::Partition}:dynamodb:${AWS::AccountId}:${AWS::Region}:table/orders'"),
            (sub, "'arn:aws:dynamodb:us-east-1:123456789012:table/orders'"),
            ("'arn:aws:dynamodb:us-east-1:123456789012:table/orders'", sub),
            ("!Sub 'arn:aws:dynamodb:*:*:table/${A}'", "!Sub 'arn:aws:dynamodb:*:*:table/${B}'"),
            ("!Sub 'arn:aws:dynamodb:*:*:table/orders'", "!Sub 'arn:aws:dynamodb:*:*:table/${A}'"),
            ("!ImportValue OrdersArn", "!ImportValue InvoicesArn"),
            ("!GetAtt T.Arn", "!GetAtt U.Arn"),
            ("!GetAtt T.Arn", "!Sub 'arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${U}'"),
            ("!GetAtt T.Arn", "!Sub 'arn:aws:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${T}'"),
            // A list parameter's reads are not one value.
            ("!Join ['', ['arn:aws:dynamodb:*:*:table/', !Join [',', !Ref L]]]", "!Join ['', ['arn:aws:dynamodb:*:*:table/', !Join [',', !Ref L]]]"),
            // A policy variable is a different value for every caller.
            ("'arn:aws:dynamodb:*:*:table/${aws:username}'", "'arn:aws:dynamodb:*:*:table/${aws:username}'"),
        ];
        for (allow, deny) in different {
            assert_eq!(
                allow_then_deny(allow, deny),
                1,
                "Allow {allow} / Deny {deny}"
            );
        }
    }

    #[test]
    fn a_deny_in_a_for_each_copy_takes_back_the_allow_of_the_same_copy_only() {
        let own = "arn:aws:dynamodb:*:*:table/${Name}";
        let same = format!("[{{Effect: Allow, Action: dynamodb:DeleteTable, Resource: !Sub '{own}'}}, {{Effect: Deny, Action: dynamodb:DeleteTable, Resource: !Sub '{own}'}}]");
        assert!(for_each_grants(&same).is_empty());
        // Each copy allows `orders`; only the copy for `orders` denies it.
        let other = format!("[{{Effect: Allow, Action: dynamodb:DeleteTable, Resource: 'arn:aws:dynamodb:*:*:table/orders'}}, {{Effect: Deny, Action: dynamodb:DeleteTable, Resource: !Sub '{own}'}}]");
        assert_eq!(for_each_grants(&other).len(), 1);
        // A deny of the item's table covers an allow of the same table by its name.
        let named = "[{Effect: Allow, Action: dynamodb:DeleteTable, Resource: !Sub 'arn:aws:dynamodb:*:*:table/${Name}'}, {Effect: Deny, Action: dynamodb:DeleteTable, Resource: ['arn:aws:dynamodb:*:*:table/orders', 'arn:aws:dynamodb:*:*:table/invoices']}]";
        assert!(for_each_grants(named).is_empty());
        let partial = "[{Effect: Allow, Action: dynamodb:DeleteTable, Resource: !Sub 'arn:aws:dynamodb:*:*:table/${Name}'}, {Effect: Deny, Action: dynamodb:DeleteTable, Resource: 'arn:aws:dynamodb:*:*:table/orders'}]";
        assert_eq!(for_each_grants(partial).len(), 1);
    }

    #[test]
    fn the_known_prefix_of_an_action_decides_what_it_can_match() {
        let elb = "{Effect: Allow, Action: !Sub 'elasticloadbalancing:${A}', Resource: '*'}";
        assert!(grants_of(elb, &DELETE_TABLE).is_empty());
        let dynamo = "{Effect: Allow, Action: !Sub 'dynamodb:${A}', Resource: '*'}";
        let g = grants_of(dynamo, &DELETE_TABLE);
        assert_eq!(g.len(), 1);
        assert!(matches!(&g[0].via, Via::Unresolved(why) if why.contains("`A`")));
        assert!(grants_of(dynamo, &DELETE_RECOVERY_POINT).is_empty());
        let suffix = "{Effect: Allow, Action: !Join ['', [!Ref A, ':DeleteTable']], Resource: '*'}";
        assert_eq!(grants_of(suffix, &DELETE_TABLE).len(), 1);
        let other = "{Effect: Allow, Action: !Join ['', [!Ref A, ':GetItem']], Resource: '*'}";
        assert!(grants_of(other, &DELETE_TABLE).is_empty());
    }

    #[test]
    fn a_resource_from_a_parameter_names_it() {
        let g = grants_of(
            "{Effect: Allow, Action: dynamodb:DeleteTable, Resource: !Ref R}",
            &DELETE_TABLE,
        );
        assert_eq!(g[0].chosen_by.as_deref(), Some("R"));
        assert_eq!(g[0].resource.as_deref(), Some("*"));
    }

    #[test]
    fn a_not_resource_deny_takes_back_a_literal_arn_it_does_not_list() {
        let allow = "{Effect: Allow, Action: dynamodb:DeleteTable, Resource: 'arn:aws:dynamodb:us-east-1:111122223333:table/orders'}";
        let deny = |not: &str| {
            format!("{allow}\n          - {{Effect: Deny, Action: dynamodb:DeleteTable, NotResource: {not}}}")
        };
        // Everything except the scratch tables: `orders` is denied.
        assert!(grants_of(
            &deny("'arn:aws:dynamodb:*:*:table/scratch-*'"),
            &DELETE_TABLE
        )
        .is_empty());
        // What it lists is left out, by a wildcard or a policy variable that may be it.
        for not in [
            "'arn:aws:dynamodb:*:*:table/ord*'",
            "['arn:aws:dynamodb:*:*:table/scratch', 'arn:aws:dynamodb:*:*:table/${aws:username}']",
            "'arn:aws:dynamodb:*:*:table/${A}'",
            "!Ref R",
        ] {
            assert_eq!(grants_of(&deny(not), &DELETE_TABLE).len(), 1, "{not}");
        }
        // A pattern the Allow names is not a literal ARN: no NotResource deny is credited.
        let wide = "{Effect: Allow, Action: dynamodb:DeleteTable, Resource: 'arn:aws:dynamodb:*:*:table/*'}\n          - {Effect: Deny, Action: dynamodb:DeleteTable, NotResource: 'arn:aws:dynamodb:*:*:table/scratch'}";
        assert_eq!(grants_of(wide, &DELETE_TABLE).len(), 1);
    }

    #[test]
    fn an_effect_other_than_allow_or_deny_never_grants() {
        for effect in ["allow", "ALLOW", "Allow ", "Permit"] {
            let s = format!("{{Effect: '{effect}', Action: '*', Resource: '*'}}");
            assert!(grants_of(&s, &DELETE_TABLE).is_empty(), "{effect}");
        }
        // An effect that cannot be known may be `Allow`.
        let s = "{Effect: !Ref A, Action: '*', Resource: '*'}";
        assert_eq!(grants_of(s, &DELETE_TABLE).len(), 1);
    }
}
