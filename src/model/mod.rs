//! Stage 3: the template view over a loaded document: resources (including those inside
//! `Fn::ForEach` fragments), parameters, conditions and mappings, plus the static
//! evaluator of intrinsic functions in [`eval`].

pub mod assumptions;
pub mod backup;
pub mod cases;
pub mod changeset;
pub mod eval;
pub mod expand;
pub mod for_each;
pub mod iam;
pub mod nested;
pub mod policy_file;
pub mod policy_strings;
pub mod resolve;
pub mod same;
pub mod serverless;

use std::path::Path;

use crate::load::{Document, FileError, NodeId};

pub use eval::{Assumption, Assumptions, Evaluator, Outcome, Value};

/// The resource types that hold DynamoDB data.
pub const TABLE_TYPES: &[&str] = &[
    "AWS::DynamoDB::Table",
    "AWS::DynamoDB::GlobalTable",
    "AWS::Serverless::SimpleTable",
];

/// One `Fn::ForEach` loop around a resource: its identifier and its collection node.
#[derive(Clone, Copy, Debug)]
pub struct LoopBinding<'d> {
    pub identifier: &'d str,
    pub collection: NodeId,
}

#[derive(Clone, Debug)]
pub struct Resource<'d> {
    /// The logical ID, or the fragment key (`${Tenant}Table`) inside `Fn::ForEach`.
    pub logical_id: &'d str,
    /// The key node naming the resource.
    pub key: NodeId,
    /// The resource's mapping.
    pub node: NodeId,
    /// The `Type`, when it is a literal, non-null string (DDB008 reports the others).
    pub type_name: Option<&'d str>,
    /// Enclosing `Fn::ForEach` loops, outermost first.
    pub loops: Vec<LoopBinding<'d>>,
    /// A policy document of a policy file ([`policy_file`]): `node` is the document
    /// itself, `type_name` says which kind (`AWS::Organizations::Policy` for a service
    /// control policy, `AWS::IAM::ManagedPolicy` for an identity policy).
    pub standalone_policy: Option<Standalone>,
}

impl Resource<'_> {
    pub fn is_table(&self) -> bool {
        self.type_name.is_some_and(|t| TABLE_TYPES.contains(&t))
    }
}

/// What a policy file says about one of its documents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Standalone {
    /// False for a managed policy version that is not the default one: checked for what
    /// it grants (it can be made the default), never counted as a guardrail.
    pub in_effect: bool,
    /// `node` is a bare list of statements (a Serverless service's
    /// `provider.iam.role.statements` / `provider.iamRoleStatements`), or a Serverless
    /// variable standing for one, rather than a document with a `Statement` key.
    pub bare_statements: bool,
}

/// Where a file keeps its CloudFormation sections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// `Resources`, `Parameters`, ... at the top level.
    CloudFormation,
    /// Serverless Framework `serverless.yml`: the sections live under `resources` (a
    /// mapping, or a list of mappings that the framework merges). Variables such as
    /// `${self:custom.table}` are resolved at deploy time, so they stay opaque strings.
    /// The service role's statements (`provider.iam.role.statements`, legacy
    /// `provider.iamRoleStatements`) are a policy of the service: see
    /// [`provider_statements`].
    Serverless,
}

impl Layout {
    /// `serverless.yml` / `serverless.yaml` / `serverless.json` (any case) is Serverless;
    /// anything else is a plain template.
    pub fn detect(path: &Path) -> Layout {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.eq_ignore_ascii_case("serverless.yml")
            || name.eq_ignore_ascii_case("serverless.yaml")
            || name.eq_ignore_ascii_case("serverless.json")
        {
            Layout::Serverless
        } else {
            Layout::CloudFormation
        }
    }
}

use serverless::is_variable;

