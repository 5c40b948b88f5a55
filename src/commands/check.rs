//! `ddb-guard check [PATHS]`: discover, check (compared with a base revision under
//! `--base`), apply the `--baseline`, then report; or hand the report to [`fix`]
//! for `--fix` and `--diff`. `diff OLD NEW` runs the same path with OLD as the base.

use std::io::{IsTerminal, Write};
use std::path::Path;

use super::{
    argument_error, fix, plural, resolver, set_threads, tell, terminal_width, usage_error, warn,
    write_to,
};
use crate::base_revision::{self, BaseRevision, ReadLimits};
use crate::baseline::{self, BaselineError};
use crate::check::Checker;
use crate::cli::{CheckArgs, ColorChoice};
use crate::config;
use crate::discover::{self, Candidate, Discovery};
use crate::file_error::FileError;
use crate::finding::Applicability;
use crate::fix_engine::FixMode;
use crate::guard;
use crate::progress::{self, Progress};
use crate::report::data::{ExitStatus, FailOn, Report};
use crate::report::{self, github, Destination, Format, Output, RenderOptions};
use crate::ruleset::select;

pub fn run(args: &CheckArgs) -> ExitStatus {
    run_compared(args, None)
}

/// Everything a check run needs after its setup: what `--fix` and `--diff` use to read the
/// files again, re-check them and report.
pub(crate) struct CheckRun<'a> {
    pub args: &'a CheckArgs,
    pub outputs: Vec<Output>,
    pub fail_on: FailOn,
    pub checker: Checker,
    pub base: BaseRevision,
    /// The `--baseline` (or just written `--write-baseline`) file, with its path keys.
    pub accepted: Option<(baseline::Baseline, baseline::Keys)>,
    /// `check --base`: what the base revision decides (config and baseline findings).
    pub governed: Option<guard::Governed>,
    /// The files walked, kept for `--fix` and `--diff` only: a plain check keeps one list,
    /// not three (they were a third of peak RSS at corpus x10).
    pub again: Option<Discovery>,
    /// Which fixes `--fix` and `--diff` apply.
    pub mode: FixMode,
}

impl CheckRun<'_> {
    pub fn mode(&self) -> &FixMode {
        &self.mode
    }

    pub fn candidates(&self) -> &[Candidate] {
        self.again
            .as_ref()
            .map(|d| &d.files[..])
            .unwrap_or_default()
    }

    /// Check the walked files again from disk (after `--fix` wrote them), with the same
    /// base and baseline.
    pub fn recheck(&mut self) -> Report {
        let again = self.again.take().unwrap_or_default();
        let mut report = self.checker.check_against(again, &self.base, None);
        if let Some(governed) = &self.governed {
            governed.add_to(&mut report);
        }
        if let Some((accepted, keys)) = &self.accepted {
            accepted.apply(&mut report, keys);
        }
        report
    }

    /// Render the report into every requested output; see [`render`].
    pub fn render(&self, report: &Report) -> (ExitStatus, bool) {
        render(self.args, &self.outputs, self.fail_on, report)
    }
}

