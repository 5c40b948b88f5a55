//! The concrete deployments that decide whether a resource exists, for comparing a base
//! and a head revision case by case.
//!
//! A resource's `Condition` is decided by parameters (through conditions, mappings and
//! `Fn::Equals`) and pseudo parameters. [`Cases::new`] lists, for the parameters the
//! conditions of both revisions read, every choice a deployment can make: each allowed
//! value, each value either revision's conditions or mappings spell plus one value none
//! spells (for a parameter without `AllowedValues`), and "not passed" (the revision's own
//! `Default`). Under one case the evaluator ([`Evaluator::with_inputs`]) decides each
//! condition exactly, so "the table exists at the base but not at the head" is a statement
//! about one deployment, not about condition text. What cannot be fixed to one value (an
//! SSM or list parameter, a free parameter built into a longer string) stays unknown, and
//! the evaluator answers "either" for it: the comparison then errs on the side of a
//! finding.
//!
//! What a condition reads is summarised once per template ([`ReadIndex`]: each condition's
//! own body, then the summaries of the conditions it refers to), so that thousands of
//! tables whose conditions form one long chain do not each walk the whole chain again.
//! Which conditions differ between the two revisions is found once per comparison
//! ([`Revisions`]). A summary that cannot be shared (conditions that refer to one another
//! in a cycle, which CloudFormation rejects, or more names than [`MAX_SUMMARY`]) is
//! replaced by the walk of that one condition, bounded by `MAX_VISITS` as before.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, OnceLock};

use super::eval::{short, Assumption, Truth};
use super::same::{same_value, Side};
use super::{Evaluator, Resource, Template};
use crate::load::{Document, NodeId};

/// More cases than this are not enumerated: the caller falls back to a coarse answer.
pub const MAX_CASES: usize = 512;
/// Literal values tried for a parameter without `AllowedValues`.
const MAX_LITERALS: usize = 64;
/// Nodes visited when collecting what the conditions read by walking them (the fallback
/// for conditions without a shared summary).
const MAX_VISITS: usize = 20_000;
/// Conditions referring to one another more deeply than this are not walked further (the
/// walk recurses; the evaluator decides no more than 32 levels anyway).
const MAX_WALK_DEPTH: usize = 256;
/// Names (and map look-ups, and literals spelling the "none of them" value) a shared
/// summary holds at most; a condition reading more is walked instead.
pub const MAX_SUMMARY: usize = 64;
/// The value standing for "none of the literals": this text, with `~` added until no
/// literal read spells it.
const OTHER: &str = "other value";

/// One choice for one parameter in a deployment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Choice {
    /// Not passed: each revision uses its own `Default`.
    NotPassed,
    Passed(String),
    /// A value that no literal of either revision spells.
    Other,
}

/// One deployment: a choice for each parameter that matters.
#[derive(Clone, Debug)]
pub struct Case {
    pub choices: Vec<(String, Choice)>,
}

/// A revision's inputs under one case (each parameter and pseudo parameter that matters,
/// fixed to one value, as [`Evaluator::under`] takes them), or why that revision cannot
/// be deployed with it.
pub enum Inputs {
    Valid(Vec<Assumption>),
    Invalid(String),
}

pub struct Cases {
    pub cases: Vec<Case>,
    other: String,
    /// Everything the two `Condition`s read is the same at both revisions: the same
    /// condition name, the same bodies of every condition followed, the same parameter
    /// declarations and `Mappings`. Then each deployment decides both alike, even where
    /// the evaluator cannot decide it.
    pub unchanged: bool,
}

#[derive(Default)]
struct Reads {
    /// Parameter (and pseudo parameter) names, in first-seen order.
    names: Vec<String>,
    /// Names read inside a longer string (`Fn::Sub`, `Fn::Join`, ...), not as a whole value.
    composite: BTreeSet<String>,
    /// The literals each parameter is compared with: the other operand of `Fn::Equals`,
    /// the keys of a map it looks up.
    literals: BTreeMap<String, BTreeSet<String>>,
    /// (parameter, map, level): the parameter is the top-level (1) or second-level (2)
    /// key of a `Fn::FindInMap` of that map.
    map_keys: Vec<(String, String, usize)>,
    /// Every literal read, so that the value standing for "none of them" is none.
    all_literals: BTreeSet<String>,
    visits: usize,
    /// Recording one condition's body for its summary ([`ReadIndex`]): the names in the
    /// order first met, with the conditions referred to where they are referred to
    /// (which are then not followed). `None` when walking.
    steps: Option<Vec<Step>>,
    /// Recording met a value that is its own argument (see [`read`]): no summary.
    endless: bool,
}

/// In the order a condition's body reads them: a name, or a condition it refers to.
#[derive(Clone)]
enum Step {
    Name(String),
    Condition(String),
}

/// Whether `text` is [`OTHER`] followed only by `~`: a literal the "none of them" value
/// must not be.
fn spells_other(text: &str) -> bool {
    text.strip_prefix(OTHER)
        .is_some_and(|rest| rest.chars().all(|c| c == '~'))
}

/// What a condition reads, through every condition it refers to: the [`Reads`] of the
/// walk from that condition, except the literals kept (for each parameter the
/// [`MAX_LITERALS`] smallest, the only ones tried; of the others only those that spell the
/// "none of them" value).
#[derive(Clone, Debug, Default)]
struct Summary {
    names: Vec<String>,
    composite: BTreeSet<String>,
    literals: BTreeMap<String, BTreeSet<String>>,
    map_keys: BTreeSet<(String, String, usize)>,
    others: BTreeSet<String>,
}

