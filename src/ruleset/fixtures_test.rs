//! Per-rule fixtures, run in process (ruff's `#[test_case(Rule::X, Path::new("X.py"))]`
//! over `resources/test/fixtures/`): every rule has a directory
//! `tests/fixtures/rules/<CODE>/` of small files, each checked through the same path
//! `ddb-guard check` takes (the [`Checker`] over a discovered file; `diff OLD NEW`'s base
//! comparison for the pull-request guard's rules; the change-set gate for DDB030-DDB036)
//! with only that rule selected, and the findings are snapshotted with insta beside the
//! fixtures (`<CODE>/<CODE>.snap`), in a form a reviewer can read: code, position,
//! message, label, help, fix, and the source lines the span covers.
//!
//! A case's name says what it must do, and the test holds it to that before comparing
//! snapshots, so an accepted snapshot cannot hide a rule that stopped firing:
//! - `bad_*`: at least one finding of the rule;
//! - `ok_*`: no finding of the rule and no error;
//! - `error_*`: the file is an error (fail closed: exit 2, never a pass).
//!
//! What a case is depends on what the rule reads (see `Check`):
//! - a template rule: one template file (`.yaml`, `.yml`, `.json`, `.template`; a
//!   `serverless.yml` inside a case directory for the Serverless layout);
//! - a comparison rule (DDB020-DDB023, DDB902): a directory holding `base/` and `head/`,
//!   compared as `ddb-guard diff base head` compares them (a file missing from `head/` is
//!   a deleted template);
//! - a change-set rule (DDB030-DDB036): one `describe-change-set` JSON file.
//!
//! A `ddb-guard.toml` in a rule's directory is read as `check --config` reads it (for
//! DDB013's `require_guardrails`, or a selection that adds the rule a DDB901 suppression
//! names); without one, the selection is `--select <CODE>`. Files and directories whose
//! name starts with `_` are helpers (a nested stack's child template), not cases.
//!
//! Adding a rule: add `tests/fixtures/rules/<CODE>/` with at least one `bad_` and one
//! `ok_` case and a line in the `fixtures!` list below, then run
//! `INSTA_UPDATE=always cargo test --lib ruleset::fixtures_test` (or `cargo insta review`)
//! and read the new snapshot. `every_rule_has_fixtures` fails until then.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::{Args, FromArgMatches};

use crate::base_revision::{self, BaseRevision};
use crate::changeset;
use crate::check::Checker;
use crate::cli::CheckArgs;
use crate::config::{self, Config};
use crate::discover::{Candidate, Discovery};
use crate::finding::{Applicability, Finding};
use crate::load::FileError;
use crate::report::data::{FileReport, Report};
use crate::rules::{self, Check, Rule};
use crate::source::{LineIndex, Span};

/// The fixtures' root, relative to the package root (the tests' working directory), so
/// that reports name fixtures by a path that is the same on every machine.
const ROOT: &str = "tests/fixtures/rules";

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Expect {
    Findings,
    Clean,
    Error,
}

fn expectation(name: &str) -> Option<Expect> {
    if name.starts_with("bad_") {
        Some(Expect::Findings)
    } else if name.starts_with("ok_") {
        Some(Expect::Clean)
    } else if name.starts_with("error_") {
        Some(Expect::Error)
    } else {
        None
    }
}

/// The cases of a rule's directory, sorted by name; anything else there that is not a
/// helper, the config or the snapshot is a mistake (a misspelt prefix would otherwise be a
/// case that never runs).
fn cases(dir: &Path) -> Vec<(String, Expect)> {
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}; every rule needs fixtures", dir.display()));
    let mut cases = Vec::new();
    for entry in entries {
        let name = entry
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .file_name()
            .to_string_lossy()
            .into_owned();
        if let Some(expect) = expectation(&name) {
            cases.push((name, expect));
        } else {
            let known = name == "ddb-guard.toml"
                || name.starts_with('_')
                || name.ends_with(".snap")
                || name.ends_with(".snap.new")
                || name.ends_with(".pending-snap");
            assert!(
                known,
                "{}/{name}: a case's name starts with `bad_`, `ok_` or `error_` (a helper's with `_`)",
                dir.display()
            );
        }
    }
    cases.sort();
    cases
}

/// The settings `check --config <dir>/ddb-guard.toml` (when there is one) or `check
/// --select <CODE>` resolves to.
fn checker(rule: &Rule, dir: &Path) -> Checker {
    let config_path = dir.join("ddb-guard.toml");
    let config = config_path
        .exists()
        .then(|| Config::load(&config_path))
        .transpose()
        .unwrap_or_else(|e| panic!("{}: {e:?}", config_path.display()));
    let mut argv = vec!["check".to_string()];
    if config.is_none() {
        argv.extend(["--select".to_string(), rule.code.to_string()]);
    }
    let matches = CheckArgs::augment_args(clap::Command::new("check"))
        .try_get_matches_from(argv)
        .unwrap_or_else(|e| panic!("arguments: {e}"));
    let args = CheckArgs::from_arg_matches(&matches).unwrap_or_else(|e| panic!("{e}"));
    let resolved = config::resolve(&args, config.as_ref())
        .unwrap_or_else(|e| panic!("{}: {e:?}", config_path.display()));
    assert!(
        resolved.settings.rules.iter().any(|r| r.code == rule.code),
        "{}: the selection must include {}",
        config_path.display(),
        rule.code
    );
    Checker::new(resolved.settings)
}

