//! Templates that a template deploys without holding them: nested stacks
//! (`AWS::CloudFormation::Stack` `TemplateURL`, `AWS::Serverless::Application`
//! `Location`) and stack sets (`AWS::CloudFormation::StackSet` `TemplateURL`; an inline
//! `TemplateBody` is read by [`crate::stackset`]).
//!
//! A location that is a local path (the `aws cloudformation package` / `sam build`
//! convention: relative to the directory of the template that names it) is a file the
//! checker follows and checks through the same per-file path as any other
//! ([`crate::template_file::TemplateFile`]). Any other location (an `https://` or `s3://`
//! URL, an intrinsic function, a Serverless Application Repository application) is a
//! template ddb-guard cannot see: DDB006 says so, once per template, and the inventory lists
//! it as not visible.

use std::path::{Component, Path, PathBuf};

use crate::load::{Document, NodeId, NodeKind};
use crate::model::Template;

pub const STACK: &str = "AWS::CloudFormation::Stack";
pub const APPLICATION: &str = "AWS::Serverless::Application";
pub const STACK_SET: &str = "AWS::CloudFormation::StackSet";

/// One resource that deploys another template.
#[derive(Clone, Debug)]
pub struct Nested<'d> {
    pub logical_id: &'d str,
    pub type_name: &'static str,
    /// The location's value node (`TemplateURL`, `Location`), or the resource's key when
    /// it has none.
    pub node: NodeId,
    pub location: Location<'d>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location<'d> {
    /// A path relative to the template's directory (or absolute).
    Local(&'d str),
    /// Not visible before deployment, and why (ends a sentence: "its template is ...").
    NotVisible(&'static str),
}

/// Every nested stack and stack-set `TemplateURL` of `template`, in template order.
/// A stack set with an inline `TemplateBody` and no `TemplateURL` is not listed.
pub fn nested<'d>(template: &Template<'d, '_>) -> Vec<Nested<'d>> {
    let doc = template.doc;
    let mut out = Vec::new();
    for resource in &template.resources {
        let (type_name, property) = match resource.type_name {
            Some(STACK) => (STACK, "TemplateURL"),
            Some(APPLICATION) => (APPLICATION, "Location"),
            Some(STACK_SET) => (STACK_SET, "TemplateURL"),
            _ => continue,
        };
        let value = doc
            .get_value(resource.node, "Properties")
            .and_then(|props| doc.get_value(props, property));
        let Some(value) = value else {
            if type_name != STACK_SET {
                out.push(Nested {
                    logical_id: resource.logical_id,
                    type_name,
                    node: resource.key,
                    location: Location::NotVisible(if type_name == STACK {
                        "not named (no literal `TemplateURL`)"
                    } else {
                        "not named (no `Location`)"
                    }),
                });
            }
            continue;
        };
        let location = match doc.str(value) {
            Some(text) if is_remote(text) => Location::NotVisible("at a URL"),
            Some(text) if text.trim().is_empty() => Location::NotVisible("not named (empty)"),
            Some(text) => Location::Local(text),
            None if type_name == APPLICATION && doc.get_value(value, "ApplicationId").is_some() => {
                Location::NotVisible("a Serverless Application Repository application")
            }
            None => Location::NotVisible("computed at deploy time (not a literal string)"),
        };
        out.push(Nested {
            logical_id: resource.logical_id,
            type_name,
            node: value,
            location,
        });
    }
    out
}

/// A URL (or anything with a scheme): CloudFormation fetches it, `package` leaves it as is.
fn is_remote(location: &str) -> bool {
    location.contains("://")
}

/// A local `location` named by the template read from `path` and reported as `display`:
/// the path to read (relative to the template's directory, as `aws cloudformation
/// package` reads it) and how to report it (the same, from `display`, with `.` and `..`
/// folded away).
pub fn resolve(path: &Path, display: &str, location: &str) -> (PathBuf, String) {
    let location = Path::new(location);
    if location.is_absolute() {
        return (location.to_path_buf(), location.display().to_string());
    }
    let dir = |p: &Path| p.parent().map(Path::to_path_buf).unwrap_or_default();
    let target = dir(path).join(location);
    let joined = dir(Path::new(display)).join(location);
    let mut shown: Vec<Component> = Vec::new();
    for part in joined.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir if matches!(shown.last(), Some(Component::Normal(_))) => {
                shown.pop();
            }
            other => shown.push(other),
        }
    }
    let shown: PathBuf = shown.iter().collect();
    (target, shown.display().to_string())
}

/// Why the local template at `target` is not read, if it is not: it must be a regular
/// file inside the directory ddb-guard runs in. A template on an untrusted pull request
/// could otherwise name any file of the machine (`/home/runner/.aws/credentials`) and have
/// its load error quote it in a public log. Ends a sentence: "..., which {why}".
pub fn unreadable(target: &Path) -> Option<String> {
    crate::read::confined(target).err()
}

