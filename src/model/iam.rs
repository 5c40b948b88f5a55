//! The IAM policy model: which documents a resource carries, their statements (with
//! `Fn::If` and other intrinsics expanded), IAM's wildcard matching, and the question the
//! guardrail rules ask: can this document allow a given action on a table or backup ARN,
//! with no `Deny` in the same document that takes it back?
//!
//! Everything here over-approximates what an `Allow` grants and under-approximates what a
//! `Deny` takes away, so "no grant found" is a proof and a grant is a real possibility:
//! an action that cannot be resolved may be the guarded one, a resource that cannot be
//! resolved may be any ARN, and a `Deny` counts only when it applies in every case where
//! the `Allow` does (no IAM `Condition`, no condition the `Allow` does not share).

use super::eval::{Assumption, Evaluator, Outcome, Value};
use super::expand::{self, combine, Branch};
use super::{Resource, Template, TABLE_TYPES};
use crate::load::{Document, NodeId};
use crate::source::Span;

// ---------------------------------------------------------------------------------------
// Wildcards

/// IAM's wildcard match: `*` matches any run of characters (also `:` and `/`), `?` exactly
/// one. Action names compare ASCII case-insensitively, resource ARNs case-sensitively.
/// Linear in practice: the classic backtrack-to-last-star scan, no recursion.
pub fn wildcard_match(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let same = |a: char, b: char| {
        if ignore_case {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && (p[pi] == '?' || same(p[pi], t[ti])) {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            // Let the last star swallow one more character and retry from there.
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Does the IAM action pattern (`dynamodb:Delete*`, `*`, `DynamoDB:deletetable`) match
/// the action?
pub fn action_matches(pattern: &str, action: &str) -> bool {
    wildcard_match(pattern, action, true)
}

/// Stands for a value that is certainly not part of a DynamoDB or AWS Backup ARN (the ARN
/// of an SQS queue in the template, say). No ARN shape accepts it.
const OPAQUE: char = '\0';

/// Stands for one unknown ARN segment (a table's name, the Region, the account): any run
/// of characters without `:` or `/`. `!GetAtt Orders.Arn` is
/// `arn:SEG:dynamodb:SEG:SEG:table/SEG`, which can be a table ARN but not a backup ARN.
pub const SEGMENT: char = '\u{1}';

/// A glob as people read it, with [`SEGMENT`] shown as `*`.
pub fn display_glob(glob: &str) -> String {
    glob.replace(SEGMENT, "*")
}

/// One token of an ARN shape: a literal byte, or a field (one or more bytes, none of them
/// `:`, `/` or [`OPAQUE`]; a table name cannot hold `/`, a region or account cannot hold
/// `:`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tok {
    Lit(u8),
    Field,
}

/// Shapes are written with `{}` for a field: `arn:{}:dynamodb:{}:{}:table/{}`.
fn tokens(shape: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let bytes = shape.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(b"{}") {
            out.push(Tok::Field);
            i += 2;
        } else {
            out.push(Tok::Lit(bytes[i]));
            i += 1;
        }
    }
    out
}

fn field_accepts(b: u8) -> bool {
    !matches!(b, b':' | b'/' | 0)
}

/// Can some ARN of `shape` be matched by the resource pattern `glob`? Decided exactly, by
/// a search over (pattern position, shape position) pairs: a glob and a shape are both
/// finite automata, and this asks whether their product accepts anything.
pub fn glob_can_match_shape(glob: &str, shape: &str) -> bool {
    let pat = glob.as_bytes();
    let toks = tokens(shape);
    let (n, m) = (pat.len(), toks.len());
    // State: (pattern index, token index, whether the current field has a byte yet).
    let index = |i: usize, k: usize, s: bool| (i * (m + 1) + k) * 2 + usize::from(s);
    let mut seen = vec![false; (n + 1) * (m + 1) * 2];
    let mut stack = vec![(0usize, 0usize, false)];
    // Moves of the shape on one byte: `None` is "any byte" (a wildcard picks one).
    // `Some(b)`: that byte; `None`: any byte (`*`, `?`); `SEG`: any non-separator byte.
    const SEG: Option<u8> = Some(1);
    let step = |k: usize, byte: Option<u8>| -> Option<(usize, bool)> {
        match toks.get(k)? {
            Tok::Lit(x) => {
                let ok = match byte {
                    None => true,
                    SEG => field_accepts(*x),
                    Some(b) => b == *x,
                };
                ok.then_some((k + 1, false))
            }
            Tok::Field => byte
                .is_none_or(|b| b == 1 || field_accepts(b))
                .then_some((k, true)),
        }
    };
    while let Some((i, k, s)) = stack.pop() {
        if std::mem::replace(&mut seen[index(i, k, s)], true) {
            continue;
        }
        if i == n && k == m {
            return true;
        }
        let mut push = |state: (usize, usize, bool)| {
            if !seen[index(state.0, state.1, state.2)] {
                stack.push(state);
            }
        };
        if s && toks.get(k) == Some(&Tok::Field) {
            push((i, k + 1, false));
        }
        let Some(&b) = pat.get(i) else { continue };
        match b {
            b'*' | 1 => {
                push((i + 1, k, s));
                let class = if b == b'*' { None } else { SEG };
                if let Some((k2, s2)) = step(k, class) {
                    push((i, k2, s2));
                }
            }
            b'?' => {
                if let Some((k2, s2)) = step(k, None) {
                    push((i + 1, k2, s2));
                }
            }
            _ => {
                if let Some((k2, s2)) = step(k, Some(b)) {
                    push((i + 1, k2, s2));
                }
            }
        }
    }
    false
}

/// The ARN of a resource of this shape whose fields are not known.
fn segments(shape: &str) -> String {
    shape.replace("{}", &SEGMENT.to_string())
}

/// The glob every ARN of `shape` matches (fields become `*`).
pub fn shape_glob(shape: &str) -> String {
    shape.replace("{}", "*")
}

/// Does the pattern `outer` match every string that `inner` matches? Sound, not complete:
/// `true` is a proof (each `*` of `inner` is swallowed by a `*` of `outer`, each `?` by a
/// `?` or `*`), `false` may be a miss. Used only to let a `Deny` win, so a miss keeps a
/// finding rather than hiding one.
pub fn glob_covers(outer: &str, inner: &str) -> bool {
    let (o, i) = (outer.as_bytes(), inner.as_bytes());
    let (n, m) = (o.len(), i.len());
    let mut seen = vec![false; (n + 1) * (m + 1)];
    let mut stack = vec![(0usize, 0usize)];
    while let Some((a, b)) = stack.pop() {
        if std::mem::replace(&mut seen[a * (m + 1) + b], true) {
            continue;
        }
        if a == n && b == m {
            return true;
        }
        let Some(&oc) = o.get(a) else { continue };
        match (oc, i.get(b)) {
            (b'*', next) => {
                stack.push((a + 1, b));
                if next.is_some() {
                    stack.push((a, b + 1));
                }
            }
            (b'?', Some(&ic)) if ic != b'*' && ic != 1 => stack.push((a + 1, b + 1)),
            (_, Some(&ic)) if oc == ic && !matches!(ic, b'*' | b'?' | 0 | 1) => {
                stack.push((a + 1, b + 1))
            }
            _ => {}
        }
    }
    false
}

// ---------------------------------------------------------------------------------------
// Guarded actions and the ARNs they act on

pub const TABLE_ARN: &str = "arn:{}:dynamodb:{}:{}:table/{}";
pub const TABLE_BACKUP_ARN: &str = "arn:{}:dynamodb:{}:{}:table/{}/backup/{}";
pub const RECOVERY_POINT_ARN: &str = "arn:{}:backup:{}:{}:recovery-point:{}";
pub const BACKUP_VAULT_ARN: &str = "arn:{}:backup:{}:{}:backup-vault:{}";
pub const BACKUP_PLAN_ARN: &str = "arn:{}:backup:{}:{}:backup-plan:{}";

/// An action the guardrail denies, and the ARN shapes IAM authorizes it against (from
/// the Service Authorization Reference).
#[derive(Clone, Copy, Debug)]
pub struct Guarded {
    pub action: &'static str,
    pub shapes: &'static [&'static str],
}

// ---------------------------------------------------------------------------------------
// Documents and statements

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyKind {
    /// Attached to principals: its `Allow` statements grant.
    Identity,
    /// A service control policy (`AWS::Organizations::Policy`): it only filters, so its
    /// `Allow` statements never grant anything.
    ServiceControl,
}

/// One policy document in a resource, as written or as one branch of an `Fn::If`.
#[derive(Clone, Debug)]
pub struct PolicyDocument {
    pub node: NodeId,
    pub kind: PolicyKind,
    /// `PolicyName` (or `ManagedPolicyName`), when it is a literal.
    pub name: Option<String>,
    pub when: Vec<Assumption>,
}

/// The resource types whose documents grant to principals, and where the document is.
/// Public so that a test can pin the IAM rules' prefilter needles to this list.
pub const IDENTITY_DOCUMENTS: &[(&str, Where)] = &[
    ("AWS::IAM::Policy", Where::PolicyDocument),
    ("AWS::IAM::ManagedPolicy", Where::PolicyDocument),
    ("AWS::IAM::RolePolicy", Where::PolicyDocument),
    ("AWS::IAM::UserPolicy", Where::PolicyDocument),
    ("AWS::IAM::GroupPolicy", Where::PolicyDocument),
    ("AWS::IAM::Role", Where::InlinePolicies),
    ("AWS::IAM::User", Where::InlinePolicies),
    ("AWS::IAM::Group", Where::InlinePolicies),
    ("AWS::Serverless::Function", Where::SamPolicies),
    ("AWS::Serverless::StateMachine", Where::SamPolicies),
];

#[derive(Clone, Copy, Debug)]
pub enum Where {
    /// `PolicyDocument`: one document.
    PolicyDocument,
    /// `Policies`: a list of `{PolicyName, PolicyDocument}`.
    InlinePolicies,
    /// SAM's `Policies`: a policy document, or a list of documents, managed policy names and
    /// SAM policy templates (`DynamoDBCrudPolicy: {...}`). Only the documents (mappings
    /// with a `Statement`) are read; SAM's policy templates never grant table deletion.
    SamPolicies,
}

/// Is this a resource type that carries policy documents (identity or SCP)?
pub fn has_documents(type_name: &str) -> bool {
    type_name == "AWS::Organizations::Policy"
        || IDENTITY_DOCUMENTS.iter().any(|(t, _)| *t == type_name)
}

/// Every policy document of `resource`. A document written as a JSON string (which
/// CloudFormation also accepts) is not parsed: rules never re-parse text.
pub fn documents(template: &Template, resource: &Resource) -> Vec<PolicyDocument> {
    let doc = template.doc;
    let ev = Evaluator::new(template, &resource.loops);
    let Some(type_name) = resource.type_name else {
        return Vec::new();
    };
    let Some(props) = doc.get_value(resource.node, "Properties") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut push_document = |node: NodeId, kind, name: Option<String>, when: &[Assumption]| {
        for b in expand::branches(&ev, doc, node) {
            if let Branch::Node { node, when: w } = b {
                if let Some(when) = combine(when, &w) {
                    out.push(PolicyDocument {
                        node,
                        kind,
                        name: name.clone(),
                        when,
                    });
                }
            }
        }
    };
    if type_name == "AWS::Organizations::Policy" {
        if let Some(content) = doc.get_value(props, "Content") {
            push_document(content, PolicyKind::ServiceControl, None, &[]);
        }
        return out;
    }
    match IDENTITY_DOCUMENTS.iter().find(|(t, _)| *t == type_name) {
        Some((_, Where::PolicyDocument)) => {
            if let Some(d) = doc.get_value(props, "PolicyDocument") {
                let name = ["PolicyName", "ManagedPolicyName"]
                    .iter()
                    .find_map(|k| doc.get_value(props, k).and_then(|n| doc.str(n)))
                    .map(str::to_string);
                push_document(d, PolicyKind::Identity, name, &[]);
            }
        }
        Some((_, Where::InlinePolicies)) => {
            let Some(policies) = doc.get_value(props, "Policies") else {
                return out;
            };
            for item in expand::items(&ev, doc, policies) {
                let Branch::Node { node, when } = item else {
                    continue;
                };
                let Some(d) = doc.get_value(node, "PolicyDocument") else {
                    continue;
                };
                let name = doc
                    .get_value(node, "PolicyName")
                    .and_then(|n| doc.str(n))
                    .map(str::to_string);
                push_document(d, PolicyKind::Identity, name, &when);
            }
        }
        Some((_, Where::SamPolicies)) => {
            let Some(policies) = doc.get_value(props, "Policies") else {
                return out;
            };
            for item in expand::items(&ev, doc, policies) {
                let Branch::Node { node, when } = item else {
                    continue;
                };
                if doc.get(node, "Statement").is_some() {
                    push_document(node, PolicyKind::Identity, None, &when);
                }
            }
        }
        None => {}
    }
    out
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
    /// Not resolvable, or not a valid effect: it may be `Allow`, and is never a `Deny`.
    Unknown(String),
}

/// One value in `Action`/`NotAction`: the pattern, or why it cannot be known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionItem {
    pub pattern: Result<String, String>,
    pub span: Span,
    pub when: Vec<Assumption>,
}

