//! Running the rules: which rules a run enables ([`select`]), their documentation ([`doc`]),
//! the audited suppressions applied after every rule has run ([`suppression`]), and the
//! runners that take a template (or a base and a head) through the enabled rules. The rules
//! themselves and their index (`RULES`) are [`crate::rules`], which knows nothing of this.

pub mod doc;
pub mod select;
pub mod suppression;

#[cfg(test)]
mod fixtures_test;

use crate::finding::Finding;
use crate::model::Template;
use crate::rules::{Check, Comparison, ResourceView, Rule, RuleOptions};
use crate::timings::{self, Stage};
use std::time::{Duration, Instant};

/// Run `rules` over every resource of a template; findings come out in span order.
pub fn check_template(template: &Template, rules: &[&Rule], options: &RuleOptions) -> Vec<Finding> {
    check_resources(template, rules, options).active
}

/// Run `rules` over every resource of a template, then apply the resources' suppressions:
/// the findings that count and the suppressed ones, each in span order.
pub fn check_resources(
    template: &Template,
    rules: &[&Rule],
    options: &RuleOptions,
) -> suppression::Applied {
    check_resources_where(template, rules, |_| true, options)
}

/// [`check_resources`] for a file whose text rules out some of the enabled `rules`: only
/// the rules `may_fire` keeps run, so a file's findings never depend on which other rules
/// made it worth parsing. Suppressions are still judged against every enabled rule, so a
/// suppression of a rule that could not fire is reported as unused (DDB901).
pub fn check_resources_where(
    template: &Template,
    rules: &[&Rule],
    may_fire: impl Fn(&Rule) -> bool,
    options: &RuleOptions,
) -> suppression::Applied {
    let views: Vec<ResourceView> = template
        .resources
        .iter()
        .map(|resource| ResourceView {
            template,
            resource,
            options,
        })
        .collect();
    let mut findings = Vec::new();
    let running: Vec<fn(&ResourceView) -> Vec<Finding>> = rules
        .iter()
        .filter(|r| may_fire(r))
        .filter_map(|r| match r.check {
            Check::Resource(check) => Some(check),
            _ => None,
        })
        .collect();
    if timings::enabled() {
        // Per family, summed over this file's resources, then added once.
        let families: Vec<Stage> = rules
            .iter()
            .filter(|r| may_fire(r))
            .filter(|r| matches!(r.check, Check::Resource(_)))
            .map(|r| family_of(r))
            .collect();
        let mut spent = vec![Duration::ZERO; running.len()];
        for view in &views {
            for (check, spent) in running.iter().zip(&mut spent) {
                let since = Instant::now();
                findings.extend(check(view));
                *spent += since.elapsed();
            }
        }
        for (family, spent) in families.iter().zip(spent) {
            timings::add(*family, spent);
        }
    } else {
        for view in &views {
            for check in &running {
                findings.extend(check(view));
            }
        }
    }
    timings::time(Stage::Suppressions, || {
        suppression::apply(&views, findings, rules)
    })
}

/// Run the comparison rules; findings come out in span order (stable for equal spans, so
/// several tables removed at one `Resources:` key keep their base order).
pub fn compare_templates(comparison: &Comparison, rules: &[&Rule]) -> Vec<Finding> {
    timings::time(Stage::PrGuard, || {
        compare_templates_untimed(comparison, rules)
    })
}

fn compare_templates_untimed(comparison: &Comparison, rules: &[&Rule]) -> Vec<Finding> {
    let mut findings: Vec<Finding> = rules
        .iter()
        .flat_map(|rule| match rule.check {
            Check::Versions(check) => check(comparison),
            _ => Vec::new(),
        })
        .collect();
    findings.sort_by_key(|f| (f.span.start, f.code));
    findings
}

/// The timing stage a per-resource rule is timed under: its family. It lives here, not in
/// `timings`, so that the timings (imported by the loader) do not import the rules.
fn family_of(rule: &Rule) -> Stage {
    use crate::rules::{backup, iam, protection, retention};
    let code = rule.code;
    let is = |rules: &[&Rule]| rules.iter().any(|r| r.code == code);
    if is(&[
        &retention::deletion_policy::RULE,
        &retention::update_replace_policy::RULE,
    ]) {
        Stage::Retention
    } else if is(&[
        &protection::deletion_protection::RULE,
        &protection::point_in_time_recovery::RULE,
    ]) {
        Stage::Protection
    } else if is(&[&backup::backup_plan::RULE]) {
        Stage::Backup
    } else if is(&[
        &iam::iam_allows_delete_table::RULE,
        &iam::iam_allows_delete_backup::RULE,
        &iam::iam_allows_update_table::RULE,
        &iam::required_guardrail::RULE,
    ]) {
        Stage::Iam
    } else {
        Stage::Meta
    }
}
