//! DDB013 required-guardrail
//!
//! ## What it checks
//! Enabled by naming guardrails in `ddb-guard.toml` (`require_guardrails = [...]`) or with
//! `--require-guardrail NAME` (repeatable): the policy documents of the checked files
//! (policy files, and the identity policies and service control policies of templates)
//! must contain each named guardrail:
//!
//! | name | a `Deny` of | on every ARN of |
//! | --- | --- | --- |
//! | `deny-delete-table` | `dynamodb:DeleteTable` | `table/*` |
//! | `deny-delete-backup` | `dynamodb:DeleteBackup` and `backup:DeleteRecoveryPoint` | `table/*/backup/*`, `recovery-point:*` |
//! | `deny-delete-backup-selection` | `backup:DeleteBackupSelection` | `backup-plan:*` |
//! | `deny-update-table` | `dynamodb:UpdateTable` | `table/*` |
//!
//! Prefix a name with `scp:` (`scp:deny-delete-table`) to accept only a service control
//! policy; without it any policy counts. Each action must be denied by one statement
//! that certainly applies, decided by the same deny-coverage code as DDB010's "a `Deny`
//! takes the grant back": an `Action` (or `NotAction`) that names the action, no IAM
//! `Condition`, no CloudFormation condition, and `Resource` values that cover every ARN
//! the action acts on (a literal partition such as `arn:aws:` counts as every partition:
//! a policy applies only in its own), or `NotResource` values that exclude none of them.
//! A managed policy version that is not the default one does not count. Each copy of a
//! `Fn::ForEach` policy is judged on its own (a copy is a policy of its own), and a
//! shortfall names the copy it is in.
//!
//! A missing or too-narrow guardrail is one error per action. It points at the entry that
//! asks for it (the string in `require_guardrails`, or the `--require-guardrail` value,
//! shown as the file `(command line)`), because the gap is a property of the whole set
//! of files, not of one of them; the message names the closest denies and what each
//! lacks, with their positions: "denies only on `arn:aws:dynamodb:us-west-2:*:table/*`
//! (only in Region `us-west-2`)", "condition `aws:PrincipalTag/team` lets it lapse",
//! "`NotResource` leaves `arn:aws:dynamodb:*:*:table/legacy-*` out".
//!
//! ## Why it matters
//! A guardrail that was deleted, narrowed to one Region, or made conditional no longer
//! protects the tables, and nothing in the templates shows it. Requiring it turns "we
//! have an SCP that denies DeleteTable" into something every pull request proves.
//!
//! ## Example
//! ```json
//! {"Version": "2012-10-17",
//!  "Statement": [{"Effect": "Deny", "Action": "dynamodb:DeleteTable",
//!                 "Resource": "arn:aws:dynamodb:us-west-2:*:table/*"}]}
//! ```
//!
//! ## Use instead
//! ```json
//! {"Version": "2012-10-17",
//!  "Statement": [{"Effect": "Deny", "Action": "dynamodb:DeleteTable",
//!                 "Resource": "arn:aws:dynamodb:*:*:table/*"}]}
//! ```
//!
//! ## Fix safety
//! No automatic fix: a guardrail is an organization's decision.

use std::sync::Arc;

use crate::finding::{Finding, Severity};
use crate::model::iam::{
    self, display_glob, DenyCoverage, Guarded, PolicyKind, Shortfall, DELETE_BACKUP,
    DELETE_BACKUP_SELECTION, DELETE_RECOVERY_POINT, DELETE_TABLE, UPDATE_TABLE,
};
use crate::model::{Evaluator, Template};
use crate::rules::{Check, Rule};
use crate::source::Span;

pub const RULE: Rule = Rule {
    code: "DDB013",
    name: "required-guardrail",
    severity: Severity::Error,
    summary: "The policies must contain each guardrail named in require_guardrails",
    needles: &[
        &["statement"],
        &["policyversion"],
        &["aws::organizations::policy"],
    ],
    default_enabled: false,
    per_table: false,
    check: Check::Run,
    source: include_str!("required_guardrail.rs"),
};

// Nothing per resource: whether a guardrail exists is known only after every file has been
// read, so [`evaluate`] reports this rule from the [`facts`] of each file (`Check::Run`).

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuardrailName {
    DenyDeleteTable,
    DenyDeleteBackup,
    DenyDeleteBackupSelection,
    DenyUpdateTable,
}

