//! Static evaluation of intrinsic functions to the set of values an expression can take.
//!
//! Each possible value carries the assumptions under which it arises ("condition `IsProd`
//! is false", "parameter `Env` is `dev`") and the span that produced it, so a rule can say
//! which branch or parameter value is the problem. Anything that cannot be resolved is an
//! explicit [`Value::Unknown`] with the reason: it proves nothing. The evaluation is an
//! over-approximation, so "every outcome is Retain" is a proof; an outcome whose
//! [`Assumptions`] no deployment can satisfy (a condition and its negation, two conditions
//! on one parameter that cannot both hold, see [`Assumptions::satisfiable`]) is dropped,
//! never one that some deployment may produce. The number of outcomes is capped so that no
//! template can make the evaluator explode.

use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::rc::Rc;

pub use super::assumptions::{Assumption, Assumptions};
use super::{LoopBinding, Resource, Template};
use crate::hash::HashMap;
use crate::load::{NodeId, NodeKind, ScalarStyle};
use crate::source::Span;

/// More outcomes than this collapse into one `Unknown`.
pub const MAX_OUTCOMES: usize = 64;
/// Conditions nested (or referring to each other) deeper than this are not followed.
const MAX_CONDITION_DEPTH: usize = 32;
/// Intrinsics nested deeper than this are `Unknown`: real templates nest a handful, and the
/// bound keeps the recursion far from the end of a worker thread's stack whatever
/// `--max-depth` allows.
pub const MAX_EVAL_DEPTH: usize = 64;
/// An unresolvable `Fn::FindInMap` key selects every key of its map only up to this many.
const MAX_ENUMERATED_KEYS: usize = 256;
/// Longer values are `Unknown`: policies and condition operands are short words, and the
/// bound keeps `Fn::Sub`/`Fn::Join` from building huge strings (a `${P}` repeated a
/// million times, or 64 x 64 combinations of long parameter values).
pub const MAX_VALUE_LEN: usize = 4096;
/// `Fn::Join` lists longer than this are `Unknown`.
const MAX_JOIN_ITEMS: usize = 256;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Text(String),
    /// `Ref: AWS::NoValue`: the attribute or property is removed.
    NoValue,
    /// Cannot be known before deployment; the text says why.
    Unknown(String),
    /// A string of which some parts cannot be known (`dynamodb:${Action}`): only an
    /// evaluator made with [`Evaluator::keeping_parts`] returns it, for callers that can
    /// use the known parts (an IAM action whose literal prefix rules out a match).
    Partial(Vec<Piece>),
}

/// One part of a [`Value::Partial`] string. What is not known is a typed variant, never a
/// character inside the text, so no string a template spells can be taken for it. The
/// consumers decide what each stand-in can be: an IAM action reads any of them as `*`, an
/// IAM resource reads `!GetAtt Orders.Arn` as a table ARN, a backup selection reads
/// `${AWS::Region}` as the stack's own Region.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    Lit(String),
    /// Any text: why it cannot be known, and the parameter whose value it is, if any.
    Unknown {
        why: String,
        parameter: Option<String>,
    },
    /// A pseudo parameter (`AWS::Region`, `AWS::AccountId`, ...): the stack's own value.
    Pseudo(String),
    /// `Ref` to a resource of this template: its name or ID.
    Ref(String),
    /// `Fn::GetAtt` (or `${Resource.Attribute}`) of a resource of this template.
    Attribute {
        resource: String,
        attribute: String,
    },
    /// `Fn::ImportValue` of this export name: another stack's output, read at deployment.
    Import(String),
}

impl Piece {
    /// Why this piece is not known text (`None` for a literal).
    pub fn reason(&self) -> Option<String> {
        match self {
            Piece::Lit(_) => None,
            Piece::Unknown { why, .. } => Some(why.clone()),
            Piece::Pseudo(name) => Some(format!(
                "pseudo parameter `{name}` depends on where the stack is deployed"
            )),
            Piece::Ref(name) => Some(format!(
                "`Ref` to resource `{}` is only known after deployment",
                short(name)
            )),
            Piece::Attribute {
                resource,
                attribute,
            } => Some(format!(
                "`Fn::GetAtt` `{}.{}` is known only after deployment",
                short(resource),
                short(attribute)
            )),
            // The export is named where the value is shown; the reason reads as before.
            Piece::Import(_) => {
                Some("`Fn::ImportValue` cannot be resolved before deployment".to_string())
            }
        }
    }
}

impl Value {
    /// Why the value is not one known string (`None` for a known text).
    pub fn unknown_reason(&self) -> Option<String> {
        match self {
            Value::Text(_) => None,
            Value::NoValue => Some("`AWS::NoValue` removes the value".to_string()),
            Value::Unknown(why) => Some(why.clone()),
            Value::Partial(pieces) => pieces.iter().find_map(Piece::reason),
        }
    }
}

/// Longest name or value quoted whole in a message.
const MAX_QUOTED: usize = 64;

/// A name or value as quoted in a message: cut to its first characters past
/// [`MAX_QUOTED`] bytes, so that one long parameter value cannot make every finding that
/// mentions it huge (output would grow with tables x value length).
pub fn short(text: &str) -> std::borrow::Cow<'_, str> {
    if text.len() <= MAX_QUOTED {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut end = MAX_QUOTED - 4;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    std::borrow::Cow::Owned(format!("{}…", &text[..end]))
}

/// One value an expression can take, under some assumptions, produced at `span`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub value: Value,
    pub span: Span,
    pub when: Assumptions,
    /// The text is (or contains) a plain YAML scalar that YAML 1.1 reads as a boolean,
    /// number or null in a spelling whose text CloudFormation compares by is not settled
    /// (`True`, `yes`, `1.0`, `~`, `012`): a comparison with it can go either way.
    pub yaml_typed: bool,
}

impl Outcome {
    fn new(value: Value, span: Span) -> Self {
        Outcome {
            value,
            span,
            when: Assumptions::none(),
            yaml_typed: false,
        }
    }

    /// "when condition `IsProd` is false and parameter `Env` is `dev`", or "" if unconditional.
    pub fn describe_when(&self) -> String {
        self.when.to_string()
    }

    /// This outcome under one more assumption, or `None` when that contradicts it.
    pub fn assume(mut self, assumption: Assumption) -> Option<Self> {
        // Callers add the enclosing assumption last; it reads best first.
        self.when = self.when.under(assumption)?;
        Some(self)
    }
}

/// Whether a condition can be true and whether it can be false.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Truth {
    pub can_be_true: bool,
    pub can_be_false: bool,
}

const EITHER: Truth = Truth {
    can_be_true: true,
    can_be_false: true,
};

pub struct Evaluator<'t, 'd, 's> {
    template: &'t Template<'d, 's>,
    loops: &'t [LoopBinding<'d>],
    /// Truth of each condition already evaluated (`None` while in progress, so a cycle
    /// reads as "either"). Without it, conditions that refer to one another twice per
    /// level would take exponential time.
    conditions: RefCell<HashMap<String, Option<Truth>>>,
    /// What holds whenever the values asked about matter: the resource's own `Condition`
    /// is true (it does not exist otherwise). Outcomes that contradict it are dropped.
    given: Assumptions,
    /// Whether each set of assumptions asked about can hold ([`Assumptions::satisfiable`]).
    satisfiable: RefCell<HashMap<Vec<Assumption>, bool>>,
    /// The values of each `Fn::Equals` operand of a condition, evaluated once.
    operands: RefCell<HashMap<NodeId, Rc<Vec<Outcome>>>>,
    /// Set while [`Assumptions::satisfiable`] runs (see [`Evaluator::consistent`]).
    searching: Cell<bool>,
    /// Whether `given` alone can hold, once asked outside a search: what
    /// [`Evaluator::consistent`] answers for no assumption, which most values carry.
    given_satisfiable: Cell<Option<bool>>,
    /// What [`Evaluator::under`] was given contradicts the resource's own `Condition`.
    given_conflict: bool,
    /// Strings with unknown parts stay [`Value::Partial`] instead of becoming `Unknown`.
    keep_parts: bool,
    /// Set by [`Evaluator::under`]: `given` holds one concrete value for parameters, so a
    /// `Ref` to one of them is that value only and conditions are decided by it.
    assigned: bool,
    /// The parameters (of a string type) that a `Ref` (or `${}`) read, also inside
    /// conditions: the cases a caller comparing two templates must enumerate.
    parameters_read: RefCell<BTreeSet<String>>,
}

