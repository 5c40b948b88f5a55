//! `ddb-guard changeset`: wiring only. The arguments become `check` arguments so that the
//! config file, rule selection, `--fail-on`, the formats and the exit code are resolved
//! by the same code as for `check`; the gate itself is `ddb_guard::changeset`.

use std::process::ExitCode;

use clap::CommandFactory;

use ddb_guard::changeset::{self, Input};
use ddb_guard::check::FailOn;
use ddb_guard::cli::{ChangesetArgs, Cli};
use ddb_guard::config;
use ddb_guard::report::{self, Destination, Format, Output};

pub fn run(args: &ChangesetArgs) -> ExitCode {
    let check_args = match args.as_check_args() {
        Ok(check_args) => check_args,
        Err(e) => return crate::usage_error(&e.to_string(), None),
    };
    let outputs = if check_args.formats.is_empty() {
        vec![Output {
            format: Format::Human,
            destination: Destination::Stdout,
        }]
    } else {
        check_args.formats.clone()
    };
    if let Err(message) = report::check_outputs(&outputs) {
        Cli::command()
            .error(clap::error::ErrorKind::ArgumentConflict, message)
            .exit();
    }
    if args.files.iter().filter(|f| f.as_os_str() == "-").count() > 1 {
        return crate::usage_error("standard input (`-`) can be given only once", None);
    }
    let resolved = match crate::resolve(&check_args) {
        Ok(resolved) => resolved,
        Err(e) => return crate::usage_error(&e.to_string(), None),
    };
    let fail_on = match (check_args.fail_on, resolved.fail_on) {
        (Some(flag), _) => flag,
        (None, Some(config::FailOnName::Error)) | (None, None) => FailOn::Error,
        (None, Some(config::FailOnName::Warning)) => FailOn::Warning,
        (None, Some(config::FailOnName::Never)) => FailOn::Never,
    };
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
    crate::render(&check_args, &outputs, fail_on, &report).0
}
