//! DDB007 template-not-checked
//!
//! ## What it checks
//! An `AWS::CloudFormation::StackSet` whose `TemplateBody` (the template CloudFormation
//! deploys to every target account and Region) cannot be read before deployment: a body
//! built with `Ref`, `Fn::Join`, `Fn::If`, or an `Fn::Sub` whose placeholders are not
//! all pseudo parameters (`${AWS::Region}`), and a literal body that does not load as a
//! template. A literal body is checked as a template by every other rule, in place; this
//! rule reports the bodies that could not be.
//!
//! ## Why it matters
//! The tables in a stack set's template are created in every target account. A body
//! ddb-guard cannot read may declare a table without `DeletionPolicy: Retain`, so it fails
//! closed: an error, never a pass.
//!
//! ## Example
//! ```yaml
//! Resources:
//!   Everywhere:
//!     Type: AWS::CloudFormation::StackSet
//!     Properties:
//!       StackSetName: orders
//!       PermissionModel: SERVICE_MANAGED
//!       TemplateBody: !Join ["\n", [!Ref Header, "Resources: ..."]]
//! ```
//!
//! ## Use instead
//! Write the body as a literal YAML block scalar (pseudo parameters in an `!Sub` are
//! fine), so that ddb-guard can check it:
//! ```yaml
//! Resources:
//!   Everywhere:
//!     Type: AWS::CloudFormation::StackSet
//!     Properties:
//!       StackSetName: orders
//!       PermissionModel: SERVICE_MANAGED
//!       TemplateBody: |
//!         Resources:
//!           Orders:
//!             Type: AWS::DynamoDB::Table
//!             DeletionPolicy: Retain
//!             UpdateReplacePolicy: Retain
//! ```
//! Or keep the template in a file, check that file, and gate the deployment on its change
//! set.
//!
//! ## Fix safety
//! No fix: only the author knows what the body should be.

use crate::finding::{Finding, Severity};
use crate::model::nested::STACK_SET;
use crate::rules::{Check, ResourceView, Rule};
use crate::source::Span;

pub const RULE: Rule = Rule {
    code: "DDB007",
    name: "template-not-checked",
    severity: Severity::Error,
    summary:
        "A stack set's TemplateBody cannot be read before deployment, so its tables are not checked",
    needles: &[&["aws::cloudformation::stackset"]],
    default_enabled: true,
    per_table: false,
    check: Check::Resource(check),
    source: include_str!("template_not_checked.rs"),
};

fn check(view: &ResourceView) -> Vec<Finding> {
    if view.resource.type_name != Some(STACK_SET) {
        return Vec::new();
    }
    let Some(body) = view.property("TemplateBody") else {
        return Vec::new();
    };
    if crate::model::nested::literal_body(view.doc(), body.value).is_some() {
        return Vec::new();
    }
    vec![unreadable(
        view.resource.logical_id,
        view.doc().span(body.value),
        "its `TemplateBody` is not a literal string",
    )]
}

/// The finding for a stack set `id` whose body at `span` cannot be checked, and `why`.
pub fn unreadable(id: &str, span: Span, why: &str) -> Finding {
    Finding {
        code: RULE.code,
        name: RULE.name,
        severity: RULE.severity,
        resource: id.to_string(),
        resource_type: STACK_SET.to_string(),
        message: format!(
            "the template of stack set `{id}` cannot be read: {why}, so the tables it deploys \
             to every target account are not checked"
        ),
        span,
        label: "template not readable".to_string(),
        labels: Vec::new(),
        help: Some(
            "write the `TemplateBody` as a literal string (a YAML block scalar), or check the \
             template file itself and gate the deployment on its change set"
                .to_string(),
        ),
        fix: None,
        template: None,
        cdk: None,
    }
}