pub struct Template<'d, 's> {
    pub doc: &'d Document<'s>,
    /// Where the file keeps its sections; a Serverless file's strings may hold `${...}`
    /// variables that the framework resolves at deploy time.
    pub layout: Layout,
    pub root: NodeId,
    pub resources: Vec<Resource<'d>>,
    pub parameters: Option<NodeId>,
    pub conditions: Option<NodeId>,
    pub mappings: Option<NodeId>,
    /// Logical ID to position in `resources` (the first, for a duplicate ID), so that
    /// `Ref` resolution and "is this a table" cost no scan of thousands of resources.
    /// `None` for a template of at most [`SCANNED_RESOURCES`] resources, which are
    /// scanned instead (see [`Template::position`]).
    resource_ids: Option<crate::hash::HashMap<&'d str, usize>>,
    /// The backup selections, read once for every table that asks (see
    /// [`backup::coverage`]).
    pub(crate) backup_index: std::sync::OnceLock<backup::Index>,
    /// Each resource's policy documents with their statements, read once for the rules
    /// that ask (DDB010-DDB012 each read every document; see [`iam::policies`]). One slot
    /// per entry of `resources`, in order.
    pub(crate) iam_policies: Vec<std::sync::OnceLock<iam::Policies>>,
    /// Each resource's AWS managed policies, evaluated and matched once for the rules that
    /// ask (DDB010-DDB012; see [`iam::managed_grants_of`]). One slot per entry of
    /// `resources`, in order.
    pub(crate) iam_managed: Vec<std::sync::OnceLock<iam::NamedPolicies>>,
    /// The logical IDs the resources produce, `Fn::ForEach` copies included, listed once
    /// (see [`for_each::produces`]).
    pub(crate) copy_ids: std::sync::OnceLock<std::collections::HashSet<String>>,
    /// What each condition reads, summarised once for every resource that asks (see
    /// [`cases::ReadIndex`]).
    condition_reads: std::sync::OnceLock<cases::ReadIndex>,
}

/// Loads the YAML template `text` and calls `f` with its template view (unit tests of the
/// model and the rules; the template borrows the document, so it is lent, not returned).
#[cfg(test)]
pub(crate) fn with_yaml_template<R>(text: &str, f: impl FnOnce(&Template<'_, '_>) -> R) -> R {
    let doc = crate::load::load(
        text,
        crate::load::Format::Yaml,
        &crate::load::Limits::default(),
    )
    .expect("test YAML loads");
    let template = Template::from_document(&doc)
        .expect("valid template")
        .expect("has Resources");
    f(&template)
}