/// "nested stack", "stack set": how messages name a resource of `type_name`.
pub fn kind(type_name: &str) -> &'static str {
    match type_name {
        STACK_SET => "stack set",
        APPLICATION => "nested application",
        _ => "nested stack",
    }
}

/// The body's text when it is known before deployment: a plain string, or an `Fn::Sub`
/// of one whose only placeholders are pseudo parameters (they cannot add YAML).
pub fn literal_body<'d>(doc: &'d Document, body: NodeId) -> Option<Body<'d>> {
    let node = doc.node(body);
    match (&node.kind, node.tag.as_deref()) {
        (NodeKind::Scalar(s), None) => Some(Body {
            text: &s.text,
            node: body,
            mappable: true,
        }),
        (NodeKind::Scalar(s), Some("Fn::Sub")) if pseudo_only(&s.text) => Some(Body {
            text: &s.text,
            node: body,
            mappable: true,
        }),
        (NodeKind::Map(entries), None) if entries.len() == 1 => {
            let entry = *doc.entries(*entries).first()?;
            if doc.scalar(entry.key).map(|k| k.text.as_ref()) != Some("Fn::Sub") {
                return None;
            }
            let value = doc.node(entry.value);
            match (&value.kind, value.tag.as_deref()) {
                (NodeKind::Scalar(s), None) if pseudo_only(&s.text) => Some(Body {
                    text: &s.text,
                    node: entry.value,
                    mappable: true,
                }),
                _ => None,
            }
        }
        _ => None,
    }
}

/// A stack set's `TemplateBody` known before deployment (see [`literal_body`]).
pub struct Body<'d> {
    pub text: &'d str,
    pub node: NodeId,
    pub mappable: bool,
}

/// Every `${` in `text` is `${!` (a literal) or `${AWS::...}` (a pseudo parameter, which
/// CloudFormation replaces by a value that holds no line break).
pub(crate) fn pseudo_only(text: &str) -> bool {
    let mut rest = text;
    while let Some(at) = rest.find("${") {
        rest = &rest[at + 2..];
        if !(rest.starts_with('!') || rest.starts_with("AWS::")) {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{self, Format, Limits};

    fn locations(text: &str) -> Vec<(String, Location<'static>)> {
        let text: &'static str = Box::leak(text.to_string().into_boxed_str());
        let doc: &'static _ = Box::leak(Box::new(
            load::load(text, Format::Yaml, &Limits::default()).expect("loads"),
        ));
        let template = Template::from_document(doc)
            .expect("valid")
            .expect("template");
        nested(&template)
            .into_iter()
            .map(|n| (n.logical_id.to_string(), n.location))
            .collect()
    }

    #[test]
    fn a_local_path_is_relative_to_the_including_template() {
        let (path, shown) = resolve(
            Path::new("/repo/stacks/main.yaml"),
            "stacks/main.yaml",
            "./db/../shared/tables.yaml",
        );
        assert_eq!(path, Path::new("/repo/stacks/./db/../shared/tables.yaml"));
        assert_eq!(shown, "stacks/shared/tables.yaml");
        let (_, shown) = resolve(Path::new("main.yaml"), "main.yaml", "../up.yaml");
        assert_eq!(shown, "../up.yaml");
    }

    #[test]
    fn local_paths_are_followed_and_everything_else_is_not_visible() {
        let found = locations(
            "Resources:
  Local: {Type: AWS::CloudFormation::Stack, Properties: {TemplateURL: ./db/tables.yaml}}
  Https: {Type: AWS::CloudFormation::Stack, Properties: {TemplateURL: 'https://b.s3.amazonaws.com/t.yaml'}}
  S3: {Type: AWS::Serverless::Application, Properties: {Location: 's3://b/t.yaml'}}
  Sar: {Type: AWS::Serverless::Application, Properties: {Location: {ApplicationId: arn, SemanticVersion: 1.0.0}}}
  Sub: {Type: AWS::CloudFormation::Stack, Properties: {TemplateURL: !Sub 'https://${B}/t.yaml'}}
  App: {Type: AWS::Serverless::Application, Properties: {Location: app/template.yaml}}
  Set: {Type: AWS::CloudFormation::StackSet, Properties: {TemplateBody: 'Resources: {}'}}
  SetUrl: {Type: AWS::CloudFormation::StackSet, Properties: {TemplateURL: 'https://x/t.yaml'}}
",
        );
        let by = |id: &str| {
            found
                .iter()
                .find(|(i, _)| i == id)
                .map(|(_, l)| l.clone())
                .unwrap_or_else(|| panic!("{id} in {found:?}"))
        };
        assert_eq!(by("Local"), Location::Local("./db/tables.yaml"));
        assert_eq!(by("App"), Location::Local("app/template.yaml"));
        for id in ["Https", "S3", "Sar", "Sub", "SetUrl"] {
            assert!(matches!(by(id), Location::NotVisible(_)), "{id}");
        }
        assert!(
            found.iter().all(|(i, _)| i != "Set"),
            "inline body: {found:?}"
        );
    }
}
