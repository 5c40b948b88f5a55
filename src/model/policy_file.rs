//! Policy documents kept as files: an IAM policy document at the top level (`Version`,
//! `Statement`), or one of the shapes the AWS CLI prints around documents:
//!
//! - `aws iam get-policy-version`: `PolicyVersion.Document` (an object, or the API's
//!   URL-encoded string);
//! - `aws iam get-role-policy` / `get-user-policy` / `get-group-policy`: `PolicyDocument`
//!   beside `PolicyName`;
//! - `aws organizations describe-policy`: `Policy.Content`, a JSON string, with
//!   `Policy.PolicySummary.Type` (only `SERVICE_CONTROL_POLICY` is an IAM-grammar policy
//!   that matters here; tag and backup policies are skipped);
//! - `aws iam get-account-authorization-details`: the inline policies of
//!   `UserDetailList`/`GroupDetailList`/`RoleDetailList` and every version in
//!   `Policies[].PolicyVersionList[].Document` (a version that is not the default one is
//!   still checked: `iam:SetDefaultPolicyVersion` makes it the policy in effect).
//!
//! Documents written inside strings are loaded and grafted into the file's arena
//! ([`crate::load::embedded`]), so every node keeps a span in the file. A bare document
//! is an identity policy, unless its path marks it as a service control policy (a
//! directory named `scp`, `scps` or `service-control-policies`, or a name ending in
//! `.scp.json`/`.scp.yaml`/`.scp.yml`).
//!
//! The IAM rules read these documents through the same model as template policies, so
//! the shape is checked here, where CloudFormation would not have: a `Statement` that is
//! not an object or a list, an `Effect` other than `Allow`/`Deny`, an `Action` or
//! `Resource` that is not a string or a list of strings is an error with its position
//! whenever the statement could grant or deny one of [`GUARDED_ACTIONS`] (an error fails
//! the run: nothing is proven about a document IAM would read differently).

use std::borrow::Cow;
use std::path::Path;

use crate::load::embedded::graft_json_string;
use crate::load::{Document, FileError, Limits, Node, NodeId, NodeKind, Scalar, ScalarStyle};
use crate::model::iam::{action_matches, PolicyKind, GUARDED_ACTIONS};

/// One policy document of a policy file.
#[derive(Clone, Debug)]
pub struct FilePolicy {
    /// A scalar node holding the policy's name (pushed into the arena).
    pub name: NodeId,
    /// The document (a mapping with `Statement`).
    pub document: NodeId,
    pub kind: PolicyKind,
    /// The policy in effect: false for a managed policy version that is not the default.
    pub in_effect: bool,
}

/// The policy documents of a loaded file that is not a template, or `None` when it holds
/// none (any other JSON or YAML file).
pub fn detect(
    doc: &mut Document,
    path: &Path,
    limits: &Limits,
) -> Result<Option<Vec<FilePolicy>>, FileError> {
    if !doc.more_documents.is_empty() {
        return Ok(None);
    }
    let Some(root) = doc.root.filter(|r| doc.map(*r).is_some()) else {
        return Ok(None);
    };
    let stem = path
        .file_name()
        .and_then(|n| n.to_str())
        .map(|n| n.split('.').next().unwrap_or(n))
        .filter(|n| !n.is_empty())
        .unwrap_or("policy")
        .to_string();
    let mut found: Vec<(String, NodeId, PolicyKind, bool)> = Vec::new();
    let keys: Vec<String> = doc
        .map(root)
        .unwrap_or_default()
        .iter()
        .map(|e| doc.key(e).to_string())
        .collect();
    let has = |k: &str| keys.iter().any(|x| x == k);
    if has("Statement")
        && keys
            .iter()
            .all(|k| matches!(k.as_str(), "Version" | "Id" | "Statement"))
    {
        let kind = if is_scp_path(path) {
            PolicyKind::ServiceControl
        } else {
            PolicyKind::Identity
        };
        found.push((stem, root, kind, true));
    } else if let Some(version) = doc.get_value(root, "PolicyVersion") {
        if let Some(d) = doc.get_value(version, "Document") {
            let in_effect = !is_false(doc, version, "IsDefaultVersion");
            let d = document_node(doc, d, limits)?;
            found.push((stem, d, PolicyKind::Identity, in_effect));
        }
    } else if let (Some(d), true) = (doc.get_value(root, "PolicyDocument"), has("PolicyName")) {
        let name = text(doc, root, "PolicyName").unwrap_or(stem);
        let owner = ["RoleName", "UserName", "GroupName"]
            .iter()
            .find_map(|k| text(doc, root, k));
        let name = match owner {
            Some(owner) => format!("{owner}/{name}"),
            None => name,
        };
        let d = document_node(doc, d, limits)?;
        found.push((name, d, PolicyKind::Identity, true));
    } else if let Some(policy) = doc.get_value(root, "Policy") {
        if let Some(content) = doc.get_value(policy, "Content") {
            let summary = doc.get_value(policy, "PolicySummary");
            let kind = summary.and_then(|s| text(doc, s, "Type"));
            if kind.is_none() || kind.as_deref() == Some("SERVICE_CONTROL_POLICY") {
                let name = summary.and_then(|s| text(doc, s, "Name")).unwrap_or(stem);
                let d = document_node(doc, content, limits)?;
                found.push((name, d, PolicyKind::ServiceControl, true));
            }
        }
    } else if [
        "UserDetailList",
        "GroupDetailList",
        "RoleDetailList",
        "Policies",
    ]
    .iter()
    .any(|k| doc.get_value(root, k).is_some_and(|v| doc.seq(v).is_some()))
    {
        authorization_details(doc, root, limits, &mut found)?;
    }
    if found.is_empty() {
        return Ok(None);
    }
    let mut out = Vec::new();
    for (name, document, kind, in_effect) in found {
        validate(doc, document)?;
        let span = doc.span(document);
        let name = doc.push(Node {
            span,
            tag: None,
            kind: NodeKind::Scalar(Scalar {
                text: Cow::Owned(name),
                style: ScalarStyle::Quoted,
            }),
        });
        out.push(FilePolicy {
            name,
            document,
            kind,
            in_effect,
        });
    }
    Ok(Some(out))
}

