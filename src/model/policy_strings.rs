//! Policy documents that a template writes as JSON strings, which CloudFormation accepts
//! wherever it takes a policy document: `PolicyDocument: '{"Statement": ...}'`, or
//! `!Sub '{"Statement": [{"Resource": "arn:${AWS::Partition}:..."}]}'`. Before any rule
//! runs, each such string is loaded as JSON and grafted into the document in its place
//! ([`crate::load::embedded`]), so the IAM rules, the inventory and every command read it
//! like a document written as YAML. Spans point inside the string where a value is a plain
//! literal; otherwise at the escapes that spell it, or at the whole string.
//!
//! In an `Fn::Sub` string, every JSON string holding `${...}` becomes an `Fn::Sub` of its
//! own (with the same variables), so the evaluator resolves it as it would the whole
//! string. A placeholder outside a JSON string (`"Action": ${Actions}`) or in a key makes
//! the document unreadable before deployment: that is an error, never a pass.

use std::borrow::Cow;

use crate::load::embedded::graft_json_string;
use crate::load::{
    Document, Entry, FileError, Limits, Node, NodeId, NodeKind, Scalar, ScalarStyle,
};
use crate::model::iam::{Where, IDENTITY_DOCUMENTS};
use crate::model::{Layout, Template};

/// A policy-document value written as a string: its parent (for the replacement), the
/// node to replace, the string node, and the `Fn::Sub` variables when it is a `Sub`.
struct Site {
    parent: NodeId,
    value: NodeId,
    string: NodeId,
    sub: Option<Option<NodeId>>,
}

/// Replace every policy document written as a string in the template by its parsed tree.
pub fn graft(doc: &mut Document, layout: Layout, limits: &Limits) -> Result<(), FileError> {
    let sites = {
        let Ok(Some(template)) = Template::with_layout(doc, layout) else {
            return Ok(());
        };
        sites(&template)
    };
    graft_sites(doc, sites, limits)
}

/// The policy documents a template writes as strings, found in its view so that the
/// caller can drop the view (which borrows the document) and [`graft_sites`] them.
#[derive(Default)]
pub struct Sites(Vec<Site>);

pub fn sites(template: &Template) -> Sites {
    Sites(find_sites(template))
}

/// [`graft`] with the sites already found in the document's view.
pub fn graft_sites(doc: &mut Document, sites: Sites, limits: &Limits) -> Result<(), FileError> {
    for site in sites.0 {
        let root = graft_json_string(doc, site.string, false, limits)?;
        let root = match site.sub {
            None => root,
            Some(vars) => wrap_subs(doc, root, vars, site.string)?,
        };
        replace_child(doc, site.parent, site.value, root);
    }
    Ok(())
}

fn find_sites(template: &Template) -> Vec<Site> {
    let doc = template.doc;
    let mut out = Vec::new();
    for resource in &template.resources {
        let Some(type_name) = resource.type_name else {
            continue;
        };
        let Some(props) = doc.get_value(resource.node, "Properties") else {
            continue;
        };
        let mut at = |parent: NodeId, key: &str| {
            if let Some(value) = doc.get_value(parent, key) {
                site(doc, parent, value, 0, &mut out);
            }
        };
        if type_name == "AWS::Organizations::Policy" {
            at(props, "Content");
            continue;
        }
        if type_name == "AWS::Backup::BackupVault" {
            at(props, "AccessPolicy");
            continue;
        }
        let Some((_, place)) = IDENTITY_DOCUMENTS.iter().find(|(t, _)| *t == type_name) else {
            continue;
        };
        match place {
            Where::PolicyDocument => at(props, "PolicyDocument"),
            Where::InlinePolicy => at(props, "InlinePolicy"),
            Where::InlinePolicies => {
                for item in list(doc, doc.get_value(props, "Policies")) {
                    at(item, "PolicyDocument");
                }
            }
            Where::ResourcePolicy => {
                if let Some(r) = doc.get_value(props, "ResourcePolicy") {
                    at(r, "PolicyDocument");
                }
            }
            Where::ReplicaResourcePolicies => {
                for item in list(doc, doc.get_value(props, "Replicas")) {
                    if let Some(r) = doc.get_value(item, "ResourcePolicy") {
                        at(r, "PolicyDocument");
                    }
                }
            }
            // SAM's strings there are managed policy names, not documents.
            Where::SamPolicies => {}
        }
    }
    out
}