/// `check`, or `diff OLD NEW` when `diff` is given.
pub(crate) fn run_compared(args: &CheckArgs, diff: Option<(&Path, &Path)>) -> ExitStatus {
    let subcommand = if diff.is_some() { "diff" } else { "check" };
    let outputs = match outputs(args) {
        Ok(outputs) => outputs,
        Err(message) => return argument_error(subcommand, &message),
    };
    set_threads(args.input.threads);
    let mut resolver = match resolver(args) {
        Ok(resolver) => resolver,
        Err(e) => return usage_error(&e.to_string(), None),
    };
    // `check --base`: the base revision governs the comparison rules (see `guard`), each
    // file's by the base's config nearest to it.
    let mut pr = None;
    if let (None, Some(rev)) = (diff, &args.base) {
        let git = match base_revision::open_git(rev) {
            Ok(git) => git,
            Err(e) => return usage_error(&e.to_string(), e.help()),
        };
        let governed = match guard::govern(&git, args, resolver.run()) {
            Ok(governed) => governed,
            Err(message) => return usage_error(&message, None),
        };
        let max = resolver.run().settings.max_file_size;
        match guard::per_directory(&git, args, max) {
            Ok(govern) => resolver.set_govern(govern),
            Err(message) => return usage_error(&message, None),
        }
        if let Some(run) = resolver.run_mut() {
            run.settings.governing = Some(governed.governing.clone());
            run.fail_on = governed.fail_on;
        }
        pr = Some((git, governed));
    }
    let resolver = std::sync::Arc::new(resolver);
    let walk = &resolver.walk();
    let fail_on = fail_on(args, resolver.run());
    if args.unsafe_fixes && !args.fix && !args.diff {
        return argument_error(subcommand, "--unsafe-fixes needs --fix or --diff");
    }
    let mode = match fix_mode(args) {
        Ok(mode) => mode,
        Err(message) => return argument_error(subcommand, &message),
    };
    if args.show_files && diff.is_none() {
        return show_files(args, walk, &resolver);
    }
    // Only JUnit lists the checks that passed, only a baseline judges files without
    // findings (its stale entries), and a comparison with a base revision (`--base`,
    // `diff`) matches files with the base's: otherwise a passing file is counted, not kept.
    let keep_passing = args.fix
        || args.base.is_some()
        || diff.is_some()
        || args.diff
        || args.baseline.is_some()
        || args.write_baseline.is_some()
        || outputs.iter().any(|o| o.format == Format::Junit);
    let checker = Checker::with_profiles(resolver.run_profile(), resolver.clone())
        .keeping_passing(keep_passing);
    let read = ReadLimits {
        max_file_size: checker.settings().max_file_size,
        limits: checker.settings().limits,
    };
    let stdin = args.paths.iter().any(|p| p.as_os_str() == "-")
        || (args.paths.is_empty() && args.stdin_filename.is_some());
    if stdin {
        if args.paths.len() > 1 {
            return argument_error(
                subcommand,
                "`-` (standard input) cannot be combined with other paths",
            );
        }
        if args.fix || args.diff || args.base.is_some() || diff.is_some() || args.show_files {
            return argument_error(
                subcommand,
                "standard input (`-`) cannot be used with --fix, --diff, --base, --show-files or `diff`: write the template to a file and name it",
            );
        }
        let report = check_stdin(args, &checker);
        return finish_stdin(args, outputs, fail_on, report);
    }
    // A plain check whose every report can be written file by file streams: no file's
    // report is kept to the end, nor the list of files (see `report::stream`).
    let options = render_options(args, fail_on);
    if diff.is_none()
        && args.base.is_none()
        && !keep_passing
        && outputs
            .iter()
            .all(|o| report::stream::streams(o.format, &options))
    {
        return check_streamed(
            args, &outputs, fail_on, &checker, &resolver, &mode, &options,
        );
    }
    let (discovery, base) = match (diff, &args.base) {
        (Some((old, new)), _) => match base_revision::from_paths(old, new, walk, &read) {
            Ok((base, discovery)) => (discovery, base),
            Err(e) => return usage_error(&e.to_string(), e.help()),
        },
        (None, Some(_)) => match pr.as_ref().map(|(git, governed)| {
            let mut walk = walk.clone();
            walk.extensions.extend(governed.extensions.iter().cloned());
            base_revision::from_git_base(git, &args.paths, &walk, &read)
        }) {
            None => (
                discover::discover(&args.paths, walk),
                BaseRevision::default(),
            ),
            Some(Err(e)) => return usage_error(&e.to_string(), e.help()),
            Some(Ok(base)) => {
                for warning in &base.warnings {
                    warn(warning);
                }
                (discover::discover(&args.paths, walk), base)
            }
        },
        (None, None) => (
            discover::discover(&args.paths, walk),
            BaseRevision::default(),
        ),
    };
    if let Some(e) = resolver.error() {
        return usage_error(&e.to_string(), None);
    }
    let again = (args.fix || args.diff).then(|| Discovery {
        files: discovery.files.clone(),
        errors: discovery.errors.clone(),
    });
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
    let mut report =
        checker.check_against(discovery, &base, progress.as_ref().map(|p| p.counter()));
    if let Some(p) = progress {
        p.finish();
    }
    // Each service's own config compared with its base version (DDB902), for the
    // configs that governed a checked file.
    if let Some((git, governed)) = &mut pr {
        let max = checker.settings().max_file_size;
        match guard::weakened_per_directory(git, args, &resolver.pairs(), &governed.reports, max) {
            Ok(more) => governed.reports.extend(more),
            Err(message) => return usage_error(&message, None),
        }
    }
    let governed = pr.map(|(_, governed)| governed);
    if let Some(governed) = &governed {
        governed.add_to(&mut report);
    }
    let accepted = match accepted_findings(args, &report) {
        Ok(accepted) => accepted,
        Err(e) => return usage_error(&e.to_string(), None),
    };
    // The comparison rules' findings are baselined by the base version of the file only.
    let accepted = match (accepted, &governed) {
        (Some((head, keys)), Some(governed)) if args.write_baseline.is_none() => {
            Some((governed.baseline(head), keys))
        }
        (accepted, _) => accepted,
    };
    if let Some((accepted, keys)) = &accepted {
        accepted.apply(&mut report, keys);
    }
    if report.checked_nothing() && !args.allow_no_templates {
        let roots: Vec<std::path::PathBuf> = match diff {
            Some((_, new)) => vec![new.to_path_buf()],
            None => args.paths.clone(),
        };
        let found = run_again_files(&again, &roots, walk);
        let skipped = discover::skipped_by_walk(&roots, walk, &found);
        let (path, error) = nothing_checked(&roots, &report, &skipped);
        report.add_error(&path, error, None);
    }
    let mut run = CheckRun {
        args,
        outputs,
        fail_on,
        checker,
        base,
        accepted,
        governed,
        again,
        mode,
    };
    if args.diff {
        return fix::show_diff(&run, &report);
    }
    if args.fix {
        return fix::apply(&mut run, &report);
    }
    let (status, complete) =
        crate::timings::time(crate::timings::Stage::Output, || run.render(&report));
    let human_on_stdout = run
        .outputs
        .iter()
        .any(|o| o.format == Format::Human && o.destination == Destination::Stdout);
    if complete && human_on_stdout && !args.quiet {
        hint_fixable(&report, run.mode());
    }
    status
}

