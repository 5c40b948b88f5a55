//! Stage 4: rules. Each rule is one file: a doc comment (what it checks, why, examples,
//! fix safety), a [`Rule`] value, and a pure check from a [`ResourceView`] to findings. A
//! rule never reads files, renders, or decides exit codes.
//!
//! The pull-request guard's rules (DDB020-DDB023) compare two versions of a template: each
//! is a [`Rule`] (so listing, docs, selection and severities treat it like any other) whose
//! [`Check::Versions`] is a pure function of a [`Comparison`] of the base and the head.

pub mod backup;
pub mod changeset;
pub mod iam;
pub mod layers;
pub mod meta;
pub mod pr_guard;
pub mod protection;
pub mod retention;

use backup::backup_plan;
use iam::{
    iam_allows_delete_backup, iam_allows_delete_table, iam_allows_update_table, required_guardrail,
};
use meta::{
    guard_weakened, invalid_suppression, template_not_checked, template_not_visible,
    unknown_transform, unresolved_type, unused_suppression,
};
use pr_guard::{protection_weakened, table_removed, table_renamed, table_replaced};
use protection::{deletion_protection, point_in_time_recovery};
use retention::{deletion_policy, update_replace_policy};

use crate::finding::{Finding, Severity};
use crate::load::{Document, Entry, NodeId};
use crate::model::{Evaluator, Outcome, Resource, Template};
use crate::source::{SourceText, Span};

/// Groups of byte patterns: see [`Rule::needles`].
pub type Needles = &'static [&'static [&'static str]];

pub struct Rule {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    /// One line for listings and SARIF's shortDescription.
    pub summary: &'static str,
    /// What a file must contain for the rule to be able to fire: every pattern of at least
    /// one group (ASCII, matched case-insensitively). The prefilter skips files that hold
    /// no group of any enabled rule. Groups let a rule be narrow and still sound: an IAM
    /// rule needs a policy-bearing type *and* a `Statement`, not either.
    pub needles: Needles,
    /// Runs without being selected. Off for rules that are noisy outside some projects
    /// (DDB012); `--select` or `select` in `ddb-guard.toml` turns them on.
    pub default_enabled: bool,
    /// The rule's subject is each table (one check per table in reports that list checks,
    /// such as JUnit), not the template as a whole.
    pub per_table: bool,
    /// What the rule checks, by the input it needs.
    pub check: Check,
    /// The rule file's source, whose `//!` doc comment is the rule's documentation
    /// (see [`doc`]); set with `include_str!` of the rule's own file.
    pub source: &'static str,
}

/// What a rule checks, by the input it needs: a rule that compares versions or reads change
/// sets says so here, rather than having a per-resource check that finds nothing.
#[derive(Clone, Copy)]
pub enum Check {
    /// A pure function of one resource in its template.
    Resource(fn(&ResourceView) -> Vec<Finding>),
    /// A pure function of a template at the base revision and at the head (the pull-request
    /// guard, DDB020-DDB023, DDB902): see [`Comparison`].
    Versions(fn(&Comparison) -> Vec<Finding>),
    /// A pure function of one page of a change set (the deploy-time gate, DDB030-DDB036).
    ChangeSet(fn(&changeset::PageView) -> Vec<Finding>),
    /// Reported by the suppression engine once every other rule has run on a resource
    /// (DDB901: a suppression that silences nothing).
    Suppressions,
    /// Reported from the facts of every file of a run, once the walk is over (DDB013).
    Run,
}

/// Every rule, in code order.
pub const RULES: &[&Rule] = &[
    &deletion_policy::RULE,
    &update_replace_policy::RULE,
    &deletion_protection::RULE,
    &point_in_time_recovery::RULE,
    &backup_plan::RULE,
    &template_not_visible::RULE,
    &template_not_checked::RULE,
    &unresolved_type::RULE,
    &unknown_transform::RULE,
    &iam_allows_delete_table::RULE,
    &iam_allows_delete_backup::RULE,
    &iam_allows_update_table::RULE,
    &required_guardrail::RULE,
    &table_removed::RULE,
    &table_renamed::RULE,
    &table_replaced::RULE,
    &protection_weakened::RULE,
    &changeset::TABLE_REMOVED,
    &changeset::TABLE_REPLACED,
    &changeset::NESTED_STACK,
    &changeset::POLICY_WEAKENED,
    &changeset::PROTECTION_DISABLED,
    &changeset::REPLICA_REMOVED,
    &changeset::STATUS,
    &invalid_suppression::RULE,
    &unused_suppression::RULE,
    &guard_weakened::RULE,
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

    /// The evaluator for this resource's values: its loops, and its own `Condition` as a
    /// given (a case in which the resource does not exist is no case).
    pub fn evaluator(&self) -> Evaluator<'a, 'd, 's> {
        Evaluator::for_resource(self.template, self.resource)
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
            fix: None,
            template: None,
            cdk: None,
        }
    }
}

