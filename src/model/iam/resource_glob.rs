//! A statement's `Resource` values as globs, read from the evaluator's outcomes (one walker
//! for every intrinsic, with its bounds): literals as written, `Ref`/`Fn::GetAtt` of the
//! template's own resources as ARN shapes, pseudo parameters as one ARN field, and [`Part::Any`]
//! wherever a value cannot be known.

use super::statement::ResourceItem;
use super::wildcard::{segments, Glob, Part};
use super::{BACKUP_PLAN_ARN, BACKUP_VAULT_ARN, TABLE_ARN};
use crate::load::NodeId;
use crate::model::eval::{Evaluator, Outcome, Piece, Value};
use crate::model::expand::{self, combine, Branch};
use crate::model::{Template, TABLE_TYPES};

/// The globs of a `Resource`/`NotResource` value. `ev` must keep parts
/// ([`Evaluator::keeping_parts`]), so that `!Sub "${Orders.Arn}/index/*"` keeps its shape.
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
                for o in ev.eval(node) {
                    let Some(g) = glob(template, &o) else {
                        continue;
                    };
                    if let Some(when) = combine(&when, &o.when) {
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
                glob: vec![Part::Any],
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

struct Resolved {
    glob: Glob,
    /// Nothing in the glob stands for an unresolved value.
    exact: bool,
    chosen_by: Option<String>,
}

/// The glob one outcome of a `Resource` value is; `None` when it removes the value.
fn glob(template: &Template, outcome: &Outcome) -> Option<Resolved> {
    let mut out = Resolved {
        glob: Vec::new(),
        exact: true,
        chosen_by: None,
    };
    match &outcome.value {
        Value::NoValue => return None,
        Value::Text(text) => policy_variables(text, &mut out),
        Value::Unknown(_) => {
            out.glob.push(Part::Any);
            out.exact = false;
        }
        Value::Partial(pieces) => {
            // A resource's name or ARN alone is provably no table when it is the whole
            // value; as part of a longer string it can be anything.
            let whole = pieces.len() == 1;
            for piece in pieces {
                match piece {
                    Piece::Lit(text) => policy_variables(text, &mut out),
                    Piece::Unknown { parameter, .. } => {
                        out.glob.push(Part::Any);
                        out.exact = false;
                        if out.chosen_by.is_none() {
                            out.chosen_by.clone_from(parameter);
                        }
                    }
                    Piece::Pseudo(name) => {
                        out.exact = false;
                        out.glob.push(
                            if matches!(
                                name.as_str(),
                                "AWS::Partition" | "AWS::Region" | "AWS::AccountId"
                            ) {
                                Part::AnySegment
                            } else {
                                Part::Any
                            },
                        );
                    }
                    Piece::Ref(name) => {
                        out.exact = false;
                        out.glob.push(reference(template, name, whole));
                    }
                    Piece::Attribute {
                        resource,
                        attribute,
                    } => {
                        out.exact = false;
                        out.glob
                            .extend(attribute_glob(template, resource, attribute, whole));
                    }
                }
            }
        }
    }
    Some(out)
}

/// IAM policy variables (`${aws:username}`) in a resource stand for any value.
fn policy_variables(text: &str, out: &mut Resolved) {
    let mut rest = text;
    while let Some(open) = rest.find("${") {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        if open > 0 {
            out.glob.push(Part::Lit(rest[..open].to_string()));
        }
        out.glob.push(Part::Any);
        out.exact = false;
        rest = &rest[open + close + 1..];
    }
    if !rest.is_empty() {
        out.glob.push(Part::Lit(rest.to_string()));
    }
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
                // Nested stacks by other names: their `Outputs.X` are whatever they output.
                || t == "AWS::Serverless::Application"
                || t == "AWS::ServiceCatalog::CloudFormationProvisionedProduct"
                || t.starts_with("Custom::")
                || t == "AWS::SSM::Parameter"
                || !t.starts_with("AWS::")
        }
    }
}

/// Is the attribute known to be the ARN of a resource outside DynamoDB and AWS Backup? Only
/// a plain `...Arn` attribute (`Arn`, `QueueArn`) of an `AWS::` resource of another service.
/// `Outputs.X` of a nested application or provisioned product, a custom resource's
/// attributes, any dotted attribute, and an attribute of a DynamoDB or Backup resource the
/// model does not type can be anything, a table's ARN included.
fn is_foreign_arn(type_name: Option<&str>, attribute: &str) -> bool {
    let Some(t) = type_name else {
        return false;
    };
    if passes_through(Some(t)) || attribute.contains('.') || !attribute.ends_with("Arn") {
        return false;
    }
    let service = t.split("::").nth(1).unwrap_or_default();
    !matches!(service, "DynamoDB" | "Backup")
}

fn attribute_glob(template: &Template, resource: &str, attribute: &str, whole: bool) -> Glob {
    let Some(type_name) = resource_type(template, resource) else {
        return vec![Part::Any];
    };
    let known = match (type_name.unwrap_or_default(), attribute) {
        (t, "Arn") if TABLE_TYPES.contains(&t) => Some(segments(TABLE_ARN)),
        (t, "StreamArn") if TABLE_TYPES.contains(&t) => {
            let mut arn = segments(TABLE_ARN);
            arn.push(Part::Lit("/stream/".into()));
            arn.push(Part::AnySegment);
            Some(arn)
        }
        ("AWS::Backup::BackupVault", "BackupVaultArn") => Some(segments(BACKUP_VAULT_ARN)),
        ("AWS::Backup::BackupPlan", "BackupPlanArn") => Some(segments(BACKUP_PLAN_ARN)),
        _ => None,
    };
    match known {
        // The ARN of a table in this template: its name is not known, the shape is.
        Some(glob) => glob,
        None if whole && is_foreign_arn(type_name, attribute) => {
            vec![Part::Opaque]
        }
        None => vec![Part::Any],
    }
}

/// `Ref` of a resource of the template: its name or ID.
fn reference(template: &Template, name: &str, whole: bool) -> Part {
    match resource_type(template, name) {
        // As a whole `Resource` it is no ARN.
        Some(t) if whole && !passes_through(t) => Part::Opaque,
        // A table's name, a vault's name: one ARN segment.
        Some(Some(t)) if TABLE_TYPES.contains(&t) || t.starts_with("AWS::Backup::") => {
            Part::AnySegment
        }
        _ => Part::Any,
    }
}