/// A plain check streamed: the walk feeds the checker one file at a time, each file's
/// reports are spooled as it is done (`report::stream`), and written at the end.
fn check_streamed(
    args: &CheckArgs,
    outputs: &[Output],
    fail_on: FailOn,
    checker: &Checker,
    resolver: &std::sync::Arc<config::Resolver>,
    mode: &FixMode,
    options: &RenderOptions,
) -> ExitStatus {
    let walk = &resolver.walk();
    let machine_stdout_piped = !std::io::stdout().is_terminal()
        && outputs
            .iter()
            .any(|o| o.destination == Destination::Stdout && o.format != Format::Human);
    // A progress bar needs the number of files first: only then is the list walked whole.
    let bar_possible = std::io::stderr().is_terminal()
        && !progress::in_ci(std::env::var_os("CI").as_deref())
        && !machine_stdout_piped;
    let (files, progress) = if bar_possible {
        let discovery = discover::discover(&args.paths, walk);
        let progress = progress::wanted(discovery.files.len(), true, false, false)
            .then(|| Progress::start(discovery.files.len()));
        (discover::Walk::listed(discovery), progress)
    } else {
        (discover::discover_sorted(&args.paths, walk), None)
    };
    let reports: Vec<(Format, RenderOptions)> = outputs
        .iter()
        .map(|o| (o.format, output_options(o, options)))
        .collect();
    let mut spool = match report::stream::Spool::new(&reports) {
        Ok(spool) => spool,
        Err(e) => return usage_error(&format!("cannot create a temporary file: {e}"), None),
    };
    let mut fixable = Fixable::new(mode);
    let again = || discover::discover_sorted(&args.paths, walk);
    let mut live = live_output(outputs, &reports, checker, progress.is_some()).map(Live::new);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let (mut report, replaced) = std::thread::scope(|scope| {
        // The read-ahead that says which reports are final (see `reach`), for a report
        // that goes to a reader while the run goes on.
        let (send, reach) = std::sync::mpsc::channel();
        if live.is_some() {
            let (stop, again) = (&stop, &again);
            scope.spawn(move || {
                // A bug in the read-ahead holds the report back to the end, no more.
                let reach = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    crate::reach::scan(checker, again(), stop)
                }));
                let _ = send.send(reach.ok().flatten());
            });
        }
        let checked = checker.check_streaming(
            files,
            &again,
            progress.as_ref().map(|p| p.counter()),
            &mut |file| {
                fixable.count(file);
                spool.file(file);
                if let Some(live) = live.as_mut() {
                    live.release(&mut spool, &reach, resolver);
                }
            },
        );
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        checked
    });
    if let Some(p) = progress {
        p.finish();
    }
    // A config file that cannot be used was met during the walk: nothing was written yet.
    if let Some(e) = resolver.error() {
        return usage_error(&e.to_string(), None);
    }
    if report.checked_nothing() && !args.allow_no_templates {
        let found = run_again_files(&None, &args.paths, walk);
        let skipped = discover::skipped_by_walk(&args.paths, walk, &found);
        let (path, error) = nothing_checked(&args.paths, &report, &skipped);
        report.add_error(&path, error, None);
    }
    let (status, complete) = crate::timings::time(crate::timings::Stage::Output, || {
        render_streamed(outputs, fail_on, &report, &mut spool, &replaced, live)
    });
    let human_on_stdout = outputs
        .iter()
        .any(|o| o.format == Format::Human && o.destination == Destination::Stdout);
    if complete && human_on_stdout && !args.quiet {
        let (safe, unsafe_only) = fixable.total(&report, &replaced);
        tell_fixable(safe, unsafe_only);
    }
    status
}