/// The items of a list (also inside both branches of an `Fn::If`).
fn list(doc: &Document, node: Option<NodeId>) -> Vec<NodeId> {
    let Some(node) = node else {
        return Vec::new();
    };
    if let Some(call) = doc.call(node) {
        if call.name == "Fn::If" {
            return doc
                .seq(call.arg)
                .unwrap_or_default()
                .iter()
                .skip(1)
                .flat_map(|&b| list(doc, Some(b)))
                .collect();
        }
        return Vec::new();
    }
    match doc.seq(node) {
        Some(items) => items
            .iter()
            .flat_map(|&i| match doc.call(i) {
                Some(c) if c.name == "Fn::If" => list(doc, Some(i)),
                _ => vec![i],
            })
            .collect(),
        None => Vec::new(),
    }
}

fn site(doc: &Document, parent: NodeId, value: NodeId, depth: usize, out: &mut Vec<Site>) {
    if depth > 8 {
        return;
    }
    if let Some(call) = doc.call(value) {
        match call.name {
            "Fn::If" => {
                // The branch nodes of `[Condition, Then, Else]`: their parent is the list.
                let args = call.arg;
                for &b in doc.seq(args).unwrap_or_default().iter().skip(1) {
                    site(doc, args, b, depth + 1, out);
                }
            }
            "Fn::Sub" => {
                let (string, vars) = match doc.seq(call.arg) {
                    Some(items) => (items.first().copied(), items.get(1).copied()),
                    None => (Some(call.arg), None),
                };
                if let Some(string) = string.filter(|s| doc.scalar(*s).is_some()) {
                    out.push(Site {
                        parent,
                        value,
                        string,
                        sub: Some(vars),
                    });
                }
            }
            _ => {}
        }
        return;
    }
    if doc.scalar(value).is_some() && !doc.is_null(value) {
        out.push(Site {
            parent,
            value,
            string: value,
            sub: None,
        });
    }
}

/// Every string of the grafted tree that holds `${` becomes `{Fn::Sub: string}` (or
/// `{Fn::Sub: [string, vars]}`); a key that holds one is refused.
fn wrap_subs(
    doc: &mut Document,
    node: NodeId,
    vars: Option<NodeId>,
    string: NodeId,
) -> Result<NodeId, FileError> {
    let kind = doc.node(node).kind.clone();
    match kind {
        NodeKind::Map(entries) => {
            let entries = doc.entries(entries).to_vec();
            let mut new_entries: Vec<Entry> = Vec::with_capacity(entries.len());
            for e in entries {
                if doc.str(e.key).is_some_and(|k| k.contains("${")) {
                    return Err(placeholder_error(doc, e.key, string));
                }
                let value = wrap_subs(doc, e.value, vars, string)?;
                new_entries.push(Entry { key: e.key, value });
            }
            doc.nodes[node as usize].kind = doc.new_map(new_entries);
            Ok(node)
        }
        NodeKind::Seq(items) => {
            let items = doc.items(items).to_vec();
            let mut new_items = Vec::with_capacity(items.len());
            for i in items {
                new_items.push(wrap_subs(doc, i, vars, string)?);
            }
            doc.nodes[node as usize].kind = doc.new_seq(new_items);
            Ok(node)
        }
        NodeKind::Scalar(s) => {
            if !s.text.contains("${") {
                return Ok(node);
            }
            if s.style == ScalarStyle::Plain {
                // A JSON number, boolean or null cannot hold `${`; a bare placeholder
                // outside quotes would not have parsed.
                return Err(placeholder_error(doc, node, string));
            }
            let span = doc.span(node);
            let key = doc.push(Node {
                span,
                tag: None,
                kind: NodeKind::Scalar(Scalar {
                    text: Cow::Borrowed("Fn::Sub"),
                    style: ScalarStyle::Plain,
                }),
            });
            let arg = match vars {
                None => node,
                Some(v) => {
                    let kind = doc.new_seq([node, v]);
                    doc.push(Node {
                        span,
                        tag: None,
                        kind,
                    })
                }
            };
            let kind = doc.new_map([Entry { key, value: arg }]);
            Ok(doc.push(Node {
                span,
                tag: None,
                kind,
            }))
        }
    }
}