/// Run one case through the path its rule's command takes.
fn run(rule: &Rule, checker: &Checker, case: &Path) -> Report {
    match rule.check {
        Check::Versions(_) => {
            let (base, head) = (case.join("base"), case.join("head"));
            assert!(
                base.is_dir() && head.is_dir(),
                "{}: a comparison case is a directory with `base/` and `head/`",
                case.display()
            );
            let walk = Default::default();
            let limits = base_revision::ReadLimits {
                max_file_size: checker.settings().max_file_size,
                limits: checker.settings().limits,
            };
            let (revision, discovery) = base_revision::from_paths(&base, &head, &walk, &limits)
                .unwrap_or_else(|e| panic!("{}: {e:?}", case.display()));
            checker.check_against(discovery, &revision, None)
        }
        Check::ChangeSet(_) => {
            let input = changeset::Input::read(case, checker.settings().max_file_size);
            changeset::run(vec![input], checker.settings())
        }
        Check::Resource(_) | Check::Suppressions | Check::Run => {
            let discovery = if case.is_dir() {
                crate::discover::discover(&[case.to_path_buf()], &Default::default())
            } else {
                Discovery {
                    files: vec![Candidate {
                        display: case.display().to_string(),
                        path: case.to_path_buf(),
                    }],
                    errors: Vec::new(),
                }
            };
            checker.check_against(discovery, &BaseRevision::default(), None)
        }
    }
}

/// The report, as a reviewer reads it: per file, each finding (and suppressed finding)
/// with its position and the lines its span covers, and each error.
fn render(report: &Report) -> String {
    let mut out = String::new();
    for file in &report.files {
        let _ = writeln!(out, "{}: {:?}", file.path, file.status);
        let text = std::fs::read_to_string(&file.path).ok();
        for finding in &file.findings {
            finding_lines(&mut out, finding, text.as_deref(), None);
        }
        for (finding, suppression) in &file.suppressed {
            finding_lines(
                &mut out,
                finding,
                text.as_deref(),
                Some(&suppression.reason),
            );
        }
        for error in &file.errors {
            error_lines(&mut out, error, text.as_deref());
        }
    }
    out
}

fn finding_lines(out: &mut String, f: &Finding, text: Option<&str>, suppressed: Option<&str>) {
    let _ = writeln!(
        out,
        "  {} {} {} `{}` ({}) at {}",
        f.code,
        f.name,
        f.severity.as_str(),
        f.resource,
        f.resource_type,
        range(text, f.span)
    );
    if let Some(reason) = suppressed {
        let _ = writeln!(out, "    suppressed: {reason}");
    }
    let _ = writeln!(out, "    message: {}", f.message);
    if !f.label.is_empty() {
        let _ = writeln!(out, "    label: {}", f.label);
    }
    for label in &f.labels {
        let _ = writeln!(
            out,
            "    also at {}: {}",
            range(text, label.span),
            label.text
        );
    }
    if let Some(help) = &f.help {
        let _ = writeln!(out, "    help: {help}");
    }
    if let Some(fix) = &f.fix {
        let safety = match fix.applicability {
            Applicability::Safe => "safe",
            Applicability::Unsafe => "unsafe",
        };
        let _ = writeln!(out, "    fix ({safety}): {}", fix.description);
    }
    excerpt(out, text, f.span);
}

fn error_lines(out: &mut String, e: &FileError, text: Option<&str>) {
    match e.span {
        Some(span) => {
            let _ = writeln!(out, "  error at {}: {}", range(text, span), e.message);
        }
        None => {
            let _ = writeln!(out, "  error: {}", e.message);
        }
    }
    if let Some(label) = &e.label {
        let _ = writeln!(out, "    label: {label}");
    }
    if let Some(help) = &e.help {
        let _ = writeln!(out, "    help: {help}");
    }
    if let Some(span) = e.span {
        excerpt(out, text, span);
    }
}

fn range(text: Option<&str>, span: Span) -> String {
    match text {
        Some(text) => {
            let lines = LineIndex::new(text);
            let (start, end) = (
                lines.position(text, span.start),
                lines.position(text, span.end),
            );
            format!(
                "{}:{}-{}:{}",
                start.line, start.column, end.line, end.column
            )
        }
        None => format!("bytes {}..{}", span.start, span.end),
    }
}