/// How every report of this run is rendered (colour for stdout; see [`output_options`]).
fn render_options(args: &CheckArgs, fail_on: FailOn) -> RenderOptions {
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => auto_color(std::io::stdout().is_terminal(), |name| {
            std::env::var_os(name).map(|v| v.to_string_lossy().into_owned())
        }),
    };
    RenderOptions {
        color,
        width: terminal_width(100),
        timing: true,
        show_suppressed: args.show_suppressed,
        fail_on,
        quiet: args.quiet,
        statistics: args.statistics,
    }
}

/// The options of one output: colour codes do not belong in a file.
fn output_options(output: &Output, options: &RenderOptions) -> RenderOptions {
    RenderOptions {
        color: options.color && output.destination == Destination::Stdout,
        ..*options
    }
}

/// Write every streamed report (see [`report::stream`]) to its destination, as
/// [`render`] writes a whole report.
fn render_streamed(
    outputs: &[Output],
    fail_on: FailOn,
    report: &Report,
    spool: &mut report::stream::Spool,
    replaced: &std::collections::HashSet<String>,
    live: Option<Live>,
) -> (ExitStatus, bool) {
    let written = write_each(outputs, |n, output| {
        let what = format!("{} report", output.format.name());
        if let Some(live) = live.as_ref().filter(|live| live.part == n) {
            match &live.outcome {
                Ok(true) => {}
                Ok(false) => return Ok(false),
                Err(message) => return Err(message.clone()),
            }
        }
        write_to(&output.destination, &what, |out, _| {
            spool.finish(n, report, replaced, out)
        })
    });
    written.status(report, fail_on)
}

/// Which output, if any, gets each file's part as soon as it is final (see
/// [`report::stream::Spool::release`]): the one on stdout, when a reader may read it while
/// the run goes on (a terminal, a pipe or a socket; a file is read when it is whole) and
/// its format begins with the files. Not while a progress bar draws on the terminal, nor
/// when DDB013's run-level finding (placed by the path of the config that asks for it)
/// can only be known at the end.
fn live_output(
    outputs: &[Output],
    reports: &[(Format, RenderOptions)],
    checker: &Checker,
    bar: bool,
) -> Option<usize> {
    if bar || !checker.settings().required_guardrails.is_empty() {
        return None;
    }
    let n = outputs
        .iter()
        .position(|o| o.destination == Destination::Stdout)?;
    let (format, options) = &reports[n];
    (report::stream::releases(*format, options) && stdout_read_while_running()).then_some(n)
}

/// Whether stdout may have a reader while the run goes on: a terminal, a pipe or a socket,
/// not a file nor `/dev/null`.
fn stdout_read_while_running() -> bool {
    use std::os::fd::AsFd;
    use std::os::unix::fs::FileTypeExt;
    let stdout = std::io::stdout();
    if stdout.is_terminal() {
        return true;
    }
    let Ok(fd) = stdout.as_fd().try_clone_to_owned() else {
        return false;
    };
    std::fs::File::from(fd).metadata().is_ok_and(|meta| {
        let kind = meta.file_type();
        kind.is_fifo() || kind.is_socket()
    })
}

