//! A statement's `Resource` values as globs: literals, `Ref`/`Fn::GetAtt` of the
//! template's own resources as ARN shapes, `Fn::Sub`/`Fn::Join` concatenated, and `*`
//! wherever a part cannot be resolved.

use super::statement::ResourceItem;
use super::wildcard::{segments, OPAQUE, SEGMENT};
use super::{BACKUP_PLAN_ARN, BACKUP_VAULT_ARN, TABLE_ARN};
use crate::load::NodeId;
use crate::model::eval::{Assumption, Evaluator, Outcome, Value};
use crate::model::expand::{self, combine, Branch};
use crate::model::{Template, TABLE_TYPES};

pub(super) fn resource_items(
    template: &Template,
    ev: &Evaluator,
    node: NodeId,
) -> Vec<ResourceItem> {
    let doc = template.doc;
    let mut out = Vec::new();
    for item in expand::items(ev, doc, node) {
        match item {
            Branch::Node { node, when } => {
                let span = doc.span(node);
                for g in globs(template, ev, node, true, 0) {
                    if let Some(when) = combine(&when, &g.when) {
                        out.push(ResourceItem {
                            glob: g.glob,
                            exact: g.exact,
                            chosen_by: g.chosen_by,
                            span,
                            when,
                        });
                    }
                }
            }
            Branch::Unknown { span, when, .. } => out.push(ResourceItem {
                glob: "*".into(),
                exact: false,
                chosen_by: None,
                span,
                when,
            }),
            Branch::NoValue { .. } => {}
        }
    }
    out
}

struct Glob {
    glob: String,
    exact: bool,
    when: Vec<Assumption>,
    /// The parameter whose unknown value fills part of the glob.
    chosen_by: Option<String>,
}

impl Glob {
    fn new(glob: impl Into<String>, exact: bool) -> Self {
        Glob {
            glob: glob.into(),
            exact,
            when: Vec::new(),
            chosen_by: None,
        }
    }

    fn unknown() -> Self {
        Glob::new("*", false)
    }
}

const MAX_GLOB_DEPTH: usize = 16;

/// The globs a `Resource` value can be. `whole` is true when the value is the entire
/// resource string, where the ARN of a non-DynamoDB resource is provably no table.
fn globs(
    template: &Template,
    ev: &Evaluator,
    node: NodeId,
    whole: bool,
    depth: usize,
) -> Vec<Glob> {
    let doc = template.doc;
    if depth > MAX_GLOB_DEPTH {
        return vec![Glob::unknown()];
    }
    let mut out = Vec::new();
    for branch in expand::branches(ev, doc, node) {
        let (node, when) = match branch {
            Branch::Node { node, when } => (node, when),
            Branch::NoValue { .. } => continue,
            Branch::Unknown { when, .. } => {
                out.push(Glob {
                    when,
                    ..Glob::unknown()
                });
                continue;
            }
        };
        let found = match doc.call(node) {
            None => match doc.str(node) {
                Some(text) => vec![policy_variables(text)],
                None => vec![Glob::unknown()],
            },
            Some(call) => match call.name {
                "Fn::GetAtt" => {
                    let parts: Option<(String, String)> = match doc.seq(call.arg) {
                        Some([r, a]) => doc
                            .str(*r)
                            .zip(doc.str(*a))
                            .map(|(r, a)| (r.to_string(), a.to_string())),
                        Some(_) => None,
                        None => doc
                            .str(call.arg)
                            .or_else(|| doc.scalar(call.arg).map(|s| &*s.text))
                            .and_then(|s| s.split_once('.'))
                            .map(|(r, a)| (r.to_string(), a.to_string())),
                    };
                    match parts {
                        Some((r, a)) => vec![attribute_glob(template, &r, &a, whole)],
                        None => vec![Glob::unknown()],
                    }
                }
                "Ref" => match doc.scalar(call.arg) {
                    Some(s) => ref_globs(template, ev, node, &s.text, whole),
                    None => vec![Glob::unknown()],
                },
                "Fn::Sub" => sub_globs(template, ev, node, call.arg, depth),
                "Fn::Join" => match doc.seq(call.arg) {
                    Some([delimiter, list]) => match (doc.str(*delimiter), doc.seq(*list)) {
                        (Some(delimiter), Some(items)) => {
                            let mut parts = Vec::new();
                            for (i, item) in items.iter().enumerate() {
                                if i > 0 {
                                    parts.push(vec![Glob::new(delimiter, true)]);
                                }
                                parts.push(globs(template, ev, *item, false, depth + 1));
                            }
                            concat(parts)
                        }
                        _ => vec![Glob::unknown()],
                    },
                    _ => vec![Glob::unknown()],
                },
                _ => ev.eval(node).into_iter().map(outcome_glob).collect(),
            },
        };
        for g in found {
            if let Some(w) = combine(&when, &g.when) {
                out.push(Glob { when: w, ..g });
            }
        }
    }
    if out.len() > crate::model::eval::MAX_OUTCOMES {
        return vec![Glob::unknown()];
    }
    out
}

fn outcome_glob(o: Outcome) -> Glob {
    match o.value {
        Value::Text(t) => Glob {
            when: o.when,
            ..policy_variables(&t)
        },
        _ => Glob {
            when: o.when,
            ..Glob::unknown()
        },
    }
}

/// IAM policy variables (`${aws:username}`) in a resource stand for any value.
fn policy_variables(text: &str) -> Glob {
    let mut glob = String::new();
    let mut exact = true;
    let mut rest = text;
    while let Some(open) = rest.find("${") {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        glob.push_str(&rest[..open]);
        glob.push('*');
        exact = false;
        rest = &rest[open + close + 1..];
    }
    glob.push_str(rest);
    Glob::new(glob, exact)
}