#[derive(Clone, Debug)]
pub enum Actions {
    Action(Vec<ActionItem>),
    /// Every action except these; `key` is the span of the `NotAction` key.
    NotAction {
        key: Span,
        items: Vec<ActionItem>,
    },
    /// Neither key: IAM rejects the statement.
    Missing,
}

/// One value in `Resource`/`NotResource`, as an IAM glob in which what could not be
/// resolved is `*`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceItem {
    pub glob: String,
    /// Nothing in `glob` stands for an unresolved value (so it may prove a `Deny`).
    pub exact: bool,
    pub span: Span,
    pub when: Vec<Assumption>,
}

#[derive(Clone, Debug)]
pub enum Resources {
    Resource(Vec<ResourceItem>),
    NotResource { key: Span, items: Vec<ResourceItem> },
    Missing,
}

#[derive(Clone, Debug)]
pub struct Statement {
    pub node: NodeId,
    pub effect: Effect,
    pub actions: Actions,
    pub resources: Resources,
    /// The statement has an IAM `Condition` block: it applies only sometimes.
    pub has_condition: bool,
    /// The CloudFormation conditions under which the statement exists with this effect.
    pub when: Vec<Assumption>,
}

/// The statements of one document: `Statement` may be a list or a single mapping, and
/// statements, their effect, actions and resources may be chosen by `Fn::If`.
pub fn statements(
    template: &Template,
    resource: &Resource,
    document: &PolicyDocument,
) -> Vec<Statement> {
    let doc = template.doc;
    let ev = Evaluator::new(template, &resource.loops);
    let Some(list) = doc.get_value(document.node, "Statement") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in expand::items(&ev, doc, list) {
        let (node, when) = match item {
            Branch::Node { node, when } => (node, when),
            Branch::NoValue { .. } => continue,
            // A statement that cannot be resolved may grant anything.
            Branch::Unknown { span, why, when } => {
                if let Some(when) = combine(&document.when, &when) {
                    out.push(unknown_statement(document.node, span, why, when));
                }
                continue;
            }
        };
        let Some(when) = combine(&document.when, &when) else {
            continue;
        };
        if let Some(call) = doc.call(node) {
            let why = format!("`{}` cannot be resolved to a statement", call.name);
            out.push(unknown_statement(document.node, doc.span(node), why, when));
            continue;
        }
        if doc.map(node).is_none() {
            continue;
        }
        let actions = if let Some(e) = doc.get(node, "Action") {
            Actions::Action(action_items(&ev, doc, e.value))
        } else if let Some(e) = doc.get(node, "NotAction") {
            Actions::NotAction {
                key: doc.span(e.key),
                items: action_items(&ev, doc, e.value),
            }
        } else {
            Actions::Missing
        };
        let resources = if let Some(e) = doc.get(node, "Resource") {
            Resources::Resource(resource_items(template, &ev, e.value))
        } else if let Some(e) = doc.get(node, "NotResource") {
            Resources::NotResource {
                key: doc.span(e.key),
                items: resource_items(template, &ev, e.value),
            }
        } else {
            Resources::Missing
        };
        let has_condition = doc.get(node, "Condition").is_some();
        let effects: Vec<(Effect, Vec<Assumption>)> = match doc.get_value(node, "Effect") {
            None => vec![(Effect::Unknown("no `Effect`".into()), Vec::new())],
            Some(e) => ev
                .eval(e)
                .into_iter()
                .map(|o| {
                    let effect = match &o.value {
                        Value::Text(t) if t == "Allow" => Effect::Allow,
                        Value::Text(t) if t == "Deny" => Effect::Deny,
                        Value::Text(t) => Effect::Unknown(format!("`{t}` is not an effect")),
                        Value::NoValue => Effect::Unknown("`Effect` is removed".into()),
                        Value::Unknown(why) => Effect::Unknown(why.clone()),
                    };
                    (effect, o.when)
                })
                .collect(),
        };
        for (effect, w) in effects {
            if let Some(when) = combine(&when, &w) {
                out.push(Statement {
                    node,
                    effect,
                    actions: actions.clone(),
                    resources: resources.clone(),
                    has_condition,
                    when,
                });
            }
        }
    }
    out
}

