//! Where a run's time goes, stage by stage (issue 23: profile before optimising). Off
//! unless `DDB_GUARD_TIMINGS=1` is set: each measuring point is then one relaxed load of a
//! flag and a branch. On, each stage's time is summed over every thread into one
//! nanosecond counter per stage (one atomic add per stage per file; the rules, timed per
//! resource and rule, add their per-file sums once), and [`report`] prints the sums to
//! stderr at the end of the run. Stdout is never touched, so the findings are unchanged.
//!
//! No stretch is timed inside another, so the stages add up to the total. The times are
//! each thread's elapsed (monotonic) time inside a stage, summed across
//! threads: on an idle machine that is the CPU time of the stage; on a loaded one it also
//! holds the time a thread waited for a core.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The environment variable that turns the timings on (`1`).
pub const ENV: &str = "DDB_GUARD_TIMINGS";

/// A stage of the pipeline, in pipeline order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Discovering the files (the directory walk, ignore files, extensions).
    Walk,
    /// Reading each candidate's bytes.
    Read,
    /// The needle scans that decide whether a file is parsed, and which rules run on it.
    Prefilter,
    /// Decoding and loading the text into the spanned tree (YAML/JSON, with the dialect
    /// checks, Serverless fragments and extensions).
    Parse,
    /// The template view: layout, policy files and policy strings, the resource list.
    Model,
    /// The per-resource rules, one family each.
    Retention,
    Protection,
    Backup,
    Iam,
    /// The rules about the template itself (DDB006-DDB009).
    Meta,
    /// The pull-request guard's comparison rules (DDB020-DDB023, DDB902) against the base
    /// version (`--base`, `diff`); loading the base counts under parse and model.
    PrGuard,
    /// Suppression comments: which findings they silence, which silence nothing.
    Suppressions,
    /// The rest of a file's check after its rules: placing findings in Serverless
    /// fragments, severities, CDK explanations, guardrail facts, nested-stack includes, and
    /// the excerpt of a file with findings. (A stack set's inline template is timed by the
    /// stages it goes through: parse, model, the rules.)
    AfterRules,
    /// Rendering the report(s).
    Output,
}

impl Stage {
    pub const ALL: [Stage; 14] = [
        Stage::Walk,
        Stage::Read,
        Stage::Prefilter,
        Stage::Parse,
        Stage::Model,
        Stage::Retention,
        Stage::Protection,
        Stage::Backup,
        Stage::Iam,
        Stage::Meta,
        Stage::PrGuard,
        Stage::Suppressions,
        Stage::AfterRules,
        Stage::Output,
    ];

    /// The name [`report`] prints.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Walk => "walk",
            Stage::Read => "read",
            Stage::Prefilter => "prefilter",
            Stage::Parse => "parse",
            Stage::Model => "model",
            Stage::Retention => "rules: retention",
            Stage::Protection => "rules: protection",
            Stage::Backup => "rules: backup",
            Stage::Iam => "rules: iam",
            Stage::Meta => "rules: meta",
            Stage::PrGuard => "rules: pr_guard",
            Stage::Suppressions => "suppressions",
            Stage::AfterRules => "after rules",
            Stage::Output => "output",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// A part of [`Stage::Parse`], reported under it as "of which" (the parts are inside the
/// parse stage's time, so they are not added to the total).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// The fast path for YAML (`load::yaml_fast`): the whole reading of a file it accepts
    /// (scanning and tree building together), and the work thrown away on a file it
    /// declines, which then goes through the parts below.
    FastYaml,
    /// The fast path for JSON (`load::json_fast`), likewise: the whole reading of a file it
    /// accepts, and the work thrown away on one it declines.
    FastJson,
    /// The parsers' own work: saphyr-parser's events for YAML, jsonc-parser's AST for JSON.
    Tokenizer,
    /// Our tree built from those events or that AST, with its checks (keys, tags, limits,
    /// the per-scalar YAML 1.1 checks).
    Tree,
    /// The YAML 1.1 dialect checks that cost a pass of their own: the byte scan for the
    /// Unicode characters the two dialects read differently, and libyaml-safer's second
    /// reading (of a file holding such a construct, or one saphyr refused).
    Dialects,
}

impl Part {
    pub const ALL: [Part; 5] = [
        Part::FastYaml,
        Part::FastJson,
        Part::Tokenizer,
        Part::Tree,
        Part::Dialects,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Part::FastYaml => "fast YAML path",
            Part::FastJson => "fast JSON path",
            Part::Tokenizer => "tokenizer",
            Part::Tree => "tree building",
            Part::Dialects => "dialect checks",
        }
    }
}

static ENABLED: AtomicBool = AtomicBool::new(false);
static PARTS: [AtomicU64; Part::ALL.len()] = [const { AtomicU64::new(0) }; Part::ALL.len()];
static NANOS: [AtomicU64; Stage::ALL.len()] = [const { AtomicU64::new(0) }; Stage::ALL.len()];
static FILES: [AtomicU64; 2] = [const { AtomicU64::new(0) }; 2];

