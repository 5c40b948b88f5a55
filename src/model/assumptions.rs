//! The assumptions behind an outcome: "condition `IsProd` is false and parameter `Env` is
//! `dev`". One conjunction type owns combining (conjunction), contradiction and display,
//! so every outcome, branch and grant says the same thing the same way.
//!
//! Contradiction comes at two depths. [`Assumptions::and`] sees what the assumptions say
//! by themselves: a condition assumed both true and false, a parameter (or a
//! `Fn::ForEach` identifier) bound to two values. [`Assumptions::satisfiable`] also reads
//! the template's `Conditions`: it adds what each assumed condition implies (the parts of
//! a true `Fn::And`, the negation under `Fn::Not`, the parameter a true `Fn::Equals` binds),
//! then looks for one deployment, an AllowedValues choice for every parameter the assumed
//! conditions compare, under which no assumed condition's definition evaluates to the
//! other truth value. What cannot be evaluated (a pseudo parameter, a parameter without
//! AllowedValues, a typed YAML scalar, a condition nested too deep, too many choices) is
//! read as "either": the check only ever drops a combination no deployment can produce.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Deref;

use super::eval::{short, Evaluator, Value};
use crate::hash::HashMap;
use crate::load::NodeId;

/// One thing assumed about a deployment.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
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

impl Assumption {
    /// Whether the two cannot both hold: one condition with two truth values, one
    /// parameter or loop identifier with two values.
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

/// A conjunction of [`Assumption`]s, in the order they read best (the enclosing `Fn::If`
/// first), without repeats and without two that contradict each other. Empty: in every
/// case.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Assumptions(Vec<Assumption>);

impl Deref for Assumptions {
    type Target = [Assumption];

    fn deref(&self) -> &[Assumption] {
        &self.0
    }
}

impl<'a> IntoIterator for &'a Assumptions {
    type Item = &'a Assumption;
    type IntoIter = std::slice::Iter<'a, Assumption>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl From<Assumption> for Assumptions {
    fn from(a: Assumption) -> Self {
        Assumptions(vec![a])
    }
}

/// "when condition `IsProd` is false and parameter `Env` is `dev`"; nothing when empty.
impl fmt::Display for Assumptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.0.iter().enumerate() {
            f.write_str(if i == 0 { "when " } else { " and " })?;
            write!(f, "{a}")?;
        }
        Ok(())
    }
}

impl Assumptions {
    /// No assumption: in every case.
    pub fn none() -> Self {
        Assumptions(Vec::new())
    }

