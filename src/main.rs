//! Wiring only: parse arguments, discover, check, report, exit.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

mod changeset_command;

use ddb_guard::base::{self, BaseRevision, ReadLimits};
use ddb_guard::baseline::{self, BaselineError};
use ddb_guard::check::{self, FailOn, Report, Settings};
use ddb_guard::cli::{
    CheckArgs, Cli, ColorChoice, Command, CompletionsArgs, InitArgs, InventoryArgs, RuleArgs,
    RuleFormat,
};
use ddb_guard::config::{self, ConfigError};
use ddb_guard::discover::{self, Discovery};
use ddb_guard::finding::Applicability;
use ddb_guard::fix::{self, FixMode};
use ddb_guard::inventory;
use ddb_guard::progress::{self, Progress};
use ddb_guard::report::inventory::InventoryFormat;
use ddb_guard::report::{self, github, Destination, Format, Output, RenderOptions};
use ddb_guard::rules::{self, doc, select};

fn main() -> ExitCode {
    ddb_guard::load::quiet_fallback_panics();
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
        Command::Rule(args) => rule_command(&args),
        Command::Init(args) => init_command(&args),
        Command::Inventory(args) => inventory_command(&args),
        Command::Completions(args) => completions_command(&args),
        Command::Changeset(args) => changeset_command::run(&args),
    }
}

/// `inventory`: the same config, discovery, prefilter and limits as `check`; exit 2 when a file
/// cannot be read, else 0.
fn inventory_command(args: &InventoryArgs) -> ExitCode {
    if let Some(threads) = args.input.threads {
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.into())
            .build_global();
    }
    let check_args = match args.as_check_args() {
        Ok(check_args) => check_args,
        Err(e) => return usage_error(&e.to_string(), None),
    };
    let resolved = match resolve(&check_args) {
        Ok(resolved) => resolved,
        Err(e) => return usage_error(&e.to_string(), None),
    };
    let (walk, settings) = (&resolved.walk, &resolved.settings);
    let inventory = inventory::run(discover::discover(&args.paths, walk), settings);
    let code = ExitCode::from(inventory.exit_code() as u8);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written =
        report::inventory::render(args.format, &inventory, &mut out).and_then(|()| out.flush());
    match written {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            let _ = writeln!(std::io::stderr(), "ddb-guard: cannot write output: {e}");
            ExitCode::from(2)
        }
        _ => {
            if !inventory.errors.is_empty() && args.format != InventoryFormat::Human {
                // The formats for machines and reports hold the errors too; say it where a
                // person running the command sees it.
                let _ = writeln!(
                    std::io::stderr(),
                    "ddb-guard: {} could not be read; the inventory is incomplete",
                    plural(inventory.errors.len(), "file", "files")
                );
            }
            code
        }
    }
}