impl<'t, 'd, 's> Evaluator<'t, 'd, 's> {
    pub fn new(template: &'t Template<'d, 's>, loops: &'t [LoopBinding<'d>]) -> Self {
        Evaluator {
            template,
            loops,
            conditions: RefCell::new(HashMap::default()),
            given: Assumptions::none(),
            satisfiable: RefCell::new(HashMap::default()),
            operands: RefCell::new(HashMap::default()),
            searching: Cell::new(false),
            given_satisfiable: Cell::new(None),
            given_conflict: false,
            keep_parts: false,
            assigned: false,
            parameters_read: RefCell::new(BTreeSet::new()),
        }
    }

    /// The evaluator for the values of one resource: its loops, and its own `Condition`
    /// as a given, since none of its values matters when it does not exist (a
    /// `DeletionPolicy` branch taken only when the table's condition is false is no case).
    pub fn for_resource(template: &'t Template<'d, 's>, resource: &'t Resource<'d>) -> Self {
        let mut ev = Evaluator::new(template, &resource.loops);
        let doc = template.doc;
        if let Some(name) = doc
            .get_value(resource.node, "Condition")
            .and_then(|c| doc.str(c))
        {
            ev.given = Assumptions::from(Assumption::Condition {
                name: name.to_string(),
                holds: true,
            });
        }
        ev
    }

    /// This evaluator, returning [`Value::Partial`] for strings with unknown parts.
    pub fn keeping_parts(mut self) -> Self {
        self.keep_parts = true;
        self
    }

    /// This evaluator in one concrete deployment: each `Parameter` assumption of
    /// `assignment` (a parameter or a pseudo parameter) is given, so a `Ref` to it is that
    /// value only, and a condition reading it is decided (true or false) instead of
    /// "either"; other assumptions (a condition's truth) are given too. The one way the
    /// pull-request guard fixes values: to compare two revisions of a template value case
    /// by case rather than by the names of their conditions (whose definitions may differ
    /// between the revisions), and to decide whether a resource exists in a deployment.
    pub fn under(mut self, assignment: &[Assumption]) -> Self {
        match self.given.and(assignment) {
            Some(given) => self.given = given,
            None => self.given_conflict = true,
        }
        self.assigned = true;
        self.given_satisfiable.set(None);
        self.conditions.borrow_mut().clear();
        self.satisfiable.borrow_mut().clear();
        self.operands.borrow_mut().clear();
        self
    }

    /// The value [`Evaluator::under`] assigned to parameter (or pseudo parameter) `name`.
    fn assigned_value(&self, name: &str) -> Option<&str> {
        if !self.assigned {
            return None;
        }
        self.given.iter().find_map(|a| match a {
            Assumption::Parameter { name: n, value } if n == name => Some(value.as_str()),
            _ => None,
        })
    }

    /// Whether what is given contradicts itself (the resource's own `Condition` is false
    /// in the assigned case): then none of its values exists.
    pub fn given_contradicts(&self) -> bool {
        self.given_conflict || !self.satisfiable_here(&self.given)
    }

    /// The parameters (of a string type) read so far by this evaluator (by a value, a
    /// `Fn::Sub` variable, a map key or a condition), in name order.
    pub fn parameters_read(&self) -> Vec<String> {
        self.parameters_read.borrow().iter().cloned().collect()
    }

    /// The assumptions every case asked about shares (see [`Evaluator::for_resource`]).
    pub fn given(&self) -> &[Assumption] {
        &self.given
    }

    /// Whether assumptions `when` can hold together with what is given, read against the
    /// template's conditions ([`Assumptions::satisfiable`]): `false` is a proof that no
    /// deployment produces the case.
    pub fn consistent(&self, when: &[Assumption]) -> bool {
        if self.given_conflict {
            return false;
        }
        if when.is_empty() {
            // `given` with nothing added: the same question every time, answered once
            // (while a search runs, `satisfiable_here` answers true without asking).
            if self.searching.get() {
                return true;
            }
            if let Some(known) = self.given_satisfiable.get() {
                return known;
            }
            let answer = self.satisfiable_here(&self.given);
            self.given_satisfiable.set(Some(answer));
            return answer;
        }
        self.given
            .and(when)
            .is_some_and(|all| self.satisfiable_here(&all))
    }

    /// [`Assumptions::satisfiable`], except while one is being decided: the values it
    /// evaluates then are checked for direct contradictions only (no recursion).
    fn satisfiable_here(&self, all: &Assumptions) -> bool {
        if self.searching.get() {
            return true;
        }
        self.searching.set(true);
        let answer = all.satisfiable(self);
        self.searching.set(false);
        answer
    }

    pub(super) fn template(&self) -> &'t Template<'d, 's> {
        self.template
    }

    pub(super) fn satisfiable_cache(&self) -> &RefCell<HashMap<Vec<Assumption>, bool>> {
        &self.satisfiable
    }

    /// The values of a condition's `Fn::Equals` operand (evaluated once per evaluator).
    pub(super) fn operand(&self, node: NodeId) -> Rc<Vec<Outcome>> {
        if let Some(known) = self.operands.borrow().get(&node) {
            return Rc::clone(known);
        }
        let values = Rc::new(self.eval_inner(node, 1));
        self.operands.borrow_mut().insert(node, Rc::clone(&values));
        values
    }

    /// Every value parameter `name` can take (its AllowedValues), or `None` when they
    /// cannot be listed (no AllowedValues, an SSM or list type, too many).
    pub(super) fn parameter_values(&self, name: &str) -> Option<Vec<String>> {
        let node = self.template.parameter(name)?;
        self.eval_ref(node, name)
            .iter()
            .map(|o| match (&o.value, &o.when[..]) {
                (Value::Text(t), [Assumption::Parameter { name: n, value }])
                    if n == name && value == t =>
                {
                    Some(t.clone())
                }
                _ => None,
            })
            .collect()
    }

    /// Every value `node` can take, except those that contradict what is given. Empty only
    /// when every value does (the value never matters); what cannot be resolved is `Unknown`.
    pub fn eval(&self, node: NodeId) -> Vec<Outcome> {
        let outcomes = self.eval_inner(node, 0);
        if outcomes.is_empty() {
            return vec![Outcome::new(
                Value::Unknown("no value can be resolved".into()),
                self.span(node),
            )];
        }
        outcomes
            .into_iter()
            .filter(|o| self.consistent(&o.when))
            .collect()
    }

    /// The assumptions that follow from condition `name` being `holds`: the condition
    /// itself, the conditions it is a conjunction of (or, when false, a disjunction of),
    /// negations, and `Fn::Equals` of a parameter with one of its AllowedValues.
    pub(super) fn implied_by_condition(
        &self,
        name: &str,
        holds: bool,
        depth: usize,
        out: &mut Vec<Assumption>,
    ) {
        let a = Assumption::Condition {
            name: name.to_string(),
            holds,
        };
        if out.contains(&a) || depth > MAX_CONDITION_DEPTH {
            return;
        }
        out.push(a);
        if let Some(body) = self.template.condition(name) {
            self.implied_by(body, holds, depth + 1, out);
        }
    }

    fn implied_by(&self, node: NodeId, holds: bool, depth: usize, out: &mut Vec<Assumption>) {
        let doc = self.template.doc;
        if depth > MAX_CONDITION_DEPTH {
            return;
        }
        let Some(call) = doc.call(node) else { return };
        let args = doc.seq(call.arg).unwrap_or(&[]);
        match (call.name, holds) {
            ("Condition", _) => {
                if let Some(name) = doc.scalar(call.arg).map(|s| s.text.as_ref()) {
                    self.implied_by_condition(name, holds, depth + 1, out);
                }
            }
            ("Fn::Not", _) => {
                if let [inner] = args {
                    self.implied_by(*inner, !holds, depth + 1, out);
                }
            }
            ("Fn::And", true) | ("Fn::Or", false) => {
                for part in args {
                    self.implied_by(*part, holds, depth + 1, out);
                }
            }
            ("Fn::Equals", true) => {
                let [a, b] = args else { return };
                for (r, lit) in [(*a, *b), (*b, *a)] {
                    if let Some(p) = self.parameter_equal_to(r, lit) {
                        out.push(p);
                    }
                }
            }
            _ => {}
        }
    }

    /// `Parameter { name, value }` when `r` is `Ref` to a parameter whose every value is
    /// exactly one of its AllowedValues and `lit` is one of them, written as a string.
    fn parameter_equal_to(&self, r: NodeId, lit: NodeId) -> Option<Assumption> {
        let doc = self.template.doc;
        let call = doc.call(r).filter(|c| c.name == "Ref")?;
        let name = doc.scalar(call.arg).map(|s| s.text.as_ref())?;
        if self.loops.iter().any(|b| b.identifier == name) {
            return None;
        }
        let value = doc.str(lit)?;
        let literal = doc.scalar(lit)?;
        if literal.style == ScalarStyle::Plain && yaml_typed(value) {
            return None;
        }
        let outcomes = self.eval_ref(r, name);
        let matches = outcomes.iter().any(|o| {
            !o.yaml_typed
                && o.value == Value::Text(value.to_string())
                && o.when[..]
                    == [Assumption::Parameter {
                        name: name.to_string(),
                        value: value.to_string(),
                    }]
        });
        matches.then(|| Assumption::Parameter {
            name: name.to_string(),
            value: value.to_string(),
        })
    }

