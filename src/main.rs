//! Wiring only: parse arguments, discover, check, report, exit.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;

use ddb_guard::check::{self, Settings};
use ddb_guard::cli::{CheckArgs, Cli, ColorChoice, Command};
use ddb_guard::discover::{self, WalkOptions};
use ddb_guard::report::{self, RenderOptions};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => check_command(&args),
    }
}

fn check_command(args: &CheckArgs) -> ExitCode {
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
    let report = check::run(discover::discover(&args.paths, &walk), &settings);

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

fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .filter(|w| *w >= 40)
        .unwrap_or(100)
}
