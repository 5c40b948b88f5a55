//! AWS managed policies that grant the guarded actions, and the grants a resource receives
//! by naming them (`ManagedPolicyArns` of roles, users and groups; `ManagedPolicies` of
//! an IAM Identity Center permission set; the managed policy names and ARNs in the
//! `Policies` of SAM functions and state machines).
//!
//! The list is the one place that says which AWS managed policies ddb-guard knows. Each
//! entry is the policy's `Allow` statement on `"Resource": "*"` as published in the AWS
//! Managed Policy Reference, <https://docs.aws.amazon.com/aws-managed-policy/latest/reference/policy-list.html>
//! (one page per policy, e.g. `.../reference/AmazonDynamoDBFullAccess.html`):
//!
//! | Policy | Statement that matters |
//! |---|---|
//! | `AdministratorAccess` | `Action: "*"` |
//! | `PowerUserAccess` | `NotAction: [iam:*, organizations:*, account:*]` |
//! | `AmazonDynamoDBFullAccess` | `Action: [dynamodb:*, dax:*, ...]` |
//! | `AmazonDynamoDBFullAccess_v2` | `Action: [dynamodb:*, dax:*]` |
//! | `job-function/DatabaseAdministrator` | `Action: [..., dynamodb:*, ...]` |
//! | `AWSBackupFullAccess` | `Action: backup:*` |
//!
//! An ARN that names another AWS managed policy is not reported (it is outside this
//! list); an ARN that cannot be resolved (a parameter) may name any of them and is
//! reported as a possible grant; a customer managed policy defined in the template
//! (`!Ref MyPolicy`) is checked where it is defined.

use super::grant::{Grant, Via};
use super::wildcard::{action_matches, wildcard_match};
use super::Guarded;
use crate::model::eval::{Evaluator, Piece, Value};
use crate::model::expand::{self, Branch};
use crate::model::{Resource, Template};

/// The actions an AWS managed policy allows on every resource.
#[derive(Clone, Copy, Debug)]
pub enum Allows {
    /// `Action`: these patterns.
    Actions(&'static [&'static str]),
    /// `NotAction`: every action except these patterns.
    AllBut(&'static [&'static str]),
}