fn placeholder_error(doc: &Document, node: NodeId, string: NodeId) -> FileError {
    FileError::at(
        "a `${...}` placeholder in this position of a policy document cannot be read before deployment",
        doc.span(node),
        "placeholder here",
    )
    .with_label(doc.span(string), "in this `Fn::Sub` policy document")
    .with_help("write the policy document as YAML or JSON (not a string), or keep placeholders inside JSON string values")
}

/// Put `new` in place of `old` among `parent`'s children, in a new run of the pool (the
/// old one may be another node's too).
fn replace_child(doc: &mut Document, parent: NodeId, old: NodeId, new: NodeId) {
    let kind = match doc.node(parent).kind {
        NodeKind::Map(entries) => {
            let mut entries = doc.entries(entries).to_vec();
            for e in entries.iter_mut().filter(|e| e.value == old) {
                e.value = new;
            }
            doc.new_map(entries)
        }
        NodeKind::Seq(items) => {
            let mut items = doc.items(items).to_vec();
            for i in items.iter_mut().filter(|i| **i == old) {
                *i = new;
            }
            doc.new_seq(items)
        }
        NodeKind::Scalar(_) => return,
    };
    doc.nodes[parent as usize].kind = kind;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{self, Format};

    fn grafted(text: &str) -> Result<String, FileError> {
        let limits = Limits::default();
        let mut doc = load::load(text, Format::Yaml, &limits).expect("test YAML loads");
        graft(&mut doc, Layout::CloudFormation, &limits)?;
        let template = Template::with_layout(&doc, Layout::CloudFormation)
            .expect("template")
            .expect("has Resources");
        let props = doc
            .get_value(template.resources[0].node, "Properties")
            .expect("Properties");
        let d = doc.get_value(props, "PolicyDocument").expect("document");
        let s = doc.get_value(d, "Statement").expect("Statement");
        let a = doc.get_value(s, "Action").expect("Action");
        let span = doc.span(a);
        Ok(text[span.start..span.end].to_string())
    }

    #[test]
    fn a_json_string_document_is_parsed_with_spans_inside_the_string() {
        let text = "Resources:\n  P:\n    Type: AWS::IAM::Policy\n    Properties:\n      PolicyDocument: '{\"Statement\": {\"Effect\": \"Allow\", \"Action\": \"dynamodb:*\", \"Resource\": \"*\"}}'\n";
        assert_eq!(grafted(text).expect("grafts"), "\"dynamodb:*\"");
    }

    #[test]
    fn a_placeholder_outside_a_json_string_is_an_error() {
        let text = "Resources:\n  P:\n    Type: AWS::IAM::Policy\n    Properties:\n      PolicyDocument: !Sub '{\"Statement\": {\"Effect\": \"Allow\", \"Action\": \"dynamodb:*\", \"Resource\": \"*\", \"X\": ${A}}}'\n";
        assert!(grafted(text).is_err());
    }

    #[test]
    fn an_invalid_json_string_document_is_an_error() {
        let text = "Resources:\n  P:\n    Type: AWS::IAM::Policy\n    Properties:\n      PolicyDocument: 'not json'\n";
        assert!(grafted(text).is_err());
    }
}
