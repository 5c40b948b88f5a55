//! Structural expansion of intrinsics that choose between whole mappings or lists, not
//! single values: `Fn::If` around a policy statement, a `Replicas` list whose items are
//! conditional, `Ref: AWS::NoValue` that removes an item or a property. [`Evaluator::eval`]
//! answers "which scalar values", this answers "which nodes", under the same assumptions,
//! so a rule can walk into the chosen mapping and evaluate its scalars with the evaluator.

use super::eval::{Assumption, Assumptions, Evaluator, MAX_EVAL_DEPTH, MAX_OUTCOMES};
use crate::load::{Document, NodeId, NodeKind};
use crate::source::Span;

/// `Fn::If` nested deeper than this is not followed: the evaluator's own bound.
const MAX_DEPTH: usize = MAX_EVAL_DEPTH;

/// One node a value can turn out to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Branch {
    /// This node (never an `Fn::If` or `AWS::NoValue`), under these assumptions.
    Node { node: NodeId, when: Assumptions },
    /// `Ref: AWS::NoValue`: the item or property is removed.
    NoValue { span: Span, when: Assumptions },
    /// A list that cannot be known statically (`Ref` to a list parameter, `Fn::Split`, ...).
    Unknown {
        span: Span,
        why: String,
        when: Assumptions,
    },
}

impl Branch {
    pub fn when(&self) -> &[Assumption] {
        match self {
            Branch::Node { when, .. }
            | Branch::NoValue { when, .. }
            | Branch::Unknown { when, .. } => when,
        }
    }
}

/// `when` plus `extra`, or `None` when they contradict each other.
pub fn combine(when: &[Assumption], extra: &[Assumption]) -> Option<Assumptions> {
    Assumptions::all(when)?.and(extra)
}

/// The nodes `node` can be: both branches of every `Fn::If` whose condition is not
/// provably constant, with `AWS::NoValue` made explicit. Branches that contradict what
/// the evaluator is given (the resource's own `Condition`) are left out.
pub fn branches(ev: &Evaluator, doc: &Document, node: NodeId) -> Vec<Branch> {
    let mut out = Vec::new();
    branches_into(ev, doc, node, Assumptions::none(), 0, &mut out);
    out.retain(|b| ev.consistent(b.when()));
    if out.len() > MAX_OUTCOMES {
        return vec![Branch::Unknown {
            span: doc.span(node),
            why: format!("the value has more than {MAX_OUTCOMES} possible cases"),
            when: Assumptions::none(),
        }];
    }
    out
}

fn branches_into(
    ev: &Evaluator,
    doc: &Document,
    node: NodeId,
    when: Assumptions,
    depth: usize,
    out: &mut Vec<Branch>,
) {
    if out.len() > MAX_OUTCOMES {
        return;
    }
    let span = doc.span(node);
    let Some(call) = doc.call(node) else {
        out.push(Branch::Node { node, when });
        return;
    };
    match call.name {
        "Ref"
            if doc
                .scalar(call.arg)
                .is_some_and(|s| s.text == "AWS::NoValue") =>
        {
            out.push(Branch::NoValue { span, when });
        }
        "Fn::If" => {
            let parts = doc.seq(call.arg).unwrap_or(&[]);
            let (Some(name), [_, then, otherwise]) =
                (parts.first().and_then(|c| doc.str(*c)), parts)
            else {
                out.push(Branch::Unknown {
                    span,
                    why: "`Fn::If` needs [condition, value if true, value if false]".into(),
                    when,
                });
                return;
            };
            if depth >= MAX_DEPTH {
                out.push(Branch::Unknown {
                    span,
                    why: "`Fn::If` is nested too deeply to follow".into(),
                    when,
                });
                return;
            }
            let truth = ev.condition(name, 0);
            for (holds, possible, branch) in [
                (true, truth.can_be_true, *then),
                (false, truth.can_be_false, *otherwise),
            ] {
                if !possible {
                    continue;
                }
                let assumption = Assumption::Condition {
                    name: name.to_string(),
                    holds,
                };
                if let Some(when) = combine(&when, std::slice::from_ref(&assumption)) {
                    branches_into(ev, doc, branch, when, depth + 1, out);
                }
            }
        }
        // Any other call is a value the caller evaluates (a scalar) or cannot know.
        _ => out.push(Branch::Node { node, when }),
    }
}

