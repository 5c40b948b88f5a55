//! The policy documents a resource carries (identity policies, SAM inline documents,
//! service control policies) and their statements, with `Fn::If` and other intrinsics
//! expanded into branches under assumptions.

use super::resource_glob::resource_items;
use super::wildcard::{Glob, Part};
use crate::load::{Document, NodeId};
use crate::model::eval::{Assumption, Assumptions, Evaluator, Piece, Value};
use crate::model::expand::{self, combine, Branch};
use crate::model::{Layout, Resource, Template};
use crate::source::Span;

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
    pub when: Assumptions,
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
    ("AWS::SSO::PermissionSet", Where::InlinePolicy),
    ("AWS::DynamoDB::Table", Where::ResourcePolicy),
    ("AWS::DynamoDB::GlobalTable", Where::ReplicaResourcePolicies),
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
    /// `InlinePolicy` of an IAM Identity Center permission set: one document.
    InlinePolicy,
    /// A table's resource-based policy, `ResourcePolicy.PolicyDocument`: its `Allow`
    /// statements grant to the principals they name.
    ResourcePolicy,
    /// A global table's `Replicas[].ResourcePolicy.PolicyDocument`.
    ReplicaResourcePolicies,
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
    let ev = Evaluator::for_resource(template, resource);
    let Some(type_name) = resource.type_name else {
        return Vec::new();
    };
    if resource.standalone_policy.is_some() {
        let kind = if type_name == "AWS::Organizations::Policy" {
            PolicyKind::ServiceControl
        } else {
            PolicyKind::Identity
        };
        return vec![PolicyDocument {
            node: resource.node,
            kind,
            name: Some(resource.logical_id.to_string()),
            when: Assumptions::none(),
        }];
    }
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
        Some((_, Where::InlinePolicy)) => {
            if let Some(d) = doc.get_value(props, "InlinePolicy") {
                let name = doc
                    .get_value(props, "Name")
                    .and_then(|n| doc.str(n))
                    .map(str::to_string);
                push_document(d, PolicyKind::Identity, name, &[]);
            }
        }
        Some((_, Where::ResourcePolicy)) => {
            if let Some(d) = doc
                .get_value(props, "ResourcePolicy")
                .and_then(|r| doc.get_value(r, "PolicyDocument"))
            {
                let name = format!("{} (resource policy)", resource.logical_id);
                push_document(d, PolicyKind::Identity, Some(name), &[]);
            }
        }
        Some((_, Where::ReplicaResourcePolicies)) => {
            let Some(replicas) = doc.get_value(props, "Replicas") else {
                return out;
            };
            for item in expand::items(&ev, doc, replicas) {
                let Branch::Node { node, when } = item else {
                    continue;
                };
                let Some(d) = doc
                    .get_value(node, "ResourcePolicy")
                    .and_then(|r| doc.get_value(r, "PolicyDocument"))
                else {
                    continue;
                };
                let region = doc
                    .get_value(node, "Region")
                    .and_then(|n| doc.str(n))
                    .unwrap_or("a replica");
                let name = format!("{} (resource policy in {region})", resource.logical_id);
                push_document(d, PolicyKind::Identity, Some(name), &when);
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
    /// Not resolvable: it may be `Allow`, and is never a `Deny`.
    Unknown(String),
    /// Known, and neither `Allow` nor `Deny` (IAM compares case-sensitively): IAM refuses
    /// the policy, so the statement never allows anything.
    Invalid {
        text: String,
        span: Span,
    },
}

/// One value in `Action`/`NotAction`: the pattern, or why it cannot be known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionItem {
    /// The pattern, or why it cannot be known (an unknown pattern never proves a `Deny`).
    pub pattern: Result<String, String>,
    /// A pattern every action this value can stand for matches: the pattern itself, `*`
    /// for a value that cannot be known, or the known parts with `*` for each unknown
    /// one (`elasticloadbalancing:${Action}` is `elasticloadbalancing:*`, which never
    /// matches a `dynamodb:` action).
    pub can_match: String,
    pub span: Span,
    pub when: Assumptions,
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
    pub glob: Glob,
    /// Nothing in `glob` stands for an unresolved value (so it may prove a `Deny`).
    pub exact: bool,
    /// The parameter whose value (unknown before deployment) fills part of the glob, so a
    /// message can say "a resource chosen by parameter `X`" instead of showing `*`.
    pub chosen_by: Option<String>,
    pub span: Span,
    pub when: Assumptions,
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
    pub when: Assumptions,
}

/// A resource's policy documents, each with its statements ([`documents`], [`statements`]).
pub type Policies = Vec<(PolicyDocument, Vec<Statement>)>;

