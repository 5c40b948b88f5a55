//! The proof shared by DDB001 and DDB002: evaluate a retention attribute to every value it
//! can take and report each case that does not retain the table.

use crate::finding::{Applicability, Change, Finding, Fix, FixValue, Label};
use crate::fix::edit::TextEdits;
use crate::load::{Entry, NodeId};
use crate::model::eval::short;
use crate::model::{Outcome, Value};

use crate::rules::layers::LayerState;
use crate::rules::{ResourceView, Rule};

/// What one retention attribute must be, and what losing it costs.
pub struct PolicySpec {
    pub attribute: &'static str,
    /// Values that retain the table (case-sensitive, as CloudFormation compares them).
    pub retains: &'static [&'static str],
    /// What CloudFormation does to the table when the attribute does not retain it.
    pub consequence: &'static str,
    /// Explains a value that is valid elsewhere but not here (`Snapshot`, ...).
    pub explain: fn(&str) -> Option<&'static str>,
}

pub fn check_policy(view: &ResourceView, rule: &Rule, spec: &PolicySpec) -> Vec<Finding> {
    if !view.resource.is_table() {
        return Vec::new();
    }
    let attr = spec.attribute;
    let Some(entry) = view.attribute(attr) else {
        return vec![missing(view, rule, spec)];
    };
    let bad = failing_outcomes(view, entry.value, spec.retains);
    if bad.is_empty() {
        return Vec::new();
    }
    let cases: Vec<String> = bad.iter().map(|o| describe(o, spec)).collect();
    let message = if cases.len() == 1 {
        format!("{attr} {}: {}", cases[0], spec.consequence)
    } else {
        format!(
            "{attr} does not always retain the table: it {}; {}",
            cases.join("; it "),
            spec.consequence
        )
    };
    // The primary span stays inside the attribute's value (a mapping entry or a parameter
    // elsewhere in the file becomes a secondary label), so the finding sorts and annotates
    // at the table.
    let value_span = view.doc().span(entry.value);
    let inside = |o: &Outcome| o.span.start >= value_span.start && o.span.end <= value_span.end;
    let primary = bad
        .iter()
        .find(|o| inside(o))
        .map_or(value_span, |o| o.span);
    let label = match bad.iter().find(|o| o.span == primary) {
        Some(o) => label_for(o, spec),
        None => label_for(&bad[0], spec),
    };
    let mut finding = view.finding(rule, primary, message, label);
    for other in &bad {
        if other.span != primary && !finding.labels.iter().any(|l| l.span == other.span) {
            finding.labels.push(Label {
                span: other.span,
                text: label_for(other, spec),
            });
        }
    }
    finding.help = Some(help(&bad, spec));
    finding.fix = fix_value(view, spec, entry);
    vec![finding]
}

/// Is the resource attribute `attribute` provably one of `allowed` in every case? A missing
/// attribute or one that cannot be resolved proves nothing. DDB001/DDB002 and the
/// pull-request guard (DDB020-DDB022, which ask this of the base version) share this
/// proof, so they can never disagree about what "retained" means.
pub fn retains(view: &ResourceView, attribute: &str, allowed: &[&str]) -> bool {
    view.attribute(attribute)
        .is_some_and(|entry| failing_outcomes(view, entry.value, allowed).is_empty())
}

/// The same proof as [`check_policy`], as a protection layer for the inventory: proven,
/// retained only in some cases (with the cases where it is not), or not at all.
pub fn policy_state(view: &ResourceView, spec: &PolicySpec) -> LayerState {
    let Some(entry) = view.attribute(spec.attribute) else {
        return LayerState::No;
    };
    let all = view.eval(entry.value).len();
    let bad = failing_outcomes(view, entry.value, spec.retains);
    if bad.is_empty() {
        return LayerState::Proven;
    }
    if bad.len() == all || bad.iter().any(|o| o.when.is_empty()) {
        return LayerState::No;
    }
    let cases: Vec<String> = bad
        .iter()
        .map(|o| format!("{} {}", spec.attribute, describe(o, spec)))
        .collect();
    LayerState::Conditional(cases.join("; "))
}

/// Every value the attribute at `value` can take that is not one of `allowed`.
fn failing_outcomes(view: &ResourceView, value: NodeId, allowed: &[&str]) -> Vec<Outcome> {
    view.eval(value)
        .into_iter()
        .filter(|o| !matches!(&o.value, Value::Text(v) if allowed.contains(&v.as_str())))
        .collect()
}

fn missing(view: &ResourceView, rule: &Rule, spec: &PolicySpec) -> Finding {
    let attr = spec.attribute;
    if let Some(misplaced) = view.property(attr) {
        let mut finding = view.finding(
            rule,
            view.doc().span(misplaced.key),
            format!(
                "{attr} is under `Properties`, where CloudFormation ignores it: {}",
                spec.consequence
            ),
            "resource attribute, not a property".to_string(),
        );
        finding.help = Some(format!(
            "{attr} is a resource attribute, not a property: move it out of `Properties` to the level of `Type`"
        ));
        finding.fix = fix_misplaced(view, spec, misplaced);
        return finding;
    }
    let mut finding = view.finding(
        rule,
        view.key_span(),
        format!(
            "table `{}` has no {attr}: {}",
            view.resource.logical_id, spec.consequence
        ),
        format!("no {attr} on this table"),
    );
    finding.help = Some(format!(
        "add `{attr}: Retain` to the resource, next to `Type`"
    ));
    finding.fix = fix_missing(view, spec);
    finding
}

