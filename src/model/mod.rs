//! Stage 3: the template view over a loaded document: resources (including those inside
//! `Fn::ForEach` fragments), parameters, conditions and mappings, plus the static
//! evaluator of intrinsic functions in [`eval`].

pub mod eval;
pub mod expand;
pub mod iam;
pub mod same;

use crate::load::{Document, LoadError, NodeId};

pub use eval::{Assumption, Evaluator, Outcome, Value};

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
}

impl Resource<'_> {
    pub fn is_table(&self) -> bool {
        self.type_name.is_some_and(|t| TABLE_TYPES.contains(&t))
    }
}

pub struct Template<'d, 's> {
    pub doc: &'d Document<'s>,
    pub root: NodeId,
    pub resources: Vec<Resource<'d>>,
    pub parameters: Option<NodeId>,
    pub conditions: Option<NodeId>,
    pub mappings: Option<NodeId>,
    /// Logical IDs, so that `Ref` resolution costs no scan of thousands of resources.
    resource_ids: std::collections::HashSet<&'d str>,
}

impl<'d, 's> Template<'d, 's> {
    /// The template view of a document, or `None` when the document is not a template
    /// (no top-level `Resources` mapping: package.json, Kubernetes manifests, ...).
    pub fn from_document(doc: &'d Document<'s>) -> Result<Option<Self>, LoadError> {
        if let Some(second) = doc.more_documents.first() {
            // A stream of several documents (Kubernetes manifests) is not a template, unless
            // one of them looks like one: then checking only the first could miss a table.
            let has_resources = |root: &NodeId| doc.get(*root, "Resources").is_some();
            if doc.root.iter().chain(&doc.more_roots).any(has_resources) {
                return Err(LoadError::at(
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
        let Some(resources_entry) = doc.map(root).and_then(|_| doc.get(root, "Resources")) else {
            return Ok(None);
        };
        let resources_node = resources_entry.value;
        let mut resources = Vec::new();
        if doc.map(resources_node).is_some() {
            collect_resources(doc, resources_node, &mut Vec::new(), &mut resources);
        } else if !doc.is_null(resources_node) {
            return Err(LoadError::at(
                "`Resources` must be a mapping of logical IDs to resources",
                doc.span(resources_node),
                "not a mapping",
            )
            .with_help(
                "write `Resources:` followed by indented `LogicalId: {Type: ...}` entries",
            ));
        }
        let resource_ids = resources.iter().map(|r| r.logical_id).collect();
        Ok(Some(Template {
            doc,
            root,
            resources,
            resource_ids,
            parameters: doc.get_value(root, "Parameters"),
            conditions: doc.get_value(root, "Conditions"),
            mappings: doc.get_value(root, "Mappings"),
        }))
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

    pub fn has_resource(&self, name: &str) -> bool {
        self.resource_ids.contains(name)
    }
}

const FOR_EACH: &str = "Fn::ForEach::";

fn collect_resources<'d>(
    doc: &'d Document<'_>,
    map: NodeId,
    loops: &mut Vec<LoopBinding<'d>>,
    out: &mut Vec<Resource<'d>>,
) {
    let Some(entries) = doc.map(map) else { return };
    for entry in entries {
        let key = doc.key(entry);
        if key.starts_with(FOR_EACH) {
            // [Identifier, Collection, {FragmentKey: Resource, ...}]. A loop of any other
            // shape may hide a table, so it stays as a resource of unknown type (DDB008).
            let shape = doc
                .seq(entry.value)
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
                });
                continue;
            };
            loops.push(LoopBinding {
                identifier,
                collection: *collection,
            });
            collect_resources(doc, *fragment, loops, out);
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
                .and_then(|t| doc.str(t)),
            loops: loops.clone(),
        });
    }
}