fn unknown_statement(node: NodeId, span: Span, why: String, when: Vec<Assumption>) -> Statement {
    Statement {
        node,
        effect: Effect::Unknown(why.clone()),
        actions: Actions::Action(vec![ActionItem {
            pattern: Err(why),
            span,
            when: Vec::new(),
        }]),
        resources: Resources::Resource(vec![ResourceItem {
            glob: "*".into(),
            exact: false,
            span,
            when: Vec::new(),
        }]),
        has_condition: false,
        when,
    }
}

fn action_items(ev: &Evaluator, doc: &Document, node: NodeId) -> Vec<ActionItem> {
    let mut out = Vec::new();
    for item in expand::items(ev, doc, node) {
        match item {
            Branch::Node { node, when } => {
                for o in ev.eval(node) {
                    let Some(when) = combine(&when, &o.when) else {
                        continue;
                    };
                    let pattern = match o.value {
                        Value::Text(t) => Ok(t),
                        Value::NoValue => continue,
                        Value::Unknown(why) => Err(why),
                    };
                    out.push(ActionItem {
                        pattern,
                        span: o.span,
                        when,
                    });
                }
            }
            Branch::Unknown { span, why, when } => out.push(ActionItem {
                pattern: Err(why),
                span,
                when,
            }),
            Branch::NoValue { .. } => {}
        }
    }
    out
}

