//! `ddb-guard inventory`: the same config, discovery, prefilter, limits and per-file path
//! as `check`, then the tables' protection layers instead of findings.

use std::io::Write;

use super::{plural, resolver, set_threads, tell, usage_error};
use crate::cli::InventoryArgs;
use crate::discover;
use crate::inventory;
use crate::report;
use crate::report::data::ExitStatus;
use crate::report::inventory::InventoryFormat;

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
    // Each directory's config decides what is walked; the inventory's reading (limits,
    // options) is the run's.
    let discovery = discover::discover(&args.paths, &resolver.walk());
    if let Some(e) = resolver.error() {
        return usage_error(&e.to_string(), None);
    }
    let inventory = inventory::run(discovery, &resolver.run().settings);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written =
        report::inventory::render(args.format, &inventory, &mut out).and_then(|()| out.flush());
    match written {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            tell(&format!("cannot write output: {e}"));
            ExitStatus::Error
        }
        _ => {
            if !inventory.errors.is_empty() && args.format != InventoryFormat::Human {
                // The formats for machines and reports hold the errors too; say it where a
                // person running the command sees it.
                tell(&format!(
                    "{} could not be read; the inventory is incomplete",
                    plural(inventory.errors.len(), "file", "files")
                ));
            }
            inventory.exit_status()
        }
    }
}
