//! One module per command (as ruff keeps `crates/ruff/src/commands/`): each wires the
//! shared stages (discover, [`TemplateFile`](crate::template_file::TemplateFile),
//! [`Checker`](crate::check::Checker), reports) and returns an [`ExitStatus`]; `main.rs`
//! parses the arguments, dispatches to one of them and turns the status into the exit
//! code. A new command is a new module here and one dispatch line in `main.rs`.

pub mod audit;
pub mod changeset;
pub mod check;
pub mod completions;
pub mod diff;
pub mod fix;
pub mod init;
pub mod inventory;
pub mod rule;

use std::io::Write;

use clap::CommandFactory;

use crate::atomic_write;
use crate::cli::{CheckArgs, Cli};
use crate::config::{self, ConfigError};
use crate::discover;
use crate::report::data::ExitStatus;
use crate::report::Destination;

// Every message on stderr starts as clap's own do (`error: `, `warning: `, `  help: `),
// so that a usage error found by clap and one found by a command look alike.

/// An error on stderr. stderr may be closed too; then nothing is left to tell, and the
/// exit status says it.
pub(crate) fn tell(message: &str) {
    let _ = writeln!(std::io::stderr(), "error: {message}");
}

/// A warning on stderr: something the user should know that does not change the result.
pub(crate) fn warn(message: &str) {
    let _ = writeln!(std::io::stderr(), "warning: {message}");
}

/// Nothing could be done (no repository, unknown revision, a config that does not load,
/// a file that cannot be written): exit 2.
pub(crate) fn usage_error(message: &str, help: Option<&str>) -> ExitStatus {
    let mut stderr = std::io::stderr();
    let _ = writeln!(stderr, "error: {message}");
    if let Some(help) = help {
        let _ = writeln!(stderr, "  help: {help}");
    }
    ExitStatus::Error
}

/// Arguments that cannot work together: printed as clap prints the errors it finds itself,
/// with the subcommand's usage line and where to find help; exit 2.
pub(crate) fn argument_error(subcommand: &str, message: &str) -> ExitStatus {
    let mut cli = Cli::command();
    cli.build();
    let kind = clap::error::ErrorKind::ArgumentConflict;
    let error = match cli.find_subcommand_mut(subcommand) {
        Some(command) => command.error(kind, message),
        None => cli.error(kind, message),
    };
    let _ = error.print();
    ExitStatus::Error
}

/// `text` on stdout; a reader that closed the pipe early is no error.
pub(crate) fn print(text: &str) -> ExitStatus {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            tell(&format!("cannot write output: {e}"));
            ExitStatus::Error
        }
        _ => ExitStatus::Success,
    }
}

/// Render one output to its destination, the one place every command writes a report:
/// stdout through a buffer, or a file replaced atomically. `render` is told whether it
/// writes to a file (no colour codes, the stable layout instead of the terminal's width).
/// `Ok(false)` when stdout's reader closed the pipe early (it wants no more); otherwise an
/// error names `what` and the file.
pub(crate) fn write_to(
    destination: &Destination,
    what: &str,
    render: impl FnOnce(&mut dyn Write, bool) -> std::io::Result<()>,
) -> Result<bool, String> {
    match destination {
        Destination::Stdout => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            match render(&mut out, false).and_then(|()| out.flush()) {
                Ok(()) => Ok(true),
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
                Err(e) => Err(format!("cannot write output: {e}")),
            }
        }
        // Written into the temporary file as it is rendered, not whole in memory first.
        Destination::File(path) => atomic_write::write_with(path, |out| render(out, true))
            .map(|()| true)
            .map_err(|e| format!("cannot write {what} to {}: {}", path.display(), e.source)),
    }
}

/// `--threads`: the size of the global pool, set before any parallel work.
pub(crate) fn set_threads(threads: Option<u16>) {
    if let Some(threads) = threads {
        // Only fails if a global pool exists already, which cannot happen this early.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.into())
            .build_global();
    }
}

/// The config file (found from the current directory, or named) resolved with the flags.
pub(crate) fn resolve(args: &CheckArgs) -> Result<config::Resolved, ConfigError> {
    let cwd = current_dir()?;
    let config = config::locate(args, &cwd)?;
    config::resolve(args, config.as_ref())
}

/// Each file's settings: its nearest config file, else the run's (see [`config::Resolver`]).
pub(crate) fn resolver(args: &CheckArgs) -> Result<config::Resolver, ConfigError> {
    config::Resolver::new(args, &current_dir()?)
}

fn current_dir() -> Result<std::path::PathBuf, ConfigError> {
    std::env::current_dir().map_err(|e| ConfigError {
        path: None,
        position: None,
        message: format!(
            "cannot read the current directory: {}",
            discover::io_reason(&e)
        ),
    })
}

/// The width human output wraps to, found as `ls` finds it: the terminal on stdout, else
/// `$COLUMNS`, else `default` (output into a pipe or a file keeps a stable layout).
pub(crate) fn terminal_width(default: usize) -> usize {
    let terminal = terminal_size::terminal_size().map(|(terminal_size::Width(w), _)| w.into());
    terminal
        .or_else(|| std::env::var("COLUMNS").ok()?.trim().parse().ok())
        .filter(|w: &usize| *w >= 40)
        .unwrap_or(default)
}

pub(crate) fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