    fn span(&self, node: NodeId) -> Span {
        self.template.doc.span(node)
    }

    fn too_long(&self, node: NodeId) -> Vec<Outcome> {
        self.unknown(
            node,
            format!("a value longer than {MAX_VALUE_LEN} bytes is not resolved"),
        )
    }

    fn unknown(&self, node: NodeId, why: impl Into<String>) -> Vec<Outcome> {
        vec![Outcome::new(Value::Unknown(why.into()), self.span(node))]
    }

    /// A value known only at deployment: the typed piece for an evaluator keeping parts,
    /// `Unknown` with its reason otherwise.
    fn stand_in(&self, node: NodeId, piece: Piece) -> Vec<Outcome> {
        if self.keep_parts {
            return vec![Outcome::new(Value::Partial(vec![piece]), self.span(node))];
        }
        let why = piece.reason().unwrap_or_default();
        self.unknown(node, why)
    }

    /// A parameter whose value cannot be listed.
    fn parameter_unknown(&self, node: NodeId, name: &str, why: String) -> Vec<Outcome> {
        self.stand_in(
            node,
            Piece::Unknown {
                why,
                parameter: Some(name.to_string()),
            },
        )
    }

    fn eval_inner(&self, node: NodeId, depth: usize) -> Vec<Outcome> {
        let doc = self.template.doc;
        if depth > MAX_EVAL_DEPTH {
            return self.unknown(
                node,
                format!("intrinsic functions are nested more than {MAX_EVAL_DEPTH} deep"),
            );
        }
        if let Some(call) = doc.call(node) {
            return self.eval_call(node, call.name, call.arg, depth);
        }
        match &doc.node(node).kind {
            NodeKind::Scalar(s)
                if doc.node(node).tag.is_none()
                    || doc.node(node).tag.as_deref() == Some("!!str") =>
            {
                if s.text.len() > MAX_VALUE_LEN {
                    return self.too_long(node);
                }
                vec![self.literal(node)]
            }
            NodeKind::Scalar(_) => {
                self.unknown(node, "a value with an unknown tag cannot be resolved")
            }
            NodeKind::Seq(_) => self.unknown(node, "a list is not a single value"),
            NodeKind::Map(_) => self.unknown(node, "a mapping is not a single value"),
        }
    }

    fn eval_call(&self, node: NodeId, name: &str, arg: NodeId, depth: usize) -> Vec<Outcome> {
        let doc = self.template.doc;
        let args = doc.seq(arg).unwrap_or(&[]);
        match name {
            "Ref" => match doc.scalar(arg) {
                Some(s) => self.eval_ref(node, &s.text),
                None => self.unknown(node, "`Ref` needs a name"),
            },
            "Fn::If" => match args {
                [cond, then, otherwise] => self.eval_if(node, *cond, *then, *otherwise, depth),
                _ => self.unknown(
                    node,
                    "`Fn::If` needs [condition, value if true, value if false]",
                ),
            },
            "Fn::FindInMap" => self.eval_find_in_map(node, args, depth),
            "Fn::Sub" => self.eval_sub(node, arg, depth),
            "Fn::Join" => match args {
                [delimiter, list] => self.eval_join(node, *delimiter, *list, depth),
                _ => self.unknown(node, "`Fn::Join` needs [delimiter, list]"),
            },
            "Fn::Select" => match args {
                [index, list] => self.eval_select(node, *index, *list, depth),
                _ => self.unknown(node, "`Fn::Select` needs [index, list]"),
            },
            "Fn::GetAtt" => {
                let parts = match args {
                    [r, a] => doc.str(*r).zip(doc.str(*a)),
                    [..] if doc.seq(arg).is_some() => None,
                    // `!GetAtt T.Arn`: the tagged scalar is the argument.
                    _ => doc.scalar(arg).and_then(|s| s.text.split_once('.')),
                };
                match parts {
                    Some((r, a)) if self.template.has_resource(r) => self.stand_in(
                        node,
                        Piece::Attribute {
                            resource: r.to_string(),
                            attribute: a.to_string(),
                        },
                    ),
                    _ => self.unknown(node, "`Fn::GetAtt` cannot be resolved before deployment"),
                }
            }
            "Fn::ImportValue" => {
                // `!ImportValue name`: the tagged scalar is the argument.
                let names = if arg == node {
                    doc.scalar(arg)
                        .map_or_else(Vec::new, |_| vec![self.literal(arg)])
                } else {
                    self.eval_inner(arg, depth + 1)
                };
                let mut out = Vec::new();
                for o in names {
                    let Value::Text(name) = &o.value else {
                        return self.unknown(
                            node,
                            "`Fn::ImportValue` cannot be resolved before deployment",
                        );
                    };
                    for s in self.stand_in(node, Piece::Import(name.clone())) {
                        out.extend(with_assumptions(s, std::slice::from_ref(&o.when)));
                    }
                }
                cap(out, self.span(node))
            }
            other => self.unknown(
                node,
                format!("`{other}` cannot be resolved before deployment"),
            ),
        }
    }

    /// Every value of `Ref: name` (also `${name}` in `Fn::Sub`), with `node` as its span.
    pub fn eval_ref(&self, node: NodeId, name: &str) -> Vec<Outcome> {
        let doc = self.template.doc;
        if name == "AWS::NoValue" {
            return vec![Outcome::new(Value::NoValue, self.span(node))];
        }
        if let Some(binding) = self.loops.iter().rev().find(|b| b.identifier == name) {
            return self.loop_items(node, binding);
        }
        if name.starts_with("AWS::") {
            // A pseudo parameter assigned by [`Evaluator::under`]: the deployment's value.
            if let Some(value) = self.assigned_value(name) {
                if value.len() > MAX_VALUE_LEN {
                    return self.too_long(node);
                }
                return Outcome::new(Value::Text(value.to_string()), self.span(node))
                    .assume(Assumption::Parameter {
                        name: name.to_string(),
                        value: value.to_string(),
                    })
                    .into_iter()
                    .collect();
            }
            return self.stand_in(node, Piece::Pseudo(name.to_string()));
        }
        if let Some(param) = self.template.parameter(name) {
            let type_name = doc
                .get_value(param, "Type")
                .map(|t| doc.str(t).map(str::trim));
            match type_name {
                Some(Some(t)) if t.starts_with("AWS::SSM::Parameter::Value<") => {
                    return self.parameter_unknown(
                        node,
                        name,
                        format!(
                            "parameter `{}` has type `{}`: `Ref` returns the value stored in Systems Manager at deploy time, and AllowedValues, AllowedPattern and Default constrain only the parameter's name",
                            short(name),
                            short(t)
                        ),
                    )
                }
                Some(Some(t)) if t == "CommaDelimitedList" || t.starts_with("List<") => {
                    return self.parameter_unknown(
                        node,
                        name,
                        format!(
                            "parameter `{}` has type `{}`: `Ref` returns a list of values, not one of AllowedValues",
                            short(name),
                            short(t)
                        ),
                    )
                }
                Some(None) => {
                    return self.parameter_unknown(
                        node,
                        name,
                        format!("parameter `{}` has a `Type` that is not a string", short(name)),
                    )
                }
                _ => {}
            }
            self.parameters_read.borrow_mut().insert(name.to_string());
            let allowed = doc
                .get_value(param, "AllowedValues")
                .and_then(|a| doc.list(a));
            // A value assigned to a parameter without a list of values (its Default, in
            // the case "the update keeps the defaults"); one with a list is filtered
            // below, so a value the list does not allow has no outcome.
            // In an assigned case the value may be the `Default`, which a plain YAML 1.1
            // scalar types as written.
            let typed_default = |value: &str| {
                self.assigned
                    && doc
                        .get_value(param, "Default")
                        .map(|d| self.literal(d))
                        .is_some_and(|d| d.yaml_typed && d.value == Value::Text(value.to_string()))
            };
            if let (Some(value), None) = (self.assigned_value(name), allowed) {
                if value.len() > MAX_VALUE_LEN {
                    return self.too_long(node);
                }
                let yaml_typed = typed_default(value);
                return vec![Outcome {
                    yaml_typed,
                    ..Outcome::new(Value::Text(value.to_string()), self.span(node))
                }];
            }
            let Some(allowed) = allowed else {
                return self.parameter_unknown(
                    node,
                    name,
                    format!("parameter `{name}` has no AllowedValues, so any value can be passed at deploy time"),
                );
            };
            let mut out = Vec::new();
            for item in allowed {
                match doc.scalar(*item) {
                    Some(s) if s.text.len() > MAX_VALUE_LEN => return self.too_long(node),
                    Some(s) if doc.str(*item).is_some() => out.extend(
                        Outcome {
                            yaml_typed: self.literal(*item).yaml_typed || typed_default(&s.text),
                            ..Outcome::new(Value::Text(s.text.to_string()), self.span(node))
                        }
                        .assume(Assumption::Parameter {
                            name: name.to_string(),
                            value: s.text.to_string(),
                        }),
                    ),
                    _ => {
                        return self.unknown(
                            node,
                            format!("parameter `{name}` has a non-literal AllowedValues entry"),
                        )
                    }
                }
            }
            if self.assigned {
                out.retain(|o| self.consistent(&o.when));
            }
            return cap(out, self.span(node));
        }
        if self.template.has_resource(name) {
            return self.stand_in(node, Piece::Ref(name.to_string()));
        }
        self.unknown(
            node,
            format!("`{name}` is not a parameter or resource of this template"),
        )
    }

