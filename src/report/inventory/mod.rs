//! The inventory's formats, one file each; all render the same
//! [`Inventory`] and none inspects templates.

pub mod csv;
pub mod human;
pub mod json;
pub mod markdown;

use std::io::{self, Write};

use crate::report::data::Inventory;
use crate::rules::layers::LayerState;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum InventoryFormat {
    /// An aligned table for an 80-column terminal.
    Human,
    Json,
    /// GitHub-flavoured Markdown (for a job summary or a pull-request comment).
    Markdown,
    Csv,
}

pub fn render(
    format: InventoryFormat,
    inventory: &Inventory,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        InventoryFormat::Human => human::render(inventory, out),
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