impl GuardrailName {
    pub const ALL: &'static [GuardrailName] = &[
        GuardrailName::DenyDeleteTable,
        GuardrailName::DenyDeleteBackup,
        GuardrailName::DenyDeleteBackupSelection,
        GuardrailName::DenyUpdateTable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GuardrailName::DenyDeleteTable => "deny-delete-table",
            GuardrailName::DenyDeleteBackup => "deny-delete-backup",
            GuardrailName::DenyDeleteBackupSelection => "deny-delete-backup-selection",
            GuardrailName::DenyUpdateTable => "deny-update-table",
        }
    }

    /// The actions it must deny, each on every ARN of its shapes.
    pub fn guarded(self) -> &'static [Guarded] {
        match self {
            GuardrailName::DenyDeleteTable => &[DELETE_TABLE],
            GuardrailName::DenyDeleteBackup => &[DELETE_BACKUP, DELETE_RECOVERY_POINT],
            GuardrailName::DenyDeleteBackupSelection => &[DELETE_BACKUP_SELECTION],
            GuardrailName::DenyUpdateTable => &[UPDATE_TABLE],
        }
    }
}

/// Which policies may hold a guardrail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    AnyPolicy,
    ServiceControl,
}

/// One required guardrail and where it was asked for.
#[derive(Clone, Debug)]
pub struct Requirement {
    pub name: GuardrailName,
    pub scope: Scope,
    pub origin: Origin,
}

/// The text that asks for a requirement: the config file (its display path and text) or
/// the command line, and the span of the entry in it.
#[derive(Clone, Debug)]
pub struct Origin {
    pub path: String,
    pub text: Arc<str>,
    pub span: Span,
}

/// `deny-delete-table` or `scp:deny-delete-table`.
pub fn parse(text: &str) -> Result<(GuardrailName, Scope), String> {
    let (scope, name) = match text.strip_prefix("scp:") {
        Some(rest) => (Scope::ServiceControl, rest),
        None => (Scope::AnyPolicy, text),
    };
    GuardrailName::ALL
        .iter()
        .find(|g| g.as_str() == name)
        .map(|g| (*g, scope))
        .ok_or_else(|| {
            let names: Vec<&str> = GuardrailName::ALL.iter().map(|g| g.as_str()).collect();
            format!(
                "unknown guardrail `{text}`: expected one of {} (optionally prefixed with `scp:`)",
                names.join(", ")
            )
        })
}

/// What one file says about one action of one requirement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fact {
    /// Index in the run's requirements.
    pub requirement: usize,
    pub action: &'static str,
    /// `path:line:column` of the statement, and the policy's name.
    pub at: String,
    pub policy: String,
    /// `None`: this statement is the guardrail. Else what it lacks.
    pub lacks: Option<String>,
}

/// The facts of one file's policies about each requirement: every `Deny` statement that
/// names a required action, and whether it is the guardrail.
/// `place` says where a byte offset of the template is (`path:line:column`; a Serverless
/// service's fragments lie past its own text).
pub fn facts(
    template: &Template,
    requirements: &[Requirement],
    place: &dyn Fn(usize) -> String,
) -> Vec<Fact> {
    let mut out = Vec::new();
    if requirements.is_empty() {
        return out;
    }
    let doc = template.doc;
    for resource in &template.resources {
        let Some(type_name) = resource.type_name else {
            continue;
        };
        if !iam::has_documents(type_name)
            || resource.standalone_policy.is_some_and(|s| !s.in_effect)
        {
            continue;
        }
        if type_name == "AWS::Organizations::Policy" && resource.standalone_policy.is_none() {
            let is_scp = doc
                .get_value(resource.node, "Properties")
                .and_then(|p| doc.get_value(p, "Type"))
                .and_then(|t| doc.str(t))
                .is_some_and(|t| t == "SERVICE_CONTROL_POLICY");
            if !is_scp {
                continue;
            }
        }
        // A template resource under a `Condition` may not exist at all.
        let exists_only = doc
            .get_value(resource.node, "Condition")
            .filter(|_| resource.standalone_policy.is_none())
            .and_then(|c| doc.str(c))
            .map(|c| format!("the policy exists only when condition `{c}` is true"));
        let ev = Evaluator::for_resource(template, resource);
        for document in iam::documents(template, resource) {
            let statements = iam::statements(template, resource, &document);
            let policy = document
                .name
                .clone()
                .unwrap_or_else(|| resource.logical_id.to_string());
            for (index, requirement) in requirements.iter().enumerate() {
                for guarded in requirement.name.guarded() {
                    for s in &statements {
                        if !ev.consistent(&s.when) {
                            continue;
                        }
                        // Each copy of a `Fn::ForEach` policy is a policy of its own.
                        let copies = iam::statement_copies(s);
                        for copy in &copies {
                            let coverage = coverage_anywhere(s, guarded, copy);
                            let lacks = match coverage {
                                DenyCoverage::Irrelevant => continue,
                                DenyCoverage::Covers => None,
                                DenyCoverage::Short(why) => Some(describe(doc, s.node, &why)),
                            };
                            let lacks = lacks.or_else(|| exists_only.clone()).or_else(|| {
                                (requirement.scope == Scope::ServiceControl
                                    && document.kind != PolicyKind::ServiceControl)
                                    .then(|| {
                                        "it is an identity policy, and the requirement asks for a service control policy (`scp:`)".to_string()
                                    })
                            });
                            // Which copy, when the loop makes more than one.
                            let lacks = match lacks {
                                Some(l) if !copy.is_empty() => {
                                    Some(format!("in the `Fn::ForEach` copy {copy}, {l}"))
                                }
                                other => other,
                            };
                            out.push(Fact {
                                requirement: index,
                                action: guarded.action,
                                at: place(doc.span(s.node).start),
                                policy: policy.clone(),
                                lacks,
                            });
                        }
                    }
                }
            }
        }
    }
    out
}

