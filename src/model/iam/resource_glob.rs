//! A statement's `Resource` values as globs, read from the evaluator's outcomes (one walker
//! for every intrinsic, with its bounds): literals as written, `Ref`/`Fn::GetAtt` of the
//! template's own resources as ARN shapes, and every value one stack reads once (a pseudo
//! parameter, a parameter, a resource's name or attribute, an import) as a [`Part::Same`]
//! that only `*` or the same value covers; [`Part::Any`] wherever a value cannot be known.

use super::statement::ResourceItem;
use super::wildcard::{Glob, Part, Symbol};
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
                        out.exact = false;
                        out.glob.push(match parameter {
                            Some(name) if single_valued(template, name) => Part::Same {
                                value: Symbol::Parameter(name.clone()),
                                segment: false,
                            },
                            _ => Part::Any,
                        });
                        if out.chosen_by.is_none() {
                            out.chosen_by.clone_from(parameter);
                        }
                    }
                    Piece::Pseudo(name) => {
                        out.exact = false;
                        out.glob.push(pseudo(name));
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
                    Piece::Import(name) => {
                        out.exact = false;
                        out.glob.push(Part::Same {
                            value: Symbol::Import(name.clone()),
                            segment: false,
                        });
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

/// A pseudo parameter: the stack's own value. The partition, Region and account are one
/// ARN field each.
fn pseudo(name: &str) -> Part {
    Part::Same {
        value: Symbol::Pseudo(name.to_string()),
        segment: matches!(name, "AWS::Partition" | "AWS::Region" | "AWS::AccountId"),
    }
}

/// Whether `Ref` of the parameter is one string everywhere it is read (a list parameter
/// joined or selected is another value than the list): only then do two reads of it
/// compare equal.
fn single_valued(template: &Template, name: &str) -> bool {
    let doc = template.doc;
    let Some(param) = template.parameter(name) else {
        return false;
    };
    match doc.get_value(param, "Type").and_then(|t| doc.str(t)) {
        Some(t) => {
            let t = t.trim();
            !(t.contains("List<") || t.contains("CommaDelimitedList"))
        }
        None => false,
    }
}

/// The ARN of a resource of this template that lives in the stack's own partition, Region
/// and account, `name` being its last field: `!GetAtt Orders.Arn` is
/// `arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${Orders}`, the
/// same value written either way.
fn own_arn(shape: &str, name: Symbol) -> Glob {
    let fields = [
        pseudo("AWS::Partition"),
        pseudo("AWS::Region"),
        pseudo("AWS::AccountId"),
        Part::Same {
            value: name,
            segment: true,
        },
    ];
    let mut out = Vec::new();
    let mut rest = shape;
    let mut fields = fields.into_iter();
    while let Some(at) = rest.find("{}") {
        if at > 0 {
            out.push(Part::Lit(rest[..at].to_string()));
        }
        out.push(fields.next().unwrap_or(Part::AnySegment));
        rest = &rest[at + 2..];
    }
    if !rest.is_empty() {
        out.push(Part::Lit(rest.to_string()));
    }
    out
}

fn resource_type<'d>(template: &Template<'d, '_>, name: &str) -> Option<Option<&'d str>> {
    // By the template's index: a scan here (once per resource item) made a policy with n
    // statements naming n resources quadratic.
    template.resource(name).map(|r| r.type_name)
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
/// the resource's own ARN, `Arn` or `<Type>Arn` (`TopicArn` of an `AWS::SNS::Topic`), of an
/// `AWS::` resource of another service. Any other attribute may be another resource's ARN
/// (`AWS::Kinesis::StreamConsumer`'s `StreamARN`, a `TableArn` of a type the model does not
/// know), and `Outputs.X` of a nested application or provisioned product, a custom
/// resource's attributes, any dotted attribute, and an attribute of a DynamoDB or Backup
/// resource the model does not type can be anything, a table's ARN included.
fn is_foreign_arn(type_name: Option<&str>, attribute: &str) -> bool {
    let Some(t) = type_name else {
        return false;
    };
    if passes_through(Some(t)) {
        return false;
    }
    let mut parts = t.split("::");
    let (service, kind) = (parts.nth(1).unwrap_or_default(), parts.last());
    let own = attribute == "Arn"
        || kind.is_some_and(|k| {
            attribute
                .strip_suffix("Arn")
                .is_some_and(|prefix| !prefix.is_empty() && prefix == k)
        });
    own && !matches!(service, "DynamoDB" | "Backup")
}

fn attribute_glob(template: &Template, resource: &str, attribute: &str, whole: bool) -> Glob {
    let Some(type_name) = resource_type(template, resource) else {
        return vec![Part::Any];
    };
    let name = || Symbol::Ref(resource.to_string());
    let known = match (type_name.unwrap_or_default(), attribute) {
        // `Ref` of a table is its name, of a vault its name (CloudFormation's return
        // values), and its ARN ends with that name.
        (t, "Arn") if TABLE_TYPES.contains(&t) => Some(own_arn(TABLE_ARN, name())),
        (t, "StreamArn") if TABLE_TYPES.contains(&t) => {
            let mut arn = own_arn(TABLE_ARN, name());
            arn.push(Part::Lit("/stream/".into()));
            arn.push(Part::Same {
                value: Symbol::Attribute(resource.to_string(), attribute.to_string()),
                segment: true,
            });
            Some(arn)
        }
        ("AWS::Backup::BackupVault", "BackupVaultArn") => Some(own_arn(BACKUP_VAULT_ARN, name())),
        ("AWS::Backup::BackupPlan", "BackupPlanArn") => Some(own_arn(
            BACKUP_PLAN_ARN,
            Symbol::Attribute(resource.to_string(), attribute.to_string()),
        )),
        _ => None,
    };
    match known {
        // The ARN of a resource in this template: its name is not known, the shape is.
        Some(glob) => glob,
        None if whole && is_foreign_arn(type_name, attribute) => {
            vec![Part::Opaque]
        }
        None => vec![Part::Same {
            value: Symbol::Attribute(resource.to_string(), attribute.to_string()),
            segment: false,
        }],
    }
}

/// `Ref` of a resource of the template: its name or ID.
fn reference(template: &Template, name: &str, whole: bool) -> Part {
    let same = |segment| Part::Same {
        value: Symbol::Ref(name.to_string()),
        segment,
    };
    match resource_type(template, name) {
        // As a whole `Resource` it is no ARN.
        Some(t) if whole && !passes_through(t) => Part::Opaque,
        // A table's name, a vault's name: one ARN segment.
        Some(Some(t)) if TABLE_TYPES.contains(&t) || t.starts_with("AWS::Backup::") => same(true),
        _ => same(false),
    }
}
