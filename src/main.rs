//! Wiring only: parse arguments, discover, check, report, exit.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use clap::Parser;

use ddb_guard::base::{self, Baseline, ReadLimits};
use ddb_guard::check::{self, Settings};
use ddb_guard::cli::{CheckArgs, Cli, ColorChoice, Command};
use ddb_guard::discover::{self, WalkOptions};
use ddb_guard::report::{self, RenderOptions};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => check_command(&args, None),
        Command::Diff(args) => {
            if !args.check.paths.is_empty() || args.check.base.is_some() {
                return usage_error(
                    "`diff` compares exactly OLD and NEW; to compare with a git revision use `check --base REV [PATHS]`",
                    None,
                );
            }
            check_command(&args.check, Some((&args.old, &args.new)))
        }
    }
}

/// `check`, or `diff OLD NEW` when `diff` is given.
fn check_command(args: &CheckArgs, diff: Option<(&Path, &Path)>) -> ExitCode {
    if let Some(threads) = args.threads {
        // Only fails if a global pool exists already, which cannot happen this early.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.into())
            .build_global();
    }
    let walk = WalkOptions {
        respect_ignore: !args.no_ignore,
        hidden: args.hidden,
        follow_links: args.follow,
        ..WalkOptions::default()
    };
    let settings = Settings {
        max_file_size: args.max_file_size,
        limits: args.limits(),
        ..Settings::default()
    };
    let read = ReadLimits {
        max_file_size: settings.max_file_size,
        limits: settings.limits,
    };
    let (discovery, baseline) = match (diff, &args.base) {
        (Some((old, new)), _) => match base::from_paths(old, new, &walk, &read) {
            Ok((baseline, discovery)) => (discovery, baseline),
            Err(e) => return usage_error(&e.to_string(), e.help()),
        },
        (None, Some(rev)) => match base::from_git(rev, &args.paths, &read) {
            Ok(baseline) => (discover::discover(&args.paths, &walk), baseline),
            Err(e) => return usage_error(&e.to_string(), e.help()),
        },
        (None, None) => (discover::discover(&args.paths, &walk), Baseline::default()),
    };
    let report = check::run_against(discovery, &baseline, &settings);

    let stdout = std::io::stdout();
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    let options = RenderOptions {
        color,
        width: terminal_width(),
        timing: true,
    };
    let mut out = std::io::BufWriter::new(stdout.lock());
    let written =
        report::render(args.format, &report, &options, &mut out).and_then(|()| out.flush());
    if let Err(e) = written {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            // stderr may be closed too; nothing is left to tell, and the exit code says it.
            let _ = writeln!(std::io::stderr(), "ddb-guard: cannot write output: {e}");
            return ExitCode::from(2);
        }
    }
    ExitCode::from(report.exit_code() as u8)
}

/// Nothing could be compared (no repository, unknown revision, bad arguments): exit 2.
fn usage_error(message: &str, help: Option<&str>) -> ExitCode {
    let mut stderr = std::io::stderr();
    let _ = writeln!(stderr, "ddb-guard: error: {message}");
    if let Some(help) = help {
        let _ = writeln!(stderr, "  help: {help}");
    }
    ExitCode::from(2)
}

fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .filter(|w| *w >= 40)
        .unwrap_or(100)
}