    fn loop_items(&self, node: NodeId, binding: &LoopBinding<'_>) -> Vec<Outcome> {
        let doc = self.template.doc;
        let Some(items) = doc.list(binding.collection) else {
            if let Some(call) = doc.call(binding.collection).filter(|c| c.name == "Ref") {
                if let Some(why) = doc
                    .scalar(call.arg)
                    .and_then(|name| {
                        self.eval_ref(binding.collection, &name.text)
                            .into_iter()
                            .next()
                    })
                    .and_then(|o| o.value.unknown_reason())
                {
                    return self.unknown(
                        node,
                        format!(
                            "the `Fn::ForEach` collection of `{}` cannot be listed ({why})",
                            binding.identifier
                        ),
                    );
                }
            }
            return self.unknown(
                node,
                format!(
                    "the `Fn::ForEach` collection of `{}` is not a literal list",
                    binding.identifier
                ),
            );
        };
        let mut out = Vec::new();
        for item in items {
            match doc.str(*item) {
                Some(text) if text.len() > MAX_VALUE_LEN => return self.too_long(node),
                Some(text) => out.extend(
                    Outcome {
                        yaml_typed: self.literal(*item).yaml_typed,
                        ..Outcome::new(Value::Text(text.to_string()), self.span(node))
                    }
                    .assume(Assumption::LoopItem {
                        identifier: binding.identifier.to_string(),
                        value: text.to_string(),
                    }),
                ),
                None => {
                    return self.unknown(
                        node,
                        format!(
                            "the `Fn::ForEach` collection of `{}` has a non-literal item",
                            binding.identifier
                        ),
                    )
                }
            }
        }
        cap(out, self.span(node))
    }

    fn eval_if(
        &self,
        node: NodeId,
        cond: NodeId,
        then: NodeId,
        otherwise: NodeId,
        depth: usize,
    ) -> Vec<Outcome> {
        let Some(name) = self.template.doc.str(cond) else {
            return self.unknown(node, "the condition of `Fn::If` must be a condition name");
        };
        let truth = self.condition(name, depth);
        let mut out = Vec::new();
        for (holds, possible, branch) in [
            (true, truth.can_be_true, then),
            (false, truth.can_be_false, otherwise),
        ] {
            if !possible {
                continue;
            }
            for outcome in self.eval_inner(branch, depth + 1) {
                out.extend(outcome.assume(Assumption::Condition {
                    name: name.to_string(),
                    holds,
                }));
            }
        }
        cap(out, self.span(node))
    }

    /// Whether the named condition can be true, and whether it can be false.
    pub fn condition(&self, name: &str, depth: usize) -> Truth {
        if depth > MAX_CONDITION_DEPTH {
            return EITHER;
        }
        if let Some(known) = self.conditions.borrow().get(name) {
            return known.unwrap_or(EITHER);
        }
        self.conditions.borrow_mut().insert(name.to_string(), None);
        let truth = match self.template.condition(name) {
            Some(body) => self.truth(body, depth + 1),
            None => EITHER,
        };
        self.conditions
            .borrow_mut()
            .insert(name.to_string(), Some(truth));
        truth
    }

    fn truth(&self, node: NodeId, depth: usize) -> Truth {
        let doc = self.template.doc;
        if depth > MAX_CONDITION_DEPTH {
            return EITHER;
        }
        let Some(call) = doc.call(node) else {
            return match doc.str(node) {
                Some("true") => Truth {
                    can_be_true: true,
                    can_be_false: false,
                },
                Some("false") => Truth {
                    can_be_true: false,
                    can_be_false: true,
                },
                _ => EITHER,
            };
        };
        let args = doc.seq(call.arg).unwrap_or(&[]);
        match call.name {
            "Condition" => match doc.scalar(call.arg) {
                Some(s) => self.condition(&s.text, depth),
                None => EITHER,
            },
            "Fn::Not" => match args {
                [inner] => {
                    let t = self.truth(*inner, depth + 1);
                    Truth {
                        can_be_true: t.can_be_false,
                        can_be_false: t.can_be_true,
                    }
                }
                _ => EITHER,
            },
            "Fn::And" | "Fn::Or" => {
                let parts: Vec<Truth> = args.iter().map(|a| self.truth(*a, depth + 1)).collect();
                if parts.is_empty() {
                    return EITHER;
                }
                if call.name == "Fn::And" {
                    Truth {
                        can_be_true: parts.iter().all(|t| t.can_be_true),
                        can_be_false: parts.iter().any(|t| t.can_be_false),
                    }
                } else {
                    Truth {
                        can_be_true: parts.iter().any(|t| t.can_be_true),
                        can_be_false: parts.iter().all(|t| t.can_be_false),
                    }
                }
            }
            "Fn::Equals" => match args {
                [a, b] => self.equals(*a, *b, depth),
                _ => EITHER,
            },
            _ => EITHER,
        }
    }

    fn equals(&self, a: NodeId, b: NodeId, depth: usize) -> Truth {
        let left = self.eval_inner(a, depth + 1);
        let right = self.eval_inner(b, depth + 1);
        let mut truth = Truth {
            can_be_true: false,
            can_be_false: false,
        };
        for l in &left {
            for r in &right {
                match (&l.value, &r.value) {
                    (Value::Text(x), Value::Text(y)) => {
                        if l.when.and(&r.when).is_none()
                            || (self.assigned
                                && !(self.consistent(&l.when) && self.consistent(&r.when)))
                        {
                            continue;
                        }
                        if l.yaml_typed || r.yaml_typed {
                            // CloudFormation compares the typed value's text, which
                            // this checker does not know: either result is possible.
                            return EITHER;
                        }
                        if x == y {
                            truth.can_be_true = true;
                        } else {
                            truth.can_be_false = true;
                        }
                    }
                    _ => return EITHER,
                }
            }
        }
        if !truth.can_be_true && !truth.can_be_false {
            return EITHER;
        }
        truth
    }

    fn eval_find_in_map(&self, node: NodeId, args: &[NodeId], depth: usize) -> Vec<Outcome> {
        let doc = self.template.doc;
        let (map_name, top, second, default) = match args {
            [m, t, s] => (*m, *t, *s, None),
            [m, t, s, d] => (*m, *t, *s, Some(*d)),
            _ => {
                return self.unknown(
                    node,
                    "`Fn::FindInMap` needs [map, top-level key, second-level key]",
                )
            }
        };
        let Some(mappings) = self.template.mappings else {
            if default.is_some() {
                return cap(self.find_default(default, depth, &[]), self.span(node));
            }
            return self.unknown(node, "the template has no Mappings");
        };
        let unlistable = || {
            self.unknown(
                node,
                "a map key cannot be resolved and the keys it could be cannot be listed",
            )
        };
        let mut out = Vec::new();
        for m in self.eval_inner(map_name, depth + 1) {
            let Value::Text(name) = &m.value else {
                return self.unknown(node, "the map name cannot be resolved");
            };
            let Some(map) = doc.get_value(mappings, name).filter(|_| !m.yaml_typed) else {
                // A map that is not there: an error, or the default.
                out.extend(self.find_default(default, depth, std::slice::from_ref(&m.when)));
                continue;
            };
            for t in self.keys_of(map, top, depth) {
                let (top_key, top_when) = match t {
                    Key::Unlistable => return unlistable(),
                    Key::Absent(when) => {
                        out.extend(self.find_default(default, depth, &[m.when.clone(), when]));
                        continue;
                    }
                    Key::Present(key, when) => (key, when),
                };
                let Some(inner) = doc.get_value(map, &top_key) else {
                    out.extend(self.find_default(
                        default,
                        depth,
                        &[m.when.clone(), top_when.clone()],
                    ));
                    continue;
                };
                for s in self.keys_of(inner, second, depth) {
                    let (second_key, second_when) = match s {
                        Key::Unlistable => return unlistable(),
                        Key::Absent(when) => {
                            out.extend(self.find_default(
                                default,
                                depth,
                                &[m.when.clone(), top_when.clone(), when],
                            ));
                            continue;
                        }
                        Key::Present(key, when) => (key, when),
                    };
                    let whens = [m.when.clone(), top_when.clone(), second_when];
                    match doc.get_value(inner, &second_key) {
                        Some(value) => {
                            for o in self.eval_inner(value, depth + 1) {
                                out.extend(with_assumptions(o, &whens));
                            }
                        }
                        None => out.extend(self.find_default(default, depth, &whens)),
                    }
                    if out.len() > MAX_OUTCOMES {
                        return too_many(self.span(node));
                    }
                }
            }
        }
        cap(out, self.span(node))
    }