/// Does `deny` deny `guarded` on every ARN of its shapes, in every case (of one
/// `Fn::ForEach` copy: `copy` binds its loop items)? A literal
/// partition in the deny's resources stands for the policy's own partition, the only one
/// it can apply in.
fn coverage_anywhere(
    deny: &iam::Statement,
    guarded: &Guarded,
    copy: &[crate::model::eval::Assumption],
) -> DenyCoverage {
    let partitions: Vec<String> = match &deny.resources {
        iam::Resources::Resource(items) => items
            .iter()
            .filter_map(|r| {
                let text = display_glob(&r.glob);
                let p = text.strip_prefix("arn:")?.split(':').next()?.to_string();
                (!p.is_empty() && !p.contains(['*', '?'])).then_some(p)
            })
            .collect(),
        _ => Vec::new(),
    };
    let mut work = iam::MAX_DENY_WORK;
    // Never an empty `allowed`: every glob of nothing is covered.
    let every: Vec<iam::Glob> = guarded.shapes.iter().map(|s| iam::shape_glob(s)).collect();
    let mut best = iam::deny_coverage(deny, guarded, &every, copy, &mut work);
    for p in partitions {
        let allowed: Vec<iam::Glob> = guarded
            .shapes
            .iter()
            .map(|s| iam::shape_glob(&s.replacen("{}", &p, 1)))
            .collect();
        if let DenyCoverage::Covers = iam::deny_coverage(deny, guarded, &allowed, copy, &mut work) {
            best = DenyCoverage::Covers;
        }
    }
    best
}