    /// All of `items`, or `None` when two of them contradict each other.
    pub fn all<'a>(items: impl IntoIterator<Item = &'a Assumption>) -> Option<Self> {
        let mut out = Assumptions::none();
        for a in items {
            out.push(a.clone())?;
        }
        Some(out)
    }

    /// Both these and `other` (added after these), or `None` when they contradict.
    pub fn and(&self, other: &[Assumption]) -> Option<Self> {
        let mut out = self.clone();
        for a in other {
            out.push(a.clone())?;
        }
        Some(out)
    }

    /// These under one more, enclosing assumption (read first), or `None` when it
    /// contradicts one of them.
    pub fn under(mut self, a: Assumption) -> Option<Self> {
        if self.contradicts(&a) {
            return None;
        }
        if !self.0.contains(&a) {
            self.0.insert(0, a);
        }
        Some(self)
    }

    /// Whether `a` contradicts one of these by itself.
    pub fn contradicts(&self, a: &Assumption) -> bool {
        self.0.iter().any(|b| b.contradicts(a))
    }

    /// Whether every one of `other` is among these (these are at least as specific).
    pub fn implies(&self, other: &[Assumption]) -> bool {
        other.iter().all(|a| self.0.contains(a))
    }

    fn push(&mut self, a: Assumption) -> Option<()> {
        if self.contradicts(&a) {
            return None;
        }
        if !self.0.contains(&a) {
            self.0.push(a);
        }
        Some(())
    }

    /// The same set in a canonical order (for caching).
    fn key(&self) -> Vec<Assumption> {
        let mut key = self.0.clone();
        key.sort();
        key
    }

    /// Whether some deployment of the template `ev` reads can make all of these hold
    /// (see the module documentation). `false` is a proof; `true` may be a combination no
    /// deployment produces.
    pub fn satisfiable(&self, ev: &Evaluator) -> bool {
        if !self
            .0
            .iter()
            .any(|a| matches!(a, Assumption::Condition { .. }))
        {
            // Parameter and loop values come from the lists they are chosen from.
            return true;
        }
        let key = self.key();
        if let Some(known) = ev.satisfiable_cache().borrow().get(&key) {
            return *known;
        }
        let answer = self.search(ev);
        ev.satisfiable_cache().borrow_mut().insert(key, answer);
        answer
    }

    fn search(&self, ev: &Evaluator) -> bool {
        // What the assumed conditions imply, read off their definitions.
        let mut implied = Vec::new();
        for a in &self.0 {
            if let Assumption::Condition { name, holds } = a {
                let mut own = Vec::new();
                ev.implied_by_condition(name, *holds, 0, &mut own);
                if Assumptions::all(&own).is_some() {
                    implied.extend(own);
                } else if !cyclic(ev, name, 0, &mut Vec::new(), &mut BTreeSet::new()) {
                    return false;
                }
                // Conditions that refer to themselves (CloudFormation rejects them) tell
                // nothing: they read as either.
            }
        }
        let Some(all) = self.and(&implied) else {
            return false;
        };
        let mut world = World::default();
        for a in &all.0 {
            match a {
                Assumption::Condition { name, holds } => {
                    world.assumed.insert(name.clone(), *holds);
                }
                Assumption::Parameter { name, value } => {
                    world.parameters.insert(name.clone(), value.clone());
                }
                Assumption::LoopItem { identifier, value } => {
                    world.loops.insert(identifier.clone(), value.clone());
                }
            }
        }
        // The parameters the assumed conditions compare, each over its AllowedValues.
        let mut parameters = BTreeSet::new();
        let mut seen = BTreeSet::new();
        for name in world.assumed.keys() {
            reach(ev, name, 0, &mut seen, &mut parameters);
        }
        let mut choices: Vec<(String, Vec<String>)> = parameters
            .into_iter()
            .filter(|p| !world.parameters.contains_key(p))
            .filter_map(|p| ev.parameter_values(&p).map(|values| (p, values)))
            .collect();
        // Too many combinations: leave the largest parameters free (read as "either").
        choices.sort_by_key(|(_, values)| values.len());
        let mut count = 1usize;
        choices.retain(|(_, values)| {
            let next = count.saturating_mul(values.len().max(1));
            let keep = next <= MAX_CHOICES;
            if keep {
                count = next;
            }
            keep
        });
        let mut index = vec![0usize; choices.len()];
        loop {
            let mut here = world.clone();
            for ((name, values), i) in choices.iter().zip(&index) {
                if let Some(v) = values.get(*i) {
                    here.parameters.insert(name.clone(), v.clone());
                }
            }
            if here.consistent(ev) {
                return true;
            }
            // The next combination (odometer order); done when it wraps around.
            let mut digit = 0;
            loop {
                let Some((_, values)) = choices.get(digit) else {
                    return false;
                };
                index[digit] += 1;
                if index[digit] < values.len() {
                    break;
                }
                index[digit] = 0;
                digit += 1;
            }
        }
    }
}

/// At most this many combinations of parameter values are tried for one set of
/// assumptions; parameters beyond are left free.
const MAX_CHOICES: usize = 512;
/// Conditions referring to one another deeper than this read as "either".
const MAX_DEPTH: usize = 32;

/// Whether condition `name` refers to itself, directly or through others (`path`: the
/// conditions being followed; `done`: those known to lead to no cycle).
fn cyclic(
    ev: &Evaluator,
    name: &str,
    depth: usize,
    path: &mut Vec<String>,
    done: &mut BTreeSet<String>,
) -> bool {
    if path.iter().any(|p| p == name) {
        return true;
    }
    if done.contains(name) {
        return false;
    }
    if depth > MAX_DEPTH {
        // Too deep to tell: read as either.
        return true;
    }
    let Some(body) = ev.template().condition(name) else {
        return false;
    };
    let mut referred = Vec::new();
    referred_conditions(ev, body, 0, &mut referred);
    path.push(name.to_string());
    let found = referred
        .iter()
        .any(|next| cyclic(ev, next, depth + 1, path, done));
    path.pop();
    if !found {
        done.insert(name.to_string());
    }
    found
}

