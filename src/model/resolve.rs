//! Whole property values (lists and mappings with intrinsics anywhere inside) resolved to
//! comparable [`Shape`]s, under the assumptions of each case. [`expand::branches`] decides
//! which node an `Fn::If` or `AWS::NoValue` leaves, [`Evaluator::eval`] decides each
//! scalar; this module only assembles their answers, so it is no second walker over
//! intrinsics. Two revisions of a template value are compared through it by meaning:
//! `orders` and `!Sub "orders"` are the same `Shape`, reordered mapping keys too.

use std::fmt;

use super::eval::{Assumptions, Evaluator, Piece, Value, MAX_OUTCOMES};
use super::expand::{self, combine, Branch};
use crate::load::{Document, NodeId, NodeKind};
use crate::source::Span;

/// One part of a resolved string. What is known only at deployment is kept by identity,
/// never as characters, so two revisions compare equal exactly when they read the same
/// stack value: `${AWS::Region}` or a parameter without `AllowedValues`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Sym {
    Lit(String),
    /// A pseudo parameter: the stack's own value, the same at both revisions.
    Pseudo(String),
    /// A parameter whose values cannot be listed: the stack's value, the same at both
    /// revisions of one update.
    Param(String),
    /// `Ref` to a resource of the template.
    Ref(String),
    /// `Fn::GetAtt` of a resource of the template.
    Attr(String, String),
}

/// A resolved value.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Shape {
    /// A string (pieces merged, so one known string is at most one `Lit`).
    Text(Vec<Sym>),
    List(Vec<Shape>),
    /// Keys in order, each once.
    Map(Vec<(String, Shape)>),
    /// Not set, or removed with `AWS::NoValue`.
    Absent,
}

impl Shape {
    pub fn text(s: &str) -> Shape {
        if s.is_empty() {
            Shape::Text(Vec::new())
        } else {
            Shape::Text(vec![Sym::Lit(s.to_string())])
        }
    }

    /// The value of `key` in a mapping (`Absent` when missing or not a mapping).
    pub fn get(&self, key: &str) -> &Shape {
        match self {
            Shape::Map(entries) => entries
                .iter()
                .find(|(k, _)| k == key)
                .map_or(&Shape::Absent, |(_, v)| v),
            _ => &Shape::Absent,
        }
    }

    /// The literal text of a fully known string.
    pub fn literal(&self) -> Option<&str> {
        match self {
            Shape::Text(parts) if parts.is_empty() => Some(""),
            Shape::Text(parts) => match parts.as_slice() {
                [Sym::Lit(t)] => Some(t),
                _ => None,
            },
            _ => None,
        }
    }
}

/// Longest rendering of a shape quoted in a message.
const MAX_SHOWN: usize = 160;

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = String::new();
        render(self, &mut text);
        if text.len() > MAX_SHOWN {
            let mut end = MAX_SHOWN - 4;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.truncate(end);
            text.push('…');
        }
        f.write_str(&text)
    }
}

fn render(shape: &Shape, out: &mut String) {
    match shape {
        Shape::Text(parts) => {
            for p in parts {
                match p {
                    Sym::Lit(t) => out.push_str(t),
                    Sym::Pseudo(n) | Sym::Param(n) | Sym::Ref(n) => {
                        out.push_str(&format!("${{{n}}}"));
                    }
                    Sym::Attr(r, a) => out.push_str(&format!("${{{r}.{a}}}")),
                }
            }
        }
        Shape::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                render(item, out);
            }
            out.push(']');
        }
        Shape::Map(entries) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(k);
                out.push_str(": ");
                render(v, out);
            }
            out.push('}');
        }
        Shape::Absent => out.push_str("(not set)"),
    }
}

/// Why a value cannot be resolved, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unresolved {
    pub why: String,
    pub span: Span,
}

/// One value a property can take, under assumptions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    pub shape: Result<Shape, Unresolved>,
    pub when: Assumptions,
}

