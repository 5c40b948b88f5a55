//! `ddb-guard audit`: read the account (`audit::collect` through the AWS SDK), analyze
//! it (`audit::analyze`: the per-file path of `check` and `inventory`), then render the
//! inventory and the findings with the formats and exit codes of those commands.

use crate::cli::AuditArgs;
use crate::report::data::ExitStatus;

/// Without the cargo feature `audit` the command exists, and says how to get it.
#[cfg(not(feature = "audit"))]
pub fn run(_args: &AuditArgs) -> ExitStatus {
    super::usage_error(NO_AUDIT_SUPPORT, None)
}

pub const NO_AUDIT_SUPPORT: &str =
    "this build has no audit support; install a release binary or build with --features audit";

#[cfg(feature = "audit")]
pub fn run(args: &AuditArgs) -> ExitStatus {
    use std::io::IsTerminal;
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::check::{fail_on, outputs, render};
    use super::{plural, resolve, tell, usage_error};
    use crate::audit::{analyze, aws, collect};
    use crate::report::inventory::{self, InventoryFormat};
    use crate::report::{Destination, Format};

    let check_args = match args.as_check_args() {
        Ok(check_args) => check_args,
        Err(e) => return usage_error(&e.to_string(), None),
    };
    let resolved = match resolve(&check_args) {
        Ok(resolved) => resolved,
        Err(e) => return usage_error(&e.to_string(), None),
    };
    let fail_on = fail_on(&check_args, &resolved);
    let outputs = match outputs(&check_args) {
        Ok(outputs) => outputs,
        Err(message) => return super::argument_error("audit", &message),
    };
    if let Some((format, None)) = &args.inventory {
        let clash = outputs.iter().any(|o| {
            o.destination == Destination::Stdout
                && !(o.format == Format::Human && *format == InventoryFormat::Human)
        });
        if clash {
            return super::argument_error(
                "audit",
                "--inventory and --format would both write to standard output: send one of them to a file (--inventory json=tables.json or --format sarif=audit.sarif)",
            );
        }
    }
    let options = aws::Options {
        profile: args.profile.clone(),
        endpoint_url: args.endpoint_url.clone(),
    };
    let source = match aws::AwsSource::connect(&options) {
        Ok(source) => source,
        Err(e) => return usage_error(&e, None),
    };
    let regions: Vec<String> = if args.all_regions {
        // Fail closed: an audit that silently skipped an enabled Region would pass tables
        // it never read.
        match collect::enabled_regions(&source) {
            Ok(regions) => regions,
            Err(message) => {
                return usage_error(
                    &message,
                    Some("grant account:ListRegions (the policy of docs/audit.md), or name the Regions with --region"),
                )
            }
        }
    } else if !args.regions.is_empty() {
        args.regions.clone()
    } else {
        match source.default_region() {
            Some(region) => vec![region],
            None => {
                return usage_error(
                    "no Region to audit",
                    Some("name one with --region (or --all-regions), or set AWS_REGION or a profile's region"),
                )
            }
        }
    };
    let started = std::time::Instant::now();
    let progress = collect::Progress::default();
    let show = !args.quiet
        && std::io::stderr().is_terminal()
        && !crate::progress::in_ci(std::env::var_os("CI").as_deref());
    let finished = AtomicBool::new(false);
    let snapshot = std::thread::scope(|scope| {
        let drawer = show.then(|| {
            let (progress, finished, regions) = (&progress, &finished, regions.len());
            scope.spawn(move || draw(progress, finished, regions))
        });
        let plan = collect::Plan {
            regions: &regions,
            concurrency: usize::from(args.concurrency),
            progress: Some(&progress),
        };
        let snapshot = collect::collect(&source, &plan);
        finished.store(true, Ordering::Relaxed);
        if let Some(drawer) = drawer {
            let _ = drawer.join();
        }
        snapshot
    });
    let read_in = started.elapsed();
    let audit = analyze::analyze(&snapshot, &resolved.settings);
    if crate::timings::enabled() {
        // Where an audit's time goes: the AWS calls, or the analysis (the per-stage
        // table that follows at the end of the run covers the analysis).
        eprintln!(
            "audit: read the account in {:.2} s ({}), analysed it in {:.2} s",
            read_in.as_secs_f64(),
            progress.summary(regions.len()),
            started.elapsed().saturating_sub(read_in).as_secs_f64()
        );
    }

    let human_on_stdout = outputs
        .iter()
        .any(|o| o.format == Format::Human && o.destination == Destination::Stdout);
    let wanted = args
        .inventory
        .clone()
        .or_else(|| human_on_stdout.then_some((InventoryFormat::Human, None)));
    let mut failed = false;
    if let Some((format, file)) = wanted {
        let destination = match file {
            Some(path) => crate::report::Destination::File(path),
            None => Destination::Stdout,
        };
        let written = super::write_to(&destination, "the inventory", |out, to_file| {
            // A file is not a terminal: the human table keeps its stable 80 columns there.
            let columns = if to_file {
                80
            } else {
                super::terminal_width(80)
            };
            inventory::render(format, &audit.inventory, columns, out)
        });
        if let Err(message) = written {
            tell(&message);
            failed = true;
        }
    }
    if !snapshot.errors.is_empty() && !human_on_stdout {
        super::warn(&format!(
            "{} could not be read; the audit is incomplete",
            plural(snapshot.errors.len(), "item", "items")
        ));
    }
    let (status, _) = render(&check_args, &outputs, fail_on, &audit.report);
    if failed {
        return ExitStatus::Error;
    }
    status
}

/// The progress bar of an audit on stderr, until `finished`: items read of those listed
/// so far (tables, stacks, backup plans and vaults; the total grows as each Region's lists
/// come in), with the counts per kind and the Regions done.
#[cfg(feature = "audit")]
fn draw(
    progress: &crate::audit::collect::Progress,
    finished: &std::sync::atomic::AtomicBool,
    regions: usize,
) {
    use std::sync::atomic::Ordering;
    let bar =
        indicatif::ProgressBar::with_draw_target(Some(0), indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "audit {wide_bar} {pos}/{len} items {elapsed_precise}\n{msg}",
    ) {
        bar.set_style(style);
    }
    while !finished.load(Ordering::Relaxed) {
        let (read, listed) = progress.totals();
        bar.set_length(listed as u64);
        bar.set_position(read as u64);
        bar.set_message(progress.summary(regions));
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    bar.finish_and_clear();
}