/// Turn the timings on when [`ENV`] is `1`; called once, at the start of `main`.
pub fn enable_from_env() {
    if std::env::var_os(ENV).is_some_and(|v| v == "1") {
        ENABLED.store(true, Ordering::Relaxed);
    }
}

pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// The start of a measured stretch: `None` (and no clock read) when the timings are off.
pub fn start() -> Option<Instant> {
    enabled().then(Instant::now)
}

/// Add the time since `since` to `stage`; nothing when `since` is `None`.
pub fn stop(stage: Stage, since: Option<Instant>) {
    if let Some(since) = since {
        add(stage, since.elapsed());
    }
}

/// Add `time` to `stage` (used by the rules, which sum per file first).
pub fn add(stage: Stage, time: Duration) {
    let nanos = u64::try_from(time.as_nanos()).unwrap_or(u64::MAX);
    NANOS[stage.index()].fetch_add(nanos, Ordering::Relaxed);
}

/// Add `time` to a part of the parse stage.
pub fn add_part(part: Part, time: Duration) {
    let nanos = u64::try_from(time.as_nanos()).unwrap_or(u64::MAX);
    PARTS[part as usize].fetch_add(nanos, Ordering::Relaxed);
}

/// Time `f` as a part of the parse stage (inside the parse stage's own timer).
pub fn time_part<T>(part: Part, f: impl FnOnce() -> T) -> T {
    let since = start();
    let value = f();
    if let Some(since) = since {
        add_part(part, since.elapsed());
    }
    value
}

/// Splits an interleaved stretch between two parts, such as a parser's events and the
/// tree built from each: [`Laps::lap`] ends the current lap and gives it to a part. One
/// clock read per lap when the timings are on (each read's cost lands on the two laps
/// around it); nothing when they are off. The sums are added when it is dropped, so an
/// early return is counted too.
pub struct Laps {
    last: Option<Instant>,
    spent: [Duration; 2],
    parts: [Part; 2],
}

impl Laps {
    pub fn new(first: Part, second: Part) -> Self {
        Laps {
            last: start(),
            spent: [Duration::ZERO; 2],
            parts: [first, second],
        }
    }

    /// End the current lap and give it to the first part (`false`) or the second (`true`).
    pub fn lap(&mut self, second: bool) {
        if let Some(last) = &mut self.last {
            let now = Instant::now();
            self.spent[usize::from(second)] += now - *last;
            *last = now;
        }
    }
}

impl Drop for Laps {
    fn drop(&mut self) {
        if self.last.is_some() {
            for (part, spent) in self.parts.iter().zip(self.spent) {
                add_part(*part, spent);
            }
        }
    }
}

/// Count a file that was read (`parsed: false`) or parsed too (`parsed: true`).
pub fn count_file(parsed: bool) {
    if enabled() {
        FILES[usize::from(parsed)].fetch_add(1, Ordering::Relaxed);
    }
}

/// Time `f` under `stage`.
pub fn time<T>(stage: Stage, f: impl FnOnce() -> T) -> T {
    let since = start();
    let value = f();
    stop(stage, since);
    value
}

/// The table printed to stderr at the end of a run: one line per stage (every stage,
/// zero or not), its summed time in milliseconds and its share of the total; under parse,
/// indented, its parts (inside its time, not added to the total; the rest of parse is
/// decoding, format detection, Serverless fragments and extensions).
pub fn report() -> String {
    let nanos: Vec<u64> = NANOS.iter().map(|n| n.load(Ordering::Relaxed)).collect();
    let total: u64 = nanos.iter().sum();
    let ms = |n: u64| n as f64 / 1e6;
    let share = |n: u64| {
        if total == 0 {
            0.0
        } else {
            100.0 * n as f64 / total as f64
        }
    };
    let mut out = format!(
        "timings ({} files read, {} parsed; milliseconds summed over threads):\n",
        FILES[0].load(Ordering::Relaxed) + FILES[1].load(Ordering::Relaxed),
        FILES[1].load(Ordering::Relaxed)
    );
    for (stage, n) in Stage::ALL.iter().zip(&nanos) {
        out.push_str(&format!(
            "  {:<18} {:>10.1} ms {:>5.1}%\n",
            stage.name(),
            ms(*n),
            share(*n)
        ));
        if *stage == Stage::Parse {
            for part in Part::ALL {
                let n = PARTS[part as usize].load(Ordering::Relaxed);
                out.push_str(&format!(
                    "    {:<16} {:>10.1} ms {:>5.1}%\n",
                    part.name(),
                    ms(n),
                    share(n)
                ));
            }
        }
    }
    out.push_str(&format!("  {:<18} {:>10.1} ms\n", "total", ms(total)));
    out
}

/// Print [`report`] to stderr when the timings are on.
pub fn print_if_enabled() {
    if enabled() {
        eprint!("{}", report());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_are_in_index_order_and_named_once() {
        for (i, stage) in Stage::ALL.iter().enumerate() {
            assert_eq!(stage.index(), i);
        }
        let mut names: Vec<&str> = Stage::ALL.iter().map(|s| s.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Stage::ALL.len());
    }
}