fn resource_items(template: &Template, ev: &Evaluator, node: NodeId) -> Vec<ResourceItem> {
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
                            span,
                            when,
                        });
                    }
                }
            }
            Branch::Unknown { span, when, .. } => out.push(ResourceItem {
                glob: "*".into(),
                exact: false,
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
}

impl Glob {
    fn new(glob: impl Into<String>, exact: bool) -> Self {
        Glob {
            glob: glob.into(),
            exact,
            when: Vec::new(),
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
    if out.len() > super::eval::MAX_OUTCOMES {
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
        None => ev
            .eval_ref(node, name)
            .into_iter()
            .map(outcome_glob)
            .collect(),
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
                    });
                }
            }
        }
        if next.len() > super::eval::MAX_OUTCOMES {
            return vec![Glob::unknown()];
        }
        acc = next;
    }
    acc
}

// ---------------------------------------------------------------------------------------
// Grants

/// Why a statement's action list grants the guarded action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Via {
    /// An `Action` pattern matches it; the pattern text.
    Pattern(String),
    /// An `Action` value that cannot be resolved; why.
    Unresolved(String),
    /// `NotAction` does not list it.
    NotAction,
}

/// An `Allow` that grants a guarded action on a resource that can be a guarded ARN.
#[derive(Clone, Debug)]
pub struct Grant {
    pub action: &'static str,
    pub via: Via,
    /// The action value (or the `NotAction` key) that grants it.
    pub action_span: Span,
    /// The resource value (or `NotResource` key) that can be a guarded ARN.
    pub resource_span: Span,
    /// Its glob, as people read it; `None` for `NotResource`.
    pub resource: Option<String>,
    pub when: Vec<Assumption>,
}