impl Allows {
    fn grants(self, action: &str) -> bool {
        match self {
            Allows::Actions(p) => p.iter().any(|p| action_matches(p, action)),
            Allows::AllBut(p) => !p.iter().any(|p| action_matches(p, action)),
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct ManagedPolicy {
    /// The path inside `arn:aws:iam::aws:policy/` (`job-function/` or empty).
    pub path: &'static str,
    pub name: &'static str,
    pub allows: Allows,
}

pub const AWS_MANAGED_POLICIES: &[ManagedPolicy] = &[
    ManagedPolicy {
        path: "",
        name: "AdministratorAccess",
        allows: Allows::Actions(&["*"]),
    },
    ManagedPolicy {
        path: "",
        name: "PowerUserAccess",
        allows: Allows::AllBut(&["iam:*", "organizations:*", "account:*"]),
    },
    ManagedPolicy {
        path: "",
        name: "AmazonDynamoDBFullAccess",
        allows: Allows::Actions(&["dynamodb:*"]),
    },
    ManagedPolicy {
        path: "",
        name: "AmazonDynamoDBFullAccess_v2",
        allows: Allows::Actions(&["dynamodb:*"]),
    },
    ManagedPolicy {
        path: "job-function/",
        name: "DatabaseAdministrator",
        allows: Allows::Actions(&["dynamodb:*"]),
    },
    ManagedPolicy {
        path: "",
        name: "AWSBackupFullAccess",
        allows: Allows::Actions(&["backup:*"]),
    },
];

const PARTITIONS: &[&str] = &["aws", "aws-cn", "aws-us-gov"];

/// The pseudo type of a Serverless service's `provider.iam.role.managedPolicies` list (see
/// `model::provider_managed_policies`): the resource's node is the list itself.
pub const SERVERLESS_MANAGED_POLICIES: &str = "Serverless::Provider::ManagedPolicies";

/// The name of that pseudo resource, which no logical ID can spell (logical IDs are
/// alphanumeric), so that a template declaring the pseudo type is not read as one.
pub const SERVERLESS_MANAGED_POLICIES_ID: &str = "provider.iam.role.managedPolicies";

/// Where a resource type names managed policies, and whether bare names (SAM) count.
fn managed_key(type_name: &str) -> Option<(&'static str, bool)> {
    match type_name {
        SERVERLESS_MANAGED_POLICIES => Some(("", false)),
        "AWS::IAM::Role" | "AWS::IAM::User" | "AWS::IAM::Group" => {
            Some(("ManagedPolicyArns", false))
        }
        "AWS::SSO::PermissionSet" => Some(("ManagedPolicies", false)),
        "AWS::Serverless::Function" | "AWS::Serverless::StateMachine" => Some(("Policies", true)),
        _ => None,
    }
}

/// Does a resource of this type name managed policies?
pub fn names_managed_policies(type_name: &str) -> bool {
    managed_key(type_name).is_some()
}

/// The ARNs (and, for SAM, names) a managed policy of the list is written as.
fn spellings(p: &ManagedPolicy, bare_names: bool) -> Vec<String> {
    let mut out: Vec<String> = PARTITIONS
        .iter()
        .map(|part| format!("arn:{part}:iam::aws:policy/{}{}", p.path, p.name))
        .collect();
    if bare_names {
        out.push(p.name.to_string());
    }
    out
}

/// Every grant of `guarded` that `resource` receives by naming an AWS managed policy of
/// the list, or a managed policy that cannot be resolved.
pub fn managed_grants(template: &Template, resource: &Resource, guarded: &Guarded) -> Vec<Grant> {
    managed_grants_of(template, resource, std::slice::from_ref(guarded))
}

/// [`managed_grants`] of each of `guarded` in turn, concatenated: the list of names is
/// read, evaluated and matched against [`AWS_MANAGED_POLICIES`] once per resource of
/// `template` and shared by every rule that asks (DDB010-DDB012 each ask, see
/// [`named_of`]); only which of the matched policies allow each action is decided here.
pub fn managed_grants_of(
    template: &Template,
    resource: &Resource,
    guarded: &[Guarded],
) -> Vec<Grant> {
    let named = named_of(template, resource);
    let mut out = Vec::new();
    for guarded in guarded {
        for name in named.iter() {
            match name {
                Named::Unknown { span, why, when } => {
                    out.push(unknown(guarded, *span, why.clone(), when.clone()));
                }
                Named::Value {
                    matches,
                    only_pseudo,
                    unknown_reason,
                    span,
                    when,
                } => {
                    // The first policy of the list, in its order, that the value can name
                    // and that allows the action.
                    let Some(p) = matches
                        .iter()
                        .map(|&i| &AWS_MANAGED_POLICIES[i])
                        .find(|p| p.allows.grants(guarded.action))
                    else {
                        continue;
                    };
                    let via = if *only_pseudo {
                        Via::Managed(format!("{}{}", p.path, p.name))
                    } else {
                        Via::Unresolved(unknown_reason.clone())
                    };
                    out.push(Grant {
                        action: guarded.action,
                        via,
                        action_span: *span,
                        resource_span: *span,
                        resource: Some("*".to_string()),
                        chosen_by: None,
                        when: when.clone(),
                        deny_unchecked: false,
                    });
                }
            }
        }
    }
    out
}

/// The values of `resource`'s list of managed policies ([`named_policies`]), computed once
/// per resource of `template` (the template keeps one slot per resource, as it does for
/// [`super::policies`]); a resource that is not an entry of `template` is read afresh.
fn named_of<'a>(template: &'a Template, resource: &Resource) -> std::borrow::Cow<'a, [Named]> {
    let read = || named_policies(template, resource);
    match template
        .position_of(resource)
        .and_then(|i| template.iam_managed.get(i))
    {
        Some(slot) => std::borrow::Cow::Borrowed(slot.get_or_init(read).as_slice()),
        None => std::borrow::Cow::Owned(read()),
    }
}

/// The ARNs of each policy of [`AWS_MANAGED_POLICIES`] (one per partition), then its
/// bare name (which only SAM accepts), built once per run.
fn spellings_of() -> &'static [Vec<String>] {
    static SPELLINGS: std::sync::OnceLock<Vec<Vec<String>>> = std::sync::OnceLock::new();
    SPELLINGS.get_or_init(|| {
        AWS_MANAGED_POLICIES
            .iter()
            .map(|p| spellings(p, true))
            .collect()
    })
}