/// The conditions a condition definition refers to with `Condition`.
fn referred_conditions(ev: &Evaluator, node: NodeId, depth: usize, out: &mut Vec<String>) {
    let doc = ev.template().doc;
    if depth > MAX_DEPTH {
        return;
    }
    let Some(call) = doc.call(node) else { return };
    match call.name {
        "Condition" => {
            if let Some(s) = doc.scalar(call.arg) {
                if !out.iter().any(|o| *o == *s.text) {
                    out.push(s.text.to_string());
                }
            }
        }
        "Fn::Not" | "Fn::And" | "Fn::Or" => {
            for part in doc.seq(call.arg).unwrap_or(&[]) {
                referred_conditions(ev, *part, depth + 1, out);
            }
        }
        _ => {}
    }
}

/// The conditions reachable from condition `name` and the parameters their
/// `Fn::Equals` operands depend on.
fn reach(
    ev: &Evaluator,
    name: &str,
    depth: usize,
    seen: &mut BTreeSet<String>,
    parameters: &mut BTreeSet<String>,
) {
    if depth > MAX_DEPTH || !seen.insert(name.to_string()) {
        return;
    }
    if let Some(body) = ev.template().condition(name) {
        reach_node(ev, body, depth + 1, seen, parameters);
    }
}

fn reach_node(
    ev: &Evaluator,
    node: NodeId,
    depth: usize,
    seen: &mut BTreeSet<String>,
    parameters: &mut BTreeSet<String>,
) {
    let doc = ev.template().doc;
    if depth > MAX_DEPTH {
        return;
    }
    let Some(call) = doc.call(node) else { return };
    match call.name {
        "Condition" => {
            if let Some(s) = doc.scalar(call.arg) {
                reach(ev, &s.text, depth + 1, seen, parameters);
            }
        }
        "Fn::Equals" => {
            for operand in doc.seq(call.arg).unwrap_or(&[]) {
                for o in ev.operand(*operand).iter() {
                    for a in &o.when {
                        if let Assumption::Parameter { name, .. } = a {
                            parameters.insert(name.clone());
                        }
                    }
                }
            }
        }
        _ => {
            for part in doc.seq(call.arg).unwrap_or(&[]) {
                reach_node(ev, *part, depth + 1, seen, parameters);
            }
        }
    }
}

/// One candidate deployment: the parameter and loop values it binds and the truth values
/// assumed of conditions. What it does not bind can be anything.
#[derive(Clone, Default)]
struct World {
    parameters: BTreeMap<String, String>,
    loops: BTreeMap<String, String>,
    assumed: BTreeMap<String, bool>,
}

impl World {
    /// Whether no assumed condition's definition evaluates to the other truth value here.
    fn consistent(&self, ev: &Evaluator) -> bool {
        let mut memo = HashMap::default();
        self.assumed.iter().all(|(name, holds)| {
            self.named(ev, name, 0, &mut memo)
                .is_none_or(|value| value == *holds)
        })
    }

    /// The truth value of condition `name` here: its definition's, or, when that cannot
    /// be told, the value assumed of it (`None`: either).
    fn named(
        &self,
        ev: &Evaluator,
        name: &str,
        depth: usize,
        memo: &mut HashMap<String, Option<Option<bool>>>,
    ) -> Option<bool> {
        let assumed = self.assumed.get(name).copied();
        if depth > MAX_DEPTH {
            return assumed;
        }
        match memo.get(name) {
            Some(Some(known)) => return *known,
            // A cycle (CloudFormation rejects it): nothing to tell.
            Some(None) => return None,
            None => {}
        }
        memo.insert(name.to_string(), None);
        let value = ev
            .template()
            .condition(name)
            .and_then(|body| self.truth(ev, body, depth + 1, memo))
            .or(assumed);
        memo.insert(name.to_string(), Some(value));
        value
    }