fn retain() -> FixValue {
    FixValue::Str("Retain".to_string())
}

/// Insert `attr: Retain` right after `Type`: always safe, it only adds protection.
fn fix_missing(view: &ResourceView, spec: &PolicySpec) -> Option<Fix> {
    crate::fix::build::set_attribute(
        view.doc(),
        view.resource.node,
        spec.attribute,
        retain(),
        Applicability::Safe,
        format!("insert `{}: Retain`", spec.attribute),
    )
}

/// Replace the value by `Retain`. Safe for a plain literal (`Delete`, `Snapshot`, `retain`
/// are mistakes or explicit deletes); unsafe for an expression (`Fn::If`, `Ref`,
/// `Fn::FindInMap`), which states an intent per environment that the fix overrules.
fn fix_value(view: &ResourceView, spec: &PolicySpec, entry: Entry) -> Option<Fix> {
    let doc = view.doc();
    let literal = doc.str(entry.value).is_some();
    let edit = doc.replace_value(entry, &retain())?;
    Some(Fix {
        applicability: if literal {
            Applicability::Safe
        } else {
            Applicability::Unsafe
        },
        description: if literal {
            format!("replace the value of `{}` by `Retain`", spec.attribute)
        } else {
            format!(
                "replace the conditional `{}` by an unconditional `Retain`",
                spec.attribute
            )
        },
        edits: vec![edit],
        changes: vec![Change {
            map: doc.span(view.resource.node),
            key: spec.attribute.to_string(),
            value: Some(retain()),
        }],
    })
}

/// Move a policy written under `Properties` to the resource. A retaining literal moves as
/// written; anything else becomes `Retain` (unsafe when it was an expression).
fn fix_misplaced(view: &ResourceView, spec: &PolicySpec, misplaced: Entry) -> Option<Fix> {
    let doc = view.doc();
    let map = view.resource.node;
    let properties = view.attribute("Properties")?;
    let after = view.attribute("Type")?;
    let literal = doc.str(misplaced.value);
    let value = match literal {
        Some(v) if spec.retains.contains(&v) => FixValue::Str(v.to_string()),
        _ => retain(),
    };
    let mut edits = doc.remove_entry(properties, misplaced)?;
    edits.push(doc.insert_entry_after(map, after, spec.attribute, &value)?);
    let FixValue::Str(shown) = &value else {
        return None;
    };
    Some(Fix {
        applicability: if literal.is_some() {
            Applicability::Safe
        } else {
            Applicability::Unsafe
        },
        description: format!(
            "move `{}` out of `Properties` as `{}: {shown}`",
            spec.attribute, spec.attribute
        ),
        edits,
        changes: vec![
            Change {
                map: doc.span(properties.value),
                key: spec.attribute.to_string(),
                value: None,
            },
            Change {
                map: doc.span(map),
                key: spec.attribute.to_string(),
                value: Some(value.clone()),
            },
        ],
    })
}

/// "is `Delete` when condition `IsProd` is false".
fn describe(outcome: &Outcome, spec: &PolicySpec) -> String {
    let what = match &outcome.value {
        Value::Text(v) if v.is_empty() => "is empty".to_string(),
        Value::Text(v) => match (spec.explain)(v) {
            Some(why) => format!("is `{}`, {why}", short(v)),
            None => match spec.retains.iter().find(|r| r.eq_ignore_ascii_case(v)) {
                Some(right) => {
                    format!("is `{v}`, but values are case-sensitive (did you mean `{right}`?)")
                }
                None if v == "Delete" => "is `Delete`".to_string(),
                // serverless.yml: resolved by the framework at deploy time, unknowable here.
                None if v.starts_with("${") => format!(
                    "is the Serverless variable `{}`, which cannot be proven `Retain` before deployment",
                    short(v)
                ),
                None => format!("is `{}`, which is not a valid value", short(v)),
            },
        },
        Value::NoValue => {
            "is removed by `AWS::NoValue`, so CloudFormation falls back to `Delete`".to_string()
        }
        Value::Unknown(_) | Value::Partial(_) => format!(
            "cannot be proven `Retain` ({})",
            outcome.value.unknown_reason().unwrap_or_default()
        ),
    };
    let when = outcome.describe_when();
    if when.is_empty() {
        what
    } else {
        format!("{what} {when}")
    }
}

fn label_for(outcome: &Outcome, spec: &PolicySpec) -> String {
    let when = outcome.describe_when();
    let what = match &outcome.value {
        Value::Text(v) if v.is_empty() => "empty".to_string(),
        Value::Text(v) => format!("`{}` does not retain the table", short(v)),
        Value::NoValue => "removes the attribute: `Delete`".to_string(),
        Value::Unknown(_) | Value::Partial(_) => {
            format!("cannot be proven `{}`", spec.retains[0])
        }
    };
    if when.is_empty() {
        what
    } else {
        format!("{what} {when}")
    }
}

fn help(bad: &[Outcome], spec: &PolicySpec) -> String {
    let attr = spec.attribute;
    let conditional = bad.iter().any(|o| !o.when.is_empty());
    let unknown_param = bad
        .iter()
        .any(|o| matches!(&o.value, Value::Unknown(why) if why.contains("AllowedValues")));
    if unknown_param {
        format!("set `{attr}: Retain`, or give the parameter `AllowedValues: [Retain]`")
    } else if conditional {
        format!("make every case `Retain`, or set `{attr}: Retain` directly")
    } else {
        format!("set `{attr}: Retain`")
    }
}