impl Summary {
    fn name(&mut self, name: &str) {
        if !self.names.iter().any(|n| n == name) {
            self.names.push(name.to_string());
        }
    }

    /// The sets of one body (its names come in order, by its steps).
    fn body(&mut self, reads: &Reads) {
        self.composite.extend(reads.composite.iter().cloned());
        for (name, values) in &reads.literals {
            self.literal_set(name, values.iter());
        }
        self.map_keys.extend(reads.map_keys.iter().cloned());
        self.others.extend(
            reads
                .all_literals
                .iter()
                .filter(|l| spells_other(l))
                .cloned(),
        );
    }

    fn literal_set<'x>(&mut self, name: &str, values: impl Iterator<Item = &'x String>) {
        let kept = self.literals.entry(name.to_string()).or_default();
        for v in values {
            if kept.len() >= MAX_LITERALS && kept.last().is_some_and(|last| v >= last) {
                continue;
            }
            kept.insert(v.clone());
            if kept.len() > MAX_LITERALS {
                kept.pop_last();
            }
        }
    }

    /// Everything `other` reads, after what this reads.
    fn merge(&mut self, other: &Summary) {
        for n in &other.names {
            self.name(n);
        }
        self.composite.extend(other.composite.iter().cloned());
        for (name, values) in &other.literals {
            self.literal_set(name, values.iter());
        }
        self.map_keys.extend(other.map_keys.iter().cloned());
        self.others.extend(other.others.iter().cloned());
    }

    fn too_large(&self) -> bool {
        self.names.len() > MAX_SUMMARY
            || self.map_keys.len() > MAX_SUMMARY
            || self.others.len() > MAX_SUMMARY
    }

    /// The reads this summary stands for, after `reads` (another revision's).
    fn add_to(&self, reads: &mut Reads) {
        for n in &self.names {
            if !reads.names.iter().any(|r| r == n) {
                reads.names.push(n.clone());
            }
        }
        reads.composite.extend(self.composite.iter().cloned());
        for (name, values) in &self.literals {
            reads
                .literals
                .entry(name.clone())
                .or_default()
                .extend(values.iter().cloned());
        }
        reads.map_keys.extend(self.map_keys.iter().cloned());
        reads.all_literals.extend(self.others.iter().cloned());
    }
}

/// One template's condition summaries, computed once ([`Template::condition_reads`]):
/// by condition name, the summary of what it reads, or `None` where it has none to share
/// (it refers to itself through others, or reads more than [`MAX_SUMMARY`] names); and
/// the conditions each one refers to.
pub struct ReadIndex {
    summaries: HashMap<String, Option<Arc<Summary>>>,
    refers: HashMap<String, Vec<String>>,
}

/// One condition being summarised: its steps, the next to take, what it reads so far.
struct Frame {
    name: String,
    steps: Vec<Step>,
    next: usize,
    acc: Summary,
    /// It reaches a condition without a summary (in a cycle, or too large).
    unshared: bool,
}

impl ReadIndex {
    pub(crate) fn build(template: &Template) -> ReadIndex {
        let doc = template.doc;
        let mut summaries: HashMap<String, Option<Arc<Summary>>> = HashMap::new();
        let mut refers: HashMap<String, Vec<String>> = HashMap::new();
        let mut open: HashSet<String> = HashSet::new();
        let empty = Arc::new(Summary::default());
        let names: Vec<String> = template
            .conditions
            .and_then(|c| doc.map(c))
            .unwrap_or_default()
            .iter()
            .map(|e| doc.key(e).to_string())
            .collect();
        let enter = |name: &str, refers: &mut HashMap<String, Vec<String>>| -> Frame {
            let mut reads = Reads {
                steps: Some(Vec::new()),
                ..Reads::default()
            };
            if let Some(body) = template.condition(name) {
                read(template, body, &mut Follow::Record, &mut reads);
            }
            let mut acc = Summary::default();
            acc.body(&reads);
            let endless = reads.endless;
            let steps = reads.steps.take().unwrap_or_default();
            let referred: Vec<String> = steps
                .iter()
                .filter_map(|s| match s {
                    Step::Condition(c) => Some(c.clone()),
                    Step::Name(_) => None,
                })
                .collect();
            refers.insert(name.to_string(), referred);
            Frame {
                name: name.to_string(),
                steps,
                next: 0,
                acc,
                unshared: endless,
            }
        };
        for root in names {
            if summaries.contains_key(&root) {
                continue;
            }
            open.insert(root.clone());
            let mut stack = vec![enter(&root, &mut refers)];
            while let Some(top) = stack.last_mut() {
                if let Some(step) = top.steps.get(top.next).cloned() {
                    top.next += 1;
                    match step {
                        Step::Name(n) => top.acc.name(&n),
                        Step::Condition(c) => match summaries.get(&c) {
                            Some(Some(s)) => top.acc.merge(s),
                            Some(None) => top.unshared = true,
                            None if open.contains(&c) => top.unshared = true,
                            None if template.condition(&c).is_none() => {
                                summaries.insert(c, Some(Arc::clone(&empty)));
                            }
                            None => {
                                open.insert(c.clone());
                                let frame = enter(&c, &mut refers);
                                stack.push(frame);
                            }
                        },
                    }
                    if let Some(top) = stack.last_mut() {
                        if top.acc.too_large() {
                            top.unshared = true;
                            top.next = top.steps.len();
                        }
                    }
                    continue;
                }
                let Some(done) = stack.pop() else { break };
                open.remove(&done.name);
                let summary = (!done.unshared && !done.acc.too_large()).then(|| Arc::new(done.acc));
                if let Some(parent) = stack.last_mut() {
                    match &summary {
                        Some(s) => parent.acc.merge(s),
                        None => parent.unshared = true,
                    }
                }
                summaries.insert(done.name, summary);
            }
        }
        ReadIndex { summaries, refers }
    }