/// Every grant of `guarded` in one document's statements, except those a `Deny` of the
/// same document takes back. `Allow`s of a service control policy never grant.
pub fn grants(
    document: &PolicyDocument,
    statements: &[Statement],
    guarded: &Guarded,
) -> Vec<Grant> {
    if document.kind == PolicyKind::ServiceControl {
        return Vec::new();
    }
    let mut out = Vec::new();
    for s in statements {
        if s.effect == Effect::Deny {
            continue;
        }
        let Some((resource_span, resource, allowed)) = reachable(&s.resources, guarded) else {
            continue;
        };
        for (via, action_span, item_when) in granting(&s.actions, guarded.action) {
            let Some(when) = combine(&s.when, &item_when) else {
                continue;
            };
            if statements
                .iter()
                .any(|d| denies(d, guarded, &allowed, &when))
            {
                continue;
            }
            out.push(Grant {
                action: guarded.action,
                via,
                action_span,
                resource_span,
                resource: resource.clone(),
                when,
            });
        }
    }
    out
}

/// The first resource value that can be a guarded ARN, and every glob that can (which a
/// `Deny` must cover).
fn reachable(
    resources: &Resources,
    guarded: &Guarded,
) -> Option<(Span, Option<String>, Vec<String>)> {
    match resources {
        Resources::Resource(items) => {
            let hits: Vec<&ResourceItem> = items
                .iter()
                .filter(|r| {
                    guarded
                        .shapes
                        .iter()
                        .any(|s| glob_can_match_shape(&r.glob, s))
                })
                .collect();
            let first = hits.first()?;
            Some((
                first.span,
                Some(display_glob(&first.glob)),
                hits.iter().map(|r| r.glob.clone()).collect(),
            ))
        }
        Resources::NotResource { key, items } => {
            let excluded = |shape: &&str| {
                items.iter().any(|r| {
                    r.exact && r.when.is_empty() && glob_covers(&r.glob, &shape_glob(shape))
                })
            };
            if guarded.shapes.iter().all(excluded) {
                return None;
            }
            let allowed = guarded.shapes.iter().map(|s| shape_glob(s)).collect();
            Some((*key, None, allowed))
        }
        Resources::Missing => None,
    }
}