    /// The values of `Fn::FindInMap`'s `DefaultValue` (AWS::LanguageExtensions), taken
    /// when a key is not in the map; none without a default (CloudFormation then fails
    /// the deployment, which deletes nothing).
    fn find_default(
        &self,
        default: Option<NodeId>,
        depth: usize,
        whens: &[Assumptions],
    ) -> Vec<Outcome> {
        let Some(default) = default else {
            return Vec::new();
        };
        let doc = self.template.doc;
        let Some(value) = doc.get_value(default, "DefaultValue") else {
            return self.unknown(
                default,
                "the fourth argument of `Fn::FindInMap` must be `{DefaultValue: ...}`",
            );
        };
        self.eval_inner(value, depth + 1)
            .into_iter()
            .filter_map(|o| with_assumptions(o, whens))
            .collect()
    }

    /// The keys `key` can select in `map`. A key that cannot be resolved (a pseudo
    /// parameter such as `AWS::Region`, an SSM parameter), that YAML 1.1 may type, or
    /// that is looked up in a map with typed keys (`yes:`, `1.0:`), may be any key of the
    /// map or none of them ([`Key::Absent`]); [`Key::Unlistable`] when the map cannot be
    /// listed (not a mapping, or more than `MAX_ENUMERATED_KEYS` keys).
    fn keys_of(&self, map: NodeId, key: NodeId, depth: usize) -> Vec<Key> {
        let doc = self.template.doc;
        let typed_key = |k: NodeId| {
            let n = doc.node(k);
            n.tag.is_none()
                && matches!(&n.kind, NodeKind::Scalar(s) if s.style == ScalarStyle::Plain && yaml_typed(&s.text))
        };
        // Whether a key YAML 1.1 types could be the one looked up, read only on a miss
        // and only in a map small enough to scan for every lookup (a larger one could
        // hold such a key: the lookup then fails closed).
        let mut any_typed: Option<bool> = None;
        let mut keys = Vec::new();
        for o in self.eval_inner(key, depth + 1) {
            if let (Value::Text(t), false) = (&o.value, o.yaml_typed) {
                match doc.get(map, t) {
                    Some(entry) if !typed_key(entry.key) => {
                        keys.push(Key::Present(t.clone(), o.when));
                        continue;
                    }
                    Some(_) => {}
                    None => {
                        let typed = *any_typed.get_or_insert_with(|| match doc.map(map) {
                            Some(entries) if entries.len() <= MAX_ENUMERATED_KEYS => {
                                entries.iter().any(|e| typed_key(e.key))
                            }
                            Some(_) => true,
                            None => false,
                        });
                        if !typed {
                            keys.push(Key::Absent(o.when));
                            continue;
                        }
                    }
                }
            }
            // Any key of the map, or none. More keys than this cannot all be Retain
            // within MAX_OUTCOMES anyway; enumerating a huge map for every table would be
            // quadratic.
            match doc.map(map).filter(|e| e.len() <= MAX_ENUMERATED_KEYS) {
                Some(entries) => {
                    keys.extend(
                        entries
                            .iter()
                            .map(|e| Key::Present(doc.key(e).to_string(), o.when.clone())),
                    );
                    keys.push(Key::Absent(o.when));
                }
                None => keys.push(Key::Unlistable),
            }
        }
        keys
    }

    /// An untagged (or `!!str`) scalar as a text outcome, marked when YAML 1.1 types it.
    fn literal(&self, node: NodeId) -> Outcome {
        let doc = self.template.doc;
        let n = doc.node(node);
        let (text, typed) = match &n.kind {
            NodeKind::Scalar(s) => (
                s.text.to_string(),
                n.tag.is_none() && s.style == ScalarStyle::Plain && yaml_typed(&s.text),
            ),
            _ => (String::new(), false),
        };
        Outcome {
            yaml_typed: typed,
            ..Outcome::new(Value::Text(text), self.span(node))
        }
    }

    fn eval_join(
        &self,
        node: NodeId,
        delimiter: NodeId,
        list: NodeId,
        depth: usize,
    ) -> Vec<Outcome> {
        let doc = self.template.doc;
        let Some(delimiter) = doc.str(delimiter) else {
            return self.unknown(node, "the `Fn::Join` delimiter must be literal");
        };
        let Some(items) = doc.list(list) else {
            return self.unknown(node, "the `Fn::Join` list cannot be resolved");
        };
        if items.len() > MAX_JOIN_ITEMS {
            return self.unknown(
                node,
                format!("the `Fn::Join` list has more than {MAX_JOIN_ITEMS} items"),
            );
        }
        let parts: Vec<Vec<Outcome>> = items
            .iter()
            .map(|i| self.eval_inner(*i, depth + 1))
            .collect();
        self.concat(node, &parts, delimiter)
    }

    fn eval_select(&self, node: NodeId, index: NodeId, list: NodeId, depth: usize) -> Vec<Outcome> {
        let doc = self.template.doc;
        let Some(items) = doc.list(list) else {
            return self.unknown(node, "the `Fn::Select` list cannot be resolved");
        };
        let mut out = Vec::new();
        for i in self.eval_inner(index, depth + 1) {
            let Value::Text(text) = &i.value else {
                return self.unknown(node, "the `Fn::Select` index cannot be resolved");
            };
            let Some(item) = text.trim().parse::<usize>().ok().and_then(|n| items.get(n)) else {
                return self.unknown(node, format!("`Fn::Select` index `{text}` is out of range"));
            };
            for o in self.eval_inner(*item, depth + 1) {
                out.extend(with_assumptions(o, std::slice::from_ref(&i.when)));
            }
        }
        cap(out, self.span(node))
    }

    fn eval_sub(&self, node: NodeId, arg: NodeId, depth: usize) -> Vec<Outcome> {
        let doc = self.template.doc;
        let (template, vars) = match doc.seq(arg) {
            Some([t, v]) => (*t, Some(*v)),
            Some(_) => {
                return self.unknown(node, "`Fn::Sub` needs a string or [string, variables]")
            }
            None => (arg, None),
        };
        let Some(text) = doc.scalar(template).map(|s| s.text.as_ref()) else {
            return self.unknown(node, "the `Fn::Sub` string must be literal");
        };
        if text.len() > MAX_VALUE_LEN {
            return self.too_long(node);
        }
        let mut parts: Vec<Vec<Outcome>> = Vec::new();
        let span = self.span(node);
        let literal = |s: &str| vec![Outcome::new(Value::Text(s.to_string()), span)];
        let mut rest = text;
        while let Some(open) = rest.find("${") {
            parts.push(literal(&rest[..open]));
            let after = &rest[open + 2..];
            let Some(close) = after.find('}') else {
                parts.push(literal(&rest[open..]));
                rest = "";
                break;
            };
            let name = after[..close].trim();
            if let Some(escaped) = name.strip_prefix('!') {
                parts.push(literal(&format!("${{{escaped}}}")));
            } else if let Some(value) = vars.and_then(|v| doc.get_value(v, name)) {
                parts.push(self.eval_inner(value, depth + 1));
            } else if let Some((resource, attribute)) = name
                .split_once('.')
                .filter(|(r, _)| self.template.has_resource(r))
            {
                parts.push(self.stand_in(
                    node,
                    Piece::Attribute {
                        resource: resource.to_string(),
                        attribute: attribute.to_string(),
                    },
                ));
            } else if name.contains('.') {
                parts.push(self.unknown(
                    node,
                    format!("`${{{name}}}` is an attribute known only after deployment"),
                ));
            } else {
                parts.push(self.eval_ref(node, name));
            }
            rest = &after[close + 1..];
        }
        parts.push(literal(rest));
        self.concat(node, &parts, "")
    }

