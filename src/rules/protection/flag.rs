//! The proof shared by DDB003 and DDB004: a boolean table property must be provably true
//! on every table and on every replica of a global table, in every `Fn::If` branch and for
//! every allowed parameter value.

use crate::finding::{Applicability, Change, Finding, Fix, FixValue, Label};
use crate::fix::edit::TextEdits;
use crate::load::{Document, NodeId, NodeKind, ScalarStyle};
use crate::model::eval::Assumptions;
use crate::model::expand::{self, combine, Branch};
use crate::model::{Evaluator, Value};
use crate::source::Span;

use crate::rules::layers::LayerState;
use crate::rules::{ResourceView, Rule};

pub struct FlagSpec {
    /// The property path from a table's `Properties` (or a global table's replica).
    pub path: &'static [&'static str],
    /// What CloudFormation (or DynamoDB) does when the flag is not true.
    pub consequence: &'static str,
    /// The fix, as YAML (`DeletionProtectionEnabled: true`).
    pub fix: &'static str,
    /// Set when `AWS::Serverless::SimpleTable` has no such property: why, in the message.
    pub simple_table: Option<&'static str>,
}

impl FlagSpec {
    fn name(&self) -> String {
        self.path.join(".")
    }

    fn leaf(&self) -> &'static str {
        leaf_key(self.path)
    }
}

/// One case where the flag is not proven true.
struct Bad {
    span: Span,
    what: String,
    label: String,
    when: Assumptions,
}