/// The items of a list-valued node: the list (or each list an `Fn::If` chooses), then
/// each item expanded with [`branches`]. Removed items (`AWS::NoValue`) are dropped; a
/// single non-list value (also a call such as `Fn::Sub`) counts as a one-item list, as IAM
/// accepts it; the caller's evaluation of that item says when it cannot be known.
pub fn items(ev: &Evaluator, doc: &Document, node: NodeId) -> Vec<Branch> {
    let mut out = Vec::new();
    for list in branches(ev, doc, node) {
        let Branch::Node { node: list, when } = list else {
            // A removed list has no items; an unknown one stays unknown.
            if let Branch::Unknown { .. } = list {
                out.push(list);
            }
            continue;
        };
        match &doc.node(list).kind {
            NodeKind::Seq(entries) if doc.call(list).is_none() => {
                for item in doc.items(*entries) {
                    for b in branches(ev, doc, *item) {
                        let merged = match b {
                            Branch::Node { node, when: w } => {
                                combine(&when, &w).map(|when| Branch::Node { node, when })
                            }
                            Branch::NoValue { .. } => None,
                            Branch::Unknown { span, why, when: w } => {
                                combine(&when, &w).map(|when| Branch::Unknown { span, why, when })
                            }
                        };
                        out.extend(merged);
                    }
                }
            }
            _ => out.push(Branch::Node { node: list, when }),
        }
    }
    // No cap on the number of items: a long list is not an explosion (each item's
    // branches are capped by `branches`), and an unknown stand-in for a 100-action list
    // would be a false finding.
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{load, Format, Limits};
    use crate::model::Template;

    /// The literal texts of the items of `Resources.T.L`, each with its assumptions.
    fn items_of(yaml: &str) -> Vec<(String, Vec<String>)> {
        let doc = load(yaml, Format::Yaml, &Limits::default()).expect("loads");
        let template = Template::from_document(&doc)
            .expect("template")
            .expect("has Resources");
        let ev = Evaluator::new(&template, &[]);
        let t = &template.resources[0];
        let list = doc.get_value(t.node, "L").expect("L");
        items(&ev, &doc, list)
            .into_iter()
            .map(|b| match b {
                Branch::Node { node, when } => (
                    doc.str(node).unwrap_or("<map>").to_string(),
                    when.iter().map(ToString::to_string).collect(),
                ),
                Branch::NoValue { .. } => ("<novalue>".into(), Vec::new()),
                Branch::Unknown { why, .. } => (format!("<unknown: {why}>"), Vec::new()),
            })
            .collect()
    }

    #[test]
    fn conditional_items_carry_their_condition_and_removed_items_vanish() {
        let got = items_of(
            "Resources:\n  T:\n    L:\n      - a\n      - !If [C, b, !Ref AWS::NoValue]\n",
        );
        assert_eq!(
            got,
            [
                ("a".to_string(), vec![]),
                ("b".to_string(), vec!["condition `C` is true".to_string()]),
            ]
        );
    }

    #[test]
    fn a_list_chosen_by_if_contributes_both_lists() {
        let got = items_of("Resources:\n  T:\n    L: !If [C, [a, b], [c]]\n");
        let texts: Vec<&str> = got.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(texts, ["a", "b", "c"]);
        assert_eq!(got[2].1, ["condition `C` is false"]);
    }

    #[test]
    fn a_provably_false_condition_drops_its_branch() {
        let got = items_of(
            "Conditions:\n  Never: !Equals [a, b]\nResources:\n  T:\n    L: [!If [Never, x, y]]\n",
        );
        assert_eq!(
            got,
            [(
                "y".to_string(),
                vec!["condition `Never` is false".to_string()]
            )]
        );
    }

    #[test]
    fn a_single_value_is_a_one_item_list() {
        assert_eq!(
            items_of("Resources:\n  T:\n    L: a\n"),
            [("a".to_string(), vec![])]
        );
    }
}