    /// All combinations of the parts, joined; contradictory combinations are dropped. A
    /// part that cannot be known makes the whole `Unknown`, or, for an evaluator
    /// [keeping parts](Evaluator::keeping_parts), an unknown [`Piece`] of a
    /// [`Value::Partial`].
    fn concat(&self, node: NodeId, parts: &[Vec<Outcome>], delimiter: &str) -> Vec<Outcome> {
        let span = self.span(node);
        // Each combination so far: its pieces, their length as [`MAX_VALUE_LEN`] counts it
        // (a literal's bytes, 1 for any other piece), and its assumptions. A combination
        // is extended in place by the last outcome of a part and copied only for the
        // others, so a part with one outcome (a literal, a single-valued `Ref`) copies
        // nothing.
        let mut acc: Vec<(Vec<Piece>, usize, Outcome)> = vec![(
            Vec::new(),
            0,
            Outcome::new(Value::Text(String::new()), span),
        )];
        for (i, part) in parts.iter().enumerate() {
            let mut next = Vec::with_capacity(acc.len());
            for (mut pieces, len, mut prefix) in acc {
                for (j, o) in part.iter().enumerate() {
                    let unknown = match &o.value {
                        Value::Text(_) => None,
                        Value::Partial(_) if self.keep_parts => None,
                        other => {
                            let why = other.unknown_reason().unwrap_or_default();
                            let why = if matches!(other, Value::NoValue) {
                                "`AWS::NoValue` inside a string cannot be resolved".to_string()
                            } else {
                                why
                            };
                            if !self.keep_parts {
                                return vec![Outcome::new(Value::Unknown(why), o.span)];
                            }
                            Some(Piece::Unknown {
                                why,
                                parameter: None,
                            })
                        }
                    };
                    let last = j + 1 == part.len();
                    let mut joined_len = len;
                    let mut joined = if last {
                        std::mem::take(&mut pieces)
                    } else {
                        pieces.clone()
                    };
                    if i > 0 && !delimiter.is_empty() {
                        push_text(&mut joined, &mut joined_len, delimiter);
                    }
                    if let Some(piece) = unknown {
                        joined_len += 1;
                        joined.push(piece);
                    } else if let Value::Text(text) = &o.value {
                        push_text(&mut joined, &mut joined_len, text);
                    } else if let Value::Partial(added) = &o.value {
                        for p in added {
                            if let Piece::Lit(text) = p {
                                push_text(&mut joined, &mut joined_len, text);
                            } else {
                                joined_len += 1;
                                joined.push(p.clone());
                            }
                        }
                    }
                    if joined_len > MAX_VALUE_LEN {
                        return self.too_long(node);
                    }
                    let when = if last {
                        std::mem::take(&mut prefix.when)
                    } else {
                        prefix.when.clone()
                    };
                    let combined = Outcome {
                        value: Value::Text(String::new()),
                        span,
                        when,
                        yaml_typed: prefix.yaml_typed || o.yaml_typed,
                    };
                    if let Some(c) = with_assumptions(combined, std::slice::from_ref(&o.when)) {
                        next.push((joined, joined_len, c));
                    }
                    if next.len() > MAX_OUTCOMES {
                        return too_many(span);
                    }
                }
            }
            acc = next;
        }
        acc.into_iter()
            .map(|(mut pieces, _, mut o)| {
                o.value = match pieces.as_mut_slice() {
                    [] => Value::Text(String::new()),
                    [Piece::Lit(t)] => Value::Text(std::mem::take(t)),
                    _ => Value::Partial(pieces),
                };
                o
            })
            .collect()
    }
}

/// Append literal text, merged into the last piece when that is a literal so that a known
/// string is one `Lit` (empty text adds nothing); `len` grows by its bytes.
fn push_text(pieces: &mut Vec<Piece>, len: &mut usize, text: &str) {
    *len += text.len();
    if let Some(Piece::Lit(last)) = pieces.last_mut() {
        last.push_str(text);
    } else if !text.is_empty() {
        pieces.push(Piece::Lit(text.to_string()));
    }
}

/// One key `Fn::FindInMap` can look up in a map.
enum Key {
    /// This key, under these assumptions.
    Present(String, Assumptions),
    /// A key that is not in the map (the default applies, or the deployment fails).
    Absent(Assumptions),
    /// The keys cannot be listed.
    Unlistable,
}

/// Could YAML 1.1 (which CloudFormation reads) type this plain scalar as a boolean,
/// number or null in a way whose text CloudFormation compares is not settled? `true`,
/// `false` and short canonical decimal integers are settled (CloudFormation compares them
/// as written); any other spelling of a boolean or null, and anything that starts like a
/// number (`1.0`, `012`, `0x1F`, `1_000`, `1:20`, `.inf`), is not. Over-approximates: a
/// plain `1st` counts too, which only keeps both branches of a comparison.
pub fn yaml_typed(text: &str) -> bool {
    if text == "true" || text == "false" || canonical_int(text) {
        return false;
    }
    if text.is_empty() || text == "~" || text == "=" {
        return true;
    }
    // Compared without a lowercase copy (an allocation per literal evaluated; issue 23).
    const WORDS: [&str; 9] = ["y", "n", "yes", "no", "on", "off", "true", "false", "null"];
    if WORDS.iter().any(|word| text.eq_ignore_ascii_case(word)) {
        return true;
    }
    let body = text.strip_prefix(['+', '-']).unwrap_or(text);
    body.starts_with(|c: char| c.is_ascii_digit() || c == '.')
}

/// `0`, or an optional `-` and up to 15 digits without a leading zero: read as the same
/// integer by every YAML 1.1 parser and printed back as written.
fn canonical_int(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if text == "0" {
        return true;
    }
    !digits.is_empty()
        && digits.len() <= 15
        && !digits.starts_with('0')
        && digits.bytes().all(|b| b.is_ascii_digit())
}

fn with_assumptions(mut outcome: Outcome, whens: &[Assumptions]) -> Option<Outcome> {
    for when in whens {
        for a in when {
            outcome = outcome.assume(a.clone())?;
        }
    }
    Some(outcome)
}

fn too_many(span: Span) -> Vec<Outcome> {
    vec![Outcome::new(
        Value::Unknown(format!(
            "the expression has more than {MAX_OUTCOMES} possible values"
        )),
        span,
    )]
}

fn cap(out: Vec<Outcome>, span: Span) -> Vec<Outcome> {
    if out.len() > MAX_OUTCOMES {
        return too_many(span);
    }
    out
}

#[cfg(test)]
mod yaml_typed_tests {
    use super::yaml_typed;
    use proptest::prelude::*;

    /// The words as `yaml_typed` read them before it compared without a copy.
    fn lowercased(text: &str) -> bool {
        if text == "true" || text == "false" || super::canonical_int(text) {
            return false;
        }
        if text.is_empty() || text == "~" || text == "=" {
            return true;
        }
        let lower = text.to_ascii_lowercase();
        if matches!(
            lower.as_str(),
            "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "null"
        ) {
            return true;
        }
        let body = text.strip_prefix(['+', '-']).unwrap_or(text);
        body.starts_with(|c: char| c.is_ascii_digit() || c == '.')
    }

    #[test]
    fn booleans_and_nulls_are_typed_in_any_case() {
        for text in [
            "Yes", "YES", "yEs", "oN", "OFF", "Null", "NULL", "True", "FALSE", "Y", "n",
        ] {
            assert!(yaml_typed(text), "{text}");
        }
        for text in [
            "true", "false", "0", "12", "yes!", "nul", "İ", "ye", "Ｙ", "nO0",
        ] {
            assert_eq!(yaml_typed(text), lowercased(text), "{text}");
        }
        assert!(!yaml_typed("true") && !yaml_typed("Retain") && !yaml_typed("ye"));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn reads_as_the_lowercased_comparison_did(text in "[yYnNeEsSoOfFtTrRuUaAlLİı~=+.0-9 -]{0,6}") {
            prop_assert_eq!(yaml_typed(&text), lowercased(&text));
        }
    }
}

#[cfg(test)]
mod short_tests {
    use super::short;