/// What the walk over a table found: the failing cases per replica (`None` for the table
/// itself), and how many cases were proven true.
enum Cases {
    NotTable,
    /// `AWS::Serverless::SimpleTable` has no such property; why.
    SimpleTable(&'static str),
    Found {
        groups: Vec<(Option<String>, Vec<Bad>)>,
        good: usize,
    },
}

pub fn check_flag(view: &ResourceView, rule: &Rule, spec: &FlagSpec) -> Vec<Finding> {
    match cases(view, spec) {
        Cases::NotTable => Vec::new(),
        Cases::SimpleTable(why) => {
            let doc = view.doc();
            let span = view
                .attribute("Type")
                .map_or(view.key_span(), |t| doc.span(t.value));
            let mut f = view.finding(
                rule,
                span,
                format!(
                    "`AWS::Serverless::SimpleTable` cannot set {}: {why}; {}",
                    spec.name(),
                    spec.consequence
                ),
                format!("SimpleTable has no {}", spec.name()),
            );
            f.help = Some(format!(
                "use `Type: AWS::DynamoDB::Table` (what SimpleTable becomes) with `{}` under `Properties`",
                spec.fix
            ));
            vec![f]
        }
        Cases::Found { groups, .. } => {
            let global = view.resource.type_name == Some("AWS::DynamoDB::GlobalTable");
            groups
                .into_iter()
                .filter_map(|(replica, bad)| {
                    let mut finding = report(view, rule, spec, replica.as_deref(), bad)?;
                    if !global {
                        finding.fix = fix_table(view, spec);
                    }
                    Some(finding)
                })
                .collect()
        }
    }
}

/// The same proof as [`check_flag`], as a protection layer for the inventory: proven, or
/// true only in some cases (with the cases where it is not), or not at all.
pub fn flag_state(view: &ResourceView, spec: &FlagSpec) -> LayerState {
    match cases(view, spec) {
        Cases::NotTable | Cases::SimpleTable(_) => LayerState::No,
        Cases::Found { groups, good } => {
            let bad: Vec<(Option<String>, &Bad)> = groups
                .iter()
                .flat_map(|(replica, bad)| bad.iter().map(move |b| (replica.clone(), b)))
                .collect();
            if bad.is_empty() {
                return LayerState::Proven;
            }
            if good == 0 || bad.iter().any(|(_, b)| b.when.is_empty()) {
                return LayerState::No;
            }
            let cases: Vec<String> = bad
                .iter()
                .map(|(replica, b)| {
                    let subject = match replica {
                        Some(r) => format!("{} of {r}", spec.leaf()),
                        None => spec.leaf().to_string(),
                    };
                    format!("{subject} {} {}", b.what, describe_when(&b.when))
                })
                .collect();
            LayerState::Conditional(cases.join("; "))
        }
    }
}

fn cases(view: &ResourceView, spec: &FlagSpec) -> Cases {
    let Some(type_name) = view.resource.type_name.filter(|_| view.resource.is_table()) else {
        return Cases::NotTable;
    };
    let doc = view.doc();
    let ev = view.evaluator();
    if type_name == "AWS::Serverless::SimpleTable" {
        if let Some(why) = spec.simple_table {
            return Cases::SimpleTable(why);
        }
    }
    let mut good = 0;
    if type_name != "AWS::DynamoDB::GlobalTable" {
        let bad = match view.properties() {
            Some(props) => {
                let anchor = view.key_span();
                walk(
                    &ev,
                    doc,
                    props,
                    spec.path,
                    anchor,
                    Assumptions::none(),
                    &mut good,
                )
            }
            None => vec![missing(
                view.key_span(),
                spec.path[0],
                spec.leaf(),
                Assumptions::none(),
            )],
        };
        return Cases::Found {
            groups: vec![(None, bad)],
            good,
        };
    }
    let Some(replicas) = view.property("Replicas") else {
        // CloudFormation rejects a global table without replicas; nothing to prove.
        return Cases::Found {
            groups: Vec::new(),
            good,
        };
    };
    let mut groups = Vec::new();
    for (index, replica) in expand::items(&ev, doc, replicas.value)
        .into_iter()
        .enumerate()
    {
        match replica {
            Branch::Node { node, when } => {
                let region = doc
                    .get(node, "Region")
                    .map(|r| (doc.str(r.value), doc.span(r.value)));
                let (name, anchor) = match region {
                    Some((Some(region), span)) => (format!("replica `{region}`"), span),
                    Some((None, span)) => (format!("replica {}", index + 1), span),
                    None => (format!("replica {}", index + 1), doc.span(node)),
                };
                let bad = if doc.map(node).is_some() {
                    walk(&ev, doc, node, spec.path, anchor, when, &mut good)
                } else {
                    vec![Bad {
                        span: doc.span(node),
                        what: "cannot be proven true (the replica is not a mapping)".into(),
                        label: "not a replica specification".into(),
                        when,
                    }]
                };
                groups.push((Some(name), bad));
            }
            Branch::Unknown { span, why, when } => {
                let bad = vec![Bad {
                    span,
                    what: format!("cannot be proven true on every replica ({why})"),
                    label: "replicas cannot be resolved".into(),
                    when,
                }];
                groups.push((None, bad));
            }
            Branch::NoValue { .. } => {}
        }
    }
    Cases::Found { groups, good }
}

fn missing(anchor: Span, key: &str, leaf: &str, when: Assumptions) -> Bad {
    let what = if key == leaf {
        "is not set, so it defaults to false".to_string()
    } else {
        format!("is not set (no `{key}`), so it defaults to false")
    };
    Bad {
        span: anchor,
        what,
        label: format!("no {key} here"),
        when,
    }
}

/// Follow `path` from the mapping `node`, through `Fn::If` at every level, and return
/// every case where the value at its end is not true.
fn walk(
    ev: &Evaluator,
    doc: &Document,
    node: NodeId,
    path: &[&str],
    anchor: Span,
    when: Assumptions,
    good: &mut usize,
) -> Vec<Bad> {
    let Some((key, rest)) = path.split_first() else {
        return leaf(ev, doc, node, when, good);
    };
    let mut out = Vec::new();
    for branch in expand::branches(ev, doc, node) {
        match branch {
            Branch::Node { node, when: w } => {
                let Some(when) = combine(&when, &w) else {
                    continue;
                };
                match doc.get(node, key) {
                    Some(entry) => {
                        let anchor = doc.span(entry.key);
                        out.extend(walk(ev, doc, entry.value, rest, anchor, when, good));
                    }
                    None if doc.map(node).is_some() => {
                        out.push(missing(anchor, key, leaf_key(path), when))
                    }
                    None => out.push(Bad {
                        span: doc.span(node),
                        what: "cannot be proven true (not a mapping)".into(),
                        label: "not a mapping".into(),
                        when,
                    }),
                }
            }
            Branch::NoValue { span, when: w } => {
                if let Some(when) = combine(&when, &w) {
                    out.push(removed(span, when));
                }
            }
            Branch::Unknown { span, why, when: w } => {
                if let Some(when) = combine(&when, &w) {
                    out.push(unknown(span, &why, when));
                }
            }
        }
    }
    out
}

fn leaf_key<'p>(path: &[&'p str]) -> &'p str {
    path.last().copied().unwrap_or_default()
}

fn removed(span: Span, when: Assumptions) -> Bad {
    Bad {
        span,
        what: "is removed by `AWS::NoValue`, so it defaults to false".into(),
        label: "removed: defaults to false".into(),
        when,
    }
}

fn unknown(span: Span, why: &str, when: Assumptions) -> Bad {
    Bad {
        span,
        what: format!("cannot be proven true ({why})"),
        label: "cannot be proven true".into(),
        when,
    }
}

fn leaf(
    ev: &Evaluator,
    doc: &Document,
    node: NodeId,
    when: Assumptions,
    good: &mut usize,
) -> Vec<Bad> {
    let mut out = Vec::new();
    for o in ev.eval(node) {
        let Some(when) = combine(&when, &o.when) else {
            continue;
        };
        match &o.value {
            Value::Text(t) if is_true(doc, t, o.span) => *good += 1,
            Value::Text(t) => out.push(Bad {
                span: o.span,
                what: format!("is `{t}`"),
                label: format!("`{t}` is not true"),
                when,
            }),
            Value::NoValue => out.push(removed(o.span, when)),
            Value::Unknown(_) | Value::Partial(_) => out.push(unknown(
                o.span,
                &o.value.unknown_reason().unwrap_or_default(),
                when,
            )),
        }
    }
    out
}

