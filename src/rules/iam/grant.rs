//! The check shared by DDB010, DDB011 and DDB012: does an identity policy in the template
//! allow one of the guarded actions on a resource that can be a table or backup ARN, with
//! no `Deny` in the same document taking it back? The IAM semantics live in
//! [`crate::model::iam`].

use crate::finding::{Finding, Label};
use crate::model::eval::short;
use crate::model::iam::{self, Effect, Grant, Guarded, Via};
use crate::model::Evaluator;
use crate::source::Span;

use crate::rules::{Needles, ResourceView, Rule};

pub struct GrantSpec {
    pub guarded: &'static [Guarded],
    /// "a table ARN", "a backup ARN".
    pub target: &'static str,
    /// Report statements whose `Effect` IAM refuses (one rule does, so that an invalid
    /// policy is reported once, not once per IAM rule).
    pub report_invalid: bool,
    /// What the grant undoes.
    pub consequence: &'static str,
    /// How to fix it, beyond the generic advice.
    pub help: &'static str,
}

/// The `needles` of every IAM rule. The rule reads only the documents of the types in
/// [`iam::has_documents`], whose `Type` must be written literally (it cannot be an
/// intrinsic), and a document grants nothing without a `Statement` key: a document that is
/// not a mapping with `Statement` is skipped (see [`iam::documents`] and
/// [`iam::statements`]). Roles, users, groups and SAM functions or state machines hold
/// their documents under `Policies`; the policy types under `PolicyDocument`. Nothing
/// narrower is sound: a policy granting `"*"` or using `NotAction`, or whose action is a
/// parameter, may mention neither DynamoDB nor AWS Backup.
///
/// A policy file ([`crate::model::policy_file`]) has no CloudFormation type: its documents
/// hold `Statement` (also inside a JSON string, where only the quotes are escaped), or
/// are URL-encoded inside `PolicyVersion`/`PolicyVersionList`, whose keys are plain.
///
/// A Serverless service's role statements (`provider.iam.role.statements`,
/// `provider.iamRoleStatements`) hold `statement`; a `provider.iam` written as a variable
/// (`iam: ${file(iam.yml)}`) holds neither, hence `provider` with `iam`.
pub const NEEDLES: Needles = &[
    &["statement"],
    &["provider", "iam"],
    // AWS managed policies named by ARN or (SAM) by name, which need no `Statement`.
    &["managedpolicyarns"],
    &["aws::sso::permissionset", "managedpolicies"],
    &["aws::serverless::", "policies"],
    &["policyversion"],
    &["aws::iam::", "policies", "statement"],
    &["aws::serverless::", "policies", "statement"],
    &["aws::iam::policy", "statement"],
    &["aws::iam::managedpolicy", "statement"],
    &["aws::iam::rolepolicy", "statement"],
    &["aws::iam::userpolicy", "statement"],
    &["aws::iam::grouppolicy", "statement"],
];

pub fn check_grants(view: &ResourceView, rule: &Rule, spec: &GrantSpec) -> Vec<Finding> {
    let reads = |t: &str| iam::has_documents(t) || iam::names_managed_policies(t);
    if !view.resource.type_name.is_some_and(reads) {
        return Vec::new();
    }
    let mut findings: Vec<Finding> = Vec::new();
    // One finding per granting action value, whatever the number of guarded actions,
    // conditions or documents (`Fn::If` branches) that lead to it.
    let mut by_span: Vec<(Span, Vec<Grant>, String)> = Vec::new();
    // A grant that holds only when the policy resource's own `Condition` is false is no
    // grant: the policy does not exist then.
    let ev = Evaluator::for_resource(view.template, view.resource);
    let mut invalid: Vec<Span> = Vec::new();
    let mut position: crate::hash::HashMap<Span, usize> = crate::hash::HashMap::default();
    for (document, statements) in iam::policies(view.template, view.resource).iter() {
        if spec.report_invalid {
            for s in statements {
                if let Effect::Invalid { text, span } = &s.effect {
                    if invalid.contains(span) || !ev.consistent(&s.when) {
                        continue;
                    }
                    invalid.push(*span);
                    findings.push(invalid_effect(view, rule, document, text, *span));
                }
            }
        }
        for guarded in spec.guarded {
            for grant in iam::grants(document, statements, guarded) {
                if !ev.consistent(&grant.when) {
                    continue;
                }
                match position.get(&grant.action_span) {
                    Some(&i) => by_span[i].1.push(grant),
                    None => {
                        position.insert(grant.action_span, by_span.len());
                        let policy = format!(
                            "policy `{}`",
                            document.name.as_deref().unwrap_or(view.resource.logical_id)
                        );
                        by_span.push((grant.action_span, vec![grant], policy));
                    }
                }
            }
        }
    }
    // AWS managed policies the resource names: one finding per named value.
    for grant in iam::managed_grants_of(view.template, view.resource, spec.guarded) {
        if !ev.consistent(&grant.when) {
            continue;
        }
        let id = short(view.resource.logical_id);
        let name = match &grant.via {
            Via::Managed(name) => format!("`{id}` attaches AWS managed policy `{name}`, which"),
            _ => format!("`{id}` attaches a managed policy that cannot be resolved, which"),
        };
        match position.get(&grant.action_span) {
            Some(&i) => by_span[i].1.push(grant),
            None => {
                position.insert(grant.action_span, by_span.len());
                by_span.push((grant.action_span, vec![grant], name));
            }
        }
    }
    for (span, grants, policy) in by_span {
        findings.push(finding(view, rule, spec, span, &grants, &policy));
    }
    findings
}

