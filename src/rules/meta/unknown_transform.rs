//! DDB009 unknown-transform
//!
//! ## What it checks
//! The template's top-level `Transform` (a string or a list) may name only the transforms
//! ddb-guard reads the template through: `AWS::Serverless-2016-10-31` (SAM, whose
//! resources it checks as written), `AWS::LanguageExtensions` (`Fn::ForEach`,
//! `Fn::FindInMap` defaults, ... which the evaluator understands) and `AWS::Include`. Any
//! other name is a macro, and a `Transform` that is not a literal may be one: the finding
//! points at that value.
//!
//! ## Why it matters
//! A CloudFormation macro receives the whole template and returns another one: it can add,
//! remove or rewrite any resource, including a table's `DeletionPolicy`. What ddb-guard
//! proves about the file is then not what CloudFormation deploys. The template CloudFormation
//! actually runs exists only in a change set, which `ddb-guard changeset` checks.
//!
//! ## Example
//! ```yaml
//! Transform: [AWS::Serverless-2016-10-31, MyCompanyDefaults]
//! ```
//!
//! ## Use instead
//! Keep the macro, and gate the deployment on its change set:
//! ```sh
//! aws cloudformation create-change-set --stack-name orders --change-set-name c1 \
//!   --template-body file://template.yaml --capabilities CAPABILITY_AUTO_EXPAND
//! aws cloudformation wait change-set-create-complete --stack-name orders --change-set-name c1
//! aws cloudformation describe-change-set --stack-name orders --change-set-name c1 \
//!   --include-property-values --output json > cs.json
//! ddb-guard changeset cs.json --template template.yaml
//! ```
//!
//! ## Fix safety
//! No fix: the macro is part of the deployment.

use crate::finding::{Finding, Severity};
use crate::model::eval::short;
use crate::rules::{Check, ResourceView, Rule};

pub const RULE: Rule = Rule {
    code: "DDB009",
    name: "unknown-transform",
    severity: Severity::Warning,
    summary: "A Transform macro can rewrite every resource: gate the deployment on its change set",
    needles: &[&["transform"]],
    default_enabled: true,
    per_table: false,
    check: Check::Resource(check),
    source: include_str!("unknown_transform.rs"),
};

/// The transforms whose output ddb-guard reads as the template is written.
pub const KNOWN_TRANSFORMS: &[&str] = &[
    "AWS::Serverless-2016-10-31",
    "AWS::LanguageExtensions",
    "AWS::Include",
];

fn check(view: &ResourceView) -> Vec<Finding> {
    // A property of the template, reported once: with its first resource.
    let first = view.template.resources.first();
    if !first.is_some_and(|r| std::ptr::eq(r, view.resource)) {
        return Vec::new();
    }
    let doc = view.doc();
    let Some(transform) = doc.get_value(view.template.root, "Transform") else {
        return Vec::new();
    };
    let values: Vec<u32> = match doc.seq(transform) {
        Some(items) => items.to_vec(),
        None => vec![transform],
    };
    let mut out = Vec::new();
    for value in values {
        // `AWS::Include` written as a mapping `{Name: AWS::Include, Parameters: ...}`.
        let name_node = doc.get_value(value, "Name").unwrap_or(value);
        let (message, label) = match doc.str(name_node) {
            Some(name) if KNOWN_TRANSFORMS.contains(&name) => continue,
            Some(name) => (
                format!(
                    "`Transform` names macro `{}`, which can add, remove or rewrite every resource (a table's `DeletionPolicy` too): what is proven here may not be what CloudFormation deploys",
                    short(name)
                ),
                "a macro".to_string(),
            ),
            None => (
                "`Transform` is not a literal name, so it may be a macro that rewrites every resource: what is proven here may not be what CloudFormation deploys".to_string(),
                "not a literal transform name".to_string(),
            ),
        };
        let mut f = view.finding(&RULE, doc.span(value), message, label);
        f.help = Some("gate the deployment on its change set: create the change set, then run `ddb-guard changeset` on it".to_string());
        out.push(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::model::with_yaml_template;
    use crate::rules::RuleOptions;
    use crate::ruleset::check_template;

    fn messages(text: &str) -> Vec<String> {
        with_yaml_template(text, |template| {
            check_template(template, &[&super::RULE], &RuleOptions::default())
                .into_iter()
                .map(|f| f.message)
                .collect()
        })
    }

    #[test]
    fn a_macro_is_reported_once_and_known_transforms_are_not() {
        let body = "Resources:\n  A: {Type: AWS::SNS::Topic}\n  B: {Type: AWS::SNS::Topic}\n";
        let found = messages(&format!(
            "Transform: [AWS::Serverless-2016-10-31, Defaults]\n{body}"
        ));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("`Defaults`"));
        assert!(messages(&format!(
            "Transform: [AWS::LanguageExtensions, AWS::Serverless-2016-10-31]\n{body}"
        ))
        .is_empty());
        assert_eq!(messages(&format!("Transform: !Ref Name\n{body}")).len(), 1);
    }
}