fn authorization_details(
    doc: &mut Document,
    root: NodeId,
    limits: &Limits,
    found: &mut Vec<(String, NodeId, PolicyKind, bool)>,
) -> Result<(), FileError> {
    for (list, name_key, policies_key) in [
        ("UserDetailList", "UserName", "UserPolicyList"),
        ("GroupDetailList", "GroupName", "GroupPolicyList"),
        ("RoleDetailList", "RoleName", "RolePolicyList"),
    ] {
        let entries: Vec<NodeId> = items(doc, root, list);
        for entry in entries {
            let owner = text(doc, entry, name_key).unwrap_or_else(|| "?".into());
            for p in items(doc, entry, policies_key) {
                let Some(d) = doc.get_value(p, "PolicyDocument") else {
                    continue;
                };
                let name = text(doc, p, "PolicyName").unwrap_or_else(|| "?".into());
                let d = document_node(doc, d, limits)?;
                found.push((format!("{owner}/{name}"), d, PolicyKind::Identity, true));
            }
        }
    }
    for policy in items(doc, root, "Policies") {
        let name = text(doc, policy, "PolicyName")
            .or_else(|| text(doc, policy, "Arn").map(|arn| managed_policy_name(&arn).to_string()))
            .unwrap_or_else(|| "?".into());
        for version in items(doc, policy, "PolicyVersionList") {
            let Some(d) = doc.get_value(version, "Document") else {
                continue;
            };
            let in_effect = !is_false(doc, version, "IsDefaultVersion");
            let name = match (in_effect, text(doc, version, "VersionId")) {
                (false, Some(v)) => format!("{name}@{v}"),
                _ => name.clone(),
            };
            let d = document_node(doc, d, limits)?;
            found.push((name, d, PolicyKind::Identity, in_effect));
        }
    }
    Ok(())
}

/// A managed policy's name from its ARN (`arn:aws:iam::111122223333:policy/path/Name` is
/// `Name`), for a listing that leaves `PolicyName` out.
pub fn managed_policy_name(arn: &str) -> &str {
    arn.rsplit(['/', ':']).next().unwrap_or(arn)
}

fn items(doc: &Document, map: NodeId, key: &str) -> Vec<NodeId> {
    doc.get_value(map, key)
        .and_then(|v| doc.seq(v))
        .map(<[NodeId]>::to_vec)
        .unwrap_or_default()
}

/// A string field; `null` (a JSON rendering of a field the API left out) is none.
fn text(doc: &Document, map: NodeId, key: &str) -> Option<String> {
    doc.get_value(map, key)
        .filter(|v| !doc.is_null(*v))
        .and_then(|v| doc.str(v))
        .map(str::to_string)
}

fn is_false(doc: &Document, map: NodeId, key: &str) -> bool {
    doc.get_value(map, key)
        .and_then(|v| doc.scalar(v))
        .is_some_and(|s| s.style == ScalarStyle::Plain && s.text == "false")
}

