//! `ddb-guard inventory`: the same config, discovery, prefilter, limits and per-file path
//! as `check`, then the tables' protection layers instead of findings.

use super::{
    argument_error, plural, resolver, set_threads, tell, terminal_width, usage_error, warn,
    write_to,
};
use crate::cli::InventoryArgs;
use crate::discover;
use crate::inventory;
use crate::report;
use crate::report::data::{ExitStatus, Inventory};
use crate::report::inventory::InventoryFormat;
use crate::report::{Destination, Output};

pub fn run(args: &InventoryArgs) -> ExitStatus {
    set_threads(args.input.threads);
    let check_args = match args.as_check_args() {
        Ok(check_args) => check_args,
        Err(e) => return usage_error(&e.to_string(), None),
    };
    let resolver = match resolver(&check_args) {
        Ok(resolver) => std::sync::Arc::new(resolver),
        Err(e) => return usage_error(&e.to_string(), None),
    };
    let outputs = if args.formats.is_empty() {
        vec![Output {
            format: InventoryFormat::Human,
            destination: Destination::Stdout,
        }]
    } else {
        args.formats.clone()
    };
    if let Err(message) = report::check_outputs(&outputs) {
        return argument_error("inventory", &message);
    }
    // Each directory's config decides what is walked; the inventory's reading (limits,
    // options) is the run's.
    // The walk feeds the inventory one file at a time (no list of the files is kept);
    // the steps across files walk again.
    let walk = resolver.walk();
    let again = || discover::discover_sorted(&args.paths, &walk);
    let inventory = inventory::run(again(), &again, &resolver.run().settings);
    // A config file that cannot be used was met during the walk: nothing was written yet.
    if let Some(e) = resolver.error() {
        return usage_error(&e.to_string(), None);
    }
    let columns = terminal_width(80);
    let mut failed = false;
    for output in &outputs {
        if let Err(message) = write_output(output, &inventory, columns) {
            tell(&message);
            failed = true;
        }
    }
    if failed {
        return ExitStatus::Error;
    }
    let on_terminal = outputs
        .iter()
        .any(|o| o.format == InventoryFormat::Human && o.destination == Destination::Stdout);
    if !inventory.errors.is_empty() && !on_terminal {
        // The formats for machines and reports hold the errors too; say it where a
        // person running the command sees it.
        warn(&format!(
            "{} could not be read; the inventory is incomplete",
            plural(inventory.errors.len(), "file", "files")
        ));
    }
    inventory.exit_status()
}

/// Render the inventory to one destination; a reader that closed stdout early is no error.
fn write_output(
    output: &Output<InventoryFormat>,
    inventory: &Inventory,
    columns: usize,
) -> Result<(), String> {
    write_to(&output.destination, "the inventory", |out, to_file| {
        // A file is not a terminal: the human table keeps its stable 80 columns.
        let columns = if to_file { 80 } else { columns };
        report::inventory::render(output.format, inventory, columns, out)
    })
    .map(|_| ())
}
