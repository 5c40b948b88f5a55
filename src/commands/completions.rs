//! `ddb-guard completions SHELL`: the script clap_complete generates from the same CLI
//! definition.

use clap::CommandFactory;

use super::print;
use crate::cli::{Cli, CompletionsArgs};
use crate::report::data::ExitStatus;

pub fn run(args: &CompletionsArgs) -> ExitStatus {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "ddb-guard", &mut script);
    print(&String::from_utf8_lossy(&script))
}
