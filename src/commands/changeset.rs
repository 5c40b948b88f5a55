//! `ddb-guard changeset FILE...`: the deploy-time gate. The arguments become `check`
//! arguments so that the config file, rule selection, `--fail-on`, the formats and the
//! exit status are resolved by the same code as for `check`; the gate itself is
//! [`crate::changeset`].

use super::check::{fail_on, outputs, render};
use super::{argument_error, resolve, usage_error};
use crate::changeset::{self, Input};
use crate::cli::ChangesetArgs;
use crate::report::data::ExitStatus;

pub fn run(args: &ChangesetArgs) -> ExitStatus {
    let check_args = match args.as_check_args() {
        Ok(check_args) => check_args,
        Err(e) => return usage_error(&e.to_string(), None),
    };
    let outputs = match outputs(&check_args) {
        Ok(outputs) => outputs,
        Err(message) => return argument_error("changeset", &message),
    };
    if args.files.iter().filter(|f| f.as_os_str() == "-").count() > 1 {
        return argument_error("changeset", "standard input (`-`) can be given only once");
    }
    let resolved = match resolve(&check_args) {
        Ok(resolved) => resolved,
        Err(e) => return usage_error(&e.to_string(), None),
    };
    let fail_on = fail_on(&check_args, &resolved);
    let settings = &resolved.settings;
    let inputs = args
        .files
        .iter()
        .map(|f| Input::read(f, settings.max_file_size))
        .collect();
    let template = args
        .template
        .as_deref()
        .map(|path| (path, Input::read(path, settings.max_file_size)));
    let report = changeset::run_with_template(inputs, template, settings);
    render(&check_args, &outputs, fail_on, &report).0
}
