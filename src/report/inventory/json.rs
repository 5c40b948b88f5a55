//! `inventory --format json`: `{"version": 1, "tables": [...], "guardrails": [...],
//! "not_visible": [...], "errors": [...]}`. A
//! layer is `true` only when it holds in every case; `conditional` says why the others
//! hold only sometimes.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use crate::report::data::Inventory;
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