/// How many files with output a live report lets wait for the read-ahead (see
/// [`crate::reach`]) before the check waits for it: the read-ahead does less per file than
/// the check, so this rarely binds, and then a reader is never more than this behind.
const LIVE_BACKLOG: usize = 256;

/// The report that goes to stdout while the run goes on (see [`live_output`]).
struct Live {
    /// Its index among the outputs (and the spool's reports).
    part: usize,
    /// What the read-ahead found, once it is done; `None` inside when nothing may go out
    /// before the end (the read-ahead failed, or a config file cannot be used: the run
    /// then ends with that error and no report).
    reach: Option<Option<crate::reach::Reach>>,
    /// Files spooled while the read-ahead was still going.
    waiting: usize,
    out: std::io::BufWriter<std::io::Stdout>,
    /// `Ok(false)` once stdout's reader closed the pipe; an error message once writing
    /// failed: nothing more goes out.
    outcome: Result<bool, String>,
}

impl Live {
    fn new(part: usize) -> Live {
        Live {
            part,
            reach: None,
            waiting: 0,
            out: std::io::BufWriter::new(std::io::stdout()),
            outcome: Ok(true),
        }
    }

    /// Write out the spooled files that are final, in order (called as each is spooled).
    fn release(
        &mut self,
        spool: &mut report::stream::Spool,
        ahead: &std::sync::mpsc::Receiver<Option<crate::reach::Reach>>,
        resolver: &config::Resolver,
    ) {
        if self.outcome != Ok(true) {
            return;
        }
        if self.reach.is_none() {
            self.waiting += 1;
            let found = if self.waiting > LIVE_BACKLOG {
                ahead.recv().ok()
            } else {
                ahead.try_recv().ok()
            };
            match found {
                // Every config file was met by the read-ahead's walk.
                Some(reach) => self.reach = Some(reach.filter(|_| resolver.error().is_none())),
                None if self.waiting > LIVE_BACKLOG => self.reach = Some(None),
                None => return,
            }
        }
        let Some(Some(reach)) = &self.reach else {
            return;
        };
        let released = spool
            .release(self.part, &mut self.out, &mut |path| reach.is_final(path))
            .and_then(|more| self.out.flush().map(|()| more));
        match released {
            Ok(true) => {}
            // Held until the end.
            Ok(false) => self.reach = Some(None),
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => self.outcome = Ok(false),
            Err(e) => self.outcome = Err(format!("cannot write output: {e}")),
        }
    }
}

/// How writing a run's outputs went: whether one failed (the run's status is then an
/// error), and whether all of stdout's report got out (a reader that closed the pipe
/// wants no more, on stdout or stderr).
struct Written {
    failed: bool,
    complete: bool,
}

impl Written {
    /// The run's exit status: an error when an output failed, else the report's.
    fn status(&self, report: &Report, fail_on: FailOn) -> (ExitStatus, bool) {
        if self.failed {
            return (ExitStatus::Error, false);
        }
        (report.exit_status(fail_on), self.complete)
    }
}

/// Write every output with `write` (given its index and the output; see [`write_to`]),
/// telling each failure.
fn write_each(
    outputs: &[Output],
    mut write: impl FnMut(usize, &Output) -> Result<bool, String>,
) -> Written {
    let mut written = Written {
        failed: false,
        complete: true,
    };
    for (n, output) in outputs.iter().enumerate() {
        match write(n, output) {
            Ok(true) => {}
            Ok(false) => written.complete = false,
            Err(message) => {
                tell(&message);
                written.failed = true;
                written.complete = false;
            }
        }
    }
    written
}

/// The findings `--fix` would resolve, counted as files are emitted (a streamed run keeps
/// no report), by file so that a file emitted and then replaced counts once.
struct Fixable {
    mode: FixMode,
    /// (hash of the path, safe, unsafe only), for emitted files with fixable findings.
    files: Vec<(u64, usize, usize)>,
}

impl Fixable {
    fn new(mode: &FixMode) -> Self {
        Fixable {
            mode: FixMode {
                unsafe_fixes: true,
                ..mode.clone()
            },
            files: Vec::new(),
        }
    }

