//! Stage 4: rules. Each rule is one file: a doc comment (what it checks, why, examples,
//! fix safety), a [`Rule`] value, and a pure check from a [`ResourceView`] to findings. A
//! rule never reads files, renders, or decides exit codes.

mod deletion_policy;
pub mod doc;
mod policy;
mod unresolved_type;
mod update_replace_policy;

use crate::finding::{Finding, Severity};
use crate::load::{Document, Entry, NodeId};
use crate::model::{Evaluator, Outcome, Resource, Template};
use crate::source::Span;

pub struct Rule {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    /// One line for listings and SARIF's shortDescription.
    pub summary: &'static str,
    /// Byte patterns (ASCII, matched case-insensitively) without which the rule cannot
    /// fire; the prefilter skips files that contain none of the enabled rules' patterns.
    pub needles: &'static [&'static str],
    /// Runs without being selected. Off for rules that are noisy outside some projects
    /// (DDB012); `--select` or `select` in `ddb-guard.toml` turns them on.
    pub default_enabled: bool,
    pub check: fn(&ResourceView) -> Vec<Finding>,
    /// The rule file's source, whose `//!` doc comment is the rule's documentation
    /// (see [`doc`]); set with `include_str!` of the rule's own file.
    pub source: &'static str,
}

/// Every rule, in code order.
pub const RULES: &[&Rule] = &[
    &deletion_policy::RULE,
    &update_replace_policy::RULE,
    &unresolved_type::RULE,
];

pub fn find(code_or_name: &str) -> Option<&'static Rule> {
    RULES
        .iter()
        .copied()
        .find(|r| r.code.eq_ignore_ascii_case(code_or_name) || r.name == code_or_name)
}

/// The rules enabled when nothing is selected, in code order.
pub fn default_rules() -> Vec<&'static Rule> {
    RULES
        .iter()
        .copied()
        .filter(|r| r.default_enabled)
        .collect()
}

/// Project-wide choices that change what a rule accepts (`ddb-guard.toml`). Rules read
/// them from the [`ResourceView`], so a rule stays a pure function of its input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleOptions {
    /// `RetainExceptOnCreate` proves DDB001 (it deletes a table only when the stack's
    /// creation itself fails and rolls back). Off for projects that want `Retain` only.
    pub allow_retain_except_on_create: bool,
}

impl Default for RuleOptions {
    fn default() -> Self {
        RuleOptions {
            allow_retain_except_on_create: true,
        }
    }
}

/// What a rule sees: one resource in its template, with the evaluator for its scope.
pub struct ResourceView<'a, 'd, 's> {
    pub template: &'a Template<'d, 's>,
    pub resource: &'a Resource<'d>,
    pub options: &'a RuleOptions,
}

impl<'a, 'd, 's> ResourceView<'a, 'd, 's> {
    pub fn doc(&self) -> &'d Document<'s> {
        self.template.doc
    }

    pub fn evaluator(&self) -> Evaluator<'a, 'd, 's> {
        Evaluator::new(self.template, &self.resource.loops)
    }

    pub fn eval(&self, node: NodeId) -> Vec<Outcome> {
        self.evaluator().eval(node)
    }

    /// A resource attribute (`DeletionPolicy`, `Condition`, ...), beside `Type`.
    pub fn attribute(&self, name: &str) -> Option<Entry> {
        self.doc().get(self.resource.node, name)
    }

    pub fn properties(&self) -> Option<NodeId> {
        self.doc().get_value(self.resource.node, "Properties")
    }

    pub fn property(&self, name: &str) -> Option<Entry> {
        self.doc().get(self.properties()?, name)
    }

    /// The span of the logical-ID key, where findings about missing attributes point.
    pub fn key_span(&self) -> Span {
        self.doc().span(self.resource.key)
    }

    /// A finding of `rule` about this resource, at `span`.
    pub fn finding(&self, rule: &Rule, span: Span, message: String, label: String) -> Finding {
        Finding {
            code: rule.code,
            name: rule.name,
            severity: rule.severity,
            resource: self.resource.logical_id.to_string(),
            resource_type: self.resource.type_name.unwrap_or_default().to_string(),
            message,
            span,
            label,
            labels: Vec::new(),
            help: None,
        }
    }
}

/// Run `rules` over every resource of a template; findings come out in span order.
pub fn check_template(template: &Template, rules: &[&Rule], options: &RuleOptions) -> Vec<Finding> {
    let mut findings = Vec::new();
    for resource in &template.resources {
        let view = ResourceView {
            template,
            resource,
            options,
        };
        for rule in rules {
            findings.extend((rule.check)(&view));
        }
    }
    findings.sort_by_key(|f| (f.span.start, f.code));
    findings
}