    /// The summary of condition `name`: `Ok(None)` for a name with no definition (it reads
    /// nothing), `Err(())` where it has none to share.
    fn summary(&self, template: &Template, name: &str) -> Result<Option<Arc<Summary>>, ()> {
        match self.summaries.get(name) {
            Some(Some(s)) => Ok(Some(Arc::clone(s))),
            Some(None) => Err(()),
            None if template.condition(name).is_none() => Ok(None),
            // A definition the index did not list (a key that is not a plain string).
            None => Err(()),
        }
    }
}

/// A base and a head revision compared resource by resource: which of the base's
/// conditions read, through any condition they refer to, a condition whose definition
/// differs at the head, found once for every resource compared.
pub struct Revisions<'a, 'd, 's> {
    pub base: &'a Template<'d, 's>,
    pub head: &'a Template<'d, 's>,
    changed: OnceLock<HashSet<String>>,
}

impl<'a, 'd, 's> Revisions<'a, 'd, 's> {
    pub fn new(base: &'a Template<'d, 's>, head: &'a Template<'d, 's>) -> Self {
        Revisions {
            base,
            head,
            changed: OnceLock::new(),
        }
    }

    /// Whether condition `name` of the base, or a condition it refers to (directly or
    /// through others), is defined differently (or only) at one revision.
    fn reaches_a_change(&self, name: &str) -> bool {
        if std::ptr::eq(self.base, self.head) {
            return false;
        }
        self.changed
            .get_or_init(|| {
                let (base, head) = (self.base, self.head);
                let keys = |t: &Template| -> Vec<String> {
                    t.conditions
                        .and_then(|c| t.doc.map(c))
                        .unwrap_or_default()
                        .iter()
                        .map(|e| t.doc.key(e).to_string())
                        .collect()
                };
                let mut changed: HashSet<String> = keys(base)
                    .into_iter()
                    .chain(keys(head))
                    .filter(|c| !same_node(base, base.condition(c), head, head.condition(c)))
                    .collect();
                // Every base condition that refers to a changed one, transitively.
                let index = base.condition_reads();
                let mut referred_by: HashMap<&str, Vec<&str>> = HashMap::new();
                for (from, to) in &index.refers {
                    for t in to {
                        referred_by
                            .entry(t.as_str())
                            .or_default()
                            .push(from.as_str());
                    }
                }
                let mut queue: Vec<String> = changed.iter().cloned().collect();
                while let Some(c) = queue.pop() {
                    for from in referred_by.get(c.as_str()).into_iter().flatten() {
                        if changed.insert((*from).to_string()) {
                            queue.push((*from).to_string());
                        }
                    }
                }
                changed
            })
            .contains(name)
    }
}

/// How [`read`] treats a condition a body refers to.
enum Follow {
    /// Walk it, once (the conditions already walked, and how many are being walked).
    Walk(BTreeSet<String>, usize),
    /// Record it as a step, for the summaries.
    Record,
}

impl Cases {
    /// Every deployment that can decide the `Condition` of `base_resource` at the base and
    /// of `head_resource` at the head; `None` when there are more than [`MAX_CASES`].
    pub fn new(
        revisions: &Revisions,
        base_resource: &Resource,
        head_resource: &Resource,
    ) -> Option<Cases> {
        let (base, head) = (revisions.base, revisions.head);
        let mut summaries = Vec::new();
        for (t, r) in [(base, base_resource), (head, head_resource)] {
            if let Some(name) = condition_name(t, r) {
                match t.condition_reads().summary(t, name) {
                    Ok(s) => summaries.extend(s),
                    Err(()) => return Cases::walking(base, base_resource, head, head_resource),
                }
            }
        }
        let mut reads = Reads::default();
        for s in &summaries {
            s.add_to(&mut reads);
        }
        let name = condition_name(base, base_resource);
        let conditions_same = name == condition_name(head, head_resource)
            && has_condition(base, base_resource) == has_condition(head, head_resource)
            && name.is_none_or(|n| !revisions.reaches_a_change(n));
        Cases::from_reads(base, head, reads, conditions_same)
    }

    /// [`Cases::new`] by walking the conditions of both resources, for conditions without
    /// a shared summary: at most [`MAX_VISITS`] nodes, after which what is left unread
    /// stays unknown and the conditions do not count as unchanged.
    fn walking(
        base: &Template,
        base_resource: &Resource,
        head: &Template,
        head_resource: &Resource,
    ) -> Option<Cases> {
        let mut reads = Reads::default();
        let mut seen = [BTreeSet::new(), BTreeSet::new()];
        for ((t, r), seen) in [(base, base_resource), (head, head_resource)]
            .into_iter()
            .zip(&mut seen)
        {
            if let Some(name) = condition_name(t, r) {
                let mut follow = Follow::Walk(std::mem::take(seen), 0);
                read_condition(t, name, &mut follow, &mut reads);
                if let Follow::Walk(s, _) = follow {
                    *seen = s;
                }
            }
        }
        let conditions_same = reads.visits <= MAX_VISITS
            && condition_name(base, base_resource) == condition_name(head, head_resource)
            && has_condition(base, base_resource) == has_condition(head, head_resource)
            && seen[0] == seen[1]
            && seen[0]
                .iter()
                .all(|c| same_node(base, base.condition(c), head, head.condition(c)));
        Cases::from_reads(base, head, reads, conditions_same)
    }