    fn of(&self, file: &crate::report::data::FileReport) -> (usize, usize) {
        fixable_in(std::slice::from_ref(file), &self.mode)
    }

    fn count(&mut self, file: &crate::report::data::FileReport) {
        let (safe, unsafe_only) = self.of(file);
        if safe + unsafe_only > 0 {
            self.files.push((path_hash(&file.path), safe, unsafe_only));
        }
    }

    /// The emitted files' counts (except those replaced) and the report's.
    fn total(
        &self,
        report: &Report,
        replaced: &std::collections::HashSet<String>,
    ) -> (usize, usize) {
        let replaced: std::collections::HashSet<u64> =
            replaced.iter().map(|p| path_hash(p)).collect();
        let (mut safe, mut unsafe_only) = fixable_in(&report.files, &self.mode);
        for (hash, s, u) in &self.files {
            if !replaced.contains(hash) {
                safe += s;
                unsafe_only += u;
            }
        }
        (safe, unsafe_only)
    }
}

fn path_hash(path: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    path.hash(&mut hasher);
    hasher.finish()
}

/// Render the report into every requested output (and the GitHub job summary). The
/// flag says whether all of stdout's report got out (a reader that closed the pipe
/// wants no more, on stdout or stderr).
pub(crate) fn render(
    args: &CheckArgs,
    outputs: &[Output],
    fail_on: FailOn,
    report: &Report,
) -> (ExitStatus, bool) {
    let options = render_options(args, fail_on);
    let mut written = write_each(outputs, |_, output| write_output(output, report, &options));
    if outputs.iter().any(|o| o.format == Format::Github) {
        if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
            let path = std::path::PathBuf::from(path);
            if let Err(e) = github::append_step_summary(&path, report) {
                tell(&format!(
                    "cannot write the job summary to {}: {e}",
                    path.display()
                ));
                written.failed = true;
            }
        }
    }
    written.status(report, fail_on)
}

/// The `--format` outputs (human on stdout by default); two on one destination are a
/// usage error.
pub(crate) fn outputs(args: &CheckArgs) -> Result<Vec<Output>, String> {
    let outputs = if args.formats.is_empty() {
        vec![Output {
            format: Format::Human,
            destination: Destination::Stdout,
        }]
    } else {
        args.formats.clone()
    };
    report::check_outputs(&outputs)?;
    Ok(outputs)
}

/// `--fixable`/`--unfixable` as rule codes (selectors as for `--select`), with
/// `--unsafe-fixes`.
fn fix_mode(args: &CheckArgs) -> Result<FixMode, String> {
    let codes = |selectors: &[String], flag: &str| -> Result<Vec<&'static str>, String> {
        if !selectors.is_empty() && !args.fix && !args.diff {
            return Err(format!("--{flag} needs --fix or --diff"));
        }
        let mut codes = Vec::new();
        for selector in selectors {
            let rules = select::expand(selector).map_err(|e| format!("--{flag}: {e}"))?;
            codes.extend(rules.iter().map(|r| r.code));
        }
        Ok(codes)
    };
    Ok(FixMode {
        unsafe_fixes: args.unsafe_fixes,
        fixable: match &args.fixable {
            Some(selectors) => Some(codes(selectors, "fixable")?),
            None => None,
        },
        unfixable: codes(&args.unfixable, "unfixable")?,
    })
}

/// `--fail-on`: the flag wins over the config file, which wins over the default (`error`).
pub(crate) fn fail_on(args: &CheckArgs, resolved: &config::Resolved) -> FailOn {
    match (args.fail_on, resolved.fail_on) {
        (Some(flag), _) => flag,
        (None, Some(config::FailOnName::Error)) | (None, None) => FailOn::Error,
        (None, Some(config::FailOnName::Warning)) => FailOn::Warning,
        (None, Some(config::FailOnName::Never)) => FailOn::Never,
    }
}

/// Render one report to its destination: `Ok(false)` when stdout's reader closed the
/// pipe early, an error message naming the output that failed.
fn write_output(output: &Output, report: &Report, options: &RenderOptions) -> Result<bool, String> {
    let what = format!("{} report", output.format.name());
    write_to(&output.destination, &what, |out, to_file| {
        // Colour codes do not belong in a file.
        let options = RenderOptions {
            color: options.color && !to_file,
            ..*options
        };
        report::render(output.format, report, &options, out)
    })
}