/// `true` in any quoting and case (CloudFormation converts the string), and the YAML 1.1
/// booleans `yes`/`on` when written plain, as CloudFormation's YAML parser reads them.
fn is_true(doc: &Document, text: &str, span: Span) -> bool {
    if text.eq_ignore_ascii_case("true") {
        return true;
    }
    if !matches!(text, "yes" | "Yes" | "YES" | "on" | "On" | "ON") {
        return false;
    }
    doc.nodes.iter().any(|n| {
        n.span == span
            && n.tag.is_none()
            && matches!(&n.kind, NodeKind::Scalar(s) if s.style == ScalarStyle::Plain)
    })
}

fn report(
    view: &ResourceView,
    rule: &Rule,
    spec: &FlagSpec,
    replica: Option<&str>,
    bad: Vec<Bad>,
) -> Option<Finding> {
    let first = bad.first()?;
    let key = spec.leaf();
    let subject = match replica {
        Some(r) => format!("{key} of {r}"),
        None => key.to_string(),
    };
    let case = |b: &Bad| {
        let when = describe_when(&b.when);
        if when.is_empty() {
            b.what.clone()
        } else {
            format!("{} {when}", b.what)
        }
    };
    let message = if bad.len() == 1 {
        format!("{subject} {}: {}", case(first), spec.consequence)
    } else {
        let cases: Vec<String> = bad.iter().map(case).collect();
        format!(
            "{subject} is not always true: it {}; {}",
            cases.join("; it "),
            spec.consequence
        )
    };
    let label_for = |b: &Bad| {
        let when = describe_when(&b.when);
        if when.is_empty() {
            b.label.clone()
        } else {
            format!("{} {when}", b.label)
        }
    };
    let mut finding = view.finding(rule, first.span, message, label_for(first));
    for other in &bad[1..] {
        if other.span != first.span && !finding.labels.iter().any(|l| l.span == other.span) {
            finding.labels.push(Label {
                span: other.span,
                text: label_for(other),
            });
        }
    }
    let conditional = bad.iter().any(|b| !b.when.is_empty());
    let place = if replica.is_some() {
        "on every replica"
    } else {
        "under `Properties`"
    };
    finding.help = Some(if conditional {
        format!("make every case true, or set `{}` {place}", spec.fix)
    } else {
        format!("set `{}` {place}", spec.fix)
    });
    Some(finding)
}

/// The unsafe fix for a table (not a global table's replicas, whose list may be built by
/// intrinsics): set the property path to `true`, keeping sibling keys of a nested mapping
/// (`RecoveryPeriodInDays`). Unsafe because it changes how the table is operated and
/// billed, and because it overrules a conditional value.
fn fix_table(view: &ResourceView, spec: &FlagSpec) -> Option<Fix> {
    let doc = view.doc();
    let description = format!("set `{}`", spec.fix);
    let nested = |path: &[&str]| {
        path.iter().rev().fold(FixValue::Bool(true), |value, key| {
            FixValue::Map(vec![(key.to_string(), value)])
        })
    };
    let (first, rest) = spec.path.split_first()?;
    let Some(mut entry) = view.property(first) else {
        return crate::fix::build::set_property(
            doc,
            view.resource.node,
            first,
            nested(rest),
            Applicability::Unsafe,
            description,
        );
    };
    // Walk down through plain mappings; replace the first value that is not one.
    let mut map = view.properties()?;
    let mut remaining = rest;
    let mut key = *first;
    while let Some((next, tail)) = remaining.split_first() {
        if doc.call(entry.value).is_some() || doc.map(entry.value).is_none() {
            break;
        }
        map = entry.value;
        key = next;
        match doc.get(map, next) {
            Some(found) => {
                entry = found;
                remaining = tail;
            }
            None => {
                let value = nested(tail);
                let last = *doc.map(map)?.last()?;
                let edit = doc.insert_entry_after(map, last, next, &value)?;
                return Some(Fix {
                    applicability: Applicability::Unsafe,
                    description,
                    edits: vec![edit],
                    changes: vec![Change {
                        map: doc.span(map),
                        key: next.to_string(),
                        value: Some(value),
                    }],
                });
            }
        }
    }
    let value = nested(remaining);
    let edit = doc.replace_value(entry, &value)?;
    Some(Fix {
        applicability: Applicability::Unsafe,
        description,
        edits: vec![edit],
        changes: vec![Change {
            map: doc.span(map),
            key: key.to_string(),
            value: Some(value),
        }],
    })
}

fn describe_when(when: &Assumptions) -> String {
    when.to_string()
}
