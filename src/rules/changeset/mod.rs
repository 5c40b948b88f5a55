//! The deploy-time gate's rules (DDB030-DDB036): pure functions of one page of a change
//! set (`ddb-guard changeset`), the way the pull-request guard's rules are pure functions
//! of a [`Comparison`](super::Comparison). Each is a [`Rule`] (so listing, docs, selection,
//! severities and the config file treat it like any other) whose [`Check::ChangeSet`] reads the page.

mod nested_stack;
mod policy_weakened;
mod protection_disabled;
mod replica_removed;
mod status;
mod table_removed;
mod table_replaced;

use std::collections::HashMap;

use super::{Check, Rule};
use crate::finding::{Finding, Severity};
use crate::model::changeset::{ChangeSetPage, ResourceChange};
use crate::source::Span;

pub use nested_stack::RULE as NESTED_STACK;
pub use policy_weakened::RULE as POLICY_WEAKENED;
pub use protection_disabled::RULE as PROTECTION_DISABLED;
pub use replica_removed::RULE as REPLICA_REMOVED;
pub use status::RULE as STATUS;
pub use table_removed::RULE as TABLE_REMOVED;
pub use table_replaced::RULE as TABLE_REPLACED;

/// The change-set rules among the enabled `rules` (so `select`/`ignore` apply to them).
pub fn changeset_rules(rules: &[&Rule]) -> Vec<&'static Rule> {
    super::RULES
        .iter()
        .copied()
        .filter(|c| {
            matches!(c.check, Check::ChangeSet(_)) && rules.iter().any(|r| r.code == c.code)
        })
        .collect()
}

/// Whether `code` is a change-set rule, which has nothing to check in a template.
pub fn is_changeset_rule(code: &str) -> bool {
    super::RULES
        .iter()
        .any(|c| c.code == code && matches!(c.check, Check::ChangeSet(_)))
}

/// What a change-set rule sees: one page of a change set, where it sits among nested
/// stacks, and the changes of every nested change set that was given.
pub struct PageView<'a> {
    pub page: &'a ChangeSetPage,
    /// The first page of its change set: findings about the set as a whole go there.
    pub first: bool,
    /// The logical IDs of the nested stacks this change set belongs to, outermost first
    /// (empty for the root change set).
    pub nested_in: &'a [String],
    /// The stack resource change in the parent change set whose nested change set this
    /// page belongs to.
    pub parent: Option<&'a ResourceChange>,
    /// The changes of each change set given, by `ChangeSetId`.
    pub sets: &'a HashMap<String, Vec<&'a ResourceChange>>,
}

impl PageView<'_> {
    /// "table `Orders`", or "table `Orders` in nested stack `Data`".
    pub fn named(&self, what: &str, change: &ResourceChange) -> String {
        let mut text = format!("{what} `{}`", change.logical_id.value);
        if !self.nested_in.is_empty() {
            text.push_str(&format!(
                " in nested stack `{}`",
                self.nested_in.join("` > `")
            ));
        }
        text
    }

    pub fn tables(&self) -> impl Iterator<Item = &ResourceChange> {
        self.page.changes.iter().filter(|c| c.is_table())
    }

    /// The changes of the nested change set of a stack resource, if it was given.
    pub fn nested_changes(&self, stack: &ResourceChange) -> Option<&[&ResourceChange]> {
        let id = stack.change_set_id.as_ref()?;
        self.sets.get(&id.value).map(Vec::as_slice)
    }
}

/// A finding of `rule` about one resource change, pointing at its `ResourceChange`.
pub fn finding(
    rule: &Rule,
    severity: Severity,
    change: &ResourceChange,
    message: String,
    label: impl Into<String>,
) -> Finding {
    at(rule, severity, change, change.span, message, label)
}

/// A finding of `rule` about `change`, pointing at `span`.
pub fn at(
    rule: &Rule,
    severity: Severity,
    change: &ResourceChange,
    span: Span,
    message: String,
    label: impl Into<String>,
) -> Finding {
    Finding {
        code: rule.code,
        name: rule.name,
        severity,
        resource: change.logical_id.value.clone(),
        resource_type: change.resource_type.value.clone(),
        message,
        span,
        label: label.into(),
        labels: Vec::new(),
        help: None,
        fix: None,
        template: None,
        cdk: None,
    }
}

/// Whether a policy value keeps the resource (`Retain`, `RetainExceptOnCreate`).
pub fn retains(policy: &str) -> bool {
    matches!(policy, "Retain" | "RetainExceptOnCreate")
}