    /// The cases for what the two conditions read; `conditions_same`: the condition names
    /// and every definition they follow are the same at both revisions.
    fn from_reads(
        base: &Template,
        head: &Template,
        mut reads: Reads,
        conditions_same: bool,
    ) -> Option<Cases> {
        let map_keys = std::mem::take(&mut reads.map_keys);
        for (param, map, level) in map_keys {
            for t in [base, head] {
                let Some(m) = t.mappings.and_then(|ms| t.doc.get_value(ms, &map)) else {
                    continue;
                };
                let mut keys = Vec::new();
                for top in t.doc.map(m).unwrap_or_default() {
                    if level == 1 {
                        keys.push(t.doc.key(top).to_string());
                    } else {
                        for second in t.doc.map(top.value).unwrap_or_default() {
                            keys.push(t.doc.key(second).to_string());
                        }
                    }
                }
                reads.all_literals.extend(keys.iter().cloned());
                reads
                    .literals
                    .entry(param.clone())
                    .or_default()
                    .extend(keys);
            }
        }
        let unchanged = conditions_same
            && reads
                .names
                .iter()
                .all(|p| same_node(base, base.parameter(p), head, head.parameter(p)))
            && same_node(base, base.mappings, head, head.mappings);
        for t in [base, head] {
            for name in &reads.names {
                let Some(p) = t.parameter(name) else { continue };
                for (v, _) in allowed(t.doc, p).unwrap_or_default() {
                    reads.all_literals.insert(v);
                }
                if let Some((d, _)) = t
                    .doc
                    .get_value(p, "Default")
                    .and_then(|d| literal(t.doc, d))
                {
                    reads.all_literals.insert(d);
                }
            }
        }
        let mut other = String::from(OTHER);
        while reads.all_literals.contains(&other) {
            other.push('~');
        }
        let mut params: Vec<(String, Vec<Choice>)> = Vec::new();
        for name in &reads.names {
            if let Some(choices) = choices(name, base, head, &reads) {
                params.push((name.clone(), choices));
            }
        }
        let total = params
            .iter()
            .try_fold(1usize, |n, (_, c)| n.checked_mul(c.len().max(1)))?;
        if total > MAX_CASES {
            return None;
        }
        let mut cases = vec![Case {
            choices: Vec::new(),
        }];
        for (name, choices) in params {
            let mut next = Vec::with_capacity(cases.len() * choices.len());
            for case in &cases {
                for choice in &choices {
                    let mut c = case.clone();
                    c.choices.push((name.clone(), choice.clone()));
                    next.push(c);
                }
            }
            cases = next;
        }
        Some(Cases {
            cases,
            other,
            unchanged,
        })
    }

    /// The inputs of `template` under `case`.
    pub fn inputs(&self, template: &Template, case: &Case, side: &str) -> Inputs {
        let doc = template.doc;
        let mut out = Vec::new();
        for (name, choice) in &case.choices {
            let param = template.parameter(name);
            if param.is_none() && !name.starts_with("AWS::") {
                continue;
            }
            let other = Choice::Passed(self.other.clone());
            let is_other = *choice == Choice::Other;
            let choice = if is_other { &other } else { choice };
            let fixed = match (param, choice) {
                (_, Choice::Other) => continue,
                (None, Choice::Passed(v)) => v.clone(),
                (None, Choice::NotPassed) => continue,
                (Some(p), Choice::Passed(v)) => match allowed(doc, p) {
                    Some(list) => match list.into_iter().find(|(text, _)| text == v) {
                        Some((value, _)) => value,
                        None => {
                            let what = if is_other {
                                "that value".to_string()
                            } else {
                                format!("`{}`", short(v))
                            };
                            return Inputs::Invalid(format!(
                                "{what} is not one of parameter `{}`'s AllowedValues at the {side}",
                                short(name)
                            ));
                        }
                    },
                    None => v.clone(),
                },
                (Some(p), Choice::NotPassed) => match doc.get_value(p, "Default") {
                    None => {
                        return Inputs::Invalid(format!(
                            "parameter `{}` has no Default at the {side}",
                            short(name)
                        ))
                    }
                    Some(d) => match literal(doc, d) {
                        Some((value, _)) => value,
                        None => continue,
                    },
                },
            };
            out.push(Assumption::Parameter {
                name: name.clone(),
                value: fixed,
            });
        }
        Inputs::Valid(out)
    }

    /// "parameter `Env` is `dev` and `AWS::Region` is a value no literal spells".
    pub fn describe(&self, case: &Case, base: &Template, head: &Template) -> String {
        let parts: Vec<String> = case
            .choices
            .iter()
            .map(|(name, choice)| {
                let what = if name.starts_with("AWS::") {
                    format!("`{}`", short(name))
                } else {
                    format!("parameter `{}`", short(name))
                };
                match choice {
                    Choice::Passed(v) => format!("{what} is `{}`", short(v)),
                    Choice::Other => format!("{what} is a value no condition or mapping spells"),
                    Choice::NotPassed => {
                        let default = |t: &Template| {
                            t.parameter(name)
                                .and_then(|p| t.doc.get_value(p, "Default"))
                                .and_then(|d| literal(t.doc, d))
                                .map_or("none".to_string(), |(v, _)| format!("`{}`", short(&v)))
                        };
                        format!(
                            "{what} is not passed (Default {} at the head, {} at the base)",
                            default(head),
                            default(base)
                        )
                    }
                }
            })
            .collect();
        if parts.is_empty() {
            "whatever the parameters".to_string()
        } else {
            format!("when {}", parts.join(" and "))
        }
    }
}