/// `check`, or `diff OLD NEW` when `diff` is given.
fn check_command(args: &CheckArgs, diff: Option<(&Path, &Path)>) -> ExitCode {
    let outputs = if args.formats.is_empty() {
        vec![Output {
            format: Format::Human,
            destination: Destination::Stdout,
        }]
    } else {
        args.formats.clone()
    };
    if let Err(message) = report::check_outputs(&outputs) {
        Cli::command()
            .error(clap::error::ErrorKind::ArgumentConflict, message)
            .exit();
    }
    if let Some(threads) = args.input.threads {
        // Only fails if a global pool exists already, which cannot happen this early.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.into())
            .build_global();
    }
    let resolved = match resolve(args) {
        Ok(resolved) => resolved,
        Err(e) => return usage_error(&e.to_string(), None),
    };
    let (walk, settings) = (&resolved.walk, &resolved.settings);
    // The flag wins over the config file, which wins over the default (`error`).
    let fail_on = match (args.fail_on, resolved.fail_on) {
        (Some(flag), _) => flag,
        (None, Some(config::FailOnName::Error)) | (None, None) => FailOn::Error,
        (None, Some(config::FailOnName::Warning)) => FailOn::Warning,
        (None, Some(config::FailOnName::Never)) => FailOn::Never,
    };
    if args.unsafe_fixes && !args.fix && !args.diff {
        return usage_error("--unsafe-fixes needs --fix or --diff", None);
    }
    let read = ReadLimits {
        max_file_size: settings.max_file_size,
        limits: settings.limits,
    };
    let (discovery, baseline) = match (diff, &args.base) {
        (Some((old, new)), _) => match base::from_paths(old, new, walk, &read) {
            Ok((baseline, discovery)) => (discovery, baseline),
            Err(e) => return usage_error(&e.to_string(), e.help()),
        },
        (None, Some(rev)) => match base::from_git(rev, &args.paths, walk, &read) {
            Ok(baseline) => {
                for warning in &baseline.warnings {
                    let _ = writeln!(std::io::stderr(), "ddb-guard: warning: {warning}");
                }
                (discover::discover(&args.paths, walk), baseline)
            }
            Err(e) => return usage_error(&e.to_string(), e.help()),
        },
        (None, None) => (
            discover::discover(&args.paths, walk),
            BaseRevision::default(),
        ),
    };
    // Only --fix (re-check from disk) and --diff need the walk again after the check; a
    // plain check keeps one list, not three (they were a third of peak RSS at corpus x10).
    let again = (args.fix || args.diff).then(|| Discovery {
        files: discovery.files.clone(),
        errors: discovery.errors.clone(),
    });
    let candidates: Vec<_> = again.as_ref().map(|d| d.files.clone()).unwrap_or_default();
    let machine_stdout_piped = !std::io::stdout().is_terminal()
        && outputs
            .iter()
            .any(|o| o.destination == Destination::Stdout && o.format != Format::Human);
    let progress = progress::wanted(
        discovery.files.len(),
        std::io::stderr().is_terminal(),
        progress::in_ci(std::env::var_os("CI").as_deref()),
        machine_stdout_piped,
    )
    .then(|| Progress::start(discovery.files.len()));
    let mut report = match &progress {
        Some(p) => check::run_against_counting(discovery, &baseline, settings, p.counter()),
        None => check::run_against(discovery, &baseline, settings),
    };
    if let Some(p) = progress {
        p.finish();
    }
    let recorded = match findings_baseline_for(args, &report) {
        Ok(recorded) => recorded,
        Err(e) => return usage_error(&e.to_string(), None),
    };
    if let Some((recorded, keys)) = &recorded {
        recorded.apply(&mut report, keys);
    }
    let mode = FixMode {
        unsafe_fixes: args.unsafe_fixes,
    };
    if args.diff {
        return diff_command(&report, &candidates, settings, mode, fail_on);
    }
    if args.fix {
        let plans = fix::plan(&report, &candidates, settings, mode);
        let mut refused = Vec::new();
        let (mut fixes, mut files) = (0, 0);
        for plan in plans {
            let written = plan.result.and_then(|fixed| {
                if fixed.applied > 0 {
                    fix::write(&plan.path, plan.original.as_bytes(), fixed.text.as_bytes())?;
                }
                Ok(fixed.applied)
            });
            match written {
                Ok(0) => {}
                Ok(n) => {
                    fixes += n;
                    files += 1;
                }
                Err(error) => refused.push((plan.display, error, plan.original)),
            }
        }
        // Re-check from disk: what the report shows is what the files now hold.
        report = check::run_against(again.unwrap_or_default(), &baseline, settings);
        if let Some((recorded, keys)) = &recorded {
            recorded.apply(&mut report, keys);
        }
        for (path, error, text) in refused {
            report.add_error(&path, error, Some(&text));
        }
        let (code, _) = render(args, &outputs, fail_on, &report);
        // Files were written whatever happened to stdout: always say so.
        let _ = writeln!(
            std::io::stderr(),
            "{} applied in {}",
            plural(fixes, "fix", "fixes"),
            plural(files, "file", "files")
        );
        return code;
    }
    let (code, complete) = render(args, &outputs, fail_on, &report);
    let human_on_stdout = outputs
        .iter()
        .any(|o| o.format == Format::Human && o.destination == Destination::Stdout);
    if complete && human_on_stdout {
        hint_fixable(&report);
    }
    code
}