/// [`with_yaml_template`] with the resource `logical_id` of the template (for a
/// `Fn::ForEach` loop, its expanded name).
#[cfg(test)]
pub(crate) fn with_yaml_resource<R>(
    text: &str,
    logical_id: &str,
    f: impl FnOnce(&Template<'_, '_>, &Resource<'_>) -> R,
) -> R {
    with_yaml_template(text, |template| {
        let resource = template
            .resources
            .iter()
            .find(|r| r.logical_id == logical_id)
            .expect("the resource is in the template");
        f(template, resource)
    })
}

impl<'d, 's> Template<'d, 's> {
    /// The template view of a document in the CloudFormation layout, for unit tests of
    /// the model and the rules. Everything else goes through
    /// [`TemplateFile`](crate::template_file::TemplateFile), which knows the file's layout.
    #[cfg(test)]
    pub(crate) fn from_document(doc: &'d Document<'s>) -> Result<Option<Self>, FileError> {
        Template::with_layout(doc, Layout::CloudFormation)
    }

    /// The template view of a document, or `None` when the document is not a template
    /// (no `Resources` mapping where `layout` keeps it: package.json, Kubernetes
    /// manifests, ...). Only [`TemplateFile`](crate::template_file::TemplateFile) calls
    /// it, with the layout of the file's path.
    pub(crate) fn with_layout(
        doc: &'d Document<'s>,
        layout: Layout,
    ) -> Result<Option<Self>, FileError> {
        if let Some(second) = doc.more_documents.first() {
            // A stream of several documents (Kubernetes manifests) is not a template, unless
            // one of them looks like one: then checking only the first could miss a table.
            let has_resources = |root: &NodeId| doc.get(*root, "Resources").is_some();
            if doc.root.iter().chain(&doc.more_roots).any(has_resources) {
                return Err(FileError::at(
                    "more than one YAML document in the file",
                    *second,
                    "second document starts here",
                )
                .with_help("a CloudFormation template is a single document: split the file or remove the `---` separator"));
            }
            return Ok(None);
        }
        let Some(root) = doc.root else {
            return Ok(None);
        };
        if doc.map(root).is_none() {
            return Ok(None);
        }
        // The service role's statements: a policy of the service, also without `resources`.
        let provider = match layout {
            Layout::CloudFormation => Vec::new(),
            Layout::Serverless => provider_statements(doc, root),
        };
        // The mappings that hold `Resources`, `Parameters`, `Conditions`, `Mappings`.
        let sections: Vec<NodeId> = match layout {
            Layout::CloudFormation => vec![root],
            Layout::Serverless => {
                if let Some(r) = doc.get_value(root, "resources") {
                    // `${file(...)}` fragments are resolved by now; any other variable
                    // where resources are kept may hold tables: fail closed.
                    let items = doc.seq(r).unwrap_or_default();
                    for &node in std::iter::once(&r).chain(items) {
                        if let Some(text) = doc.str(node).filter(|t| is_variable(t)) {
                            return Err(unresolved_resources(text, doc.span(node)));
                        }
                    }
                }
                let sections = serverless::sections(doc, root);
                if sections.is_empty() && provider.is_empty() {
                    return Ok(None);
                }
                sections
            }
        };
        let mut found = false;
        let mut resources = Vec::new();
        for &section in &sections {
            let Some(entry) = doc.get(section, "Resources") else {
                continue;
            };
            found = true;
            let node = entry.value;
            if doc.map(node).is_some() {
                let variables = layout == Layout::Serverless;
                collect_resources(doc, node, variables, &mut Vec::new(), &mut resources);
            } else if let Some(text) = doc
                .str(node)
                .filter(|t| layout == Layout::Serverless && is_variable(t))
            {
                return Err(unresolved_resources(text, doc.span(node)));
            } else if !doc.is_null(node) {
                return Err(FileError::at(
                    "`Resources` must be a mapping of logical IDs to resources",
                    doc.span(node),
                    "not a mapping",
                )
                .with_help(
                    "write `Resources:` followed by indented `LogicalId: {Type: ...}` entries",
                ));
            }
        }
        if !found && provider.is_empty() {
            return Ok(None);
        }
        resources.extend(provider);
        let first = |key: &str| sections.iter().find_map(|&s| doc.get_value(s, key));
        let resource_ids = ids_of(&resources);
        Ok(Some(Template {
            doc,
            layout,
            root: sections.first().copied().unwrap_or(root),
            iam_policies: slots(&resources),
            iam_managed: slots(&resources),
            resources,
            resource_ids,
            backup_index: std::sync::OnceLock::new(),
            copy_ids: std::sync::OnceLock::new(),
            condition_reads: std::sync::OnceLock::new(),
            parameters: first("Parameters"),
            conditions: first("Conditions"),
            mappings: first("Mappings"),
        }))
    }

    /// The view of a policy file: one resource per policy document, named by the policy,
    /// with no parameters, conditions or mappings. Only
    /// [`TemplateFile`](crate::template_file::TemplateFile) calls it.
    pub(crate) fn for_policies(
        doc: &'d Document<'s>,
        policies: &[policy_file::FilePolicy],
    ) -> Self {
        let resources: Vec<Resource<'d>> = policies
            .iter()
            .map(|p| Resource {
                logical_id: doc.str(p.name).unwrap_or("policy"),
                key: p.name,
                node: p.document,
                type_name: Some(match p.kind {
                    iam::PolicyKind::ServiceControl => "AWS::Organizations::Policy",
                    iam::PolicyKind::Identity => "AWS::IAM::ManagedPolicy",
                }),
                loops: Vec::new(),
                standalone_policy: Some(Standalone {
                    in_effect: p.in_effect,
                    bare_statements: false,
                }),
            })
            .collect();
        Template {
            doc,
            layout: Layout::CloudFormation,
            root: doc.root.unwrap_or_default(),
            resource_ids: ids_of(&resources),
            iam_policies: slots(&resources),
            iam_managed: slots(&resources),
            resources,
            backup_index: std::sync::OnceLock::new(),
            copy_ids: std::sync::OnceLock::new(),
            condition_reads: std::sync::OnceLock::new(),
            parameters: None,
            conditions: None,
            mappings: None,
        }
    }

    /// The position of `resource` in `resources`, when it is that very entry (not a copy,
    /// nor a resource of another template) and the first with its logical ID: what a
    /// per-resource cache is keyed by.
    pub(crate) fn position_of(&self, resource: &Resource) -> Option<usize> {
        let i = self.position(resource.logical_id)?;
        self.resources
            .get(i)
            .is_some_and(|r| std::ptr::eq(r, resource))
            .then_some(i)
    }

    pub fn tables(&self) -> impl Iterator<Item = &Resource<'d>> {
        self.resources.iter().filter(|r| r.is_table())
    }

    pub fn parameter(&self, name: &str) -> Option<NodeId> {
        self.doc.get_value(self.parameters?, name)
    }

    pub fn condition(&self, name: &str) -> Option<NodeId> {
        self.doc.get_value(self.conditions?, name)
    }

    /// What each condition reads, through the conditions it refers to (built on first use).
    pub(crate) fn condition_reads(&self) -> &cases::ReadIndex {
        self.condition_reads
            .get_or_init(|| cases::ReadIndex::build(self))
    }

    /// The position in [`Template::resources`] of the resource with this logical ID (the
    /// first, if the ID is written twice).
    pub fn position(&self, name: &str) -> Option<usize> {
        match &self.resource_ids {
            Some(ids) => ids.get(name).copied(),
            None => self.resources.iter().position(|r| r.logical_id == name),
        }
    }

    pub fn has_resource(&self, name: &str) -> bool {
        self.position(name).is_some()
    }

    /// The resource with this logical ID (the first, if the ID is written twice).
    pub fn resource(&self, name: &str) -> Option<&Resource<'d>> {
        self.position(name).and_then(|i| self.resources.get(i))
    }
}

