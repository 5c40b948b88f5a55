//! Static evaluation of intrinsic functions to the set of values an expression can take.
//!
//! Each possible value carries the assumptions under which it arises ("condition `IsProd`
//! is false", "parameter `Env` is `dev`") and the span that produced it, so a rule can say
//! which branch or parameter value is the problem. Anything that cannot be resolved is an
//! explicit [`Value::Unknown`] with the reason: it proves nothing. The evaluation is an
//! over-approximation (conditions are treated as independent unless they are provably
//! constant), so "every outcome is Retain" is a proof; combinations with contradictory
//! assumptions are dropped. The number of outcomes is capped so that no template can make
//! the evaluator explode.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;

use super::{LoopBinding, Template};
use crate::load::{NodeId, NodeKind};
use crate::source::Span;

/// More outcomes than this collapse into one `Unknown`.
pub const MAX_OUTCOMES: usize = 64;
/// Conditions nested (or referring to each other) deeper than this are not followed.
const MAX_CONDITION_DEPTH: usize = 32;
/// Intrinsics nested deeper than this are `Unknown`: real templates nest a handful, and the
/// bound keeps the recursion far from the end of a worker thread's stack whatever
/// `--max-depth` allows.
const MAX_EVAL_DEPTH: usize = 64;
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
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Assumption {
    Condition { name: String, holds: bool },
    Parameter { name: String, value: String },
    LoopItem { identifier: String, value: String },
}

impl fmt::Display for Assumption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Assumption::Condition { name, holds } => {
                write!(f, "condition `{}` is {holds}", short(name))
            }
            Assumption::Parameter { name, value } => {
                write!(f, "parameter `{}` is `{}`", short(name), short(value))
            }
            Assumption::LoopItem { identifier, value } => {
                write!(f, "`{}` is `{}`", short(identifier), short(value))
            }
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

impl Assumption {
    pub fn contradicts(&self, other: &Assumption) -> bool {
        match (self, other) {
            (
                Assumption::Condition { name: a, holds: x },
                Assumption::Condition { name: b, holds: y },
            ) => a == b && x != y,
            (
                Assumption::Parameter { name: a, value: x },
                Assumption::Parameter { name: b, value: y },
            ) => a == b && x != y,
            (
                Assumption::LoopItem {
                    identifier: a,
                    value: x,
                },
                Assumption::LoopItem {
                    identifier: b,
                    value: y,
                },
            ) => a == b && x != y,
            _ => false,
        }
    }
}

/// One value an expression can take, under some assumptions, produced at `span`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub value: Value,
    pub span: Span,
    pub when: Vec<Assumption>,
}

impl Outcome {
    fn new(value: Value, span: Span) -> Self {
        Outcome {
            value,
            span,
            when: Vec::new(),
        }
    }

    /// "when condition `IsProd` is false and parameter `Env` is `dev`", or "" if unconditional.
    pub fn describe_when(&self) -> String {
        if self.when.is_empty() {
            return String::new();
        }
        let parts: Vec<String> = self.when.iter().map(ToString::to_string).collect();
        format!("when {}", parts.join(" and "))
    }

    /// This outcome under one more assumption, or `None` when that contradicts it.
    pub fn assume(mut self, assumption: Assumption) -> Option<Self> {
        if self.when.iter().any(|a| a.contradicts(&assumption)) {
            return None;
        }
        // Callers add the enclosing assumption last; it reads best first.
        if !self.when.contains(&assumption) {
            self.when.insert(0, assumption);
        }
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
}

impl<'t, 'd, 's> Evaluator<'t, 'd, 's> {
    pub fn new(template: &'t Template<'d, 's>, loops: &'t [LoopBinding<'d>]) -> Self {
        Evaluator {
            template,
            loops,
            conditions: RefCell::new(HashMap::new()),
        }
    }

    /// Every value `node` can take. Never empty: what cannot be resolved is `Unknown`.
    pub fn eval(&self, node: NodeId) -> Vec<Outcome> {
        let outcomes = self.eval_inner(node, 0);
        if outcomes.is_empty() {
            return vec![Outcome::new(
                Value::Unknown("no value can be resolved".into()),
                self.span(node),
            )];
        }
        outcomes
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
                vec![Outcome::new(
                    Value::Text(s.text.to_string()),
                    self.span(node),
                )]
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
            return self.unknown(
                node,
                format!("pseudo parameter `{name}` depends on where the stack is deployed"),
            );
        }
        if let Some(param) = self.template.parameter(name) {
            let allowed = doc
                .get_value(param, "AllowedValues")
                .and_then(|a| doc.seq(a));
            let Some(allowed) = allowed else {
                return self.unknown(
                    node,
                    format!("parameter `{name}` has no AllowedValues, so any value can be passed at deploy time"),
                );
            };
            let mut out = Vec::new();
            for item in allowed {
                match doc.scalar(*item) {
                    Some(s) if s.text.len() > MAX_VALUE_LEN => return self.too_long(node),
                    Some(s) => out.extend(
                        Outcome::new(Value::Text(s.text.to_string()), self.span(node)).assume(
                            Assumption::Parameter {
                                name: name.to_string(),
                                value: s.text.to_string(),
                            },
                        ),
                    ),
                    None => {
                        return self.unknown(
                            node,
                            format!("parameter `{name}` has a non-literal AllowedValues entry"),
                        )
                    }
                }
            }
            return cap(out, self.span(node));
        }
        if self.template.has_resource(name) {
            return self.unknown(
                node,
                format!("`Ref` to resource `{name}` is only known after deployment"),
            );
        }
        self.unknown(
            node,
            format!("`{name}` is not a parameter or resource of this template"),
        )
    }

