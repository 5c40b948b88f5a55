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
//! the action acts on (a literal partition such as `arn:aws:`, or the stack's own
//! `arn:${AWS::Partition}:`, counts as every partition: a policy applies only in its own),
//! or `NotResource` values that exclude none of them.
//! A managed policy version that is not the default one does not count. Each copy of a
//! `Fn::ForEach` policy is judged on its own (a copy is a policy of its own), and a
//! shortfall names the copy it is in.
//!
//! A missing or too-narrow guardrail is one error per action. It points at the entry that
//! asks for it (the string in `require_guardrails`, or the `--require-guardrail` value,
//! shown as the file `(command line)`), because the gap is a property of the whole set
//! of files, not of one of them; the message names the closest denies and what each
//! lacks, with their positions: "denies only on `arn:aws:dynamodb:us-west-2:*:table/*`
//! (only in Region `us-west-2`)", "denies only on
//! `arn:${AWS::Partition}:dynamodb:${AWS::Region}:*:table/*` (only in the stack's own Region
//! `${AWS::Region}`)", "condition `aws:RequestedRegion` (`StringEquals`) makes it
//! Region-scoped: it denies only in `us-east-1`", "condition `aws:PrincipalTag/team`
//! (`StringNotEquals`) lets it lapse", "`NotResource` leaves
//! `arn:aws:dynamodb:*:*:table/legacy-*` out". A value that cannot be resolved is shown as
//! written, and the message says why it proves no deny (an IAM policy variable such as
//! `${aws:RequestedRegion}` is known only per request).
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
    self, display_glob, display_named, has_unresolved, DenyCoverage, Guarded, Part, PolicyKind,
    Shortfall, Symbol, DELETE_BACKUP, DELETE_BACKUP_SELECTION, DELETE_RECOVERY_POINT, DELETE_TABLE,
    UPDATE_TABLE,
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
    // `arn:${AWS::Partition}:` is the partition of the stack that makes the policy, which is
    // the policy's own partition.
    let own_partition = match &deny.resources {
        iam::Resources::Resource(items) => items.iter().any(|r| stack_partition_first(&r.glob)),
        _ => false,
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
    if own_partition {
        let allowed: Vec<iam::Glob> = guarded
            .shapes
            .iter()
            .map(|s| {
                let rest = s.strip_prefix("arn:{}").unwrap_or(s);
                vec![
                    Part::Lit("arn:".to_string()),
                    stack_partition(),
                    Part::Lit(rest.replace("{}", "*")),
                ]
            })
            .collect();
        if let DenyCoverage::Covers = iam::deny_coverage(deny, guarded, &allowed, copy, &mut work) {
            best = DenyCoverage::Covers;
        }
    }
    best
}

/// `${AWS::Partition}` as a resource glob holds it.
fn stack_partition() -> Part {
    Part::Same {
        value: Symbol::Pseudo("AWS::Partition".to_string()),
        segment: true,
    }
}

/// Does the glob start `arn:${AWS::Partition}:`?
fn stack_partition_first(glob: &[Part]) -> bool {
    let mut head = String::new();
    for (index, part) in glob.iter().enumerate() {
        match part {
            Part::Lit(text) if head.len() + text.len() <= 4 => head.push_str(text),
            Part::Lit(_) => return false,
            _ => {
                return head == "arn:"
                    && *part == stack_partition()
                    && matches!(glob.get(index + 1), Some(Part::Lit(t)) if t.starts_with(':'));
            }
        }
    }
    false
}

/// What a deny lacks, in words.
fn describe(
    doc: &crate::load::Document,
    statement: crate::load::NodeId,
    why: &Shortfall,
) -> String {
    match why {
        Shortfall::Condition => condition_reason(doc, statement),
        Shortfall::When(when) => {
            format!("it holds only {when}")
        }
        Shortfall::Resources(items) => {
            if items.is_empty() {
                return "its `Resource` names no ARN the action acts on".to_string();
            }
            let named: Vec<String> = items.iter().map(|r| display_named(&r.glob)).collect();
            let shown: Vec<String> = items
                .iter()
                .zip(&named)
                .map(|(r, n)| format!("`{}`", shown_value(doc, r, n)))
                .collect();
            let mut notes = narrowed_fields(&named);
            notes.extend(unresolved_note(doc, items));
            let mut out = format!("denies only on {}", shown.join(", "));
            if !notes.is_empty() {
                out.push_str(&format!(" ({})", notes.join("; ")));
            }
            out
        }
        Shortfall::NotResource(items) => {
            let shown: Vec<String> = items
                .iter()
                .map(|r| format!("`{}`", shown_value(doc, r, &display_named(&r.glob))))
                .collect();
            let mut out = format!("`NotResource` leaves {} out", shown.join(", "));
            if let Some(note) = unresolved_note(doc, items) {
                out.push_str(&format!(" ({note})"));
            }
            out
        }
        Shortfall::MissingResource => "it has neither `Resource` nor `NotResource`".to_string(),
    }
}

