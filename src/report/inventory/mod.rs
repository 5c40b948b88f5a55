//! The inventory's formats, one file each; all render the same
//! [`Inventory`] and none inspects templates.

pub mod csv;
pub mod human;
pub mod json;
pub mod markdown;

use std::io::{self, Write};

use crate::report::data::{Inventory, LiveFacts, LiveList, LiveState};
use crate::rules::layers::LayerState;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum InventoryFormat {
    /// An aligned table that fits the terminal (80 columns when not a terminal).
    Human,
    Json,
    /// GitHub-flavoured Markdown (for a job summary or a pull-request comment).
    Markdown,
    Csv,
}

/// Render `inventory`; `columns` is the terminal width the human table fits.
pub fn render(
    format: InventoryFormat,
    inventory: &Inventory,
    columns: usize,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        InventoryFormat::Human => human::render(inventory, columns, out),
        InventoryFormat::Json => json::render(inventory, out),
        InventoryFormat::Markdown => markdown::render(inventory, out),
        InventoryFormat::Csv => csv::render(inventory, out),
    }
}

/// The layers as people name them, in column order.
pub const LAYER_TITLES: [&str; 5] = [
    "retained on delete",
    "retained on replace",
    "deletion protection",
    "point-in-time recovery",
    "backup plan",
];

/// "yes", "no" or "conditional", for formats without footnotes.
pub fn word(state: &LayerState) -> &'static str {
    match state {
        LayerState::Proven => "yes",
        LayerState::Conditional(_) => "conditional",
        LayerState::No => "no",
    }
}

/// The live facts of an audited table (`ddb-guard audit`) as (column name, cell, why):
/// the same columns in every format, after the layers.
pub fn live_cells(live: &LiveFacts) -> Vec<(&'static str, String, Option<String>)> {
    let state = |name: &'static str, s: &LiveState| {
        (name, s.word().to_string(), s.reason().map(str::to_string))
    };
    let deleters = match &live.deleters {
        LiveList::Known(list) if list.is_empty() => ("can_delete", "nobody".to_string(), None),
        // A principal may carry why it stays listed (`role/ci (may: ...)`): commas part them.
        LiveList::Known(list) => ("can_delete", list.join(", "), None),
        LiveList::Unknown(why) => ("can_delete", "unknown".to_string(), Some(why.clone())),
    };
    vec![
        ("region", live.region.clone(), None),
        ("managed_by", live.managed_by.describe(), None),
        state("resource_policy_deny", &live.resource_policy_deny),
        state("scp_deny", &live.scp_deny),
        state("termination_protection", &live.termination_protection),
        state("stack_policy", &live.stack_policy),
        deleters,
        ("replicas", live.replicas.join(" "), None),
        ("drift", live.drift.join("; "), None),
    ]
}

/// Whether any table has live facts (the inventory of an audit).
pub fn is_live(inventory: &Inventory) -> bool {
    inventory.tables.iter().any(|t| t.live.is_some())
}