/// The `--baseline` file, or the one `--write-baseline` has just written from `report`'s
/// findings, with the keys that match report paths to its entries.
fn accepted_findings(
    args: &CheckArgs,
    report: &Report,
) -> Result<Option<(baseline::Baseline, baseline::Keys)>, BaselineError> {
    if let Some(path) = &args.write_baseline {
        let keys = baseline::Keys::for_file(path);
        let accepted = baseline::Baseline::from_report(report, &keys);
        accepted.write(path)?;
        Ok(Some((accepted, keys)))
    } else if let Some(path) = &args.baseline {
        let keys = baseline::Keys::for_file(path);
        Ok(Some((baseline::Baseline::load(path)?, keys)))
    } else {
        Ok(None)
    }
}

/// `--show-files`: what a run would check, what the walk leaves out and why, and the
/// config that applies (as ruff's `--show-files` and cfn-lint's `--list-templates`).
fn show_files(
    args: &CheckArgs,
    walk: &discover::WalkOptions,
    resolver: &config::Resolver,
) -> ExitStatus {
    let found = discover::discover(&args.paths, walk);
    if let Some(e) = resolver.error() {
        return usage_error(&e.to_string(), None);
    }
    let mut text = String::new();
    for c in &found.files {
        let config = match resolver.config_of(&c.path) {
            Ok(Some(path)) => path,
            Ok(None) if args.config_file.isolated => "none (--isolated)".to_string(),
            Ok(None) => "none".to_string(),
            Err(e) => return usage_error(&e.to_string(), None),
        };
        text.push_str(&format!("check  {}  (config: {config})\n", c.display));
    }
    for e in &found.errors {
        text.push_str(&format!("error  {}  ({})\n", e.display, e.message));
    }
    for (c, reason) in discover::skipped_files(&args.paths, walk, &found.files) {
        let (why, flag) = reason.describe();
        text.push_str(&format!("skip   {}  ({why}: {flag})\n", c.display));
    }
    let status = super::print(&text);
    if found.errors.is_empty() {
        status
    } else {
        ExitStatus::Error
    }
}

/// Check the template on standard input, reported as `--stdin-filename` (else `-`),
/// whose name also picks the format and the layout.
fn check_stdin(args: &CheckArgs, checker: &Checker) -> Report {
    use std::io::Read as _;
    let max = checker.settings().max_file_size;
    let display = args
        .stdin_filename
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "-".to_string());
    let name = args
        .stdin_filename
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from("-"));
    let started = std::time::Instant::now();
    let mut bytes = Vec::new();
    let read = std::io::stdin()
        .lock()
        .take(max.saturating_add(1))
        .read_to_end(&mut bytes);
    let file = match read {
        Err(e) => crate::report::data::failed(
            display,
            FileError::new(format!("cannot read standard input: {e}")),
            None,
        ),
        Ok(_) if bytes.len() as u64 > max => crate::report::data::failed(
            display,
            FileError::new(format!(
                "standard input is larger than the {max} byte limit"
            ))
            .with_help("raise the limit with --max-file-size"),
            None,
        ),
        Ok(_) => checker.check_bytes(&display, &name, &bytes),
    };
    let looks_like_template = crate::check::looks_like_template(&bytes);
    let skipped = file.status == crate::report::data::Status::Skipped && file.errors.is_empty();
    let mut files = if skipped { Vec::new() } else { vec![file] };
    // Its nested stacks' templates, relative to `--stdin-filename`'s directory.
    checker.follow_nested(&mut files);
    let mut unlisted = crate::report::data::Summary::default();
    if skipped {
        unlisted.count_unlisted(crate::report::data::Status::Skipped);
    }
    let mut summary = crate::report::data::summarize(&files).with_unlisted(&unlisted);
    if skipped {
        summary.skipped_templates = usize::from(looks_like_template);
    }
    Report {
        files,
        summary,
        elapsed: started.elapsed(),
        stale_baseline: Vec::new(),
        unlisted,
    }
}

