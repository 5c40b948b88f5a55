//! DDB008 unresolved-type
//!
//! ## What it checks
//! Every entry under `Resources` must be a mapping whose `Type` is a literal string. An
//! entry whose type cannot be read statically is reported: a `Type` written as an
//! intrinsic function (`Type: !Ref TableType`, `!Sub`, `!If`), a `Type` that is a mapping,
//! a list or null, a resource without `Type`, a resource that is not a mapping at all
//! (`Orders: AWS::DynamoDB::Table`), an `Fn::ForEach` whose shape is not
//! `[Identifier, [items], {fragment}]`, and an `Fn::Transform` placed inside `Resources`.
//! In a Serverless Framework service (`serverless.yml`), a `Type` that holds a variable
//! (`Type: ${self:custom.tableType}`) is resolved only at deploy time: it is reported too.
//!
//! ## Why it matters
//! ddb-guard proves that every DynamoDB table is retained; a resource whose type it cannot
//! know might be a table, and skipping it would let that table through unchecked. Each of
//! these shapes is also rejected or rewritten by CloudFormation (`Every Type member must
//! be a string`), so the template is broken either way, and a transform inside `Resources`
//! brings in resources from elsewhere that no static check sees.
//!
//! The rule runs only on files that mention DynamoDB (`dynamodb` or `simpletable`, any
//! case), like DDB001 and DDB002. That is sound: CloudFormation accepts only a literal
//! `Type`, so a template without those words can never deploy a table through an
//! unresolved one; and a `Type` that a deployment parameter could fill in would be
//! rejected before any resource is created. A Serverless variable is resolved before
//! CloudFormation sees the template, so a file that holds `type` and `${` is read too.
//!
//! ## Example
//! ```yaml
//! Parameters:
//!   TableType:
//!     Type: String
//!     Default: AWS::DynamoDB::Table
//! Resources:
//!   Orders:
//!     Type: !Ref TableType
//! ```
//!
//! ## Use instead
//! ```yaml
//! Resources:
//!   Orders:
//!     Type: AWS::DynamoDB::Table
//!     DeletionPolicy: Retain
//!     UpdateReplacePolicy: Retain
//! ```
//!
//! ## Fix safety
//! No fix: only the author knows which type was meant.

use crate::finding::{Finding, Severity};
use crate::load::NodeKind;
use crate::rules::{Check, ResourceView, Rule};

pub const RULE: Rule = Rule {
    code: "DDB008",
    name: "unresolved-type",
    severity: Severity::Error,
    summary: "Resource type must be a literal string, or the resource could be an unchecked table",
    needles: &[&["dynamodb"], &["simpletable"], &["type", "${"]],
    default_enabled: true,
    per_table: false,
    check: Check::Resource(check),
    source: include_str!("unresolved_type.rs"),
};

const CONSEQUENCE: &str =
    "ddb-guard cannot tell whether it is a DynamoDB table, so it is not checked";

fn check(view: &ResourceView) -> Vec<Finding> {
    let resource = view.resource;
    if resource.type_name.is_some() {
        return Vec::new();
    }
    let doc = view.doc();
    let id = resource.logical_id;
    let (span, message, label, help) = if id.starts_with("Fn::ForEach::") {
        (
            view.key_span(),
            format!("`{id}` is not [identifier, [items], {{fragment}}]: {CONSEQUENCE}"),
            "malformed loop".to_string(),
            "write the loop as `[Identifier, [Item1, Item2], {LogicalId${Identifier}: {Type: ...}}]`",
        )
    } else if id == "Fn::Transform" {
        (
            view.key_span(),
            format!("`Fn::Transform` inside `Resources` adds resources from outside this file: {CONSEQUENCE}"),
            "resources from a transform".to_string(),
            "check the included snippet itself, or write its resources into this template",
        )
    } else if doc.map(resource.node).is_none() {
        (
            doc.span(resource.node),
            format!(
                "resource `{id}` is {}, not a mapping with a `Type`: {CONSEQUENCE}",
                shape(doc, resource.node)
            ),
            "not a resource mapping".to_string(),
            "write the resource as a mapping: `Type: ...` and its attributes, indented under the logical ID",
        )
    } else if let Some(ty) = doc.get_value(resource.node, "Type") {
        let what = match (doc.call(ty), doc.str(ty)) {
            (Some(call), _) => format!("the intrinsic function `{}`", call.name),
            (None, Some(text)) if text.contains("${") => format!(
                "the Serverless variable `{}`, resolved only at deploy time",
                crate::model::eval::short(text)
            ),
            (None, _) => shape(doc, ty),
        };
        (
            doc.span(ty),
            format!("the `Type` of resource `{id}` is {what}, not a literal string: {CONSEQUENCE}"),
            "not a literal type".to_string(),
            "write the type out, e.g. `Type: AWS::DynamoDB::Table`; CloudFormation does not resolve functions in `Type`",
        )
    } else {
        (
            view.key_span(),
            format!("resource `{id}` has no `Type`: {CONSEQUENCE}"),
            "no `Type`".to_string(),
            "add the resource's `Type`, e.g. `Type: AWS::DynamoDB::Table`",
        )
    };
    let mut finding = view.finding(&RULE, span, message, label);
    finding.help = Some(help.to_string());
    vec![finding]
}