    fn truth(
        &self,
        ev: &Evaluator,
        node: NodeId,
        depth: usize,
        memo: &mut HashMap<String, Option<Option<bool>>>,
    ) -> Option<bool> {
        let doc = ev.template().doc;
        if depth > MAX_DEPTH {
            return None;
        }
        let Some(call) = doc.call(node) else {
            return match doc.str(node) {
                Some("true") => Some(true),
                Some("false") => Some(false),
                _ => None,
            };
        };
        let args = doc.seq(call.arg).unwrap_or(&[]);
        match call.name {
            "Condition" => {
                let name = doc.scalar(call.arg)?;
                self.named(ev, &name.text, depth + 1, memo)
            }
            "Fn::Not" => match args {
                [inner] => self.truth(ev, *inner, depth + 1, memo).map(|v| !v),
                _ => None,
            },
            "Fn::And" | "Fn::Or" if !args.is_empty() => {
                // And: false if any part is false, true if all are true; Or the dual.
                let decisive = call.name == "Fn::Or";
                let mut all_known = true;
                for part in args {
                    match self.truth(ev, *part, depth + 1, memo) {
                        Some(v) if v == decisive => return Some(decisive),
                        Some(_) => {}
                        None => all_known = false,
                    }
                }
                all_known.then_some(!decisive)
            }
            "Fn::Equals" => match args {
                [a, b] => self.equals(ev, *a, *b),
                _ => None,
            },
            _ => None,
        }
    }

    /// `Fn::Equals` here: the operands' values that this world allows, compared.
    fn equals(&self, ev: &Evaluator, a: NodeId, b: NodeId) -> Option<bool> {
        let left = ev.operand(a);
        let right = ev.operand(b);
        let mut equal = false;
        let mut different = false;
        for l in left.iter().filter(|o| self.allows(&o.when)) {
            for r in right.iter().filter(|o| self.allows(&o.when)) {
                if l.when.and(&r.when).is_none() {
                    continue;
                }
                match (&l.value, &r.value) {
                    (Value::Text(x), Value::Text(y)) if !l.yaml_typed && !r.yaml_typed => {
                        if x == y {
                            equal = true;
                        } else {
                            different = true;
                        }
                    }
                    _ => return None,
                }
            }
        }
        match (equal, different) {
            (true, false) => Some(true),
            (false, true) => Some(false),
            _ => None,
        }
    }

