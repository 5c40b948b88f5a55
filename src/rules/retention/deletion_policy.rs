//! DDB001 deletion-policy
//!
//! ## What it checks
//! Every DynamoDB table (`AWS::DynamoDB::Table`, `AWS::DynamoDB::GlobalTable`,
//! `AWS::Serverless::SimpleTable`, also inside `Fn::ForEach`) must have a `DeletionPolicy`
//! that is `Retain` or `RetainExceptOnCreate` in every case: every `Fn::If` branch, every
//! allowed value of a referenced parameter, every mapping entry it can select. With
//! `allow_retain_except_on_create = false` in `ddb-guard.toml`, only `Retain` passes.
//!
//! ## Why it matters
//! Without `DeletionPolicy`, CloudFormation deletes the table, with all its data, when the
//! stack is deleted or when the resource is removed from the template. `Snapshot` is not
//! supported for DynamoDB tables, and values are case-sensitive (`retain` is invalid).
//!
//! ## Example
//! ```yaml
//! OrdersTable:
//!   Type: AWS::DynamoDB::Table
//!   DeletionPolicy: !If [IsProd, Retain, Delete]
//! ```
//!
//! ## Use instead
//! ```yaml
//! OrdersTable:
//!   Type: AWS::DynamoDB::Table
//!   DeletionPolicy: Retain
//! ```
//!
//! ## Fix safety
//! Inserting a missing `DeletionPolicy: Retain` or replacing a wrong literal is safe.
//! Replacing a conditional (`Fn::If`, `Ref`) value changes intended behaviour and is
//! applied only with `--unsafe-fixes`.

use super::policy::{check_policy, policy_state, PolicySpec};
use crate::finding::{Finding, Severity};
use crate::rules::layers::LayerState;
use crate::rules::{Check, ResourceView, Rule};

pub const RULE: Rule = Rule {
    code: "DDB001",
    name: "deletion-policy",
    severity: Severity::Error,
    summary: "DynamoDB table must have DeletionPolicy Retain in every case",
    needles: &[&["dynamodb"], &["simpletable"]],
    default_enabled: true,
    per_table: true,
    check: Check::Resource(check),
    source: include_str!("deletion_policy.rs"),
};

const CONSEQUENCE: &str = "CloudFormation deletes the table and its data when the stack is deleted or the resource is removed";

pub(in crate::rules) const SPEC: PolicySpec = PolicySpec {
    attribute: "DeletionPolicy",
    retains: &["Retain", "RetainExceptOnCreate"],
    consequence: CONSEQUENCE,
    explain,
};

/// For projects with `allow_retain_except_on_create = false`.
const RETAIN_ONLY: PolicySpec = PolicySpec {
    attribute: "DeletionPolicy",
    retains: &["Retain"],
    consequence: CONSEQUENCE,
    explain: explain_retain_only,
};

fn explain(value: &str) -> Option<&'static str> {
    (value == "Snapshot").then_some("which DynamoDB tables do not support")
}

fn explain_retain_only(value: &str) -> Option<&'static str> {
    match value {
        "RetainExceptOnCreate" => Some(
            "which this project does not accept (`allow_retain_except_on_create = false` in ddb-guard.toml)",
        ),
        _ => explain(value),
    }
}

fn check(view: &ResourceView) -> Vec<Finding> {
    check_policy(view, &RULE, spec(view))
}

/// Retained on delete, as this rule decides it (for the inventory).
pub(in crate::rules) fn state(view: &ResourceView) -> LayerState {
    policy_state(view, spec(view))
}

fn spec(view: &ResourceView) -> &'static PolicySpec {
    if view.options.allow_retain_except_on_create {
        &SPEC
    } else {
        &RETAIN_ONLY
    }
}

#[cfg(test)]
mod tests {
    use crate::model::with_yaml_template;
    use crate::rules::RuleOptions;
    use crate::ruleset::check_template;

    fn codes(text: &str, options: &RuleOptions) -> Vec<&'static str> {
        with_yaml_template(text, |template| {
            check_template(template, &[&super::RULE], options)
                .into_iter()
                .map(|f| f.code)
                .collect()
        })
    }

    const EXCEPT_ON_CREATE: &str = "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: RetainExceptOnCreate\n    UpdateReplacePolicy: Retain\n";

    #[test]
    fn retain_except_on_create_proves_deletion_policy_by_default() {
        assert!(codes(EXCEPT_ON_CREATE, &RuleOptions::default()).is_empty());
    }

    #[test]
    fn retain_except_on_create_is_a_finding_when_the_project_disallows_it() {
        let strict = RuleOptions {
            allow_retain_except_on_create: false,
        };
        assert_eq!(codes(EXCEPT_ON_CREATE, &strict), ["DDB001"]);
    }
}