/// Every policy document of `resource` with its statements: [`documents`] and
/// [`statements`] of each, computed once per resource of `template` and shared by every
/// rule that asks (the three IAM rules read the same documents).
pub fn policies<'a>(
    template: &'a Template,
    resource: &Resource,
) -> std::borrow::Cow<'a, [(PolicyDocument, Vec<Statement>)]> {
    let read = || -> Policies {
        documents(template, resource)
            .into_iter()
            .map(|document| {
                let statements = statements(template, resource, &document);
                (document, statements)
            })
            .collect()
    };
    match template
        .position_of(resource)
        .and_then(|i| template.iam_policies.get(i))
    {
        Some(slot) => std::borrow::Cow::Borrowed(slot.get_or_init(read).as_slice()),
        None => std::borrow::Cow::Owned(read()),
    }
}

/// The statements of one document: `Statement` may be a list or a single mapping, and
/// statements, their effect, actions and resources may be chosen by `Fn::If`.
pub fn statements(
    template: &Template,
    resource: &Resource,
    document: &PolicyDocument,
) -> Vec<Statement> {
    let doc = template.doc;
    let ev = Evaluator::for_resource(template, resource);
    let parts_ev = Evaluator::for_resource(template, resource).keeping_parts();
    let bare = resource
        .standalone_policy
        .is_some_and(|s| s.bare_statements);
    let list = if bare {
        Some(document.node)
    } else {
        doc.get_value(document.node, "Statement")
    };
    let Some(list) = list else {
        return Vec::new();
    };
    let mut out = Vec::new();
    // A Serverless variable (`${file(iam.yml)}`) in place of the statement list or of one
    // statement is resolved at deploy time: it may grant anything.
    let variable = |node: NodeId| {
        doc.str(node)
            .filter(|t| bare && t.trim().starts_with("${") && t.trim().ends_with('}'))
            .map(|t| {
                format!("the Serverless variable `{}` is resolved only at deploy time, so its statements cannot be checked", t.trim())
            })
    };
    if let Some(why) = variable(list) {
        out.push(unknown_statement(
            document.node,
            doc.span(list),
            why,
            document.when.clone(),
        ));
        return out;
    }
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
        if let Some(why) = variable(node) {
            out.push(unknown_statement(document.node, doc.span(node), why, when));
            continue;
        }
        if let Some(call) = doc.call(node) {
            let why = format!("`{}` cannot be resolved to a statement", call.name);
            out.push(unknown_statement(document.node, doc.span(node), why, when));
            continue;
        }
        if doc.map(node).is_none() {
            continue;
        }
        let items = |v: NodeId| {
            let items = action_items(&parts_ev, doc, v);
            // In a Serverless file every string may hold a `${...}` variable, in provider
            // statements and in `resources` policies alike.
            if bare || template.layout == Layout::Serverless {
                items.into_iter().map(serverless_action).collect()
            } else {
                items
            }
        };
        let mut actions = if let Some(e) = doc.get(node, "Action") {
            Actions::Action(items(e.value))
        } else if let Some(e) = doc.get(node, "NotAction") {
            Actions::NotAction {
                key: doc.span(e.key),
                items: items(e.value),
            }
        } else {
            Actions::Missing
        };
        let mut resources = if let Some(e) = doc.get(node, "Resource") {
            Resources::Resource(resource_items(template, &parts_ev, e.value))
        } else if let Some(e) = doc.get(node, "NotResource") {
            Resources::NotResource {
                key: doc.span(e.key),
                items: resource_items(template, &parts_ev, e.value),
            }
        } else {
            Resources::Missing
        };
        let has_condition = doc.get(node, "Condition").is_some();
        let effects: Vec<(Effect, Assumptions)> = match doc.get_value(node, "Effect") {
            None => vec![(Effect::Unknown("no `Effect`".into()), Assumptions::none())],
            Some(e) => ev
                .eval(e)
                .into_iter()
                .map(|o| {
                    let effect = match &o.value {
                        Value::Text(t) if t == "Allow" => Effect::Allow,
                        Value::Text(t) if t == "Deny" => Effect::Deny,
                        Value::Text(t) => Effect::Invalid {
                            text: t.clone(),
                            span: o.span,
                        },
                        Value::NoValue => Effect::Unknown("`Effect` is removed".into()),
                        Value::Unknown(_) | Value::Partial(_) => Effect::Unknown(
                            o.value.unknown_reason().unwrap_or_default().to_string(),
                        ),
                    };
                    (effect, o.when)
                })
                .collect(),
        };
        // One statement per effect: the last takes the actions and resources, the ones
        // before it (an `Effect` chosen by `Fn::If`) copy them.
        let mut effects = effects.into_iter().peekable();
        while let Some((effect, w)) = effects.next() {
            let Some(when) = combine(&when, &w) else {
                continue;
            };
            let (actions, resources) = if effects.peek().is_some() {
                (actions.clone(), resources.clone())
            } else {
                (
                    std::mem::replace(&mut actions, Actions::Missing),
                    std::mem::replace(&mut resources, Resources::Missing),
                )
            };
            out.push(Statement {
                node,
                effect,
                actions,
                resources,
                has_condition,
                when,
            });
        }
    }
    out
}

