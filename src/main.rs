//! Parse the arguments, dispatch to the command, exit with its status. Each command lives
//! in its own module under `src/commands/`.

use std::process::ExitCode;

use clap::Parser;

use ddb_guard::cli::{Cli, Command};
use ddb_guard::commands;

fn main() -> ExitCode {
    ddb_guard::load::quiet_fallback_panics();
    ddb_guard::timings::enable_from_env();
    let status = match Cli::parse().command {
        Command::Check(args) => commands::check::run(&args),
        Command::Diff(args) => commands::diff::run(&args),
        Command::Rule(args) => commands::rule::run(&args),
        Command::Init(args) => commands::init::run(&args),
        Command::Inventory(args) => commands::inventory::run(&args),
        Command::Completions(args) => commands::completions::run(&args),
        Command::Changeset(args) => commands::changeset::run(&args),
        Command::Audit(args) => commands::audit::run(&args),
    };
    ddb_guard::timings::print_if_enabled();
    status.into()
}