    #[test]
    fn short_keeps_short_text_and_cuts_long_text_on_a_character() {
        assert_eq!(short("Retain"), "Retain");
        let long = "é".repeat(100);
        let cut = short(&long);
        assert!(cut.ends_with('…'));
        assert!(cut.len() <= 64);
        assert!(cut.trim_end_matches('…').chars().all(|c| c == 'é'));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{self, Format, Limits};

    /// The values `DeletionPolicy` of resource `T` can take, as `(value, when)` text, with
    /// `T`'s own `Condition` given, in a template made of `head` and `T`'s `attrs`.
    fn values(head: &str, attrs: &str) -> Vec<(String, String)> {
        let text = format!("{head}Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n{attrs}");
        let doc = load::load(&text, Format::Yaml, &Limits::default()).expect("test YAML loads");
        let template = Template::from_document(&doc)
            .expect("valid template")
            .expect("has Resources");
        let table = &template.resources[0];
        let node = doc
            .get_value(table.node, "DeletionPolicy")
            .expect("has DeletionPolicy");
        Evaluator::for_resource(&template, table)
            .eval(node)
            .into_iter()
            .map(|o| {
                let value = match &o.value {
                    Value::Text(t) => t.clone(),
                    other => format!("?{}", other.unknown_reason().unwrap_or_default()),
                };
                (value, o.describe_when())
            })
            .collect()
    }

    fn texts(head: &str, attrs: &str) -> Vec<String> {
        values(head, attrs).into_iter().map(|(v, _)| v).collect()
    }

    const SSM: &str = "Parameters:\n  P:\n    Type: AWS::SSM::Parameter::Value<String>\n    AllowedValues: [Retain]\n    Default: Retain\n";

    #[test]
    fn an_ssm_parameter_is_unknown_and_says_why() {
        let got = texts(SSM, "    DeletionPolicy: !Ref P\n");
        assert_eq!(got.len(), 1);
        assert!(
            got[0].starts_with("?parameter `P` has type `AWS::SSM::Parameter::Value<String>`"),
            "{got:?}"
        );
        assert!(
            got[0].contains("constrain only the parameter's name"),
            "{got:?}"
        );
        let list = "Parameters:\n  P:\n    Type: AWS::SSM::Parameter::Value<List<String>>\n    AllowedValues: [Retain]\n";
        assert!(texts(list, "    DeletionPolicy: !Ref P\n")[0].contains("Systems Manager"));
        let plain_list =
            "Parameters:\n  P:\n    Type: CommaDelimitedList\n    AllowedValues: [Retain]\n";
        assert!(texts(plain_list, "    DeletionPolicy: !Ref P\n")[0].contains("returns a list"));
    }

    #[test]
    fn an_ssm_parameter_in_fn_equals_leaves_both_branches() {
        let head = format!("{SSM}Conditions:\n  C: !Equals [!Ref P, Retain]\n");
        let got = texts(&head, "    DeletionPolicy: !If [C, Retain, Delete]\n");
        assert_eq!(got, ["Retain", "Delete"]);
    }

    #[test]
    fn an_ssm_parameter_as_a_map_key_selects_every_key_and_the_default() {
        let head = format!("{SSM}Mappings:\n  M:\n    a: {{k: Retain}}\n    b: {{k: Snapshot}}\n");
        let got = texts(
            &head,
            "    DeletionPolicy: !FindInMap [M, !Ref P, k, {DefaultValue: Delete}]\n",
        );
        assert_eq!(got, ["Retain", "Snapshot", "Delete"]);
        // Without a default, a missing key fails the deployment: no value.
        let got = texts(&head, "    DeletionPolicy: !FindInMap [M, !Ref P, k]\n");
        assert_eq!(got, ["Retain", "Snapshot"]);
    }

    #[test]
    fn find_in_map_default_applies_to_absent_keys_at_both_levels() {
        let head = "Parameters:\n  Env: {Type: String, AllowedValues: [prod, dev]}\nMappings:\n  M:\n    prod: {k: Retain}\n";
        let got = values(
            head,
            "    DeletionPolicy: !FindInMap [M, !Ref Env, k, {DefaultValue: Delete}]\n",
        );
        assert_eq!(
            got,
            [
                (
                    "Retain".to_string(),
                    "when parameter `Env` is `prod`".to_string()
                ),
                (
                    "Delete".to_string(),
                    "when parameter `Env` is `dev`".to_string()
                ),
            ]
        );
        let got = texts(head, "    DeletionPolicy: !FindInMap [M, prod, !Ref \"AWS::Region\", {DefaultValue: Delete}]\n");
        assert_eq!(got, ["Retain", "Delete"]);
        let got = texts(
            head,
            "    DeletionPolicy: !FindInMap [Missing, prod, k, {DefaultValue: Delete}]\n",
        );
        assert_eq!(got, ["Delete"]);
    }

    #[test]
    fn yaml_typing_is_settled_only_for_true_false_and_canonical_integers() {
        for settled in ["true", "false", "0", "1", "-12", "123456789012"] {
            assert!(!yaml_typed(settled), "{settled}");
        }
        for typed in [
            "True",
            "TRUE",
            "False",
            "yes",
            "Yes",
            "NO",
            "on",
            "Off",
            "y",
            "N",
            "~",
            "null",
            "Null",
            "",
            "1.0",
            "1e3",
            "010",
            "0x1F",
            "0b11",
            "1_000",
            "1:20",
            ".inf",
            "-.inf",
            ".NaN",
            "+1",
            "-0",
            "1234567890123456",
        ] {
            assert!(yaml_typed(typed), "{typed}");
        }
        for text in ["Retain", "prod", "us-east-1", "dynamodb:DeleteTable"] {
            assert!(!yaml_typed(text), "{text}");
        }
    }

    #[test]
    fn a_comparison_with_a_typed_scalar_leaves_both_branches() {
        for (a, b) in [
            ("True", "'True'"),
            ("yes", "'yes'"),
            ("1.0", "'1.0'"),
            ("Yes", "Yes"),
        ] {
            let head = format!("Conditions:\n  C: !Equals [{a}, {b}]\n");
            let got = texts(&head, "    DeletionPolicy: !If [C, Retain, Delete]\n");
            assert_eq!(got, ["Retain", "Delete"], "{a} vs {b}");
        }
        // Quoted text and the settled spellings still prune.
        for (a, b) in [("'yes'", "\"yes\""), ("true", "'true'"), ("1", "'1'")] {
            let head = format!("Conditions:\n  C: !Equals [{a}, {b}]\n");
            let got = texts(&head, "    DeletionPolicy: !If [C, Retain, Delete]\n");
            assert_eq!(got, ["Retain"], "{a} vs {b}");
        }
        // A parameter whose AllowedValues are typed carries the typing into comparisons.
        let head = "Parameters:\n  P: {Type: String, AllowedValues: [yes, no]}\nConditions:\n  C: !Equals [!Ref P, 'no']\n";
        let got = texts(head, "    DeletionPolicy: !If [C, Retain, Delete]\n");
        assert_eq!(got, ["Retain", "Delete"]);
    }

    #[test]
    fn a_map_with_typed_keys_can_match_any_lookup() {
        // `yes:` is read as a boolean: which text it matches is not settled.
        let head = "Mappings:\n  M:\n    yes: {k: Retain}\n    other: {k: Delete}\n";
        let got = texts(
            head,
            "    DeletionPolicy: !FindInMap [M, 'true', k, {DefaultValue: Snapshot}]\n",
        );
        assert_eq!(got, ["Retain", "Delete", "Snapshot"]);
        let got = texts(head, "    DeletionPolicy: !FindInMap [M, yes, k]\n");
        assert_eq!(got, ["Retain", "Delete"]);
        // An untyped key found as written is that entry.
        let got = texts(head, "    DeletionPolicy: !FindInMap [M, other, k]\n");
        assert_eq!(got, ["Delete"]);
        let plain = "Mappings:\n  M:\n    prod: {k: Retain}\n";
        let got = texts(
            plain,
            "    DeletionPolicy: !FindInMap [M, dev, k, {DefaultValue: Delete}]\n",
        );
        assert_eq!(got, ["Delete"]);
    }

    #[test]
    fn the_resources_own_condition_is_given() {
        let head = "Parameters:\n  Env: {Type: String, AllowedValues: [prod, dev]}\nMappings:\n  M:\n    prod: {k: Retain}\n    dev: {k: Delete}\nConditions:\n  IsProd: !Equals [!Ref Env, prod]\n  Other: !Equals [!Ref \"AWS::Region\", us-east-1]\n  Both: !And [!Condition IsProd, !Condition Other]\n  NotProd: !Not [!Condition IsProd]\n";
        let got = texts(
            head,
            "    Condition: IsProd\n    DeletionPolicy: !If [IsProd, Retain, Delete]\n",
        );
        assert_eq!(got, ["Retain"]);
        let got = texts(
            head,
            "    Condition: Both\n    DeletionPolicy: !If [IsProd, Retain, Delete]\n",
        );
        assert_eq!(got, ["Retain"]);
        let got = texts(
            head,
            "    Condition: IsProd\n    DeletionPolicy: !FindInMap [M, !Ref Env, k]\n",
        );
        assert_eq!(got, ["Retain"]);
        let got = texts(
            head,
            "    Condition: NotProd\n    DeletionPolicy: !If [IsProd, Delete, Retain]\n",
        );
        assert_eq!(got, ["Retain"]);
        let got = texts(
            head,
            "    Condition: Other\n    DeletionPolicy: !If [IsProd, Retain, Delete]\n",
        );
        assert_eq!(got, ["Retain", "Delete"]);
    }

    #[test]
    fn outcomes_no_deployment_produces_are_dropped_and_the_rest_keep_every_assumption() {
        let head = "Parameters:\n  Env: {Type: String, AllowedValues: [prod, dev]}\n  Stage: {Type: String, AllowedValues: [a, b, c]}\nConditions:\n  IsProd: !Equals [!Ref Env, prod]\n  NotProd: !Not [!Condition IsProd]\n  IsDev: !Equals [!Ref Env, dev]\n  IsA: !Equals [!Ref Stage, a]\n  IsB: !Equals [!Ref Stage, b]\n";
        let got = values(
            head,
            "    DeletionPolicy: !If [IsProd, Retain, !If [NotProd, Retain, Delete]]\n",
        );
        assert_eq!(got.len(), 2);
        assert!(got.iter().all(|(v, _)| v == "Retain"), "{got:?}");
        let got = texts(
            head,
            "    DeletionPolicy: !If [IsProd, Retain, !If [IsDev, Retain, Delete]]\n",
        );
        assert_eq!(got, ["Retain", "Retain"]);
        // A parameter value the conditions do not name keeps the case.
        let got = values(
            head,
            "    DeletionPolicy: !If [IsA, Retain, !If [IsB, Retain, Delete]]\n",
        );
        assert_eq!(
            got.last(),
            Some(&(
                "Delete".to_string(),
                "when condition `IsA` is false and condition `IsB` is false".to_string()
            ))
        );
        // A parameter bound by a mapping lookup is the value the condition compares.
        let head =
            format!("{head}Mappings:\n  M:\n    prod: {{k: Delete}}\n    dev: {{k: Retain}}\n");
        let got = texts(
            &head,
            "    DeletionPolicy: !If [IsDev, !FindInMap [M, !Ref Env, k], Retain]\n",
        );
        assert_eq!(got, ["Retain", "Retain"]);
    }

    #[test]
    fn a_string_with_unknown_parts_keeps_its_known_parts_only_when_asked() {
        let text = "Parameters:\n  A: {Type: String}\nResources:\n  T:\n    Type: AWS::IAM::Policy\n    Properties:\n      X: !Sub \"dynamodb:${A}-${AWS::Region}\"\n      Y: !Join [\":\", [ec2, !Ref A]]\n";
        let doc = load::load(text, Format::Yaml, &Limits::default()).expect("test YAML loads");
        let template = Template::from_document(&doc)
            .expect("valid template")
            .expect("has Resources");
        let props = doc
            .get_value(template.resources[0].node, "Properties")
            .expect("has Properties");
        let x = doc.get_value(props, "X").expect("X");
        let y = doc.get_value(props, "Y").expect("Y");
        let plain = Evaluator::new(&template, &[]);
        assert!(matches!(plain.eval(x)[0].value, Value::Unknown(_)));
        let parts = Evaluator::new(&template, &[]).keeping_parts();
        let Value::Partial(pieces) = &parts.eval(x)[0].value else {
            panic!("a partial value");
        };
        assert_eq!(pieces.len(), 4, "{pieces:?}");
        assert_eq!(pieces[0], Piece::Lit("dynamodb:".into()));
        assert!(
            matches!(&pieces[1], Piece::Unknown { why, parameter: Some(p) } if why.contains("`A`") && p == "A")
        );
        assert_eq!(pieces[2], Piece::Lit("-".into()));
        assert_eq!(pieces[3], Piece::Pseudo("AWS::Region".into()));
        let Value::Partial(pieces) = &parts.eval(y)[0].value else {
            panic!("a partial value");
        };
        assert_eq!(pieces[0], Piece::Lit("ec2:".into()));
    }

    /// `concat` as it was before it extended combinations in place (it copied every
    /// combination's pieces for every outcome and re-summed their length): the oracle of
    /// `concat_equals_the_copying_concat`.
    fn concat_by_copying(
        ev: &Evaluator,
        node: NodeId,
        parts: &[Vec<Outcome>],
        delimiter: &str,
    ) -> Vec<Outcome> {
        fn push_piece(pieces: &mut Vec<Piece>, piece: Piece) {
            if let (Some(Piece::Lit(last)), Piece::Lit(more)) = (pieces.last_mut(), &piece) {
                last.push_str(more);
                return;
            }
            if piece == Piece::Lit(String::new()) {
                return;
            }
            pieces.push(piece);
        }
        let span = ev.span(node);
        let mut acc: Vec<(Vec<Piece>, Outcome)> =
            vec![(Vec::new(), Outcome::new(Value::Text(String::new()), span))];
        for (i, part) in parts.iter().enumerate() {
            let mut next = Vec::new();
            for (pieces, prefix) in &acc {
                for o in part {
                    let added: Vec<Piece> = match &o.value {
                        Value::Text(piece) => vec![Piece::Lit(piece.clone())],
                        Value::Partial(p) if ev.keep_parts => p.clone(),
                        other => {
                            let why = other.unknown_reason().unwrap_or_default();
                            let why = if matches!(other, Value::NoValue) {
                                "`AWS::NoValue` inside a string cannot be resolved".to_string()
                            } else {
                                why
                            };
                            if !ev.keep_parts {
                                return vec![Outcome::new(Value::Unknown(why), o.span)];
                            }
                            vec![Piece::Unknown {
                                why,
                                parameter: None,
                            }]
                        }
                    };
                    let mut joined = pieces.clone();
                    if i > 0 && !delimiter.is_empty() {
                        push_piece(&mut joined, Piece::Lit(delimiter.to_string()));
                    }
                    for p in added {
                        push_piece(&mut joined, p);
                    }
                    let len: usize = joined
                        .iter()
                        .map(|p| match p {
                            Piece::Lit(t) => t.len(),
                            _ => 1,
                        })
                        .sum();
                    if len > MAX_VALUE_LEN {
                        return ev.too_long(node);
                    }
                    let combined = Outcome {
                        value: Value::Text(String::new()),
                        span,
                        when: prefix.when.clone(),
                        yaml_typed: prefix.yaml_typed || o.yaml_typed,
                    };
                    if let Some(c) = with_assumptions(combined, std::slice::from_ref(&o.when)) {
                        next.push((joined, c));
                    }
                    if next.len() > MAX_OUTCOMES {
                        return too_many(span);
                    }
                }
            }
            acc = next;
        }
        acc.into_iter()
            .map(|(pieces, mut o)| {
                o.value = match pieces.as_slice() {
                    [] => Value::Text(String::new()),
                    [Piece::Lit(t)] => Value::Text(t.clone()),
                    _ => Value::Partial(pieces),
                };
                o
            })
            .collect()
    }

    mod concat_oracle {
        use super::*;
        use crate::model::with_yaml_template;
        use proptest::prelude::*;

        fn assumption() -> impl Strategy<Value = Assumption> {
            prop_oneof![
                (prop::sample::select(&["C", "D"][..]), any::<bool>()).prop_map(|(n, holds)| {
                    Assumption::Condition {
                        name: n.into(),
                        holds,
                    }
                }),
                prop::sample::select(&["a", "b"][..]).prop_map(|v| Assumption::Parameter {
                    name: "P".into(),
                    value: v.into(),
                }),
            ]
        }

        /// Literal text: mostly short (empty too), sometimes long enough that a few of
        /// them pass `MAX_VALUE_LEN`.
        fn text() -> impl Strategy<Value = String> {
            prop_oneof![
                4 => "[a-z:/*${}]{0,6}",
                1 => (1000usize..1500).prop_map(|n| "x".repeat(n)),
            ]
        }

        fn piece() -> impl Strategy<Value = Piece> {
            prop_oneof![
                text().prop_map(Piece::Lit),
                "[a-z]{1,3}".prop_map(|why| Piece::Unknown {
                    why,
                    parameter: None
                }),
                Just(Piece::Pseudo("AWS::Region".into())),
                "[A-Z][a-z]{0,3}".prop_map(Piece::Ref),
            ]
        }

        fn outcome() -> impl Strategy<Value = Outcome> {
            let value = prop_oneof![
                4 => text().prop_map(Value::Text),
                1 => Just(Value::NoValue),
                1 => "[a-z ]{0,8}".prop_map(Value::Unknown),
                2 => prop::collection::vec(piece(), 0..4).prop_map(Value::Partial),
            ];
            (
                value,
                prop::collection::vec(assumption(), 0..3),
                any::<bool>(),
                0usize..50,
            )
                .prop_map(|(value, when, yaml_typed, at)| Outcome {
                    value,
                    span: Span::new(at, at + 1),
                    when: Assumptions::all(&when).unwrap_or_default(),
                    yaml_typed,
                })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2000))]

            /// Every combination, its pieces, length bound, assumptions, typing and
            /// order, and the early `Unknown`, too-long and too-many answers, are those
            /// of the copying version, with and without kept parts and a delimiter.
            #[test]
            fn concat_equals_the_copying_concat(
                parts in prop::collection::vec(prop::collection::vec(outcome(), 0..5), 0..6),
                delimiter in prop::sample::select(&["", ":", "${x}"][..]),
                keep_parts in any::<bool>(),
            ) {
                with_yaml_template("Resources:\n  T:\n    Type: AWS::SNS::Topic\n", |template| {
                    let mut ev = Evaluator::new(template, &[]);
                    if keep_parts {
                        ev = ev.keeping_parts();
                    }
                    let node = template.resources[0].node;
                    let got = ev.concat(node, &parts, delimiter);
                    let want = concat_by_copying(&ev, node, &parts, delimiter);
                    prop_assert_eq!(got, want);
                    Ok(())
                })?;
            }
        }
    }
}