/// An action of a Serverless statement holding a variable (`dynamodb:${self:custom.op}`)
/// is known only at deploy time: each variable may be any text.
fn serverless_action(item: ActionItem) -> ActionItem {
    let Ok(text) = &item.pattern else {
        return item;
    };
    if !text.contains("${") {
        return item;
    }
    let mut can_match = String::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find("${") {
        can_match.push_str(&rest[..start]);
        can_match.push('*');
        // Nested variables (`${self:custom.${sls:stage}}`) end at the last brace at worst.
        let after = &rest[start + 2..];
        let mut depth = 1usize;
        let mut end = after.len();
        for (i, c) in after.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &after[end..];
    }
    can_match.push_str(rest);
    ActionItem {
        pattern: Err(format!(
            "`{text}` holds a Serverless variable, resolved only at deploy time"
        )),
        can_match,
        ..item
    }
}

fn unknown_statement(node: NodeId, span: Span, why: String, when: Assumptions) -> Statement {
    Statement {
        node,
        effect: Effect::Unknown(why.clone()),
        actions: Actions::Action(vec![ActionItem {
            pattern: Err(why),
            can_match: "*".into(),
            span,
            when: Assumptions::none(),
        }]),
        resources: Resources::Resource(vec![ResourceItem {
            glob: vec![Part::Any],
            exact: false,
            chosen_by: None,
            span,
            when: Assumptions::none(),
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
                    let (pattern, can_match) = match o.value {
                        Value::Text(t) => (Ok(t.clone()), t),
                        Value::NoValue => continue,
                        Value::Unknown(why) => (Err(why), "*".to_string()),
                        Value::Partial(pieces) => {
                            let why = pieces.iter().find_map(Piece::reason).unwrap_or_default();
                            let glob: String = pieces
                                .iter()
                                .map(|p| match p {
                                    Piece::Lit(t) => t.as_str(),
                                    _ => "*",
                                })
                                .collect();
                            (Err(why), glob)
                        }
                    };
                    out.push(ActionItem {
                        pattern,
                        can_match,
                        span: o.span,
                        when,
                    });
                }
            }
            Branch::Unknown { span, why, when } => out.push(ActionItem {
                pattern: Err(why),
                can_match: "*".into(),
                span,
                when,
            }),
            Branch::NoValue { .. } => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{self, Format, Limits};

    /// The shared, once-per-resource reading is the uncached one, and a second rule that
    /// asks gets the same documents without reading them again.
    #[test]
    fn policies_are_read_once_per_resource_and_equal_a_fresh_reading() {
        let text = "Parameters:\n  P: {Type: String}\nConditions:\n  C: !Equals [!Ref P, x]\nResources:\n  Role:\n    Type: AWS::IAM::Role\n    Properties:\n      Policies:\n        - PolicyName: a\n          PolicyDocument:\n            Statement:\n              - {Effect: Allow, Action: 'dynamodb:*', Resource: '*'}\n              - !If [C, {Effect: Deny, Action: 'dynamodb:DeleteTable', Resource: '*'}, !Ref AWS::NoValue]\n        - PolicyName: b\n          PolicyDocument: {Statement: {Effect: Allow, NotAction: 's3:*', NotResource: !Ref P}}\n  Bucket:\n    Type: AWS::S3::Bucket\n";
        let doc = load::load(text, Format::Yaml, &Limits::default()).expect("test YAML loads");
        let template = Template::from_document(&doc)
            .expect("valid template")
            .expect("has Resources");
        for resource in &template.resources {
            let fresh: Policies = documents(&template, resource)
                .into_iter()
                .map(|d| {
                    let s = statements(&template, resource, &d);
                    (d, s)
                })
                .collect();
            let first = policies(&template, resource);
            assert!(matches!(first, std::borrow::Cow::Borrowed(_)));
            assert_eq!(format!("{:?}", &*first), format!("{fresh:?}"));
            let again = policies(&template, resource);
            assert!(std::ptr::eq(first.as_ptr(), again.as_ptr()), "read twice");
        }
        assert_eq!(policies(&template, &template.resources[0]).len(), 2);
        // A copy of a resource is not the template's entry: read, not cached.
        let copy = template.resources[0].clone();
        assert!(matches!(
            policies(&template, &copy),
            std::borrow::Cow::Owned(_)
        ));
    }
}
