//! DDB034 changeset-protection-disabled
//!
//! ## What it checks
//! In a change set, a DynamoDB table change that turns `DeletionProtectionEnabled` from
//! true to false, or point-in-time recovery
//! (`PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled`) from on to off, on an
//! `AWS::DynamoDB::Table` or on a replica of an `AWS::DynamoDB::GlobalTable`. The values
//! come from `BeforeContext`/`AfterContext` or the `Details` of a change set described
//! with `--include-property-values`; when the change set names the property but holds no
//! values, the change is reported as one that may turn the protection off.
//!
//! ## Why it matters
//! This is DDB003 and DDB004 applied to the deployment: deletion protection is what stops
//! a `DeleteTable` from outside CloudFormation, and point-in-time recovery is what brings
//! the data back after a bad write or delete. Turning either off is quiet in a diff.
//!
//! ## Example
//! ```json
//! {"ResourceChange": {"Action": "Modify", "LogicalResourceId": "OrdersTable",
//!   "ResourceType": "AWS::DynamoDB::Table", "Scope": ["Properties"],
//!   "Details": [{"Target": {"Attribute": "Properties", "Name": "DeletionProtectionEnabled",
//!     "BeforeValue": "true", "AfterValue": "false"}}]}}
//! ```
//!
//! ## Use instead
//! Keep `DeletionProtectionEnabled: true` and point-in-time recovery on.
//!
//! ## Fix safety
//! No automatic fix: a change set is CloudFormation's output, not a file to edit.

use super::{finding, PageView};
use crate::finding::{Finding, Severity};
use crate::model::changeset::{Action, Context, ResourceChange, Value};
use crate::rules::{Check, Rule};

pub const RULE: Rule = Rule {
    code: "DDB034",
    name: "changeset-protection-disabled",
    severity: Severity::Warning,
    summary:
        "Change set turns off a DynamoDB table's deletion protection or point-in-time recovery",
    needles: &[],
    default_enabled: true,
    per_table: false,
    check: Check::ChangeSet(check),
    source: include_str!("protection_disabled.rs"),
};

/// A guardrail flag: its name for messages, and where it sits in a table's (or a
/// replica's) properties.
struct Flag {
    name: &'static str,
    path: &'static [&'static str],
}

const FLAGS: &[Flag] = &[
    Flag {
        name: "deletion protection",
        path: &["DeletionProtectionEnabled"],
    },
    Flag {
        name: "point-in-time recovery",
        path: &[
            "PointInTimeRecoverySpecification",
            "PointInTimeRecoveryEnabled",
        ],
    },
];

fn check(view: &PageView) -> Vec<Finding> {
    let mut findings = Vec::new();
    for change in view.tables() {
        if change.action.value != Action::Modify {
            continue;
        }
        let table = view.named("table", change);
        for flag in FLAGS {
            let messages = match (&change.before, &change.after) {
                (Some(before), Some(after)) => from_contexts(change, before, after, flag),
                _ => from_details(change, flag),
            };
            for message in messages {
                let mut f = finding(
                    &RULE,
                    RULE.severity,
                    change,
                    format!("{table}: {message}"),
                    format!("{} off", flag.name),
                );
                f.help = Some(format!("keep {} on", flag.name));
                findings.push(f);
            }
        }
    }
    findings
}

fn on(value: Option<&Value>, path: &[&str]) -> bool {
    let mut value = value;
    for key in path {
        value = value.and_then(|v| v.get(key));
    }
    value.is_some_and(Value::is_true)
}

fn from_contexts(
    change: &ResourceChange,
    before: &Context,
    after: &Context,
    flag: &Flag,
) -> Vec<String> {
    let mut out = Vec::new();
    if change.resource_type.value == "AWS::DynamoDB::GlobalTable" {
        let replicas = |c: &Context| match c.property(&["Replicas"]) {
            Some(Value::Array(items)) => items.clone(),
            _ => Vec::new(),
        };
        let after_replicas = replicas(after);
        // The first replica with each Region, by a map: a scan of the after list for each
        // replica before was quadratic.
        let mut by_region: std::collections::HashMap<&str, &Value> =
            std::collections::HashMap::new();
        for r in &after_replicas {
            if let Some(region) = r.get("Region").and_then(Value::as_str) {
                by_region.entry(region).or_insert(r);
            }
        }
        for replica in replicas(before) {
            let region = replica
                .get("Region")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_string();
            if !on(Some(&replica), flag.path) {
                continue;
            }
            // A replica gone altogether is DDB035's finding.
            let Some(&now) = by_region.get(region.as_str()) else {
                continue;
            };
            if !on(Some(now), flag.path) {
                out.push(format!(
                    "{} is turned off on the replica in `{region}`",
                    flag.name
                ));
            }
        }
    } else if on(before.value.get("Properties"), flag.path)
        && !on(after.value.get("Properties"), flag.path)
    {
        out.push(format!("{} is turned off", flag.name));
    }
    out
}

/// From `Details` alone: a detail on the flag whose values go from on to off, or that
/// holds no values at all.
fn from_details(change: &ResourceChange, flag: &Flag) -> Vec<String> {
    let mut out = Vec::new();
    let leaf = flag.path[flag.path.len() - 1];
    for detail in &change.details {
        let t = &detail.target;
        let names = [t.name.as_deref(), t.path.as_deref()];
        // The flag itself, on the table or on a replica (`/Properties/Replicas/0/...`); a
        // change to the replica list as a whole is DDB035's (and is read from contexts).
        let about = names
            .iter()
            .flatten()
            .any(|n| flag.path.iter().any(|p| n.contains(p)));
        if !about {
            continue;
        }
        let flag_in = |text: &Option<String>| text.as_deref().map(|s| text_flag(s, leaf));
        match (flag_in(&t.before_value), flag_in(&t.after_value)) {
            (Some(Some(true)), Some(Some(false) | None)) => {
                out.push(format!("{} is turned off", flag.name));
            }
            (None, None) => {
                out.push(format!("{} changes and the change set holds no values, so it may be turned off (describe it with `--include-property-values`)", flag.name));
            }
            _ => {}
        }
    }
    out.truncate(1);
    out
}

/// `true`/`false` as a detail's value says it: the bare value, or the flag inside a JSON
/// object (`{"PointInTimeRecoveryEnabled":true}`). `None` when the text says neither.
fn text_flag(text: &str, key: &str) -> Option<bool> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("true") {
        return Some(true);
    }
    if t.eq_ignore_ascii_case("false") {
        return Some(false);
    }
    let doc = crate::load::load(
        t,
        crate::load::Format::Json,
        &crate::load::Limits::default(),
    )
    .ok()?;
    let root = doc.root?;
    let value = doc.get_value(root, key)?;
    let s = doc.scalar(value)?;
    Some(s.text.eq_ignore_ascii_case("true"))
}