/// A Serverless variable (not a `${file(...)}`, which is resolved) standing for resources.
fn unresolved_resources(text: &str, span: crate::source::Span) -> FileError {
    FileError::at(
        format!(
            "the Serverless variable `{}` stands for resources and is resolved only at deploy time, so its tables cannot be checked",
            text.trim()
        ),
        span,
        "unresolved resources",
    )
    .with_help("write the resources in the service file, or in a YAML or JSON file brought in with `${file(path)}`, which ddb-guard reads")
}

/// The statements of a Serverless service's role, `provider.iam.role.statements` and the
/// legacy `provider.iamRoleStatements`, each as a policy of the service: a resource named
/// by the path (which no logical ID can spell, so `Ref` never reaches it) whose node is
/// the statement list, so that findings point at the statements' own values. A list
/// written as a Serverless variable (`${file(iam.yml)}`) is kept too: it cannot be read,
/// and the IAM rules report it as a statement that cannot be resolved (fail closed). A
/// `provider.iam` or `provider.iam.role` written as a variable may hold statements as well.
/// A `role` given as a literal string names an existing role: the service adds no
/// statements to it.
fn provider_statements<'d>(doc: &'d Document<'_>, root: NodeId) -> Vec<Resource<'d>> {
    let mut out = Vec::new();
    let Some(provider) = doc.get_value(root, "provider") else {
        return out;
    };
    let mut push = |name: &'static str, key: NodeId, node: NodeId| {
        let listed = doc.seq(node).is_some() || doc.str(node).is_some_and(is_variable);
        if listed {
            out.push(Resource {
                logical_id: name,
                key,
                node,
                type_name: Some("AWS::IAM::Role"),
                loops: Vec::new(),
                standalone_policy: Some(Standalone {
                    in_effect: true,
                    bare_statements: true,
                }),
            });
        }
    };
    if let Some(iam) = doc.get(provider, "iam") {
        if doc.str(iam.value).is_some_and(is_variable) {
            push("provider.iam", iam.key, iam.value);
        } else if let Some(role) = doc.get(iam.value, "role") {
            if doc.str(role.value).is_some_and(is_variable) {
                // `role: ${self:custom.role}` may be a role name or ARN, or a whole role
                // with statements: it cannot be read, so it is checked as statements that
                // cannot be resolved (fail closed).
                push("provider.iam.role", role.key, role.value);
            } else if let Some(statements) = doc.get(role.value, "statements") {
                push(
                    "provider.iam.role.statements",
                    statements.key,
                    statements.value,
                );
            }
        }
    }
    if let Some(legacy) = doc.get(provider, "iamRoleStatements") {
        push("provider.iamRoleStatements", legacy.key, legacy.value);
    }
    out.extend(provider_managed_policies(doc, provider));
    out
}

/// `provider.iam.role.managedPolicies`: the ARNs of managed policies the service's role
/// attaches (`arn:aws:iam::aws:policy/AdministratorAccess` lets every function delete
/// tables). A resource of a pseudo type whose node is the list, read by
/// `iam::managed_grants` as a role's `ManagedPolicyArns` is; a list written as a variable
/// is a single item that cannot be resolved (fail closed).
fn provider_managed_policies<'d>(doc: &'d Document<'_>, provider: NodeId) -> Option<Resource<'d>> {
    let role = doc.get_value(doc.get_value(provider, "iam")?, "role")?;
    let list = doc.get(role, "managedPolicies")?;
    Some(Resource {
        logical_id: iam::SERVERLESS_MANAGED_POLICIES_ID,
        key: list.key,
        node: list.value,
        type_name: Some(iam::SERVERLESS_MANAGED_POLICIES),
        loops: Vec::new(),
        standalone_policy: None,
    })
}

/// An empty cache slot per resource.
fn slots<T>(resources: &[Resource]) -> Vec<std::sync::OnceLock<T>> {
    resources
        .iter()
        .map(|_| std::sync::OnceLock::new())
        .collect()
}

/// Templates with at most this many resources find a logical ID by comparing it with
/// each: cheaper than hashing it (most templates have a handful of resources, and the
/// view is built for every file), and no index to build.
const SCANNED_RESOURCES: usize = 16;