/// Run the change-set rules on one page; findings come out in span order.
pub fn check_page(view: &PageView, rules: &[&Rule]) -> Vec<Finding> {
    let mut findings: Vec<Finding> = rules
        .iter()
        .flat_map(|r| match r.check {
            Check::ChangeSet(check) => check(view),
            _ => Vec::new(),
        })
        .collect();
    findings.sort_by_key(|f| (f.span.start, f.code));
    findings
}

#[cfg(test)]
mod tests {
    use crate::changeset::{run, Input};
    use crate::check::Settings;
    use crate::finding::Severity;

    /// Run the gate on change sets given as JSON texts; (rule, severity, message) of every
    /// finding, and the error messages.
    fn gate(texts: &[&str]) -> (Vec<(&'static str, Severity, String)>, Vec<String>) {
        let inputs = texts
            .iter()
            .enumerate()
            .map(|(i, t)| Input {
                display: format!("cs{i}.json"),
                bytes: Ok(t.as_bytes().to_vec()),
            })
            .collect();
        let settings = Settings {
            rules: crate::rules::RULES.to_vec(),
            ..Settings::default()
        };
        let report = run(inputs, &settings);
        let findings = report
            .files
            .iter()
            .flat_map(|f| &f.findings)
            .map(|f| (f.code, f.severity, f.message.clone()))
            .collect();
        let errors = report
            .files
            .iter()
            .flat_map(|f| &f.errors)
            .map(|e| e.message.clone())
            .collect();
        (findings, errors)
    }

    fn set(id: &str, changes: &[&str]) -> String {
        format!(
            r#"{{"ChangeSetId":"{id}","Status":"CREATE_COMPLETE","ExecutionStatus":"AVAILABLE","Changes":[{}]}}"#,
            changes
                .iter()
                .map(|c| format!(r#"{{"Type":"Resource","ResourceChange":{c}}}"#))
                .collect::<Vec<_>>()
                .join(",")
        )
    }

    #[test]
    fn a_policy_change_without_values_is_a_finding_and_one_to_retain_is_not() {
        let unknown = set(
            "arn:a",
            &[
                r#"{"Action":"Modify","LogicalResourceId":"T","ResourceType":"AWS::DynamoDB::Table","Replacement":"False","Scope":["DeletionPolicy"]}"#,
            ],
        );
        let (findings, errors) = gate(&[&unknown]);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].0, "DDB033");
        assert!(findings[0].2.contains("holds no values"), "{findings:?}");
        let to_retain = set(
            "arn:a",
            &[
                r#"{"Action":"Modify","LogicalResourceId":"T","ResourceType":"AWS::DynamoDB::Table","Replacement":"False","Scope":["UpdateReplacePolicy"],"Details":[{"Target":{"Attribute":"UpdateReplacePolicy","AfterValue":"Retain","AttributeChangeType":"Add"}}]}"#,
            ],
        );
        assert!(gate(&[&to_retain]).0.is_empty());
    }

    #[test]
    fn a_replica_removed_in_details_alone_is_a_finding_and_a_replica_setting_is_not() {
        let removed = set(
            "arn:a",
            &[
                r#"{"Action":"Modify","LogicalResourceId":"G","ResourceType":"AWS::DynamoDB::GlobalTable","Replacement":"False","Scope":["Properties"],"Details":[{"Target":{"Attribute":"Properties","Name":"Replicas","Path":"/Properties/Replicas/2","AttributeChangeType":"Remove"}}]}"#,
            ],
        );
        let (findings, _) = gate(&[&removed]);
        assert!(findings.iter().any(|f| f.0 == "DDB035"), "{findings:?}");
        let tags = set(
            "arn:a",
            &[
                r#"{"Action":"Modify","LogicalResourceId":"G","ResourceType":"AWS::DynamoDB::GlobalTable","Replacement":"False","Scope":["Properties"],"Details":[{"Target":{"Attribute":"Properties","Name":"Replicas","Path":"/Properties/Replicas/0/Tags/1","AttributeChangeType":"Remove","BeforeValue":"x"}}]}"#,
            ],
        );
        let (findings, _) = gate(&[&tags]);
        assert!(!findings.iter().any(|f| f.0 == "DDB035"), "{findings:?}");
    }

    #[test]
    fn deletion_protection_named_without_values_may_be_turned_off() {
        let cs = set(
            "arn:a",
            &[
                r#"{"Action":"Modify","LogicalResourceId":"T","ResourceType":"AWS::DynamoDB::Table","Replacement":"False","Scope":["Properties"],"Details":[{"Target":{"Attribute":"Properties","Name":"DeletionProtectionEnabled","RequiresRecreation":"Never"},"Evaluation":"Static","ChangeSource":"DirectModification"}]}"#,
            ],
        );
        let (findings, _) = gate(&[&cs]);
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(
            (findings[0].0, findings[0].1),
            ("DDB034", Severity::Warning)
        );
        assert!(findings[0].2.contains("may be turned off"));
    }

    #[test]
    fn a_removed_nested_stack_reports_each_table_of_its_given_change_set() {
        let root = set(
            "arn:root",
            &[
                r#"{"Action":"Remove","LogicalResourceId":"Data","ResourceType":"AWS::CloudFormation::Stack","ChangeSetId":"arn:nested"}"#,
            ],
        );
        let nested = set(
            "arn:nested",
            &[
                r#"{"Action":"Remove","LogicalResourceId":"Kept","ResourceType":"AWS::DynamoDB::Table","PolicyAction":"Retain"}"#,
                r#"{"Action":"Remove","LogicalResourceId":"Lost","ResourceType":"AWS::DynamoDB::Table","PolicyAction":"Delete"}"#,
            ],
        );
        let (findings, errors) = gate(&[&root, &nested]);
        assert!(errors.is_empty(), "{errors:?}");
        let nested_stack: Vec<_> = findings.iter().filter(|f| f.0 == "DDB032").collect();
        assert_eq!(nested_stack.len(), 3, "{findings:?}");
        assert!(
            nested_stack[0].2.contains("(`Kept`, `Lost`)"),
            "{findings:?}"
        );
        assert_eq!(nested_stack[1].1, Severity::Note);
        assert_eq!(nested_stack[2].1, Severity::Error);
        assert!(nested_stack[2]
            .2
            .contains("table `Lost` in nested stack `Data` goes with its nested stack"));
    }

    #[test]
    fn a_replica_list_change_is_not_a_protection_change() {
        let cs = set(
            "arn:a",
            &[
                r#"{"Action":"Modify","LogicalResourceId":"G","ResourceType":"AWS::DynamoDB::GlobalTable","Replacement":"False","Scope":["Properties"],"Details":[{"Target":{"Attribute":"Properties","Name":"Replicas","RequiresRecreation":"Never"}}]}"#,
            ],
        );
        let (findings, _) = gate(&[&cs]);
        let codes: Vec<&str> = findings.iter().map(|f| f.0).collect();
        assert_eq!(codes, vec!["DDB035"], "{findings:?}");
        let replica_flag = set(
            "arn:a",
            &[
                r#"{"Action":"Modify","LogicalResourceId":"G","ResourceType":"AWS::DynamoDB::GlobalTable","Replacement":"False","Scope":["Properties"],"Details":[{"Target":{"Attribute":"Properties","Name":"Replicas","Path":"/Properties/Replicas/0/DeletionProtectionEnabled","BeforeValue":"true","AfterValue":"false"}}]}"#,
            ],
        );
        let (findings, _) = gate(&[&replica_flag]);
        let codes: Vec<&str> = findings.iter().map(|f| f.0).collect();
        assert_eq!(codes, vec!["DDB034"], "{findings:?}");
    }

    #[test]
    fn unknown_values_of_every_checked_enum_fail_closed() {
        for (field, json) in [
            ("Replacement", r#""Replacement":"Maybe""#),
            ("PolicyAction", r#""PolicyAction":"Shred""#),
            ("Scope", r#""Scope":["Everything"]"#),
        ] {
            let change = format!(
                r#"{{"Action":"Modify","LogicalResourceId":"T","ResourceType":"AWS::DynamoDB::Table",{json}}}"#
            );
            let (_, errors) = gate(&[&set("arn:a", &[&change])]);
            assert!(
                errors
                    .iter()
                    .any(|e| e.contains(&format!("unknown `{field}` value"))),
                "{field}: {errors:?}"
            );
        }
    }

    #[test]
    fn a_change_set_still_being_created_cannot_be_checked() {
        let cs = r#"{"ChangeSetId":"arn:a","Status":"CREATE_IN_PROGRESS","ExecutionStatus":"UNAVAILABLE","Changes":[]}"#;
        let (_, errors) = gate(&[cs]);
        assert!(errors[0].contains("not complete yet"), "{errors:?}");
        let failed = r#"{"ChangeSetId":"arn:a","Status":"FAILED","StatusReason":"Template format error","Changes":[]}"#;
        let (_, errors) = gate(&[failed]);
        assert!(
            errors[0].contains("failed: Template format error"),
            "{errors:?}"
        );
    }
}