/// One value of a resource's list of managed policies, evaluated.
#[derive(Clone, Debug)]
pub(crate) enum Named {
    /// It cannot be resolved (or is a Serverless variable): it may name any policy.
    Unknown {
        span: crate::source::Span,
        why: String,
        when: crate::model::Assumptions,
    },
    /// A name or ARN, read as a pattern in which what is not known is `*`.
    Value {
        /// The positions in [`AWS_MANAGED_POLICIES`], in order, of the policies whose
        /// spellings the pattern matches (the bare names only where they count, SAM).
        matches: Vec<usize>,
        /// Only pseudo parameters are unknown in it (`${AWS::Partition}`): it names a
        /// policy of the list, not possibly one.
        only_pseudo: bool,
        unknown_reason: String,
        span: crate::source::Span,
        when: crate::model::Assumptions,
    },
}

/// What [`crate::model::Template`] keeps per resource for [`managed_grants_of`].
pub(crate) type NamedPolicies = Vec<Named>;

/// The positions in [`AWS_MANAGED_POLICIES`], in order, of the policies one of whose
/// spellings `pattern` matches; the bare names count only when `bare_names` (SAM).
fn matching_policies(pattern: &str, bare_names: bool) -> Vec<usize> {
    if !pattern.contains(['*', '?']) {
        // Without wildcards, a pattern matches only a spelling equal to it: one look-up
        // instead of a match against every spelling of every policy (most values are
        // plain ARNs).
        let Some(spelled) = spelling_index().get(pattern) else {
            return Vec::new();
        };
        let mut out: Vec<usize> = spelled
            .iter()
            .filter(|(_, bare)| bare_names || !bare)
            .map(|(i, _)| *i)
            .collect();
        out.dedup();
        return out;
    }
    scan_matching_policies(pattern, bare_names)
}

/// Each spelling of the listed policies: the positions of the policies it spells, in
/// order, and whether it is their bare name.
fn spelling_index() -> &'static std::collections::HashMap<&'static str, Vec<(usize, bool)>> {
    static INDEX: std::sync::OnceLock<std::collections::HashMap<&'static str, Vec<(usize, bool)>>> =
        std::sync::OnceLock::new();
    INDEX.get_or_init(|| {
        let mut index: std::collections::HashMap<&'static str, Vec<(usize, bool)>> =
            std::collections::HashMap::new();
        for (i, spellings) in spellings_of().iter().enumerate() {
            for (k, spelling) in spellings.iter().enumerate() {
                index
                    .entry(spelling.as_str())
                    .or_default()
                    .push((i, k >= PARTITIONS.len()));
            }
        }
        index
    })
}

/// [`matching_policies`] by matching `pattern` against every spelling.
fn scan_matching_policies(pattern: &str, bare_names: bool) -> Vec<usize> {
    AWS_MANAGED_POLICIES
        .iter()
        .zip(spellings_of())
        .enumerate()
        .filter(|(_, (_, spellings))| {
            let spellings = if bare_names {
                &spellings[..]
            } else {
                &spellings[..PARTITIONS.len()]
            };
            spellings.iter().any(|s| wildcard_match(pattern, s, false))
        })
        .map(|(i, _)| i)
        .collect()
}