/// Every value `node` can take (`None`: the property is not written, one `Absent` case).
/// The evaluator should keep parts ([`Evaluator::keeping_parts`]), so that a pseudo
/// parameter or an unlisted parameter stays a [`Sym`] rather than an unknown.
pub fn resolve(ev: &Evaluator, doc: &Document, node: Option<NodeId>) -> Vec<Case> {
    let Some(node) = node else {
        return vec![Case {
            shape: Ok(Shape::Absent),
            when: Assumptions::none(),
        }];
    };
    let out = resolve_node(ev, doc, node, 0);
    if out.len() > MAX_OUTCOMES {
        return too_many(doc.span(node));
    }
    out
}

fn too_many(span: Span) -> Vec<Case> {
    vec![Case {
        shape: Err(Unresolved {
            why: format!("the value has more than {MAX_OUTCOMES} possible cases"),
            span,
        }),
        when: Assumptions::none(),
    }]
}

fn resolve_node(ev: &Evaluator, doc: &Document, node: NodeId, depth: usize) -> Vec<Case> {
    if depth > super::eval::MAX_EVAL_DEPTH {
        return vec![Case {
            shape: Err(Unresolved {
                why: "the value is nested too deeply to resolve".into(),
                span: doc.span(node),
            }),
            when: Assumptions::none(),
        }];
    }
    let mut out = Vec::new();
    for branch in expand::branches(ev, doc, node) {
        match branch {
            Branch::NoValue { when, .. } => out.push(Case {
                shape: Ok(Shape::Absent),
                when,
            }),
            Branch::Unknown { span, why, when } => out.push(Case {
                shape: Err(Unresolved { why, span }),
                when,
            }),
            Branch::Node { node: n, when } => {
                for case in resolve_chosen(ev, doc, n, depth) {
                    if let Some(w) = combine(&when, &case.when) {
                        out.push(Case {
                            shape: case.shape,
                            when: w,
                        });
                    }
                }
            }
        }
        if out.len() > MAX_OUTCOMES {
            return too_many(doc.span(node));
        }
    }
    out
}

/// A node that is not an `Fn::If` or `AWS::NoValue`.
fn resolve_chosen(ev: &Evaluator, doc: &Document, node: NodeId, depth: usize) -> Vec<Case> {
    if doc.call(node).is_none() {
        match &doc.node(node).kind {
            NodeKind::Map(entries) => {
                let parts: Vec<(String, Vec<Case>)> = doc
                    .entries(*entries)
                    .iter()
                    .map(|e| {
                        (
                            doc.key(e).to_string(),
                            resolve_node(ev, doc, e.value, depth + 1),
                        )
                    })
                    .collect();
                return product(doc.span(node), parts, |items| {
                    let mut entries: Vec<(String, Shape)> = items
                        .into_iter()
                        .filter(|(_, s)| *s != Shape::Absent)
                        .collect();
                    entries.sort();
                    Shape::Map(entries)
                });
            }
            NodeKind::Seq(items) if doc.list(node).is_some() => {
                let parts: Vec<(String, Vec<Case>)> = doc
                    .items(*items)
                    .iter()
                    .map(|i| (String::new(), resolve_node(ev, doc, *i, depth + 1)))
                    .collect();
                return product(doc.span(node), parts, |items| {
                    Shape::List(
                        items
                            .into_iter()
                            .map(|(_, s)| s)
                            .filter(|s| *s != Shape::Absent)
                            .collect(),
                    )
                });
            }
            _ => {}
        }
    }
    ev.eval(node)
        .into_iter()
        .map(|o| Case {
            shape: shape_of(o.value, o.span),
            when: o.when,
        })
        .collect()
}

fn shape_of(value: Value, span: Span) -> Result<Shape, Unresolved> {
    match value {
        Value::Text(t) => Ok(Shape::text(&t)),
        Value::NoValue => Ok(Shape::Absent),
        Value::Unknown(why) => Err(Unresolved { why, span }),
        Value::Partial(pieces) => {
            let mut syms = Vec::new();
            for p in pieces {
                syms.push(match p {
                    Piece::Lit(t) => Sym::Lit(t),
                    Piece::Pseudo(n) => Sym::Pseudo(n),
                    Piece::Unknown {
                        parameter: Some(n), ..
                    } => Sym::Param(n),
                    Piece::Unknown {
                        why,
                        parameter: None,
                    } => return Err(Unresolved { why, span }),
                    Piece::Ref(n) => Sym::Ref(n),
                    Piece::Attribute {
                        resource,
                        attribute,
                    } => Sym::Attr(resource, attribute),
                    // Not compared across revisions: the export is another stack's.
                    p @ Piece::Import(_) => {
                        return Err(Unresolved {
                            why: p.reason().unwrap_or_default(),
                            span,
                        })
                    }
                });
            }
            Ok(Shape::Text(syms))
        }
    }
}