    /// Whether an operand value's assumptions can hold here.
    fn allows(&self, when: &Assumptions) -> bool {
        when.iter().all(|a| match a {
            Assumption::Parameter { name, value } => {
                self.parameters.get(name).is_none_or(|v| v == value)
            }
            Assumption::LoopItem { identifier, value } => {
                self.loops.get(identifier).is_none_or(|v| v == value)
            }
            Assumption::Condition { name, holds } => {
                self.assumed.get(name).is_none_or(|v| v == holds)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{self, Format, Limits};
    use crate::model::Template;

    fn condition(name: &str, holds: bool) -> Assumption {
        Assumption::Condition {
            name: name.into(),
            holds,
        }
    }

    fn parameter(name: &str, value: &str) -> Assumption {
        Assumption::Parameter {
            name: name.into(),
            value: value.into(),
        }
    }

    #[test]
    fn combining_is_conjunction_without_repeats_and_none_on_a_direct_contradiction() {
        let a = Assumptions::from(condition("IsProd", false));
        let both = a
            .and(&[parameter("Env", "dev"), condition("IsProd", false)])
            .expect("consistent");
        assert_eq!(both.len(), 2);
        assert_eq!(
            both.to_string(),
            "when condition `IsProd` is false and parameter `Env` is `dev`"
        );
        assert!(a.and(&[condition("IsProd", true)]).is_none());
        assert!(both.and(&[parameter("Env", "prod")]).is_none());
        assert!(Assumptions::all(&[parameter("Env", "a"), parameter("Env", "b")]).is_none());
        let loops = [
            Assumption::LoopItem {
                identifier: "T".into(),
                value: "a".into(),
            },
            Assumption::LoopItem {
                identifier: "T".into(),
                value: "b".into(),
            },
        ];
        assert!(Assumptions::all(&loops).is_none());
        // The enclosing assumption reads first.
        let under = both
            .clone()
            .under(condition("Outer", true))
            .expect("consistent");
        assert!(under
            .to_string()
            .starts_with("when condition `Outer` is true and"));
        assert_eq!(Assumptions::none().to_string(), "");
        assert!(under.implies(&both));
        assert!(!both.implies(&under));
    }

    /// Whether `when` (conditions given as `Name=true`) can hold in the template `head`.
    fn can_hold(head: &str, when: &[(&str, bool)]) -> bool {
        let text = format!("{head}Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n");
        let doc = load::load(&text, Format::Yaml, &Limits::default()).expect("test YAML loads");
        let template = Template::from_document(&doc)
            .expect("valid template")
            .expect("has Resources");
        let ev = Evaluator::new(&template, &[]);
        let all = Assumptions::all(
            &when
                .iter()
                .map(|(n, h)| condition(n, *h))
                .collect::<Vec<_>>(),
        )
        .expect("no direct contradiction");
        all.satisfiable(&ev)
    }

    const ENV: &str = "Parameters:\n  Env: {Type: String, AllowedValues: [prod, dev, test]}\n  Free: {Type: String}\n";

    #[test]
    fn a_negation_assumed_with_the_same_value_as_its_condition_is_a_contradiction() {
        let head = format!(
            "{ENV}Conditions:\n  IsUsEast: !Equals [!Ref 'AWS::Region', us-east-1]\n  NotUsEast: !Not [!Condition IsUsEast]\n  Both: !And [!Condition IsUsEast, !Condition NotUsEast]\n"
        );
        assert!(!can_hold(
            &head,
            &[("IsUsEast", false), ("NotUsEast", false)]
        ));
        assert!(!can_hold(&head, &[("IsUsEast", true), ("NotUsEast", true)]));
        assert!(can_hold(&head, &[("IsUsEast", true), ("NotUsEast", false)]));
        assert!(!can_hold(&head, &[("Both", true)]));
        assert!(can_hold(&head, &[("Both", false)]));
    }

    #[test]
    fn conditions_on_one_parameter_are_correlated_through_its_allowed_values() {
        let head = format!(
            "{ENV}Conditions:\n  IsProd: !Equals [!Ref Env, prod]\n  IsDev: !Equals [dev, !Ref Env]\n  IsTest: !Equals [!Ref Env, test]\n  ProdOrDev: !Or [!Condition IsProd, !Condition IsDev]\n  Never: !And [!Condition IsProd, !Condition IsDev]\n  FreeA: !Equals [!Ref Free, a]\n  FreeB: !Equals [!Ref Free, b]\n"
        );
        assert!(!can_hold(&head, &[("IsProd", true), ("IsDev", true)]));
        assert!(can_hold(&head, &[("IsProd", false), ("IsDev", false)]));
        assert!(!can_hold(
            &head,
            &[("IsProd", false), ("IsDev", false), ("IsTest", false)]
        ));
        assert!(!can_hold(&head, &[("ProdOrDev", false), ("IsTest", false)]));
        assert!(!can_hold(&head, &[("ProdOrDev", true), ("IsTest", true)]));
        assert!(!can_hold(&head, &[("Never", true)]));
        // A parameter without AllowedValues can be anything: nothing is ruled out but
        // a direct contradiction.
        assert!(can_hold(&head, &[("FreeA", false), ("FreeB", false)]));
        assert!(can_hold(&head, &[("FreeA", true), ("FreeB", true)]));
    }

    #[test]
    fn what_cannot_be_evaluated_is_either() {
        // A typed YAML scalar, a condition that is not defined, a function that is not
        // a condition function, a condition that refers to itself.
        let head = "Parameters:\n  Flag: {Type: String, AllowedValues: [yes, no]}\nConditions:\n  On: !Equals [!Ref Flag, yes]\n  Off: !Equals [!Ref Flag, no]\n  Missing: !Not [!Condition Nowhere]\n  Odd: !Not [!Select [0, [a]]]\n  Loop: !Not [!Condition Loop]\n";
        assert!(can_hold(head, &[("On", false), ("Off", false)]));
        assert!(can_hold(head, &[("On", true), ("Off", true)]));
        for holds in [true, false] {
            assert!(can_hold(head, &[("Missing", holds)]));
            assert!(can_hold(head, &[("Odd", holds)]));
            assert!(can_hold(head, &[("Loop", holds)]));
        }
    }
}