fn same_node(a: &Template, x: Option<NodeId>, b: &Template, y: Option<NodeId>) -> bool {
    match (x, y) {
        (Some(x), Some(y)) => same_value(Side::new(a.doc, x), Side::new(b.doc, y)),
        (None, None) => true,
        _ => false,
    }
}

/// Whether `resource` exists under `inputs`: its `Condition`'s truth (always true without
/// one; "either" for a `Condition` that is not a name).
pub fn existence(template: &Template, resource: &Resource, inputs: &[Assumption]) -> Truth {
    let doc = template.doc;
    let Some(entry) = doc.get(resource.node, "Condition") else {
        return Truth {
            can_be_true: true,
            can_be_false: false,
        };
    };
    match doc.str(entry.value) {
        Some(name) => Evaluator::new(template, &resource.loops)
            .under(inputs)
            .condition(name, 0),
        None => Truth {
            can_be_true: true,
            can_be_false: true,
        },
    }
}

/// Whether the resource has a `Condition` entry at all (a name or not).
fn has_condition(template: &Template, resource: &Resource) -> bool {
    template.doc.get_value(resource.node, "Condition").is_some()
}

pub fn condition_name<'d>(template: &Template<'d, '_>, resource: &Resource) -> Option<&'d str> {
    let doc = template.doc;
    doc.get_value(resource.node, "Condition")
        .and_then(|c| doc.str(c))
}

/// The choices for parameter `name`, or `None` when it cannot be fixed to one value
/// (an SSM or list parameter, a free parameter read inside a longer string): it stays
/// unknown to the evaluator.
fn choices(name: &str, base: &Template, head: &Template, reads: &Reads) -> Option<Vec<Choice>> {
    let free_choices = |extra: &[String]| -> Option<Vec<Choice>> {
        if reads.composite.contains(name) {
            return None;
        }
        let mut values: BTreeSet<String> = reads
            .literals
            .get(name)
            .into_iter()
            .flatten()
            .take(MAX_LITERALS)
            .cloned()
            .collect();
        values.extend(extra.iter().cloned());
        let mut out: Vec<Choice> = values.into_iter().map(Choice::Passed).collect();
        out.push(Choice::Other);
        Some(out)
    };
    if name.starts_with("AWS::") {
        if name == "AWS::NoValue" || base.parameter(name).is_some() {
            return None;
        }
        return free_choices(&[]);
    }
    let declared: Vec<(&Template, NodeId)> = [base, head]
        .into_iter()
        .filter_map(|t| t.parameter(name).map(|p| (t, p)))
        .collect();
    if declared.is_empty() {
        return None;
    }
    for (t, p) in &declared {
        let type_name = t.doc.get_value(*p, "Type").map(|n| t.doc.str(n));
        match type_name {
            Some(Some(ty)) => {
                let ty = ty.trim();
                if ty.starts_with("AWS::SSM::")
                    || ty.starts_with("List<")
                    || ty == "CommaDelimitedList"
                {
                    return None;
                }
            }
            Some(None) => return None,
            None => {}
        }
    }
    // The values either revision allows: each listed value, and where a revision lists
    // none, every literal plus one value none spells. A value only one side allows is a
    // deployment the other cannot take (added or dropped by the change).
    let mut values: BTreeSet<String> = BTreeSet::new();
    let mut free = false;
    let mut extra = Vec::new();
    for (t, p) in &declared {
        match allowed(t.doc, *p) {
            Some(list) => values.extend(list.into_iter().map(|(v, _)| v)),
            None => free = true,
        }
        if let Some((d, _)) = t
            .doc
            .get_value(*p, "Default")
            .and_then(|d| literal(t.doc, d))
        {
            extra.push(d);
        }
    }
    let mut choices = vec![Choice::NotPassed];
    if free {
        for c in free_choices(&extra)? {
            if let Choice::Passed(v) = &c {
                if values.contains(v) {
                    continue;
                }
            }
            choices.push(c);
        }
    }
    choices.extend(values.into_iter().map(Choice::Passed));
    Some(choices)
}

/// A parameter's literal `AllowedValues` (text, YAML-typed), `None` when it has none or
/// one that is not a literal list of scalars (then any value is taken as allowed).
fn allowed(doc: &Document, param: NodeId) -> Option<Vec<(String, bool)>> {
    let items = doc.list(doc.get_value(param, "AllowedValues")?)?;
    items.iter().map(|i| literal(doc, *i)).collect()
}

fn literal(doc: &Document, node: NodeId) -> Option<(String, bool)> {
    let text = doc.str(node)?;
    let scalar = doc.scalar(node)?;
    let typed = doc.node(node).tag.is_none()
        && scalar.style == crate::load::ScalarStyle::Plain
        && super::eval::yaml_typed(text);
    Some((text.to_string(), typed))
}