/// Render the report into every requested output (and the GitHub job summary); the flag
/// says whether all of stdout's report got out (a reader that closed the pipe wants no
/// more, on stdout or stderr).
fn render(
    args: &CheckArgs,
    outputs: &[Output],
    fail_on: FailOn,
    report: &Report,
) -> (ExitCode, bool) {
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    let options = RenderOptions {
        color,
        width: terminal_width(),
        timing: true,
        show_suppressed: args.show_suppressed,
        fail_on,
    };
    let mut failed = false;
    let mut complete = true;
    for output in outputs {
        match write_output(output, report, &options) {
            Ok(true) => {}
            Ok(false) => complete = false,
            Err(message) => {
                tell(&message);
                failed = true;
                complete = false;
            }
        }
    }
    if outputs.iter().any(|o| o.format == Format::Github) {
        if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
            let path = std::path::PathBuf::from(path);
            if let Err(e) = github::append_step_summary(&path, report) {
                tell(&format!(
                    "cannot write the job summary to {}: {e}",
                    path.display()
                ));
                failed = true;
            }
        }
    }
    if failed {
        return (ExitCode::from(2), false);
    }
    (
        ExitCode::from(report.exit_code_for(fail_on) as u8),
        complete,
    )
}

/// Render one report to its destination: `Ok(false)` when stdout's reader closed the
/// pipe early, an error message naming the output that failed.
fn write_output(output: &Output, report: &Report, options: &RenderOptions) -> Result<bool, String> {
    match &output.destination {
        Destination::Stdout => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            let written =
                report::render(output.format, report, options, &mut out).and_then(|()| out.flush());
            match written {
                Ok(()) => Ok(true),
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
                Err(e) => Err(format!("cannot write output: {e}")),
            }
        }
        Destination::File(path) => {
            // Colour codes do not belong in a file.
            let options = RenderOptions {
                color: false,
                ..*options
            };
            let mut bytes = Vec::new();
            report::render(output.format, report, &options, &mut bytes)
                .and_then(|()| report::write_file_atomically(path, &bytes))
                .map(|()| true)
                .map_err(|e| {
                    format!(
                        "cannot write {} report to {}: {e}",
                        output.format.name(),
                        path.display()
                    )
                })
        }
    }
}

/// An error on stderr. stderr may be closed too; then nothing is left to tell, and the
/// exit code says it.
fn tell(message: &str) {
    let _ = writeln!(std::io::stderr(), "ddb-guard: {message}");
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

fn print(text: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            eprintln!("ddb-guard: cannot write output: {e}");
            ExitCode::from(2)
        }
        _ => ExitCode::SUCCESS,
    }
}

/// `completions SHELL`: the script clap_complete generates from the same CLI definition.
fn completions_command(args: &CompletionsArgs) -> ExitCode {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "ddb-guard", &mut script);
    print(&String::from_utf8_lossy(&script))
}

fn rule_command(args: &RuleArgs) -> ExitCode {
    let found = match &args.rule {
        Some(name) => match select::expand(name) {
            Ok(found) => found,
            Err(e) => return usage_error(&e.to_string(), None),
        },
        None if args.all || args.format == RuleFormat::Json => rules::RULES.to_vec(),
        None => return print(&rules_listing()),
    };
    match args.format {
        RuleFormat::Json => print(&doc::json(&found)),
        RuleFormat::Text => {
            let pages: Vec<String> = found.iter().map(|r| doc::page(r)).collect();
            print(&pages.join("\n"))
        }
    }
}

/// One line per rule: code, name, default severity, on by default, summary.
fn rules_listing() -> String {
    let width = |f: fn(&rules::Rule) -> &str, title: &str| {
        rules::RULES
            .iter()
            .map(|r| f(r).len())
            .chain([title.len()])
            .max()
            .unwrap_or_default()
    };
    let name_width = width(|r| r.name, "name");
    let mut out = format!(
        "{:<6}  {:<name_width$}  {:<8}  {:<7}  summary\n",
        "code", "name", "severity", "default"
    );
    for rule in rules::RULES {
        out.push_str(&format!(
            "{:<6}  {:<name_width$}  {:<8}  {:<7}  {}\n",
            rule.code,
            rule.name,
            rule.severity.as_str(),
            if rule.default_enabled { "on" } else { "off" },
            rule.summary
        ));
    }
    out
}

