//! What the Serverless Framework does to `serverless.yml` before CloudFormation sees it,
//! done to the document before the template view is built, so that every rule, the
//! inventory and `--fix` read the resources as they are deployed.
//!
//! `resources.extensions` (Framework v3 and later) changes resources of
//! `resources.Resources`. The Framework's
//! `lib/plugins/aws/package/lib/merge-custom-provider-resources.js`
//! (github.com/serverless/serverless) applies it after merging `resources` into the
//! compiled template: for each `extensions.<LogicalId>.<Attribute>`,
//! - `Condition`, `CreationPolicy`, `DeletionPolicy`, `UpdatePolicy`,
//!   `UpdateReplacePolicy` replace the resource's attribute
//!   (`template.Resources[name][attribute] = value`);
//! - `Properties` and `Metadata` are merged *shallowly*
//!   (`Object.assign(template.Resources[name].Properties, value)`): a key of the extension
//!   replaces the whole value of that key, the others stay;
//! - `DependsOn` is appended to; any other attribute, or a resource that is not in the
//!   stack, is an error of `serverless package` (nothing is deployed).
//!
//! The extended resource keeps its node; an attribute an extension sets is the
//! extension's own key and value (so a finding about it points at the extension's line,
//! and a fix replacing it edits the extension), and merged `Properties`/`Metadata` are a
//! new mapping whose entries are those of both places. What cannot be read (an extension
//! or a merged value written as a `${...}` variable) is an error: it could set any policy.

use crate::load::{Document, Entry, FileError, NodeId, NodeKind};

/// The attributes an extension replaces.
const REPLACED: &[&str] = &[
    "Condition",
    "CreationPolicy",
    "DeletionPolicy",
    "UpdatePolicy",
    "UpdateReplacePolicy",
];
/// The attributes an extension merges key by key.
const MERGED: &[&str] = &["Properties", "Metadata"];

/// A whole-string Serverless variable: `${file(x.yml)}`, `${self:custom.x}`.
pub fn is_variable(text: &str) -> bool {
    let t = text.trim();
    t.starts_with("${") && t.ends_with('}')
}

/// The mappings the service keeps its CloudFormation sections in: `resources`, or each
/// mapping of a `resources` list (which the Framework merges).
pub fn sections(doc: &Document, root: NodeId) -> Vec<NodeId> {
    match doc.get_value(root, "resources") {
        None => Vec::new(),
        Some(r) if doc.map(r).is_some() => vec![r],
        Some(r) => doc
            .seq(r)
            .unwrap_or_default()
            .iter()
            .copied()
            .filter(|&item| doc.map(item).is_some())
            .collect(),
    }
}

/// Apply every `resources.extensions` entry to the resource it names (see the module
/// documentation for what the Framework does).
pub fn apply_extensions(doc: &mut Document) -> Result<(), FileError> {
    let Some(root) = doc.root.filter(|&r| doc.map(r).is_some()) else {
        return Ok(());
    };
    let sections = sections(doc, root);
    let resources: Vec<NodeId> = sections
        .iter()
        .filter_map(|&s| doc.get_value(s, "Resources"))
        .filter(|&r| doc.map(r).is_some())
        .collect();
    for section in sections {
        let Some(extensions) = doc.get(section, "extensions") else {
            continue;
        };
        if doc.is_null(extensions.value) {
            continue;
        }
        let Some(entries) = doc.map(extensions.value).map(<[Entry]>::to_vec) else {
            return Err(unreadable(doc, extensions.value, "`resources.extensions`"));
        };
        for extension in entries {
            let name = doc.key(&extension).to_string();
            // A resource the Framework generates (a function's role or log group): not in
            // this file, and not a table.
            let Some(target) = resources.iter().find_map(|&r| doc.get_value(r, &name)) else {
                continue;
            };
            if doc.map(target).is_none() {
                continue;
            }
            if doc.is_null(extension.value) {
                continue;
            }
            let Some(attributes) = doc.map(extension.value).map(<[Entry]>::to_vec) else {
                return Err(unreadable(
                    doc,
                    extension.value,
                    &format!("the extension of `{name}`"),
                ));
            };
            for attribute in attributes {
                extend(doc, target, attribute, &name)?;
            }
        }
    }
    Ok(())
}

/// Apply one attribute of an extension to the resource mapping `target`.
fn extend(
    doc: &mut Document,
    target: NodeId,
    attribute: Entry,
    name: &str,
) -> Result<(), FileError> {
    let key = doc.key(&attribute).to_string();
    let existing = doc.get(target, &key);
    if REPLACED.contains(&key.as_str()) {
        set_entry(doc, target, existing, attribute);
        return Ok(());
    }
    if !MERGED.contains(&key.as_str()) {
        // `DependsOn` adds dependencies only; any other attribute fails `serverless package`.
        return Ok(());
    }
    if doc.is_null(attribute.value) {
        return Ok(());
    }
    let Some(added) = doc.map(attribute.value).map(<[Entry]>::to_vec) else {
        return Err(unreadable(
            doc,
            attribute.value,
            &format!("the `{key}` extension of `{name}`"),
        ));
    };
    if let Some(written) = existing.filter(|e| doc.map(e.value).is_none() && !doc.is_null(e.value))
    {
        return Err(unreadable(
            doc,
            written.value,
            &format!("the `{key}` of `{name}`, which an extension merges into,"),
        ));
    }
    let Some(existing) = existing.filter(|e| doc.map(e.value).is_some()) else {
        // No mapping to merge into: the Framework starts from `{}`.
        set_entry(doc, target, existing, attribute);
        return Ok(());
    };
    let mut merged: Vec<Entry> = doc.map(existing.value).unwrap_or_default().to_vec();
    for entry in added {
        let key = doc.key(&entry).to_string();
        match merged.iter().position(|e| doc.key(e) == key) {
            Some(at) => merged[at] = entry,
            None => merged.push(entry),
        }
    }
    let original = doc.node(existing.value);
    let node = crate::load::Node {
        span: original.span,
        tag: None,
        kind: NodeKind::Map(merged),
    };
    let id = doc.push(node);
    // The merged mapping's entries lie in two places: no edit may insert into it by
    // position or remove from it (edits refuse shared nodes).
    doc.shared.insert(id);
    set_entry(
        doc,
        target,
        Some(existing),
        Entry {
            key: existing.key,
            value: id,
        },
    );
    Ok(())
}

/// Put `entry` in place of `existing` in the mapping `target`, or append it.
fn set_entry(doc: &mut Document, target: NodeId, existing: Option<Entry>, entry: Entry) {
    doc.large_maps.remove(&target);
    if let NodeKind::Map(entries) = &mut doc.nodes[target as usize].kind {
        match existing.and_then(|e| entries.iter().position(|x| *x == e)) {
            Some(at) => entries[at] = entry,
            None => entries.push(entry),
        }
    }
}

fn unreadable(doc: &Document, node: NodeId, what: &str) -> FileError {
    let variable = doc.str(node).is_some_and(is_variable);
    let why = if variable {
        "is a Serverless variable, resolved only at deploy time"
    } else {
        "is not a mapping"
    };
    FileError::at(
        format!("{what} {why}, so the resources it extends cannot be checked"),
        doc.span(node),
        "cannot be read",
    )
    .with_help("write the extension as a mapping of attributes (`DeletionPolicy: Retain`, `Properties: {...}`) in the file")
}
