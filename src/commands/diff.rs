//! `ddb-guard diff OLD NEW`: the pull-request guard without git. The `check` path with
//! OLD (a file or a directory) as the base of NEW.

use super::{argument_error, check};
use crate::cli::DiffArgs;
use crate::report::data::ExitStatus;

pub fn run(args: &DiffArgs) -> ExitStatus {
    if !args.check.paths.is_empty() || args.check.base.is_some() {
        return argument_error(
            "diff",
            "`diff` compares exactly OLD and NEW; to compare with a git revision use `check --base REV [PATHS]`",
        );
    }
    check::run_compared(&args.check, Some((&args.old, &args.new)))
}
