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
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::check::{fail_on, outputs, render};
    use super::{plural, resolve, tell, usage_error};
    use crate::audit::{analyze, aws, collect, DEFAULT_REGIONS};
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
        DEFAULT_REGIONS.iter().map(|r| r.to_string()).collect()
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
    let done = AtomicUsize::new(0);
    let show = std::io::stderr().is_terminal()
        && !crate::progress::in_ci(std::env::var_os("CI").as_deref());
    let finished = std::sync::atomic::AtomicBool::new(false);
    let bar = show.then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{spinner} audit: {pos} items read {elapsed}")
        {
            bar.set_style(style);
        }
        bar
    });
    let snapshot = std::thread::scope(|scope| {
        let drawer = bar.map(|bar| {
            let (done, finished) = (&done, &finished);
            scope.spawn(move || {
                while !finished.load(Ordering::Relaxed) {
                    bar.set_position(done.load(Ordering::Relaxed) as u64);
                    bar.tick();
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                bar.finish_and_clear();
            })
        });
        let plan = collect::Plan {
            regions: &regions,
            concurrency: usize::from(args.concurrency),
            progress: Some(&done),
        };
        let snapshot = collect::collect(&source, &plan);
        finished.store(true, Ordering::Relaxed);
        if let Some(drawer) = drawer {
            let _ = drawer.join();
        }
        snapshot
    });
    let audit = analyze::analyze(&snapshot, &resolved.settings);

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