/// "a list", "a mapping", "null", "a `!Tag` value", "a string".
fn shape(doc: &crate::load::Document, id: crate::load::NodeId) -> String {
    if doc.is_null(id) {
        return "null".into();
    }
    let node = doc.node(id);
    match (&node.kind, node.tag.as_deref()) {
        (NodeKind::Seq(_), _) => "a list".into(),
        (NodeKind::Map(_), _) => "a mapping".into(),
        (NodeKind::Scalar(_), Some(tag)) if tag != "!!str" => format!("a value tagged `{tag}`"),
        (NodeKind::Scalar(_), _) => "a string".into(),
    }
}

#[cfg(test)]
mod tests {
    use crate::load::{load, Format, Limits};
    use crate::model::Template;
    use crate::rules::RuleOptions;
    use crate::ruleset::check_template;

    fn messages(yaml: &str) -> Vec<String> {
        let doc = load(yaml, Format::Yaml, &Limits::default()).unwrap();
        let template = Template::from_document(&doc).unwrap().unwrap();
        check_template(&template, &[&super::RULE], &RuleOptions::default())
            .into_iter()
            .map(|f| f.message)
            .collect()
    }

    #[test]
    fn type_written_as_ref_is_a_finding() {
        let found = messages("Resources:\n  T:\n    Type: !Ref Kind\n");
        assert_eq!(found.len(), 1);
        assert!(
            found[0].contains("the intrinsic function `Ref`"),
            "{found:?}"
        );
    }

    #[test]
    fn type_written_as_long_form_sub_is_a_finding() {
        let found = messages("Resources:\n  T:\n    Type: {Fn::Sub: 'AWS::${S}::Table'}\n");
        assert_eq!(found.len(), 1);
        assert!(found[0].contains("`Fn::Sub`"), "{found:?}");
    }

    #[test]
    fn resource_that_is_a_string_list_or_null_is_a_finding() {
        let found = messages("Resources:\n  A: AWS::DynamoDB::Table\n  B: [1]\n  C:\n");
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found[0].contains("is a string"));
        assert!(found[1].contains("is a list"));
        assert!(found[2].contains("is null"));
    }

    #[test]
    fn missing_or_null_type_is_a_finding() {
        let found = messages("Resources:\n  A:\n    Properties: {}\n  B:\n    Type:\n");
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].contains("has no `Type`"));
        assert!(found[1].contains("is null"));
    }

    #[test]
    fn literal_types_even_odd_ones_are_not_findings() {
        let found = messages(
            "Resources:\n  A:\n    Type: AWS::S3::Bucket\n  B:\n    Type: 42\n  C:\n    Type: !!str AWS::SNS::Topic\n",
        );
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn malformed_for_each_is_a_finding() {
        let found =
            messages("Resources:\n  Fn::ForEach::T: [X, {Tx: {Type: AWS::DynamoDB::Table}}]\n");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("Fn::ForEach::T"));
    }

    #[test]
    fn transform_inside_resources_is_a_finding() {
        let found = messages(
            "Resources:\n  Fn::Transform:\n    Name: AWS::Include\n    Parameters: {Location: s3://b/k}\n",
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("Fn::Transform"));
    }
}