/// What a deny lacks, in words.
fn describe(
    doc: &crate::load::Document,
    statement: crate::load::NodeId,
    why: &Shortfall,
) -> String {
    match why {
        Shortfall::Condition => {
            let mut keys: Vec<String> = Vec::new();
            if let Some(condition) = doc.get_value(statement, "Condition") {
                for op in doc.map(condition).unwrap_or_default() {
                    for key in doc.map(op.value).unwrap_or_default() {
                        keys.push(format!("`{}` (`{}`)", doc.key(key), doc.key(op)));
                    }
                }
            }
            if keys.is_empty() {
                "its IAM `Condition` lets it lapse".to_string()
            } else {
                format!("condition {} lets it lapse", keys.join(", "))
            }
        }
        Shortfall::When(when) => {
            format!("it holds only {when}")
        }
        Shortfall::Resources(items) => {
            if items.is_empty() {
                return "its `Resource` names no ARN the action acts on".to_string();
            }
            let written: Vec<String> = items.iter().map(|r| display_glob(&r.glob)).collect();
            let mut out = format!(
                "denies only on {}",
                written
                    .iter()
                    .map(|w| format!("`{w}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            if items.iter().any(|r| !r.exact) {
                out.push_str(" (a value that cannot be resolved proves no deny)");
            } else {
                let narrow = narrowed_fields(&written);
                if !narrow.is_empty() {
                    out.push_str(&format!(" ({})", narrow.join(", ")));
                }
            }
            out
        }
        Shortfall::NotResource(items) => {
            let written: Vec<String> = items
                .iter()
                .map(|r| format!("`{}`", display_glob(&r.glob)))
                .collect();
            format!("`NotResource` leaves {} out", written.join(", "))
        }
        Shortfall::MissingResource => "it has neither `Resource` nor `NotResource`".to_string(),
    }
}

/// "only in Region `us-west-2`", "only in account `111122223333`", for the ARN fields
/// that every written value fixes to one literal.
fn narrowed_fields(written: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for (index, what) in [(3, "Region"), (4, "account")] {
        let values: Vec<&str> = written
            .iter()
            .filter_map(|w| w.split(':').nth(index))
            .collect();
        if values.len() == written.len()
            && !values.is_empty()
            && values
                .iter()
                .all(|v| !v.is_empty() && !v.contains(['*', '?']))
        {
            let mut unique: Vec<&str> = values.clone();
            unique.sort_unstable();
            unique.dedup();
            let listed: Vec<String> = unique.iter().map(|v| format!("`{v}`")).collect();
            out.push(format!("only in {what} {}", listed.join(", ")));
        }
    }
    out
}

/// The findings of a run: one per required action that no statement of the right kind
/// denies everywhere, at the requirement's entry, naming the closest denies.
pub fn evaluate(requirements: &[Requirement], facts: &[Fact]) -> Vec<(usize, Finding)> {
    let mut out = Vec::new();
    for (index, requirement) in requirements.iter().enumerate() {
        for guarded in requirement.name.guarded() {
            let relevant: Vec<&Fact> = facts
                .iter()
                .filter(|f| f.requirement == index && f.action == guarded.action)
                .collect();
            if relevant.iter().any(|f| f.lacks.is_none()) {
                continue;
            }
            let kind = match requirement.scope {
                Scope::AnyPolicy => "policy",
                Scope::ServiceControl => "service control policy",
            };
            let mut message = format!(
                "required guardrail `{}` is missing: no {kind} denies `{}` on every {} in every case",
                requirement.name.as_str(),
                guarded.action,
                target(guarded),
            );
            if relevant.is_empty() {
                message.push_str(&format!(
                    " (no {kind} in the checked files denies it at all)"
                ));
            } else {
                let closest: Vec<String> = relevant
                    .iter()
                    .map(|f| {
                        format!(
                            "`{}` ({}) {}",
                            f.policy,
                            f.at,
                            f.lacks.as_deref().unwrap_or_default()
                        )
                    })
                    .collect();
                message.push_str(": ");
                message.push_str(&closest.join("; "));
            }
            let finding = Finding {
                code: RULE.code,
                name: RULE.name,
                severity: RULE.severity,
                resource: requirement.name.as_str().to_string(),
                resource_type: "require_guardrails".to_string(),
                message,
                span: requirement.origin.span,
                label: format!("requires a deny of `{}`", guarded.action),
                labels: Vec::new(),
                help: Some(format!(
                    "add (or widen) a statement `{{\"Effect\": \"Deny\", \"Action\": \"{}\", \"Resource\": \"*\"}}` without a `Condition` to {}",
                    guarded.action,
                    match requirement.scope {
                        Scope::AnyPolicy => "a policy file or a template's policy",
                        Scope::ServiceControl => "a service control policy",
                    }
                )),
                fix: None,
                template: None,
                cdk: None,
            };
            out.push((index, finding));
        }
    }
    out
}

fn target(guarded: &Guarded) -> &'static str {
    match guarded.action {
        "dynamodb:DeleteTable" | "dynamodb:UpdateTable" => "table",
        "dynamodb:DeleteBackup" => "table backup",
        "backup:DeleteRecoveryPoint" => "recovery point",
        _ => "backup plan",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_with_an_optional_scp_scope() {
        assert_eq!(
            parse("deny-delete-table"),
            Ok((GuardrailName::DenyDeleteTable, Scope::AnyPolicy))
        );
        assert_eq!(
            parse("scp:deny-delete-backup"),
            Ok((GuardrailName::DenyDeleteBackup, Scope::ServiceControl))
        );
        assert!(parse("deny-everything")
            .unwrap_err()
            .contains("deny-delete-backup-selection"));
    }

    #[test]
    fn a_field_fixed_in_every_value_is_named() {
        let w = vec!["arn:aws:dynamodb:us-west-2:*:table/*".to_string()];
        assert_eq!(narrowed_fields(&w), vec!["only in Region `us-west-2`"]);
        let w = vec!["arn:aws:dynamodb:*:*:table/*".to_string()];
        assert!(narrowed_fields(&w).is_empty());
    }
}