fn resource_type<'d>(template: &Template<'d, '_>, name: &str) -> Option<Option<&'d str>> {
    template
        .resources
        .iter()
        .find(|r| r.logical_id == name)
        .map(|r| r.type_name)
}

/// Types whose attributes can be anything, including a table's ARN.
fn passes_through(type_name: Option<&str>) -> bool {
    match type_name {
        None => true,
        Some(t) => {
            t == "AWS::CloudFormation::Stack"
                || t == "AWS::CloudFormation::CustomResource"
                || t.starts_with("Custom::")
                || t == "AWS::SSM::Parameter"
                || !t.starts_with("AWS::")
        }
    }
}

fn attribute_glob(template: &Template, resource: &str, attribute: &str, whole: bool) -> Glob {
    let Some(type_name) = resource_type(template, resource) else {
        return Glob::unknown();
    };
    let known = match (type_name.unwrap_or_default(), attribute) {
        (t, "Arn") if TABLE_TYPES.contains(&t) => Some(segments(TABLE_ARN)),
        (t, "StreamArn") if TABLE_TYPES.contains(&t) => {
            Some(format!("{}/stream/{SEGMENT}", segments(TABLE_ARN)))
        }
        ("AWS::Backup::BackupVault", "BackupVaultArn") => Some(segments(BACKUP_VAULT_ARN)),
        ("AWS::Backup::BackupPlan", "BackupPlanArn") => Some(segments(BACKUP_PLAN_ARN)),
        _ => None,
    };
    match known {
        // The ARN of a table in this template: its name is not known, the shape is.
        Some(glob) => Glob::new(glob, false),
        None if whole && !passes_through(type_name) && attribute.ends_with("Arn") => {
            Glob::new(OPAQUE.to_string(), false)
        }
        None => Glob::unknown(),
    }
}

fn ref_globs(
    template: &Template,
    ev: &Evaluator,
    node: NodeId,
    name: &str,
    whole: bool,
) -> Vec<Glob> {
    match resource_type(template, name) {
        // `Ref` of a resource is its name or ID; as a whole `Resource` it is no ARN.
        Some(t) if whole && !passes_through(t) => vec![Glob::new(OPAQUE.to_string(), false)],
        // A table's name, a vault's name: one ARN segment.
        Some(t)
            if t.is_some_and(|t| TABLE_TYPES.contains(&t) || t.starts_with("AWS::Backup::")) =>
        {
            vec![Glob::new(SEGMENT.to_string(), false)]
        }
        Some(_) => vec![Glob::unknown()],
        None if matches!(name, "AWS::Partition" | "AWS::Region" | "AWS::AccountId") => {
            vec![Glob::new(SEGMENT.to_string(), false)]
        }
        None => {
            let parameter = template.parameter(name).is_some();
            ev.eval_ref(node, name)
                .into_iter()
                .map(|o| {
                    let known = matches!(o.value, Value::Text(_));
                    let mut g = outcome_glob(o);
                    if parameter && !known {
                        g.chosen_by = Some(name.to_string());
                    }
                    g
                })
                .collect()
        }
    }
}

fn sub_globs(
    template: &Template,
    ev: &Evaluator,
    node: NodeId,
    arg: NodeId,
    depth: usize,
) -> Vec<Glob> {
    let doc = template.doc;
    let (text_node, vars) = match doc.seq(arg) {
        Some([t, v]) => (*t, Some(*v)),
        Some(_) => return vec![Glob::unknown()],
        None => (arg, None),
    };
    let Some(text) = doc.scalar(text_node).map(|s| s.text.as_ref()) else {
        return vec![Glob::unknown()];
    };
    let whole = text.trim().starts_with("${")
        && text.trim().ends_with('}')
        && text.matches("${").count() == 1;
    let mut parts: Vec<Vec<Glob>> = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("${") {
        parts.push(vec![Glob::new(&rest[..open], true)]);
        let after = &rest[open + 2..];
        let Some(close) = after.find('}') else {
            parts.push(vec![Glob::new(&rest[open..], true)]);
            rest = "";
            break;
        };
        let name = after[..close].trim();
        if name.starts_with('!') {
            // `${!aws:username}` is the IAM policy variable `${aws:username}`.
            parts.push(vec![Glob::unknown()]);
        } else if let Some(value) = vars.and_then(|v| doc.get_value(v, name)) {
            parts.push(globs(template, ev, value, whole, depth + 1));
        } else if let Some((resource, attribute)) = name.split_once('.') {
            parts.push(vec![attribute_glob(template, resource, attribute, whole)]);
        } else {
            parts.push(ref_globs(template, ev, node, name, whole));
        }
        rest = &after[close + 1..];
    }
    parts.push(vec![Glob::new(rest, true)]);
    concat(parts)
}

/// Every combination of the parts, concatenated; contradictory combinations are dropped.
fn concat(parts: Vec<Vec<Glob>>) -> Vec<Glob> {
    let mut acc = vec![Glob::new("", true)];
    for part in parts {
        let mut next = Vec::new();
        for prefix in &acc {
            for piece in &part {
                if let Some(when) = combine(&prefix.when, &piece.when) {
                    next.push(Glob {
                        glob: format!("{}{}", prefix.glob, piece.glob),
                        exact: prefix.exact && piece.exact,
                        when,
                        chosen_by: prefix.chosen_by.clone().or_else(|| piece.chosen_by.clone()),
                    });
                }
            }
        }
        if next.len() > crate::model::eval::MAX_OUTCOMES {
            return vec![Glob::unknown()];
        }
        acc = next;
    }
    acc
}