fn granting(actions: &Actions, action: &str) -> Vec<(Via, Span, Vec<Assumption>)> {
    match actions {
        Actions::Action(items) => items
            .iter()
            .filter_map(|i| match &i.pattern {
                Ok(p) if action_matches(p, action) => {
                    Some((Via::Pattern(p.clone()), i.span, i.when.clone()))
                }
                Ok(_) => None,
                Err(why) => Some((Via::Unresolved(why.clone()), i.span, i.when.clone())),
            })
            .collect(),
        Actions::NotAction { key, items } => {
            let listed = items.iter().any(|i| {
                i.when.is_empty() && i.pattern.as_ref().is_ok_and(|p| action_matches(p, action))
            });
            if listed {
                Vec::new()
            } else {
                vec![(Via::NotAction, *key, Vec::new())]
            }
        }
        Actions::Missing => Vec::new(),
    }
}

/// Does `deny` take back `action` on every glob in `allowed` whenever `when` holds?
fn denies(deny: &Statement, guarded: &Guarded, allowed: &[String], when: &[Assumption]) -> bool {
    if deny.effect != Effect::Deny || deny.has_condition {
        return false;
    }
    let applies = |w: &[Assumption]| w.iter().all(|a| when.contains(a));
    if !applies(&deny.when) {
        return false;
    }
    let action_denied = match &deny.actions {
        Actions::Action(items) => items.iter().any(|i| {
            applies(&i.when)
                && i.pattern
                    .as_ref()
                    .is_ok_and(|p| action_matches(p, guarded.action))
        }),
        Actions::NotAction { items, .. } => items.iter().all(|i| {
            i.pattern
                .as_ref()
                .is_ok_and(|p| !action_matches(p, guarded.action))
        }),
        Actions::Missing => false,
    };
    if !action_denied {
        return false;
    }
    match &deny.resources {
        Resources::Resource(items) => {
            let usable: Vec<&ResourceItem> = items
                .iter()
                .filter(|r| r.exact && applies(&r.when))
                .collect();
            let covers_shapes = guarded
                .shapes
                .iter()
                .all(|s| usable.iter().any(|r| glob_covers(&r.glob, &shape_glob(s))));
            covers_shapes
                || allowed
                    .iter()
                    .all(|a| usable.iter().any(|r| glob_covers(&r.glob, a)))
        }
        Resources::NotResource { items, .. } => items.iter().all(|r| {
            r.exact
                && guarded
                    .shapes
                    .iter()
                    .all(|s| !glob_can_match_shape(&r.glob, s))
        }),
        Resources::Missing => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// An independent reference: the textbook recursion, exponential but obviously right.
    fn reference(p: &[char], t: &[char], ignore_case: bool) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some(('*', rest)) => (0..=t.len()).any(|k| reference(rest, &t[k..], ignore_case)),
            Some(('?', rest)) => !t.is_empty() && reference(rest, &t[1..], ignore_case),
            Some((c, rest)) => {
                t.first().is_some_and(|x| {
                    if ignore_case {
                        x.eq_ignore_ascii_case(c)
                    } else {
                        x == c
                    }
                }) && reference(rest, &t[1..], ignore_case)
            }
        }
    }

    fn reference_str(p: &str, t: &str, ignore_case: bool) -> bool {
        let p: Vec<char> = p.chars().collect();
        let t: Vec<char> = t.chars().collect();
        reference(&p, &t, ignore_case)
    }

    /// Small alphabets make stars and question marks collide with real characters often.
    fn pattern() -> impl Strategy<Value = String> {
        proptest::string::string_regex("[aAbB:*?é]{0,8}").expect("valid regex")
    }

    fn text() -> impl Strategy<Value = String> {
        proptest::string::string_regex("[aAbB:é]{0,10}").expect("valid regex")
    }

    proptest! {
        #[test]
        fn wildcard_match_agrees_with_the_reference(p in pattern(), t in text(), ic in any::<bool>()) {
            prop_assert_eq!(wildcard_match(&p, &t, ic), reference_str(&p, &t, ic));
        }

        #[test]
        fn action_matching_ignores_ascii_case(p in pattern(), t in text()) {
            prop_assert_eq!(action_matches(&p, &t), action_matches(&p.to_ascii_uppercase(), &t.to_ascii_lowercase()));
        }

        /// A pattern always matches the text it was made from by turning characters into
        /// `?` or `*` (or adding a `*` that matches nothing).
        #[test]
        fn wildcards_made_from_a_text_match_it(t in text(), choices in proptest::collection::vec(0u8..4, 10)) {
            let p: String = t
                .chars()
                .zip(choices.iter().cycle())
                .map(|(c, choice)| match choice {
                    0 => c.to_string(),
                    1 => "?".to_string(),
                    2 => "*".to_string(),
                    _ => format!("{c}*"),
                })
                .collect();
            prop_assert!(wildcard_match(&p, &t, false), "{} should match {}", p, t);
        }

        /// `glob_covers` is sound: whatever string `inner` matches, `outer` matches too.
        #[test]
        fn covers_is_sound(outer in "[ab:*?]{0,6}", inner in "[ab:*?]{0,6}", fill in "[ab:]{0,4}") {
            if glob_covers(&outer, &inner) {
                // One concrete string of `inner`: each `*` becomes `fill`, each `?` an `a`.
                let concrete: String = inner
                    .chars()
                    .map(|c| match c { '*' => fill.clone(), '?' => "a".into(), c => c.to_string() })
                    .collect();
                prop_assert!(wildcard_match(&outer, &concrete, false), "{} covers {} but not {}", outer, inner, concrete);
            }
        }

        /// Never a missed table: a glob made from a concrete table ARN (characters turned
        /// into `?`, `*` or an unknown segment) can match the table shape.
        #[test]
        fn shape_match_finds_every_concrete_arn(
            partition in "aws|aws-cn", region in "[a-z]{2}-[a-z]{1,5}-[0-9]", account in "[0-9]{12}",
            name in "[A-Za-z0-9_.-]{3,8}", choices in proptest::collection::vec(0u8..8, 16),
        ) {
            let arn = format!("arn:{partition}:dynamodb:{region}:{account}:table/{name}");
            let glob: String = arn
                .chars()
                .zip(choices.iter().cycle())
                .map(|(c, choice)| match choice {
                    1 => "?".to_string(),
                    2 => "*".to_string(),
                    3 => format!("{c}*"),
                    4 if c != ':' && c != '/' => SEGMENT.to_string(),
                    _ => c.to_string(),
                })
                .collect();
            prop_assert!(glob_can_match_shape(&glob, TABLE_ARN), "{:?} from {}", glob, arn);
            let backup = format!("{arn}/backup/01700000000000-abcdef12");
            prop_assert!(glob_can_match_shape(&format!("{glob}/backup/*"), TABLE_BACKUP_ARN), "{}", backup);
        }
    }

    #[test]
    fn action_wildcards_follow_iam() {
        assert!(action_matches("*", "dynamodb:DeleteTable"));
        assert!(action_matches("dynamodb:*", "dynamodb:DeleteTable"));
        assert!(action_matches("DynamoDB:delete*", "dynamodb:DeleteTable"));
        assert!(action_matches(
            "dynamodb:Delete?able",
            "dynamodb:DeleteTable"
        ));
        assert!(!action_matches("dynamodb:Delete?", "dynamodb:DeleteTable"));
        assert!(!action_matches(
            "dynamodb:DeleteItem",
            "dynamodb:DeleteTable"
        ));
        assert!(!action_matches(
            "dynamodb:Describe*",
            "dynamodb:DeleteTable"
        ));
        assert!(action_matches("*:*", "dynamodb:DeleteTable"));
    }

    #[test]
    fn table_arn_shapes() {
        assert!(glob_can_match_shape("*", TABLE_ARN));
        assert!(glob_can_match_shape(
            "arn:aws:dynamodb:*:*:table/*",
            TABLE_ARN
        ));
        assert!(glob_can_match_shape(
            "arn:aws:dynamodb:us-east-1:123456789012:table/Orders",
            TABLE_ARN
        ));
        assert!(glob_can_match_shape("arn:*:dynamodb:*:*:*", TABLE_ARN));
        // A stream or index ARN is not the table: names cannot hold `/`.
        assert!(!glob_can_match_shape(
            "arn:aws:dynamodb:*:*:table/Orders/stream/*",
            TABLE_ARN
        ));
        assert!(!glob_can_match_shape(
            "arn:aws:dynamodb:*:*:table/Orders/index/*",
            TABLE_ARN
        ));
        assert!(glob_can_match_shape(
            "arn:aws:dynamodb:*:*:table/Orders/backup/*",
            TABLE_BACKUP_ARN
        ));
        assert!(!glob_can_match_shape("arn:aws:s3:::bucket/*", TABLE_ARN));
        assert!(!glob_can_match_shape(
            "arn:aws:dynamodb:*:*:table/",
            TABLE_ARN
        ));
        assert!(!glob_can_match_shape("\0", TABLE_ARN));
        assert!(!glob_can_match_shape("Orders", TABLE_ARN));
        // `!GetAtt Orders.Arn`: a table, never one of its backups.
        let table = segments(TABLE_ARN);
        assert!(glob_can_match_shape(&table, TABLE_ARN));
        assert!(!glob_can_match_shape(&table, TABLE_BACKUP_ARN));
        assert!(glob_can_match_shape(
            &format!("{table}/backup/*"),
            TABLE_BACKUP_ARN
        ));
        assert_eq!(display_glob(&table), "arn:*:dynamodb:*:*:table/*");
    }

    #[test]
    fn coverage_is_literal_or_through_stars() {
        assert!(glob_covers("*", "arn:*:dynamodb:*:*:table/*"));
        assert!(glob_covers(
            "arn:*:dynamodb:*",
            "arn:*:dynamodb:*:*:table/*"
        ));
        assert!(glob_covers(
            "arn:*:dynamodb:*:*:table/Orders",
            "arn:aws:dynamodb:us-east-1:1:table/Orders"
        ));
        assert!(!glob_covers(
            "arn:aws:dynamodb:*:*:table/*",
            "arn:*:dynamodb:*:*:table/*"
        ));
        assert!(!glob_covers(
            "arn:*:dynamodb:*:*:table/Orders",
            "arn:*:dynamodb:*:*:table/*"
        ));
    }
}