fn finding(
    view: &ResourceView,
    rule: &Rule,
    spec: &GrantSpec,
    span: Span,
    grants: &[Grant],
    policy: &str,
) -> Finding {
    let mut actions: Vec<&str> = Vec::new();
    for g in grants {
        if !actions.contains(&g.action) {
            actions.push(g.action);
        }
    }
    let listed = actions
        .iter()
        .map(|a| format!("`{a}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let first = &grants[0];
    let verb = match &first.via {
        Via::Unresolved(_) => "may allow",
        _ => "allows",
    };
    let resource = match (&first.resource, &first.chosen_by) {
        (Some(glob), Some(p)) if glob == "*" => {
            format!("a resource chosen by parameter `{}`", short(p))
        }
        (Some(glob), Some(p)) => format!("`{glob}` (chosen by parameter `{}`)", short(p)),
        (Some(glob), None) => format!("`{glob}`"),
        (None, _) => "every resource that `NotResource` does not exclude".to_string(),
    };
    let mut message = format!("{policy} {verb} {listed} on {resource}");
    let when = describe_when(grants);
    if !when.is_empty() {
        message.push(' ');
        message.push_str(&when);
    }
    message.push_str(": ");
    message.push_str(spec.consequence);
    if grants.iter().any(|g| g.deny_unchecked) {
        message.push_str(
            " (a `Deny` of the policy may take it back, but it is too large to compare: it cannot be proven to)",
        );
    }
    let label = match &first.via {
        Via::Pattern(p) => format!("`{p}` matches {}", actions.join(", ")),
        Via::Unresolved(why) => format!(
            "cannot be proven not to match {} ({why})",
            actions.join(", ")
        ),
        Via::Managed(name) => format!("`{name}` allows {}", actions.join(", ")),
        Via::NotAction => format!(
            "NotAction allows every action it does not list, including {}",
            actions.join(", ")
        ),
    };
    let mut f = view.finding(rule, span, message, label);
    let mut resource_spans: Vec<Span> = Vec::new();
    for g in grants {
        if g.resource_span != span && !resource_spans.contains(&g.resource_span) {
            resource_spans.push(g.resource_span);
        }
    }
    for s in resource_spans {
        f.labels.push(Label {
            span: s,
            text: format!("can match {}", spec.target),
        });
    }
    let deny = actions.first().copied().unwrap_or_default();
    if let Via::Managed(name) = &first.via {
        f.help = Some(format!(
            "attach a policy that lists only the actions the principal needs instead of `{name}`; or attach a policy with a statement `{{Effect: Deny, Action: {deny}, Resource: \"*\"}}`"
        ));
        return f;
    }
    f.help = Some(format!(
        "{}; or add a statement `{{Effect: Deny, Action: {deny}, Resource: \"*\"}}` to the same policy",
        spec.help
    ));
    f
}

/// A statement whose `Effect` is neither `Allow` nor `Deny`: IAM compares it
/// case-sensitively and refuses the whole policy, so the deployment fails. Fail closed: the
/// template is reported rather than passed as "grants nothing".
fn invalid_effect(
    view: &ResourceView,
    rule: &Rule,
    document: &iam::PolicyDocument,
    text: &str,
    span: Span,
) -> Finding {
    let policy = document.name.as_deref().unwrap_or(view.resource.logical_id);
    let right = ["Allow", "Deny"]
        .into_iter()
        .find(|e| e.eq_ignore_ascii_case(text.trim()));
    let mut f = view.finding(
        rule,
        span,
        format!(
            "policy `{}` is invalid: `Effect` is `{}`, and IAM accepts only `Allow` or `Deny` (case-sensitive), so it refuses the policy and the deployment fails",
            short(policy),
            short(text)
        ),
        "not `Allow` or `Deny`".to_string(),
    );
    f.help = Some(match right {
        Some(right) => format!("write `Effect: {right}`"),
        None => "write `Effect: Allow` or `Effect: Deny`".to_string(),
    });
    f
}

/// "when condition `IsProd` is true", when every grant depends on some condition (the
/// union of the cases); empty when any grant holds unconditionally.
fn describe_when(grants: &[Grant]) -> String {
    if grants.iter().any(|g| g.when.is_empty()) {
        return String::new();
    }
    let mut cases: Vec<String> = Vec::new();
    for g in grants {
        let case = g.when.to_string();
        if !cases.contains(&case) {
            cases.push(case);
        }
    }
    cases.join(", or ")
}
