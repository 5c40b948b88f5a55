//! DDB035 changeset-replica-removed
//!
//! ## What it checks
//! In a change set, an `AWS::DynamoDB::GlobalTable` change that removes a replica: a
//! region listed in `Replicas` of the `BeforeContext` and gone from the `AfterContext`, or
//! a `Details` entry that removes an item of `Replicas`. When the change set names a change
//! to the replica list but holds no values (described without
//! `--include-property-values`), it is reported as one that may remove a replica.
//!
//! ## Why it matters
//! Removing a replica from a global table deletes that region's copy of the table and its
//! data; CloudFormation's `DeletionPolicy` does not apply to a replica.
//!
//! ## Example
//! ```json
//! {"ResourceChange": {"Action": "Modify", "LogicalResourceId": "Orders",
//!   "ResourceType": "AWS::DynamoDB::GlobalTable", "Scope": ["Properties"],
//!   "Details": [{"Target": {"Attribute": "Properties", "Name": "Replicas",
//!     "Path": "/Properties/Replicas/1", "AttributeChangeType": "Remove"}}]}}
//! ```
//!
//! ## Use instead
//! Keep the replica, or move its traffic and data away on purpose before removing it.
//!
//! ## Fix safety
//! No automatic fix: a change set is CloudFormation's output, not a file to edit.

use super::{finding, PageView};
use crate::finding::{Finding, Severity};
use crate::model::changeset::{Action, AttributeChangeType, Context, Value};
use crate::rules::{Check, Rule};

pub const RULE: Rule = Rule {
    code: "DDB035",
    name: "changeset-replica-removed",
    severity: Severity::Error,
    summary: "Change set removes a replica of a DynamoDB global table",
    needles: &[],
    default_enabled: true,
    per_table: false,
    check: Check::ChangeSet(check),
    source: include_str!("replica_removed.rs"),
};

fn regions(context: &Context) -> Vec<String> {
    match context.property(&["Replicas"]) {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|r| r.get("Region").and_then(Value::as_str).map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

fn check(view: &PageView) -> Vec<Finding> {
    let mut findings = Vec::new();
    for change in view.tables() {
        if change.action.value != Action::Modify
            || change.resource_type.value != "AWS::DynamoDB::GlobalTable"
        {
            continue;
        }
        let table = view.named("global table", change);
        let mut messages = Vec::new();
        if let (Some(before), Some(after)) = (&change.before, &change.after) {
            // By a set: a scan of the after list for each region before was quadratic.
            let now: std::collections::HashSet<String> = regions(after).into_iter().collect();
            for region in regions(before).into_iter().filter(|r| !now.contains(r)) {
                messages.push(format!(
                    "{table}: the replica in `{region}` is removed, and its data with it"
                ));
            }
        } else {
            for detail in &change.details {
                let t = &detail.target;
                let path = t.path.as_deref().unwrap_or("");
                let on_replicas =
                    t.name.as_deref() == Some("Replicas") || path.contains("/Replicas");
                if !on_replicas {
                    continue;
                }
                // `/Properties/Replicas` or `/Properties/Replicas/N`: the list or an item.
                let depth = path.split('/').skip_while(|s| *s != "Replicas").count();
                let whole_item = path.is_empty() || depth <= 2;
                match t.change_type {
                    Some(AttributeChangeType::Remove) if whole_item => messages.push(format!("{table}: a replica is removed (`{path}`), and its data with it")),
                    Some(AttributeChangeType::Add | AttributeChangeType::SyncWithActual) => {}
                    _ if whole_item && t.before_value.is_none() && t.after_value.is_none() => messages.push(format!(
                        "{table}: its replicas change and the change set holds no values, so a replica may be removed"
                    )),
                    _ => {}
                }
            }
            messages.dedup();
        }
        for message in messages {
            let mut f = finding(&RULE, RULE.severity, change, message, "replica removed");
            f.help = Some("describe the change set with `--include-property-values` to see which replicas change; keep every replica".into());
            findings.push(f);
        }
    }
    findings
}