    fn loop_items(&self, node: NodeId, binding: &LoopBinding<'_>) -> Vec<Outcome> {
        let doc = self.template.doc;
        let Some(items) = doc.seq(binding.collection) else {
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
                    Outcome::new(Value::Text(text.to_string()), self.span(node)).assume(
                        Assumption::LoopItem {
                            identifier: binding.identifier.to_string(),
                            value: text.to_string(),
                        },
                    ),
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
                        if l.when
                            .iter()
                            .any(|p| r.when.iter().any(|q| p.contradicts(q)))
                        {
                            continue;
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
            return self.unknown(node, "the template has no Mappings");
        };
        let mut out = Vec::new();
        for m in self.eval_inner(map_name, depth + 1) {
            let Value::Text(name) = &m.value else {
                return self.unknown(node, "the map name cannot be resolved");
            };
            let Some(map) = doc.get_value(mappings, name) else {
                continue;
            };
            for t in self.keys_of(map, top, depth) {
                let Some((top_key, top_when)) = t else {
                    return self.unknown(
                        node,
                        "a map key cannot be resolved and the keys it could be cannot be listed",
                    );
                };
                let Some(inner) = doc.get_value(map, &top_key) else {
                    out.extend(self.find_default(
                        node,
                        default,
                        depth,
                        &[m.when.clone(), top_when.clone()],
                    ));
                    continue;
                };
                for s in self.keys_of(inner, second, depth) {
                    let Some((second_key, second_when)) = s else {
                        return self.unknown(
                        node,
                        "a map key cannot be resolved and the keys it could be cannot be listed",
                    );
                    };
                    let whens = [m.when.clone(), top_when.clone(), second_when];
                    match doc.get_value(inner, &second_key) {
                        Some(value) => {
                            for o in self.eval_inner(value, depth + 1) {
                                out.extend(with_assumptions(o, &whens));
                            }
                        }
                        None => out.extend(self.find_default(node, default, depth, &whens)),
                    }
                    if out.len() > MAX_OUTCOMES {
                        return too_many(self.span(node));
                    }
                }
            }
        }
        cap(out, self.span(node))
    }

    fn find_default(
        &self,
        node: NodeId,
        default: Option<NodeId>,
        depth: usize,
        whens: &[Vec<Assumption>],
    ) -> Vec<Outcome> {
        let Some(default) = default else {
            return Vec::new();
        };
        let doc = self.template.doc;
        let value = doc.get_value(default, "DefaultValue").unwrap_or(default);
        let _ = node;
        self.eval_inner(value, depth + 1)
            .into_iter()
            .filter_map(|o| with_assumptions(o, whens))
            .collect()
    }

    /// The keys `key` can select in `map`: a literal or resolvable key, or every key of
    /// the map when it cannot be resolved (a pseudo parameter such as `AWS::Region`).
    /// `None` marks a key that could not be enumerated (the map is not a mapping, or has
    /// more than `MAX_ENUMERATED_KEYS` keys).
    fn keys_of(
        &self,
        map: NodeId,
        key: NodeId,
        depth: usize,
    ) -> Vec<Option<(String, Vec<Assumption>)>> {
        let doc = self.template.doc;
        let mut keys = Vec::new();
        for o in self.eval_inner(key, depth + 1) {
            match o.value {
                Value::Text(t) => keys.push(Some((t, o.when))),
                // More keys than this cannot all be Retain within MAX_OUTCOMES anyway;
                // enumerating a huge map for every table would be quadratic.
                _ => match doc.map(map).filter(|e| e.len() <= MAX_ENUMERATED_KEYS) {
                    Some(entries) => keys.extend(
                        entries
                            .iter()
                            .map(|e| Some((doc.key(e).to_string(), o.when.clone()))),
                    ),
                    None => keys.push(None),
                },
            }
        }
        keys
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
        let Some(items) = doc.seq(list) else {
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
        let Some(items) = doc.seq(list) else {
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

    /// All combinations of the parts, joined; contradictory combinations are dropped.
    fn concat(&self, node: NodeId, parts: &[Vec<Outcome>], delimiter: &str) -> Vec<Outcome> {
        let span = self.span(node);
        let mut acc = vec![Outcome::new(Value::Text(String::new()), span)];
        for (i, part) in parts.iter().enumerate() {
            let mut next = Vec::new();
            for prefix in &acc {
                for o in part {
                    let Value::Text(piece) = &o.value else {
                        let why = match &o.value {
                            Value::Unknown(why) => why.clone(),
                            _ => "`AWS::NoValue` inside a string cannot be resolved".to_string(),
                        };
                        return vec![Outcome::new(Value::Unknown(why), o.span)];
                    };
                    let Value::Text(head) = &prefix.value else {
                        continue;
                    };
                    if head.len() + delimiter.len() + piece.len() > MAX_VALUE_LEN {
                        return self.too_long(node);
                    }
                    let text = if i == 0 {
                        piece.clone()
                    } else {
                        format!("{head}{delimiter}{piece}")
                    };
                    let combined = Outcome {
                        value: Value::Text(text),
                        span,
                        when: prefix.when.clone(),
                    };
                    if let Some(c) = with_assumptions(combined, std::slice::from_ref(&o.when)) {
                        next.push(c);
                    }
                    if next.len() > MAX_OUTCOMES {
                        return too_many(span);
                    }
                }
            }
            if next.len() > MAX_OUTCOMES {
                return too_many(span);
            }
            acc = next;
        }
        acc
    }
}

fn with_assumptions(mut outcome: Outcome, whens: &[Vec<Assumption>]) -> Option<Outcome> {
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
