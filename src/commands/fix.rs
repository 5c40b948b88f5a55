//! `check --fix` and `check --diff`: the fix engine's plans for the checked files,
//! written (then re-checked from disk and reported) or shown as unified diffs.

use std::io::Write;

use super::check::CheckRun;
use super::{plural, tell};
use crate::fix_engine;
use crate::report::data::{ExitStatus, Report};

/// `--fix`: write every file whose fixes verified, re-check from disk (what the report
/// shows is what the files now hold), report, and count the fixes on stderr.
pub(crate) fn apply(run: &mut CheckRun, report: &Report) -> ExitStatus {
    let plans = fix_engine::plan(report, run.candidates(), &run.checker, run.mode());
    let mut refused = Vec::new();
    let (mut fixes, mut files) = (0, 0);
    for plan in plans {
        let written = plan.result.and_then(|fixed| {
            if fixed.applied > 0 {
                fix_engine::write(&plan.path, plan.original.as_bytes(), fixed.text.as_bytes())?;
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
    let synthesized = synthesized(report);
    let mut report = run.recheck();
    for (path, error, text) in refused {
        report.add_error(&path, error, Some(&text));
    }
    let (status, _) = run.render(&report);
    // Files were written whatever happened to stdout: always say so.
    tell_synthesized(&synthesized);
    let _ = writeln!(
        std::io::stderr(),
        "{} applied in {}{}",
        plural(fixes, "fix", "fixes"),
        plural(files, "file", "files"),
        left_to_cdk(&synthesized)
    );
    status
}

/// The synthesized templates with findings: `--fix` edits none of them.
fn synthesized(report: &Report) -> Vec<&str> {
    report
        .files
        .iter()
        .filter(|f| f.synthesized && !f.findings.is_empty())
        .map(|f| f.path.as_str())
        .collect()
}

/// One line per synthesized template that `--fix` or `--diff` left alone.
fn tell_synthesized(paths: &[&str]) {
    for path in paths {
        tell(&format!(
            "{path}: not edited: synthesized by the CDK (the next `cdk synth` overwrites it); fix the construct in the CDK app"
        ));
    }
}

/// The summary's count of synthesized templates, apart from the fixed files.
fn left_to_cdk(paths: &[&str]) -> String {
    if paths.is_empty() {
        String::new()
    } else {
        format!(
            "; {} left to the CDK app",
            plural(paths.len(), "synthesized template", "synthesized templates")
        )
    }
}

/// `--diff`: the diffs on stdout (ready for `patch -p0`), a count on stderr, and the exit
/// status of the check itself (under `--fail-on`); a fix that was refused is exit 2.
pub(crate) fn show_diff(run: &CheckRun, report: &Report) -> ExitStatus {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let (mut fixes, mut files, mut failed) = (0, 0, false);
    for plan in fix_engine::plan(report, run.candidates(), &run.checker, run.mode()) {
        match plan.result {
            Ok(fixed) if fixed.applied > 0 => {
                fixes += fixed.applied;
                files += 1;
                let diff = fix_engine::unified_diff(&plan.display, &plan.original, &fixed.text);
                if let Err(e) = out.write_all(diff.as_bytes()) {
                    if e.kind() == std::io::ErrorKind::BrokenPipe {
                        return report.exit_status(run.fail_on);
                    }
                    tell(&format!("cannot write output: {e}"));
                    return ExitStatus::Error;
                }
            }
            Ok(_) => {}
            Err(error) => {
                failed = true;
                tell(&format!("{}: {}", plan.display, error.message));
            }
        }
    }
    let _ = out.flush();
    let synthesized = synthesized(report);
    tell_synthesized(&synthesized);
    let _ = writeln!(
        std::io::stderr(),
        "{} would be applied in {}{}",
        plural(fixes, "fix", "fixes"),
        plural(files, "file", "files"),
        left_to_cdk(&synthesized)
    );
    if failed {
        return ExitStatus::Error;
    }
    report.exit_status(run.fail_on)
}