fn init_command(args: &InitArgs) -> ExitCode {
    let path = &args.path;
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .and_then(|mut file| {
            file.write_all(config::DEFAULT_FILE.as_bytes())?;
            file.sync_all()
        });
    match written {
        Ok(()) => {
            eprintln!("ddb-guard: wrote {}", path.display());
            ExitCode::SUCCESS
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => usage_error(
            &format!("{} already exists; not overwriting it", path.display()),
            None,
        ),
        Err(e) => {
            // Do not leave half a file behind.
            let _ = std::fs::remove_file(path);
            usage_error(
                &format!(
                    "cannot write {}: {}",
                    path.display(),
                    discover::io_reason(&e)
                ),
                None,
            )
        }
    }
}

fn resolve(args: &CheckArgs) -> Result<config::Resolved, ConfigError> {
    let cwd = std::env::current_dir().map_err(|e| ConfigError {
        path: None,
        position: None,
        message: format!(
            "cannot read the current directory: {}",
            discover::io_reason(&e)
        ),
    })?;
    let config = config::locate(args, &cwd)?;
    config::resolve(args, config.as_ref())
}

/// The `--baseline` file, or the one `--write-baseline` has just written from `report`'s
/// findings, with the keys that match report paths to its entries.
fn findings_baseline_for(
    args: &CheckArgs,
    report: &Report,
) -> Result<Option<(baseline::Baseline, baseline::Keys)>, BaselineError> {
    if let Some(path) = &args.write_baseline {
        let keys = baseline::Keys::for_file(path);
        let recorded = baseline::Baseline::from_report(report, &keys);
        recorded.write(path)?;
        Ok(Some((recorded, keys)))
    } else if let Some(path) = &args.baseline {
        let keys = baseline::Keys::for_file(path);
        Ok(Some((baseline::Baseline::load(path)?, keys)))
    } else {
        Ok(None)
    }
}

fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .filter(|w| *w >= 40)
        .unwrap_or(100)
}

/// `--diff`: the diffs on stdout (ready for `patch -p0`), a count on
/// stderr, and the exit code of the check itself.
fn diff_command(
    report: &Report,
    candidates: &[discover::Candidate],
    settings: &Settings,
    mode: FixMode,
    fail_on: FailOn,
) -> ExitCode {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let (mut fixes, mut files, mut failed) = (0, 0, false);
    for plan in fix::plan(report, candidates, settings, mode) {
        match plan.result {
            Ok(fixed) if fixed.applied > 0 => {
                fixes += fixed.applied;
                files += 1;
                let diff = fix::unified_diff(&plan.display, &plan.original, &fixed.text);
                if let Err(e) = out.write_all(diff.as_bytes()) {
                    if e.kind() == std::io::ErrorKind::BrokenPipe {
                        return ExitCode::from(report.exit_code_for(fail_on) as u8);
                    }
                    let _ = writeln!(std::io::stderr(), "ddb-guard: cannot write output: {e}");
                    return ExitCode::from(2);
                }
            }
            Ok(_) => {}
            Err(error) => {
                failed = true;
                let _ = writeln!(
                    std::io::stderr(),
                    "ddb-guard: {}: {}",
                    plan.display,
                    error.message
                );
            }
        }
    }
    let _ = out.flush();
    let _ = writeln!(
        std::io::stderr(),
        "{} would be applied in {}",
        plural(fixes, "fix", "fixes"),
        plural(files, "file", "files")
    );
    if failed {
        return ExitCode::from(2);
    }
    ExitCode::from(report.exit_code_for(fail_on) as u8)
}

/// Tell the user, as ruff does, how many findings `--fix` would resolve.
fn hint_fixable(report: &Report) {
    let fixes = report
        .files
        .iter()
        .flat_map(|f| &f.findings)
        .filter_map(|f| f.fix.as_ref());
    let (mut safe, mut unsafe_only) = (0, 0);
    for fix in fixes {
        match fix.applicability {
            Applicability::Safe => safe += 1,
            Applicability::Unsafe => unsafe_only += 1,
        }
    }
    if safe > 0 || unsafe_only > 0 {
        let more = if unsafe_only > 0 {
            format!(" ({unsafe_only} more with `--fix --unsafe-fixes`)",)
        } else {
            String::new()
        };
        let _ = writeln!(
            std::io::stderr(),
            "{} fixable with `ddb-guard check --fix`{more}",
            plural(safe, "finding is", "findings are"),
        );
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