/// The keyed parts combined so far, under their assumptions.
type Partial = (Result<Vec<(String, Shape)>, Unresolved>, Assumptions);

/// Every combination of the parts' cases (contradictory ones dropped), built by `make`.
/// An unresolved part makes the combination unresolved.
fn product(
    span: Span,
    parts: Vec<(String, Vec<Case>)>,
    make: impl Fn(Vec<(String, Shape)>) -> Shape,
) -> Vec<Case> {
    let mut acc: Vec<Partial> = vec![(Ok(Vec::new()), Assumptions::none())];
    for (key, cases) in parts {
        let mut next = Vec::new();
        for (sofar, when) in &acc {
            for case in &cases {
                let Some(w) = combine(when, &case.when) else {
                    continue;
                };
                let shape = match (sofar, &case.shape) {
                    (Err(e), _) | (Ok(_), Err(e)) => Err(e.clone()),
                    (Ok(items), Ok(s)) => {
                        let mut items = items.clone();
                        items.push((key.clone(), s.clone()));
                        Ok(items)
                    }
                };
                next.push((shape, w));
                if next.len() > MAX_OUTCOMES {
                    return too_many(span);
                }
            }
        }
        acc = next;
    }
    acc.into_iter()
        .map(|(items, when)| Case {
            shape: items.map(&make),
            when,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{load, Format, Limits};
    use crate::model::Template;

    fn shapes(yaml: &str) -> Vec<(String, Vec<String>)> {
        let doc = load(yaml, Format::Yaml, &Limits::default()).expect("loads");
        let template = Template::from_document(&doc)
            .expect("template")
            .expect("has Resources");
        let t = &template.resources[0];
        let ev = Evaluator::for_resource(&template, t).keeping_parts();
        let node = doc.get_value(t.node, "V");
        resolve(&ev, &doc, node)
            .into_iter()
            .map(|c| {
                (
                    match c.shape {
                        Ok(s) => s.to_string(),
                        Err(u) => format!("<{}>", u.why),
                    },
                    c.when.iter().map(ToString::to_string).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn spellings_of_one_value_resolve_alike() {
        let a = shapes("Resources:\n  T:\n    V: [{B: x, A: orders}]\n");
        let b = shapes(
            "Resources:\n  T:\n    V:\n      - A: !Sub orders\n        B: !Join ['', [x]]\n",
        );
        assert_eq!(a, b);
        assert_eq!(a[0].0, "[{A: orders, B: x}]");
    }

    #[test]
    fn conditional_items_and_removed_keys_are_cases() {
        let got =
            shapes("Resources:\n  T:\n    V:\n      - a\n      - !If [C, b, !Ref AWS::NoValue]\n");
        assert_eq!(
            got,
            [
                (
                    "[a, b]".to_string(),
                    vec!["condition `C` is true".to_string()]
                ),
                (
                    "[a]".to_string(),
                    vec!["condition `C` is false".to_string()]
                ),
            ]
        );
    }

    #[test]
    fn stack_values_stay_symbols_and_unknowns_are_unresolved() {
        let got = shapes("Resources:\n  T:\n    V: !Sub '${AWS::StackName}-x'\n");
        assert_eq!(got[0].0, "${AWS::StackName}-x");
        let got = shapes("Resources:\n  T:\n    V: !ImportValue x\n");
        assert!(got[0].0.starts_with('<'), "{got:?}");
        let got = shapes("Resources:\n  T:\n    V: !Split [',', 'a,b']\n");
        assert!(got[0].0.starts_with('<'), "{got:?}");
    }
}