/// The values of `resource`'s list of managed policies, in order.
fn named_policies(template: &Template, resource: &Resource) -> Vec<Named> {
    let doc = template.doc;
    let Some((key, bare_names)) = resource.type_name.and_then(managed_key) else {
        return Vec::new();
    };
    let serverless = resource.type_name == Some(SERVERLESS_MANAGED_POLICIES);
    let list = if serverless {
        (resource.logical_id == SERVERLESS_MANAGED_POLICIES_ID).then_some(resource.node)
    } else {
        doc.get_value(resource.node, "Properties")
            .and_then(|p| doc.get_value(p, key))
    };
    let Some(list) = list else {
        return Vec::new();
    };
    let ev = Evaluator::for_resource(template, resource).keeping_parts();
    let mut out = Vec::new();
    for item in expand::items(&ev, doc, list) {
        let (node, when) = match item {
            Branch::Node { node, when } => (node, when),
            Branch::NoValue { .. } => continue,
            Branch::Unknown { span, why, when } => {
                out.push(Named::Unknown { span, why, when });
                continue;
            }
        };
        // SAM's policy documents and policy templates are mappings, read elsewhere.
        if doc.map(node).is_some() && doc.call(node).is_none() {
            continue;
        }
        for o in ev.eval(node) {
            let Some(when) = crate::model::expand::combine(&when, &o.when) else {
                continue;
            };
            let pattern = match &o.value {
                // A Serverless variable (`${self:custom.adminPolicy}`) is resolved only at
                // deploy time: it may name any policy.
                Value::Text(t) if serverless && crate::model::serverless::is_variable(t) => {
                    out.push(Named::Unknown {
                        span: o.span,
                        why: format!(
                            "`{t}` is a Serverless variable, resolved only at deploy time"
                        ),
                        when,
                    });
                    continue;
                }
                Value::Text(t) => t.clone(),
                Value::NoValue => continue,
                Value::Unknown(why) => {
                    out.push(Named::Unknown {
                        span: o.span,
                        why: why.clone(),
                        when,
                    });
                    continue;
                }
                Value::Partial(pieces) if pieces.iter().any(|p| matches!(p, Piece::Import(_))) => {
                    let why = pieces.iter().find_map(Piece::reason).unwrap_or_default();
                    out.push(Named::Unknown {
                        span: o.span,
                        why,
                        when,
                    });
                    continue;
                }
                Value::Partial(pieces) => {
                    // A policy of this template is checked where it is defined.
                    if pieces
                        .iter()
                        .any(|p| matches!(p, Piece::Ref(_) | Piece::Attribute { .. }))
                    {
                        continue;
                    }
                    pieces
                        .iter()
                        .map(|p| match p {
                            Piece::Lit(t) => t.as_str(),
                            _ => "*",
                        })
                        .collect()
                }
            };
            let only_pseudo = match &o.value {
                Value::Partial(pieces) => pieces
                    .iter()
                    .all(|p| matches!(p, Piece::Lit(_) | Piece::Pseudo(_))),
                _ => true,
            };
            out.push(Named::Value {
                matches: matching_policies(&pattern, bare_names),
                only_pseudo,
                unknown_reason: if only_pseudo {
                    String::new()
                } else {
                    o.value.unknown_reason().unwrap_or_default()
                },
                span: o.span,
                when,
            });
        }
    }
    out
}