/// The lines `span` covers (at most four), numbered, with the span underlined on a
/// one-line span.
fn excerpt(out: &mut String, text: Option<&str>, span: Span) {
    let Some(text) = text else { return };
    let lines = LineIndex::new(text);
    let start = lines.position(text, span.start);
    let end = lines.position(text, span.end.max(span.start));
    let all: Vec<&str> = text.lines().collect();
    let last = end.line.min(start.line + 3);
    for number in start.line..=last {
        let Some(line) = all.get(number - 1) else {
            break;
        };
        let _ = writeln!(out, "    {number:>4} | {line}");
    }
    if start.line == end.line && all.get(start.line - 1).is_some() {
        let prefix = text[..span.start]
            .rsplit('\n')
            .next()
            .unwrap_or_default()
            .chars()
            .count();
        let width = text[span.start..span.end].chars().count().max(1);
        let _ = writeln!(
            out,
            "         | {}{}",
            " ".repeat(prefix),
            "^".repeat(width)
        );
    }
}

/// Hold each case to what its name promises.
fn verify(rule: &Rule, case: &str, expect: Expect, report: &Report) {
    let findings = |f: &FileReport| f.findings.iter().filter(|x| x.code == rule.code).count();
    let count: usize = report.files.iter().map(findings).sum();
    let errors: usize = report.files.iter().map(|f| f.errors.len()).sum();
    match expect {
        Expect::Findings => assert!(
            count > 0,
            "{}/{case}: expected a {} finding, got none:\n{}",
            rule.code,
            rule.code,
            render(report)
        ),
        Expect::Clean => assert!(
            count == 0 && errors == 0,
            "{}/{case}: expected no {} finding and no error:\n{}",
            rule.code,
            rule.code,
            render(report)
        ),
        Expect::Error => assert!(
            errors > 0,
            "{}/{case}: expected an error (fail closed):\n{}",
            rule.code,
            render(report)
        ),
    }
}

/// Run every case of `code`, check each against its name, and compare the snapshot.
fn check_rule(code: &str) {
    let rule = rules::find(code).unwrap_or_else(|| panic!("{code} is not a rule"));
    let dir = PathBuf::from(ROOT).join(rule.code);
    let checker = checker(rule, &dir);
    let mut snapshot = String::new();
    for (case, expect) in cases(&dir) {
        let report = run(rule, &checker, &dir.join(&case));
        verify(rule, &case, expect, &report);
        let _ = writeln!(snapshot, "── {case} ({expect:?})");
        snapshot.push_str(&render(&report));
        snapshot.push('\n');
    }
    insta::with_settings!({
        snapshot_path => Path::new(env!("CARGO_MANIFEST_DIR")).join(&dir),
        prepend_module_to_snapshot => false,
        omit_expression => true,
        description => format!("{} {}: tests/fixtures/rules/{}", rule.code, rule.name, rule.code),
    }, {
        insta::assert_snapshot!(rule.code, snapshot);
    });
}

/// One test per rule, named by its code, so a failing rule names itself.
macro_rules! fixtures {
    ($($test:ident => $code:literal,)*) => {
        $(
            #[test]
            fn $test() {
                check_rule($code);
            }
        )*

        /// The codes the tests above cover.
        const TESTED: &[&str] = &[$($code),*];
    };
}

fixtures! {
    ddb001 => "DDB001",
    ddb002 => "DDB002",
    ddb003 => "DDB003",
    ddb004 => "DDB004",
    ddb005 => "DDB005",
    ddb006 => "DDB006",
    ddb007 => "DDB007",
    ddb008 => "DDB008",
    ddb009 => "DDB009",
    ddb010 => "DDB010",
    ddb011 => "DDB011",
    ddb012 => "DDB012",
    ddb013 => "DDB013",
    ddb020 => "DDB020",
    ddb021 => "DDB021",
    ddb022 => "DDB022",
    ddb023 => "DDB023",
    ddb030 => "DDB030",
    ddb031 => "DDB031",
    ddb032 => "DDB032",
    ddb033 => "DDB033",
    ddb034 => "DDB034",
    ddb035 => "DDB035",
    ddb036 => "DDB036",
    ddb900 => "DDB900",
    ddb901 => "DDB901",
    ddb902 => "DDB902",
}

/// Every rule of the registry has a test above and a fixture directory with at least one
/// case that must fire and one that must not, so a new rule cannot land without them.
#[test]
fn every_rule_has_fixtures() {
    let mut missing = Vec::new();
    for rule in rules::RULES {
        let dir = PathBuf::from(ROOT).join(rule.code);
        if !TESTED.contains(&rule.code) {
            missing.push(format!("{}: no line in `fixtures!`", rule.code));
        }
        if !dir.is_dir() {
            missing.push(format!("{}: no directory {}", rule.code, dir.display()));
            continue;
        }
        let cases = cases(&dir);
        if !cases.iter().any(|(_, e)| *e == Expect::Findings) {
            missing.push(format!("{}: no `bad_` case", rule.code));
        }
        if !cases.iter().any(|(_, e)| *e == Expect::Clean) {
            missing.push(format!("{}: no `ok_` case", rule.code));
        }
    }
    let dirs = std::fs::read_dir(ROOT)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
        })
        .into_iter()
        .flatten();
    for name in dirs {
        if rules::find(&name).is_none() {
            missing.push(format!("{ROOT}/{name}: not a rule code"));
        }
    }
    assert!(
        missing.is_empty(),
        "rule fixtures missing:\n{}",
        missing.join("\n")
    );
}