/// The document node: the mapping itself, or the document inside a string (JSON, or
/// URL-encoded JSON as IAM's API returns it).
fn document_node(doc: &mut Document, node: NodeId, limits: &Limits) -> Result<NodeId, FileError> {
    if doc.map(node).is_some() {
        return Ok(node);
    }
    match doc.str(node) {
        Some(text) => {
            let url_encoded = text.trim_start().starts_with('%');
            graft_json_string(doc, node, url_encoded, limits)
        }
        None => Err(FileError::at(
            "a policy document must be an object (or a string holding one)",
            doc.span(node),
            "not a policy document",
        )),
    }
}

fn is_scp_path(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let by_name = [".scp.json", ".scp.yaml", ".scp.yml"]
        .iter()
        .any(|s| name.ends_with(s));
    let by_dir = path.parent().is_some_and(|p| {
        p.components().any(|c| {
            c.as_os_str().to_str().is_some_and(|c| {
                ["scp", "scps", "service-control-policies"]
                    .iter()
                    .any(|d| c.eq_ignore_ascii_case(d))
            })
        })
    });
    by_name || by_dir
}

/// Check the shape IAM requires wherever it decides a guarded action.
fn validate(doc: &Document, document: NodeId) -> Result<(), FileError> {
    let Some(statement) = doc.get_value(document, "Statement") else {
        return Err(FileError::at(
            "a policy document must have a `Statement`",
            doc.span(document),
            "no `Statement`",
        ));
    };
    let statements: Vec<NodeId> = if doc.map(statement).is_some() {
        vec![statement]
    } else if let Some(list) = doc.seq(statement) {
        list.to_vec()
    } else {
        return Err(FileError::at(
            "`Statement` must be an object or a list of objects",
            doc.span(statement),
            "not an object or a list",
        )
        .with_help("IAM refuses the policy; write `\"Statement\": [{\"Effect\": ..., \"Action\": ..., \"Resource\": ...}]`"));
    };
    for s in statements {
        if doc.map(s).is_none() {
            return Err(FileError::at(
                "each statement must be an object",
                doc.span(s),
                "not an object",
            ));
        }
        let actions = doc.get(s, "Action").or_else(|| doc.get(s, "NotAction"));
        let mut guarded = doc.get(s, "NotAction").is_some();
        if let Some(entry) = actions {
            match strings(doc, entry.value) {
                Ok(list) => {
                    guarded |= list
                        .iter()
                        .any(|p| GUARDED_ACTIONS.iter().any(|a| action_matches(p, a)))
                }
                Err(at) => {
                    return Err(FileError::at(
                        format!(
                            "`{}` must be a string or a list of strings",
                            doc.key(&entry)
                        ),
                        at,
                        "not a string",
                    )
                    .with_help("IAM refuses the policy, so nothing about it can be proven"))
                }
            }
        }
        if !guarded {
            continue;
        }
        match doc.get_value(s, "Effect") {
            Some(e) if matches!(doc.str(e), Some("Allow" | "Deny")) => {}
            Some(e) => return Err(FileError::at(
                "`Effect` must be `Allow` or `Deny` (IAM compares case-sensitively)",
                doc.span(e),
                "not `Allow` or `Deny`",
            )
            .with_help(
                "IAM refuses the policy: write `\"Effect\": \"Allow\"` or `\"Effect\": \"Deny\"`",
            )),
            None => {
                return Err(FileError::at(
                    "a statement that names a guarded action must have an `Effect`",
                    doc.span(s),
                    "no `Effect`",
                ))
            }
        }
        if let Some(entry) = doc.get(s, "Resource").or_else(|| doc.get(s, "NotResource")) {
            if let Err(at) = strings(doc, entry.value) {
                return Err(FileError::at(
                    format!(
                        "`{}` must be a string or a list of strings",
                        doc.key(&entry)
                    ),
                    at,
                    "not a string",
                )
                .with_help("IAM refuses the policy, so nothing about it can be proven"));
            }
        }
    }
    Ok(())
}

/// A string or a list of strings, or the span of the first value that is not one.
fn strings<'d>(doc: &'d Document, node: NodeId) -> Result<Vec<&'d str>, crate::source::Span> {
    if let Some(s) = string(doc, node) {
        return Ok(vec![s]);
    }
    let Some(list) = doc.seq(node) else {
        return Err(doc.span(node));
    };
    list.iter()
        .map(|&i| string(doc, i).ok_or(doc.span(i)))
        .collect()
}

/// A string value: quoted, or a plain scalar that is not null, a boolean or a number.
fn string<'d>(doc: &'d Document, node: NodeId) -> Option<&'d str> {
    let s = doc.scalar(node)?;
    if doc.node(node).tag.is_some() {
        return None;
    }
    if s.style == ScalarStyle::Plain
        && (doc.is_null(node)
            || matches!(
                &*s.text,
                "true" | "false" | "True" | "False" | "TRUE" | "FALSE"
            )
            || s.text.parse::<f64>().is_ok())
    {
        return None;
    }
    Some(&s.text)
}