/// Is `code` one of the pull-request guard's rules (governed by the base revision)?
pub fn is_comparison(code: &str) -> bool {
    RULES
        .iter()
        .any(|r| r.code == code && matches!(r.check, Check::Versions(_)))
}

pub use guard_weakened::{finding as guard_weakened_finding, RULE as GUARD_WEAKENED};
pub use protection_weakened::note_base_retain;

/// The comparison rules among the enabled `rules` (so `select`/`ignore` apply to them).
pub fn diff_rules(rules: &[&Rule]) -> Vec<&'static Rule> {
    RULES
        .iter()
        .copied()
        .filter(|d| matches!(d.check, Check::Versions(_)) && rules.iter().any(|r| r.code == d.code))
        .collect()
}

/// What became of the template at the head.
pub enum Head<'a, 'd, 's> {
    Template(&'a Template<'d, 's>),
    /// The file is still there but is no longer a template (no `Resources`).
    NotTemplate,
    /// The file was deleted; findings can only point into the base text.
    Deleted,
}

/// A template at the base revision and what became of it at the head. Findings point into
/// the head text (a line GitHub can annotate), except for a deleted file, where they point
/// into the base text; messages name the base file and line.
pub struct Comparison<'a, 'd, 's> {
    pub base: &'a Template<'d, 's>,
    /// How to name the base file in messages: `main:stacks/orders.yaml`, `old/orders.yaml`.
    pub base_name: &'a str,
    pub base_source: &'a SourceText,
    /// The base's Serverless `${file(...)}` fragments, whose spans lie past its text.
    pub base_fragments: &'a [crate::model::serverless::Fragment],
    pub head: Head<'a, 'd, 's>,
    pub options: &'a RuleOptions,
    /// For each base resource, the nearest base resources after and before it that are
    /// still at the head, found once by [`Comparison::removal_span`] (`Default` to start).
    pub anchors: std::sync::OnceLock<Vec<Anchors>>,
    /// The nested stacks (`AWS::CloudFormation::Stack`, `AWS::Serverless::Application`),
    /// by logical ID, whose local template is provably the same file at both revisions
    /// (same bytes, itself nesting nothing): only their outputs can keep their values. Any
    /// other nested stack's `Fn::GetAtt ... Outputs.X` cannot be proven unchanged.
    pub nested_same: &'a std::collections::BTreeSet<String>,
    /// The pull-request guard's fates and proofs, found once for all its rules
    /// (`Default` to start).
    pub pr_guard: pr_guard::Memo<'a, 'd>,
}

/// Positions in the base's resources (see [`Comparison::anchors`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct Anchors {
    next: Option<usize>,
    previous: Option<usize>,
}

impl<'a, 'd, 's> Comparison<'a, 'd, 's> {
    /// "`main:orders.yaml` line 12": where a base span is, for messages.
    pub fn base_at(&self, span: Span) -> String {
        let in_fragment = self
            .base_fragments
            .iter()
            .find(|f| span.start > self.base_source.text.len() && f.contains(span.start));
        if let Some(fragment) = in_fragment {
            let lines = crate::source::LineIndex::new(&fragment.text);
            let line = lines
                .position(&fragment.text, span.start - fragment.base)
                .line;
            return format!("`{}` line {line}", fragment.display);
        }
        format!(
            "`{}` line {}",
            self.base_name,
            self.base_source.position(span.start).line
        )
    }