/// Logical ID to position (the first, for an ID written twice), for a template with more
/// than [`SCANNED_RESOURCES`] resources.
fn ids_of<'d>(resources: &[Resource<'d>]) -> Option<crate::hash::HashMap<&'d str, usize>> {
    if resources.len() <= SCANNED_RESOURCES {
        return None;
    }
    let mut ids = crate::hash::map_with_capacity(resources.len());
    for (i, r) in resources.iter().enumerate() {
        ids.entry(r.logical_id).or_insert(i);
    }
    Some(ids)
}

const FOR_EACH: &str = "Fn::ForEach::";

/// `variables`: the file is a Serverless service, where a `Type` written as a variable
/// (`${self:custom.tableType}`) is resolved only at deploy time, so it is not a literal
/// type (DDB008 reports it).
fn collect_resources<'d>(
    doc: &'d Document<'_>,
    map: NodeId,
    variables: bool,
    loops: &mut Vec<LoopBinding<'d>>,
    out: &mut Vec<Resource<'d>>,
) {
    let Some(entries) = doc.map(map) else { return };
    // One resource per entry but for the loops (growing from empty was 4 M instructions
    // of reallocation on the corpus; issue 23).
    out.reserve(entries.len());
    for entry in entries {
        let key = doc.key(entry);
        if key.starts_with(FOR_EACH) {
            // [Identifier, Collection, {FragmentKey: Resource, ...}]. A loop of any other
            // shape may hide a table, so it stays as a resource of unknown type (DDB008).
            let shape = doc
                .list(entry.value)
                .and_then(|s| <&[NodeId; 3]>::try_from(s).ok())
                .and_then(|[identifier, collection, fragment]| {
                    doc.map(*fragment)?;
                    Some((doc.str(*identifier)?, collection, fragment))
                });
            let Some((identifier, collection, fragment)) = shape else {
                out.push(Resource {
                    logical_id: key,
                    key: entry.key,
                    node: entry.value,
                    type_name: None,
                    loops: loops.clone(),
                    standalone_policy: None,
                });
                continue;
            };
            loops.push(LoopBinding {
                identifier,
                collection: *collection,
            });
            collect_resources(doc, *fragment, variables, loops, out);
            loops.pop();
            continue;
        }
        out.push(Resource {
            logical_id: key,
            key: entry.key,
            node: entry.value,
            type_name: doc
                .get_value(entry.value, "Type")
                .filter(|t| !doc.is_null(*t))
                .and_then(|t| doc.str(t))
                .filter(|t| !(variables && t.contains("${"))),
            loops: loops.clone(),
            standalone_policy: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{self, Format, Limits};

    /// A Serverless service whose two `resources` sections each hold `count` resources
    /// named `R0`, `R1`, ...: every ID is written twice, the first time at its index.
    fn service(count: usize) -> String {
        let section: String = (0..count)
            .map(|i| format!("      R{i}: {{Type: AWS::SNS::Topic}}\n"))
            .collect();
        format!("service: s\nresources:\n  - Resources:\n{section}  - Resources:\n{section}")
    }

    /// Scanned (few resources) or indexed (many), a logical ID is found at its first
    /// position, an absent one nowhere, and only that very entry is the resource's own
    /// place for the per-resource caches (not its duplicate, not a copy).
    #[test]
    fn a_logical_id_is_found_at_its_first_position_scanned_or_indexed() {
        for count in [1, SCANNED_RESOURCES / 2, SCANNED_RESOURCES / 2 + 1, 40] {
            let text = service(count);
            let doc = load::load(&text, Format::Yaml, &Limits::default()).expect("loads");
            let template = Template::with_layout(&doc, Layout::Serverless)
                .expect("valid")
                .expect("a template");
            assert_eq!(template.resources.len(), 2 * count);
            assert_eq!(
                template.resource_ids.is_some(),
                2 * count > SCANNED_RESOURCES
            );
            for i in 0..count {
                let name = format!("R{i}");
                assert_eq!(template.position(&name), Some(i), "{name} of {count}");
                assert!(template.has_resource(&name));
                let found = template.resource(&name).expect("found");
                assert!(std::ptr::eq(found, &template.resources[i]));
                assert_eq!(template.position_of(&template.resources[i]), Some(i));
                assert_eq!(template.position_of(&template.resources[count + i]), None);
                assert_eq!(template.position_of(&template.resources[i].clone()), None);
            }
            assert_eq!(template.position("Absent"), None);
            assert!(!template.has_resource("Absent"));
            assert!(template.resource("Absent").is_none());
        }
    }
}