/// A resource value as the message shows it: with the stack's own values named
/// (`${AWS::Region}`), and as written when part of it cannot be resolved (`*` would read
/// as "every ARN"), if it is one short line.
fn shown_value(doc: &crate::load::Document, item: &iam::ResourceItem, named: &str) -> String {
    if has_unresolved(&item.glob) {
        if let Some(written) = written(doc, item) {
            return written.to_string();
        }
    }
    named.to_string()
}

/// The source text of a resource value (without the quotes of a quoted string), when it is
/// one line of at most 200 bytes.
fn written<'d>(doc: &'d crate::load::Document, item: &iam::ResourceItem) -> Option<&'d str> {
    let text = doc.text.get(item.span.start..item.span.end)?.trim();
    let text = ['"', '\'']
        .iter()
        .find_map(|q| text.strip_prefix(*q)?.strip_suffix(*q))
        .unwrap_or(text);
    (!text.is_empty() && text.len() <= 200 && !text.contains('\n')).then_some(text)
}

/// Why values with a part that cannot be resolved prove no deny: an IAM policy variable
/// (`${aws:RequestedRegion}`) is known only per request, anything else only at deployment.
fn unresolved_note(doc: &crate::load::Document, items: &[iam::ResourceItem]) -> Option<String> {
    let unresolved: Vec<&iam::ResourceItem> =
        items.iter().filter(|r| has_unresolved(&r.glob)).collect();
    if unresolved.is_empty() {
        return None;
    }
    let mut variables: Vec<&str> = unresolved
        .iter()
        .filter_map(|r| written(doc, r))
        .flat_map(policy_variables)
        .collect();
    variables.sort_unstable();
    variables.dedup();
    Some(if variables.is_empty() {
        "a value that cannot be resolved before deployment proves no deny".to_string()
    } else {
        let listed: Vec<String> = variables.iter().map(|v| format!("`{v}`")).collect();
        format!(
            "the IAM policy variable {} is known only per request, so it proves no deny",
            listed.join(", ")
        )
    })
}

/// The IAM policy variables (`${aws:username}`, `${aws:RequestedRegion}`) in a text: a
/// `${...}` whose name has one `:` (CloudFormation's pseudo parameters have `::`).
fn policy_variables(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("${") {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let variable = &rest[open..open + close + 1];
        let name = variable[2..variable.len() - 1].trim_start_matches('!');
        if name.contains(':') && !name.contains("::") {
            out.push(variable);
        }
        rest = &rest[open + close + 1..];
    }
    out
}

/// The Region condition keys: a `Deny` under one of them holds only in the Regions it
/// lets through.
const REGION_KEYS: &[&str] = &["aws:requestedregion"];

/// What an IAM `Condition` does to a deny: each key and operator, and for a Region key,
/// the Regions the deny is limited to.
fn condition_reason(doc: &crate::load::Document, statement: crate::load::NodeId) -> String {
    let mut lapse: Vec<String> = Vec::new();
    let mut regions: Vec<String> = Vec::new();
    if let Some(condition) = doc.get_value(statement, "Condition") {
        for op in doc.map(condition).unwrap_or_default() {
            for key in doc.map(op.value).unwrap_or_default() {
                let (name, operator) = (doc.key(key), doc.key(op));
                let described = format!("`{name}` (`{operator}`)");
                if REGION_KEYS.contains(&name.to_ascii_lowercase().as_str()) {
                    regions.push(format!(
                        "condition {described} makes it Region-scoped: {}",
                        region_scope(doc, operator, key.value)
                    ));
                } else {
                    lapse.push(described);
                }
            }
        }
    }
    if !lapse.is_empty() {
        regions.push(format!("condition {} lets it lapse", lapse.join(", ")));
    }
    if regions.is_empty() {
        "its IAM `Condition` lets it lapse".to_string()
    } else {
        regions.join("; ")
    }
}

/// Where a deny under a Region condition holds: "it denies only in `us-east-1`", "only
/// outside `us-east-1`", "only in the stack's own Region `${AWS::Region}`".
fn region_scope(doc: &crate::load::Document, operator: &str, value: crate::load::NodeId) -> String {
    let base = operator
        .rsplit(':')
        .next()
        .unwrap_or(operator)
        .trim_end_matches("IfExists");
    let negated = matches!(
        base,
        "StringNotEquals" | "StringNotEqualsIgnoreCase" | "StringNotLike"
    );
    let positive = matches!(
        base,
        "StringEquals" | "StringEqualsIgnoreCase" | "StringLike"
    );
    let nodes: Vec<crate::load::NodeId> = match doc.list(value) {
        Some(items) => items.to_vec(),
        None => vec![value],
    };
    let values: Option<Vec<String>> = nodes
        .iter()
        .map(|n| {
            if let Some(text) = doc.str(*n) {
                return Some(format!("`{text}`"));
            }
            let call = doc.call(*n)?;
            let target = doc
                .str(call.arg)
                .or_else(|| doc.scalar(call.arg).map(|s| &*s.text))?;
            (call.name == "Ref" && target == "AWS::Region")
                .then(|| "the stack's own Region `${AWS::Region}`".to_string())
        })
        .collect();
    match values {
        Some(values) if !values.is_empty() && positive => {
            format!("it denies only in {}", values.join(", "))
        }
        Some(values) if !values.is_empty() && negated => {
            format!("it denies only outside {}", values.join(", "))
        }
        _ => "it denies only in the Regions the condition lets through".to_string(),
    }
}