    pub fn base_view(&self, resource: &'a Resource<'d>) -> ResourceView<'a, 'd, 's> {
        ResourceView {
            template: self.base,
            resource,
            options: self.options,
        }
    }

    /// Where a finding about a table gone from the head points, and how to say where that
    /// is. GitHub annotates only lines shown in the pull request's diff, so the anchor is
    /// next to the hole the table left: the key of the next resource of the base that is
    /// still at the head (the first context line after the removed block), else the last
    /// line of the previous one, else the head's `Resources:` key. A head file that is no
    /// longer a template has only its first line; a deleted file has no head at all, so
    /// the finding points at the table in the base text.
    pub fn removal_span(&self, base_resource: &Resource) -> (Span, Placement) {
        let head = match &self.head {
            Head::Template(head) => *head,
            Head::NotTemplate => return (Span::new(0, 0), Placement::FileStart),
            Head::Deleted => return (self.base.doc.span(base_resource.key), Placement::Base),
        };
        let at_head = |r: &Resource| head.resource(r.logical_id);
        let order = &self.base.resources;
        // Listed once: a scan per removed table was quadratic in a pull request that
        // removes many tables.
        let anchors = self.anchors.get_or_init(|| {
            let mut out = vec![Anchors::default(); order.len()];
            let mut after = None;
            for (i, r) in order.iter().enumerate().rev() {
                out[i].next = after;
                if at_head(r).is_some() {
                    after = Some(i);
                }
            }
            let mut before = None;
            for (i, r) in order.iter().enumerate() {
                out[i].previous = before;
                if at_head(r).is_some() {
                    before = Some(i);
                }
            }
            out
        });
        let same =
            |r: &Resource| r.logical_id == base_resource.logical_id && r.key == base_resource.key;
        let position = self
            .base
            .position(base_resource.logical_id)
            .filter(|&i| order.get(i).is_some_and(same))
            .or_else(|| order.iter().position(same));
        if let Some(found) = position.and_then(|i| anchors.get(i)) {
            let head_of = |i: Option<usize>| i.and_then(|i| order.get(i)).and_then(at_head);
            if let Some(next) = head_of(found.next) {
                return (
                    head.doc.span(next.key),
                    Placement::Above(next.logical_id.to_string()),
                );
            }
            if let Some(prev) = head_of(found.previous) {
                return (last_line(head.doc, prev.node), Placement::Below);
            }
        }
        let resources = head.doc.get(head.root, "Resources");
        (
            resources.map_or(Span::new(0, 0), |e| head.doc.span(e.key)),
            Placement::Resources,
        )
    }
}

/// Where [`Comparison::removal_span`] points, relative to the removed table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Placement {
    /// At the key of the next resource, which follows the hole.
    Above(String),
    /// At the last line of the previous resource, which precedes the hole.
    Below,
    Resources,
    FileStart,
    /// In the base text (the file was deleted).
    Base,
}

/// The span of the last scalar under `node`: a token on the last line of its block.
fn last_line(doc: &Document, mut node: NodeId) -> Span {
    // Bounded by the loader's depth limit.
    loop {
        let next = match &doc.node(node).kind {
            crate::load::NodeKind::Map(entries) => doc.entries(*entries).last().map(|e| e.value),
            crate::load::NodeKind::Seq(items) => doc.items(*items).last().copied(),
            crate::load::NodeKind::Scalar(_) => None,
        };
        match next {
            Some(child) => node = child,
            None => return doc.span(node),
        }
    }
}

/// A finding about a base table, located at `span` (in the head text, or the base text for
/// a deleted file).
pub fn diff_finding(
    rule: &Rule,
    severity: Severity,
    table: &Resource,
    span: Span,
    message: String,
    label: String,
) -> Finding {
    Finding {
        code: rule.code,
        name: rule.name,
        severity,
        resource: table.logical_id.to_string(),
        resource_type: table.type_name.unwrap_or_default().to_string(),
        message,
        span,
        label,
        labels: Vec::new(),
        help: None,
        fix: None,
        template: None,
        cdk: None,
    }
}

#[cfg(test)]
mod registry_tests {
    use super::*;

    /// The rule listing, the docs index and SARIF `rules[]` follow `RULES`, so its order is
    /// the order users read.
    #[test]
    fn rules_are_listed_in_code_order_without_duplicates() {
        for pair in RULES.windows(2) {
            assert!(
                pair[0].code < pair[1].code,
                "{} must come before {}",
                pair[1].code,
                pair[0].code
            );
        }
    }

    /// A bare table (no policies, no protection, no backup plan, no metadata) trips every
    /// rule about a table's own settings and nothing else, so the rules that fire on it are
    /// exactly the per-table ones.
    #[test]
    fn every_rule_that_fires_on_a_bare_table_is_marked_per_table() {
        let settings = crate::check::Settings {
            rules: RULES.to_vec(),
            ..crate::check::Settings::default()
        };
        let text = b"Resources:\n  Orders:\n    Type: AWS::DynamoDB::Table\n";
        let report = crate::check::Checker::new(settings).check_bytes(
            "t.yaml",
            std::path::Path::new("t.yaml"),
            text,
        );
        let mut fired: Vec<&str> = report.findings.iter().map(|f| f.code).collect();
        fired.dedup();
        let marked: Vec<&str> = RULES
            .iter()
            .filter(|r| r.per_table)
            .map(|r| r.code)
            .collect();
        assert_eq!(fired, marked);
    }
}