fn unknown(
    guarded: &Guarded,
    span: crate::source::Span,
    why: String,
    when: crate::model::Assumptions,
) -> Grant {
    Grant {
        action: guarded.action,
        via: Via::Unresolved(format!(
            "the managed policy may be any AWS managed policy: {why}"
        )),
        action_span: span,
        resource_span: span,
        resource: Some("*".to_string()),
        chosen_by: None,
        when,
        deny_unchecked: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{self, Format, Limits};
    use crate::model::iam::DELETE_TABLE;

    /// The look-up of a literal value finds what matching it against every spelling
    /// finds: for every spelling of every policy, in the case written and others, cut or
    /// extended, as an ARN or a bare name, with and without bare names counting.
    #[test]
    fn a_literal_value_finds_the_policies_a_scan_finds() {
        let mut values: Vec<String> = Vec::new();
        for spellings in spellings_of() {
            for s in spellings {
                values.push(s.clone());
                values.push(s.to_ascii_lowercase());
                values.push(s.to_ascii_uppercase());
                values.push(s[..s.len() - 1].to_string());
                values.push(format!("{s}x"));
                values.push(format!(" {s}"));
            }
        }
        values.extend(["", "arn:aws:iam::aws:policy/", "AdministratorAccess"].map(String::from));
        let mut found = 0;
        for v in &values {
            for bare_names in [false, true] {
                let looked_up = matching_policies(v, bare_names);
                assert_eq!(
                    looked_up,
                    scan_matching_policies(v, bare_names),
                    "{v} {bare_names}"
                );
                found += usize::from(!looked_up.is_empty());
            }
        }
        assert!(found > AWS_MANAGED_POLICIES.len(), "{found}");
    }

    fn grants_of(kind: &str, key: &str, value: &str) -> Vec<Grant> {
        let text = format!(
            "Parameters:\n  P: {{Type: String}}\nResources:\n  R:\n    Type: {kind}\n    Properties:\n      {key}: [{value}]\n"
        );
        let doc = load::load(&text, Format::Yaml, &Limits::default()).expect("test YAML loads");
        let template = Template::from_document(&doc)
            .expect("valid template")
            .expect("has Resources");
        managed_grants(&template, &template.resources[0], &DELETE_TABLE)
    }

    /// Evaluating the list once for several actions gives what asking for each in turn
    /// gives, in the same order (the rules' messages list grants in that order).
    #[test]
    fn grants_of_several_actions_are_those_of_each_in_turn() {
        use crate::model::iam::{DELETE_BACKUP_VAULT, DELETE_RECOVERY_POINT};
        let guarded = [DELETE_TABLE, DELETE_RECOVERY_POINT, DELETE_BACKUP_VAULT];
        let text = "Parameters:\n  P: {Type: String}\nConditions:\n  C: !Equals [!Ref P, x]\nResources:\n  R:\n    Type: AWS::Serverless::Function\n    Properties:\n      Policies: [AdministratorAccess, AWSBackupFullAccess, !Ref P, !If [C, arn:aws:iam::aws:policy/PowerUserAccess, !Ref AWS::NoValue], {Statement: []}]\n";
        let doc = load::load(text, Format::Yaml, &Limits::default()).expect("test YAML loads");
        let template = Template::from_document(&doc)
            .expect("valid template")
            .expect("has Resources");
        let resource = &template.resources[0];
        let each: Vec<Grant> = guarded
            .iter()
            .flat_map(|g| managed_grants(&template, resource, g))
            .collect();
        let all = managed_grants_of(&template, resource, &guarded);
        assert_eq!(format!("{all:?}"), format!("{each:?}"));
        assert!(all.len() >= 6, "{all:?}");
    }

    #[test]
    fn an_aws_managed_policy_that_allows_the_action_is_a_grant() {
        for arn in [
            "arn:aws:iam::aws:policy/AdministratorAccess",
            "arn:aws:iam::aws:policy/PowerUserAccess",
            "arn:aws-cn:iam::aws:policy/AmazonDynamoDBFullAccess",
            "!Sub 'arn:${AWS::Partition}:iam::aws:policy/job-function/DatabaseAdministrator'",
        ] {
            let g = grants_of("AWS::IAM::Role", "ManagedPolicyArns", arn);
            assert_eq!(g.len(), 1, "{arn}");
            assert!(matches!(g[0].via, Via::Managed(_)), "{arn}");
        }
    }

    #[test]
    fn other_managed_policies_grant_nothing() {
        for arn in [
            "arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess",
            "arn:aws:iam::aws:policy/AWSBackupFullAccess",
            "arn:aws:iam::123456789012:policy/AdministratorAccessLike",
        ] {
            assert!(
                grants_of("AWS::IAM::Role", "ManagedPolicyArns", arn).is_empty(),
                "{arn}"
            );
        }
    }

    #[test]
    fn a_managed_policy_from_a_parameter_may_grant() {
        let g = grants_of("AWS::IAM::Role", "ManagedPolicyArns", "!Ref P");
        assert_eq!(g.len(), 1);
        assert!(matches!(g[0].via, Via::Unresolved(_)));
        let g = grants_of(
            "AWS::IAM::Role",
            "ManagedPolicyArns",
            "!Sub 'arn:aws:iam::aws:policy/${P}'",
        );
        assert_eq!(g.len(), 1);
    }

    #[test]
    fn sam_names_and_permission_sets_count() {
        assert_eq!(
            grants_of(
                "AWS::Serverless::Function",
                "Policies",
                "AmazonDynamoDBFullAccess"
            )
            .len(),
            1
        );
        assert!(grants_of(
            "AWS::Serverless::Function",
            "Policies",
            "{DynamoDBCrudPolicy: {TableName: t}}"
        )
        .is_empty());
        assert_eq!(
            grants_of(
                "AWS::SSO::PermissionSet",
                "ManagedPolicies",
                "arn:aws:iam::aws:policy/AdministratorAccess"
            )
            .len(),
            1
        );
    }
}