fn read_condition(template: &Template, name: &str, follow: &mut Follow, reads: &mut Reads) {
    match follow {
        Follow::Record => {
            if let Some(steps) = &mut reads.steps {
                steps.push(Step::Condition(name.to_string()));
            }
        }
        Follow::Walk(seen, depth) => {
            if !seen.insert(name.to_string()) {
                return;
            }
            let Some(body) = template.condition(name) else {
                return;
            };
            if *depth >= MAX_WALK_DEPTH {
                // Left unread, like what lies past `MAX_VISITS`: not unchanged.
                reads.visits = MAX_VISITS + 1;
                return;
            }
            *depth += 1;
            read(template, body, follow, reads);
            if let Follow::Walk(_, depth) = follow {
                *depth -= 1;
            }
        }
    }
}

/// The parameter a value is, whole: `!Ref P`, or `!Sub "${P}"`.
fn whole_ref<'d>(doc: &'d Document, node: NodeId) -> Option<&'d str> {
    let call = doc.call(node)?;
    match call.name {
        "Ref" => doc.scalar(call.arg).map(|s| s.text.as_ref()),
        "Fn::Sub" => {
            let text = doc.scalar(call.arg).map(|s| s.text.as_ref())?;
            let name = text.trim().strip_prefix("${")?.strip_suffix('}')?;
            (!name.contains(['$', '{', '}', '.', '!'])).then_some(name)
        }
        _ => None,
    }
}

/// What a condition body reads: parameter names (whole or inside strings), conditions it
/// refers to (followed), and the literals each parameter is compared with.
fn read(template: &Template, node: NodeId, follow: &mut Follow, reads: &mut Reads) {
    if let Follow::Walk(..) = follow {
        reads.visits += 1;
        if reads.visits > MAX_VISITS {
            return;
        }
    }
    let doc = template.doc;
    let add = |reads: &mut Reads, name: &str, whole: bool| {
        if !reads.names.iter().any(|n| n == name) {
            reads.names.push(name.to_string());
            if let Some(steps) = &mut reads.steps {
                steps.push(Step::Name(name.to_string()));
            }
        }
        if !whole {
            reads.composite.insert(name.to_string());
        }
    };
    let Some(call) = doc.call(node) else {
        if let Some(text) = doc.str(node) {
            reads.all_literals.insert(text.to_string());
        } else if let Some(items) = doc.seq(node) {
            for i in items {
                read(template, *i, follow, reads);
            }
        } else if let Some(entries) = doc.map(node) {
            for e in entries {
                read(template, e.value, follow, reads);
            }
        }
        return;
    };
    let args = doc.seq(call.arg).unwrap_or(&[]);
    match call.name {
        "Condition" => {
            if let Some(s) = doc.scalar(call.arg) {
                read_condition(template, &s.text, follow, reads);
            }
            return;
        }
        "Fn::If" => {
            if let Some(name) = args.first().and_then(|c| doc.str(*c)) {
                read_condition(template, name, follow, reads);
            }
            for a in args.iter().skip(1) {
                read(template, *a, follow, reads);
            }
            return;
        }
        "Fn::Equals" => {
            if let [a, b] = args {
                for (x, y) in [(*a, *b), (*b, *a)] {
                    let Some(p) = whole_ref(doc, x) else {
                        read(template, x, follow, reads);
                        continue;
                    };
                    match doc.str(y) {
                        Some(lit) => {
                            add(reads, p, true);
                            reads.all_literals.insert(lit.to_string());
                            reads
                                .literals
                                .entry(p.to_string())
                                .or_default()
                                .insert(lit.to_string());
                        }
                        // Compared with something computed: which values matter is not
                        // known, so it is not fixed (the evaluator answers "either").
                        None => add(reads, p, false),
                    }
                }
                return;
            }
        }
        "Fn::FindInMap" => {
            let map = args.first().and_then(|m| doc.str(*m));
            for (level, key) in args.iter().enumerate().skip(1).take(2) {
                match (whole_ref(doc, *key), map) {
                    (Some(p), Some(m)) => {
                        add(reads, p, true);
                        reads.map_keys.push((p.to_string(), m.to_string(), level));
                    }
                    (Some(p), None) => add(reads, p, false),
                    (None, _) => read(template, *key, follow, reads),
                }
            }
            for rest in args.iter().take(1).chain(args.iter().skip(3)) {
                read(template, *rest, follow, reads);
            }
            return;
        }
        "Ref" => {
            if let Some(s) = doc.scalar(call.arg) {
                add(reads, &s.text, false);
            }
            return;
        }
        "Fn::Sub" => {
            let (text, vars) = match args {
                [t, v] => (doc.str(*t), Some(*v)),
                _ => (doc.scalar(call.arg).map(|s| s.text.as_ref()), None),
            };
            if let Some(text) = text {
                for name in sub_names(text) {
                    add(reads, name, false);
                }
            }
            if let Some(v) = vars {
                read(template, v, follow, reads);
            }
            return;
        }
        _ => {}
    }
    match doc.seq(call.arg) {
        Some(items) => {
            for i in items {
                read(template, *i, follow, reads);
            }
        }
        // A tagged scalar or mapping (`!Foo x`) is its own argument: reading it again
        // would never end. The walk once went round until `MAX_VISITS`, which leaves the
        // rest unread and the conditions not unchanged: the same, at once.
        None if call.arg == node => match follow {
            Follow::Walk(..) => reads.visits = MAX_VISITS + 1,
            Follow::Record => reads.endless = true,
        },
        None => read(template, call.arg, follow, reads),
    }
}

