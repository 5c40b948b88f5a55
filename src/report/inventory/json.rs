//! `inventory --format json`: `{"version": 1, "tables": [...], "guardrails": [...],
//! "not_visible": [...], "errors": [...]}`. A
//! layer is `true` only when it holds in every case; `conditional` says why the others
//! hold only sometimes.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use crate::report::data::{Inventory, LiveFacts, LiveList, Managed};
use crate::report::json::JsonError;

#[derive(Serialize)]
struct JsonInventory<'a> {
    version: u32,
    tables: Vec<JsonTable<'a>>,
    guardrails: Vec<JsonGuardrail<'a>>,
    /// Templates deployed by a template but not readable here (their tables are not in
    /// `tables`).
    not_visible: Vec<JsonNotVisible<'a>>,
    errors: Vec<JsonError<'a>>,
}

#[derive(Serialize)]
struct JsonNotVisible<'a> {
    path: &'a str,
    resource: &'a str,
    resource_type: &'a str,
    reason: &'a str,
}

#[derive(Serialize)]
struct JsonTable<'a> {
    path: &'a str,
    resource: &'a str,
    resource_type: &'a str,
    retained_on_delete: bool,
    retained_on_replace: bool,
    deletion_protection: bool,
    pitr: bool,
    backup_plan: bool,
    /// Layers that hold only in some cases, and in which they do not.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    conditional: BTreeMap<&'static str, &'a str>,
    /// The stack set whose `TemplateBody` declares the table: it is deployed to every
    /// target account.
    #[serde(skip_serializing_if = "Option::is_none")]
    stack_set: Option<&'a str>,
    /// `audit`: what was read of the live table.
    #[serde(skip_serializing_if = "Option::is_none")]
    live: Option<JsonLive<'a>>,
}

/// A live table's facts: each `yes`, `no`, `conditional`, `n/a` or `unknown`, with why in
/// `reasons`.
#[derive(Serialize)]
struct JsonLive<'a> {
    region: &'a str,
    arn: &'a str,
    managed_by: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    stack: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    logical_id: Option<&'a str>,
    resource_policy_deny: &'static str,
    scp_deny: &'static str,
    termination_protection: &'static str,
    stack_policy: &'static str,
    /// The principals that may delete the table; `null` when unknown.
    can_delete: Option<&'a [String]>,
    replicas: &'a [String],
    drift: &'a [String],
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    reasons: BTreeMap<&'static str, &'a str>,
}

fn live(l: &LiveFacts) -> JsonLive<'_> {
    let (stack, logical_id) = match &l.managed_by {
        Managed::Stack { name, logical_id } => (Some(name.as_str()), Some(logical_id.as_str())),
        Managed::Unmanaged { .. } => (None, None),
    };
    let mut reasons = BTreeMap::new();
    for (name, state) in [
        ("resource_policy_deny", &l.resource_policy_deny),
        ("scp_deny", &l.scp_deny),
        ("termination_protection", &l.termination_protection),
        ("stack_policy", &l.stack_policy),
    ] {
        if let Some(why) = state.reason() {
            reasons.insert(name, why);
        }
    }
    let can_delete = match &l.deleters {
        LiveList::Known(list) => Some(&list[..]),
        LiveList::Unknown(why) => {
            reasons.insert("can_delete", why.as_str());
            None
        }
    };
    JsonLive {
        region: &l.region,
        arn: &l.arn,
        managed_by: l.managed_by.describe(),
        stack,
        logical_id,
        resource_policy_deny: l.resource_policy_deny.word(),
        scp_deny: l.scp_deny.word(),
        termination_protection: l.termination_protection.word(),
        stack_policy: l.stack_policy.word(),
        can_delete,
        replicas: &l.replicas,
        drift: &l.drift,
        reasons,
    }
}

#[derive(Serialize)]
struct JsonGuardrail<'a> {
    path: &'a str,
    resource: &'a str,
    kind: &'static str,
    denies: &'a [&'static str],
    /// The ARNs the denies apply to, as written (`not ...` for `NotResource`).
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    scope: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    conditional: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'a str>,
}

pub fn render(inventory: &Inventory, out: &mut dyn Write) -> io::Result<()> {
    let tables = inventory
        .tables
        .iter()
        .map(|t| {
            let l = &t.layers;
            JsonTable {
                path: &t.path,
                resource: &t.resource,
                resource_type: &t.resource_type,
                retained_on_delete: l.retained_on_delete.holds(),
                retained_on_replace: l.retained_on_replace.holds(),
                deletion_protection: l.deletion_protection.holds(),
                pitr: l.pitr.holds(),
                backup_plan: l.backup_plan.holds(),
                conditional: l
                    .named()
                    .into_iter()
                    .filter_map(|(name, state)| state.reason().map(|why| (name, why)))
                    .collect(),
                stack_set: t.stack_set.as_deref(),
                live: t.live.as_deref().map(live),
            }
        })
        .collect();
    let guardrails = inventory
        .guardrails
        .iter()
        .map(|g| JsonGuardrail {
            path: &g.path,
            resource: &g.resource,
            kind: g.kind.as_str(),
            denies: &g.denies,
            scope: &g.scope,
            conditional: g.conditional.as_deref(),
            note: g.note.as_deref(),
        })
        .collect();
    let errors = inventory
        .errors
        .iter()
        .map(|e| JsonError {
            path: &e.path,
            config: None,
            line: e.line,
            column: e.column,
            message: &e.message,
            help: e.help.as_deref(),
        })
        .collect();
    let not_visible = inventory
        .not_visible
        .iter()
        .map(|n| JsonNotVisible {
            path: &n.path,
            resource: &n.resource,
            resource_type: &n.resource_type,
            reason: &n.reason,
        })
        .collect();
    let doc = JsonInventory {
        version: 1,
        tables,
        guardrails,
        not_visible,
        errors,
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