/// "only in Region `us-west-2`", "only in the stack's own account `${AWS::AccountId}`",
/// for the ARN fields (Region, account) that every written value fixes: to literals, or
/// to a value the stack reads once (`${AWS::Region}`, a parameter).
fn narrowed_fields(written: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for (index, what, own) in [
        (3, "Region", "AWS::Region"),
        (4, "account", "AWS::AccountId"),
    ] {
        let values: Vec<&str> = written
            .iter()
            .filter_map(|w| arn_fields(w).get(index).copied())
            .collect();
        let fixed = |v: &&str| {
            !v.is_empty()
                && match v.strip_prefix("${").and_then(|n| n.strip_suffix('}')) {
                    Some(name) => !name.contains(['{', '}']),
                    None => !v.contains(['*', '?', '$']),
                }
        };
        if values.len() != written.len() || values.is_empty() || !values.iter().all(fixed) {
            continue;
        }
        let mut unique: Vec<&str> = values.clone();
        unique.sort_unstable();
        unique.dedup();
        let mut literal: Vec<String> = Vec::new();
        let mut named: Vec<String> = Vec::new();
        for v in unique {
            match v.strip_prefix("${").and_then(|n| n.strip_suffix('}')) {
                Some(name) if name == own => {
                    named.push(format!("the stack's own {what} `{v}`"));
                }
                Some(_) => named.push(format!("the {what} `{v}` stands for")),
                None => literal.push(format!("`{v}`")),
            }
        }
        let mut parts = Vec::new();
        if !literal.is_empty() {
            parts.push(format!("{what} {}", literal.join(", ")));
        }
        parts.extend(named);
        out.push(format!("only in {}", parts.join(" or ")));
    }
    out
}

/// The `:`-separated fields of an ARN as [`display_named`] shows it, a `${...}` (which may
/// hold `::`) being part of one field.
fn arn_fields(arn: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut depth) = (0, 0usize);
    let bytes = arn.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        match b {
            b'$' if bytes.get(i + 1) == Some(&b'{') => depth += 1,
            b'}' if depth > 0 => depth -= 1,
            b':' if depth == 0 => {
                out.push(&arn[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&arn[start..]);
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

    #[test]
    fn the_stack_s_own_region_and_account_are_named_not_shown_as_wildcards() {
        let w = vec!["arn:${AWS::Partition}:dynamodb:${AWS::Region}:*:table/*".to_string()];
        assert_eq!(
            narrowed_fields(&w),
            vec!["only in the stack's own Region `${AWS::Region}`"]
        );
        let w = vec![
            "arn:aws:dynamodb:us-east-1:${AWS::AccountId}:table/*".to_string(),
            "arn:aws:dynamodb:${Region}:${AWS::AccountId}:table/*".to_string(),
        ];
        assert_eq!(
            narrowed_fields(&w),
            vec![
                "only in Region `us-east-1` or the Region `${Region}` stands for",
                "only in the stack's own account `${AWS::AccountId}`",
            ]
        );
        // A field partly unknown is not "fixed".
        let w = vec!["arn:aws:dynamodb:eu-${X}:*:table/*".to_string()];
        assert!(narrowed_fields(&w).is_empty());
    }

    #[test]
    fn arn_fields_keep_a_pseudo_parameter_whole() {
        assert_eq!(
            arn_fields("arn:${AWS::Partition}:dynamodb:${AWS::Region}:1:table/t"),
            vec![
                "arn",
                "${AWS::Partition}",
                "dynamodb",
                "${AWS::Region}",
                "1",
                "table/t"
            ]
        );
    }

    #[test]
    fn policy_variables_have_one_colon() {
        assert_eq!(
            policy_variables(
                "arn:${AWS::Partition}:dynamodb:${aws:RequestedRegion}:*:table/${!aws:username}"
            ),
            vec!["${aws:RequestedRegion}", "${!aws:username}"]
        );
        assert!(policy_variables("arn:aws:dynamodb:${AWS::Region}:*:table/${Name}").is_empty());
    }

    #[test]
    fn a_partition_written_as_the_stack_s_own_is_recognized() {
        let glob = vec![
            Part::Lit("arn:".into()),
            stack_partition(),
            Part::Lit(":dynamodb:*:*:table/*".into()),
        ];
        assert!(stack_partition_first(&glob));
        let glob = vec![
            Part::Lit("arn:aws:dynamodb:".into()),
            stack_partition(),
            Part::Lit(":*:table/*".into()),
        ];
        assert!(!stack_partition_first(&glob));
    }
}