/// The names `${Name}` in an `Fn::Sub` string (not `${!Literal}`, not `${Res.Attr}`).
fn sub_names(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let name = after[..end].trim();
        if !name.starts_with('!') && !name.contains('.') {
            out.push(name);
        }
        rest = &after[end + 1..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{self, Format, Limits};

    fn load_str(text: &str) -> Result<Document<'_>, crate::load::FileError> {
        load::load(text, Format::Yaml, &Limits::default())
    }

    fn truth_cases(base: &str, head: &str) -> Vec<(String, bool, bool, bool)> {
        let (bd, hd) = (load_str(base).unwrap(), load_str(head).unwrap());
        let (b, h) = (
            Template::from_document(&bd).unwrap().unwrap(),
            Template::from_document(&hd).unwrap().unwrap(),
        );
        let (br, hr) = (b.resource("T").unwrap(), h.resource("T").unwrap());
        let cases = Cases::new(&Revisions::new(&b, &h), br, hr).unwrap();
        cases
            .cases
            .iter()
            .filter_map(|c| {
                let Inputs::Valid(hi) = cases.inputs(&h, c, "head") else {
                    return None;
                };
                let ht = existence(&h, hr, &hi);
                let (valid, bt) = match cases.inputs(&b, c, "base") {
                    Inputs::Valid(bi) => (true, existence(&b, br, &bi).can_be_true),
                    Inputs::Invalid(_) => (false, false),
                };
                Some((cases.describe(c, &b, &h), valid, bt, ht.can_be_false))
            })
            .collect()
    }

    const TABLE: &str = "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Condition: C\n";

    #[test]
    fn a_free_parameter_is_tried_with_every_literal_and_one_value_none_spells() {
        let base = format!(
            "Parameters:\n  P: {{Type: String}}\nConditions:\n  C: !Equals [!Ref P, a]\n{TABLE}"
        );
        let head = format!(
            "Parameters:\n  P: {{Type: String}}\nConditions:\n  C: !Equals [!Ref P, b]\n{TABLE}"
        );
        let got = truth_cases(&base, &head);
        // P = a: exists at the base, not at the head.
        assert!(
            got.iter()
                .any(|(d, valid, bt, hf)| d.contains("`a`") && *valid && *bt && *hf),
            "{got:?}"
        );
        // A value none spells: neither side has the table.
        assert!(
            got.iter()
                .any(|(d, _, bt, hf)| d.contains("no condition") && !*bt && *hf),
            "{got:?}"
        );
    }

    #[test]
    fn a_default_changed_is_the_not_passed_case() {
        let p = |d: &str| {
            format!("Parameters:\n  P: {{Type: String, AllowedValues: [a, b], Default: {d}}}\nConditions:\n  C: !Equals [!Ref P, a]\n{TABLE}")
        };
        let got = truth_cases(&p("a"), &p("b"));
        let flips: Vec<_> = got
            .iter()
            .filter(|(_, valid, bt, hf)| *valid && *bt && *hf)
            .collect();
        assert_eq!(flips.len(), 1, "{got:?}");
        assert!(flips[0].0.contains("not passed"), "{got:?}");
    }

    #[test]
    fn a_value_the_base_did_not_allow_is_an_invalid_base_case() {
        let p = |allowed: &str| {
            format!("Parameters:\n  P: {{Type: String, AllowedValues: [{allowed}]}}\nConditions:\n  C: !Equals [!Ref P, a]\n{TABLE}")
        };
        let got = truth_cases(&p("a"), &p("a, b"));
        assert!(
            got.iter()
                .any(|(d, valid, _, hf)| d.contains("`b`") && !*valid && *hf),
            "{got:?}"
        );
    }

    /// What [`Cases::new`] found, as text: each case, the stand-in value, and whether the
    /// conditions count as unchanged (`None`: more cases than [`MAX_CASES`]).
    fn listed(
        cases: Option<Cases>,
        b: &Template,
        h: &Template,
    ) -> Option<(Vec<String>, String, bool)> {
        cases.map(|c| {
            (
                c.cases.iter().map(|case| c.describe(case, b, h)).collect(),
                c.other.clone(),
                c.unchanged,
            )
        })
    }

    /// Each table `T*` of the head against the same logical ID at the base, through the
    /// summaries and through the walk: the same cases, in the same order.
    fn summaries_agree_with_the_walk(base: &str, head: &str) -> usize {
        let (bd, hd) = (load_str(base).unwrap(), load_str(head).unwrap());
        let (b, h) = (
            Template::from_document(&bd).unwrap().unwrap(),
            Template::from_document(&hd).unwrap().unwrap(),
        );
        let revisions = Revisions::new(&b, &h);
        let mut compared = 0;
        for hr in &h.resources {
            let Some(br) = b.resource(hr.logical_id) else {
                continue;
            };
            let summarised = listed(Cases::new(&revisions, br, hr), &b, &h);
            let walked = listed(Cases::walking(&b, br, &h, hr), &b, &h);
            assert_eq!(summarised, walked, "{}", hr.logical_id);
            compared += 1;
        }
        compared
    }

    const CHAIN: &str = "Parameters:
  Env: {Type: String, AllowedValues: [dev, prod], Default: dev}
  Free: {Type: String}
  Ssm: {Type: 'AWS::SSM::Parameter::Value<String>'}
  Name: {Type: String, Default: x}
Mappings:
  M:
    dev: {on: 'yes'}
    prod: {on: 'no'}
Conditions:
  A: !Equals [!Ref Free, 'other value']
  B: !Or [!Condition A, !Equals [!Ref Env, prod]]
  C: !And [!Condition B, !Not [!Condition A], !Equals [!FindInMap [M, !Ref Env, on], 'yes']]
  D: !Or [!Condition C, !Condition B, !Equals [!Sub '${Name}-x', a-x], !Equals [!Ref 'AWS::Region', eu-west-1]]
  E: !Or [!Condition D, !Condition Missing, !Equals [!Ref Ssm, v]]
  F: !Equals [!If [C, !Ref Free, b], !Ref Env]
  G: !Or [!Condition F, !Condition E, !Equals ['other value~', !Ref Free]]
  H: !Or [!Condition B, !Equals [!Foo x, a]]
Resources:
  TH: {Type: AWS::DynamoDB::Table, Condition: H}
  TA: {Type: AWS::DynamoDB::Table, Condition: A}
  TB: {Type: AWS::DynamoDB::Table, Condition: B}
  TC: {Type: AWS::DynamoDB::Table, Condition: C}
  TD: {Type: AWS::DynamoDB::Table, Condition: D}
  TE: {Type: AWS::DynamoDB::Table, Condition: E}
  TF: {Type: AWS::DynamoDB::Table, Condition: F}
  TG: {Type: AWS::DynamoDB::Table, Condition: G}
  TN: {Type: AWS::DynamoDB::Table}
";

    #[test]
    fn the_shared_summaries_read_what_the_walk_reads() {
        {
            let doc = load_str(CHAIN).unwrap();
            let t = Template::from_document(&doc).unwrap().unwrap();
            assert!(t.condition_reads().summary(&t, "H").is_err());
            assert!(t.condition_reads().summary(&t, "G").is_ok());
        }
        assert_eq!(summaries_agree_with_the_walk(CHAIN, CHAIN), 9);
        // `!Foo x` is its own argument: no summary, and the walk stops at once.
        assert!(CHAIN.contains("!Foo"));
        // A condition changed deep in the chain: every condition reaching it changed.
        let changed = CHAIN
            .replace(
                "AllowedValues: [dev, prod], Default: dev",
                "AllowedValues: [dev, prod, qa]",
            )
            .replace(
                "A: !Equals [!Ref Free, 'other value']",
                "A: !Equals [!Ref Free, z]",
            );
        assert_eq!(summaries_agree_with_the_walk(CHAIN, &changed), 9);
        assert_eq!(summaries_agree_with_the_walk(&changed, CHAIN), 9);
        let moved = CHAIN
            .replace("Condition: E}", "Condition: D}")
            .replace("Condition: A}", "Condition: G}");
        assert_eq!(summaries_agree_with_the_walk(CHAIN, &moved), 9);
        // Conditions in a cycle (CloudFormation rejects them) are walked.
        let cyclic = CHAIN.replace(
            "A: !Equals [!Ref Free, 'other value']",
            "A: !Or [!Condition G, !Equals [!Ref Free, a]]",
        );
        assert_eq!(summaries_agree_with_the_walk(&cyclic, &cyclic), 9);
        assert_eq!(summaries_agree_with_the_walk(CHAIN, &cyclic), 9);
    }

    #[test]
    fn a_long_chain_is_summarised_and_unchanged() {
        let mut text = String::from("Parameters:\n  P: {Type: String, AllowedValues: [a, b]}\n  Q: {Type: String}\nConditions:\n  C0: !Equals [!Ref P, a]\n  C1: !Equals [!Ref Q, b]\n");
        let n = 6000;
        for i in 2..n {
            text.push_str(&format!(
                "  C{i}: !Or [!Condition C{}, !Condition C{}]\n",
                i - 1,
                i - 2
            ));
        }
        text.push_str(&format!(
            "Resources:\n  T: {{Type: AWS::DynamoDB::Table, Condition: C{}}}\n",
            n - 1
        ));
        let doc = load_str(&text).unwrap();
        let t = Template::from_document(&doc).unwrap().unwrap();
        let r = t.resource("T").unwrap();
        let revisions = Revisions::new(&t, &t);
        let cases = Cases::new(&revisions, r, r).unwrap();
        // P: not passed, a, b; Q: not passed, b, a value none spells.
        assert_eq!(cases.cases.len(), 9);
        // Everything read is the same: no cap (the walk stops after 20,000 nodes).
        assert!(cases.unchanged);
        assert!(!Cases::walking(&t, r, &t, r).unwrap().unchanged);
    }

    #[test]
    fn a_summary_of_too_many_names_is_left_to_the_walk() {
        let mut text = String::from("Conditions:\n  C0: !Equals [!Ref P0, a]\n");
        for i in 1..=MAX_SUMMARY + 1 {
            text.push_str(&format!(
                "  C{i}: !Or [!Condition C{}, !Equals [!Ref P{i}, a]]\n",
                i - 1
            ));
        }
        text.push_str(&format!("Resources:\n  T: {{Type: AWS::DynamoDB::Table, Condition: C{}}}\n  U: {{Type: AWS::DynamoDB::Table, Condition: C3}}\n", MAX_SUMMARY + 1));
        let doc = load_str(&text).unwrap();
        let t = Template::from_document(&doc).unwrap().unwrap();
        let index = t.condition_reads();
        assert!(index.summary(&t, &format!("C{}", MAX_SUMMARY + 1)).is_err());
        assert!(index.summary(&t, "C3").is_ok_and(|s| s.is_some()));
        assert_eq!(summaries_agree_with_the_walk(&text, &text), 2);
    }
}