/// Report a standard-input check: the baseline, the nothing-checked error, the outputs.
fn finish_stdin(
    args: &CheckArgs,
    outputs: Vec<Output>,
    fail_on: FailOn,
    mut report: Report,
) -> ExitStatus {
    let accepted = match accepted_findings(args, &report) {
        Ok(accepted) => accepted,
        Err(e) => return usage_error(&e.to_string(), None),
    };
    if let Some((accepted, keys)) = &accepted {
        accepted.apply(&mut report, keys);
    }
    if report.checked_nothing() && !args.allow_no_templates {
        let path = report_path_of_stdin(args);
        report.add_error(
            &path,
            FileError::new("no CloudFormation template was checked: standard input is not a CloudFormation template")
                .with_help("if this pipeline may legitimately have no templates, pass `--allow-no-templates`"),
            None,
        );
    }
    render(args, &outputs, fail_on, &report).0
}

fn report_path_of_stdin(args: &CheckArgs) -> String {
    args.stdin_filename
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "-".to_string())
}

/// `--color auto`: `NO_COLOR` (set and not empty) turns colours off; else `FORCE_COLOR`
/// or `CLICOLOR_FORCE` (set, not empty, not `0`) turns them on where stdout is no terminal
/// (CI logs that render ANSI); else only on a terminal.
fn auto_color(terminal: bool, env: impl Fn(&str) -> Option<String>) -> bool {
    let set = |name: &str| env(name).is_some_and(|v| !v.is_empty());
    let forced = |name: &str| env(name).is_some_and(|v| !v.is_empty() && v != "0");
    if set("NO_COLOR") {
        false
    } else if forced("FORCE_COLOR") || forced("CLICOLOR_FORCE") {
        true
    } else {
        terminal
    }
}

/// The files the walk kept: the copy `--fix` keeps, else walked again (only a run that
/// checked nothing gets here, so this costs nothing on a real run).
fn run_again_files(
    again: &Option<Discovery>,
    roots: &[std::path::PathBuf],
    walk: &discover::WalkOptions,
) -> Vec<Candidate> {
    match again {
        Some(d) => d.files.clone(),
        None => discover::discover(roots, walk).files,
    }
}

/// The error of a run that checked no template: where it looked, what the walk left out
/// and where, and what to do.
fn nothing_checked(
    roots: &[std::path::PathBuf],
    report: &Report,
    skipped: &[discover::SkippedGroup],
) -> (String, FileError) {
    let path = match roots {
        [one] => one.display().to_string(),
        _ => ".".to_string(),
    };
    let s = &report.summary;
    let looked = if s.files == 0 {
        "no file with a template extension (.yaml, .yml, .json, .template) was found".to_string()
    } else {
        format!(
            "{} looked at, none is a CloudFormation template",
            plural(s.files, "file was", "files were")
        )
    };
    let mut help = Vec::new();
    for group in skipped {
        let (why, flag) = group.reason.describe();
        help.push(format!(
            "`{}` holds {} {why}: {flag} or name the {} on the command line",
            group.display,
            plural(group.files, "candidate file", "candidate files"),
            if group.display.ends_with('/') {
                "directory"
            } else {
                "file"
            },
        ));
    }
    help.push(
        "if this pipeline may legitimately have no templates, pass `--allow-no-templates`"
            .to_string(),
    );
    let error = FileError::new(format!("no CloudFormation template was checked: {looked}"))
        .with_help(help.join("\n"));
    (path, error)
}

/// Tell the user, as ruff does, how many findings `--fix` would resolve.
fn hint_fixable(report: &Report, mode: &FixMode) {
    let every_safety = FixMode {
        unsafe_fixes: true,
        ..mode.clone()
    };
    let (safe, unsafe_only) = fixable_in(&report.files, &every_safety);
    tell_fixable(safe, unsafe_only);
}

/// The findings of `files` that `mode` fixes: (safe, unsafe only).
fn fixable_in(files: &[crate::report::data::FileReport], mode: &FixMode) -> (usize, usize) {
    let fixes = files
        .iter()
        .flat_map(|f| &f.findings)
        .filter_map(|f| f.fix.as_ref().filter(|fix| mode.allows(f.code, fix)));
    let (mut safe, mut unsafe_only) = (0, 0);
    for fix in fixes {
        match fix.applicability {
            Applicability::Safe => safe += 1,
            Applicability::Unsafe => unsafe_only += 1,
        }
    }
    (safe, unsafe_only)
}

fn tell_fixable(safe: usize, unsafe_only: usize) {
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
