//! `ddb-guard init [PATH]`: write the commented default config, never over an existing
//! file.

use std::io::Write;

use super::usage_error;
use crate::cli::InitArgs;
use crate::config;
use crate::discover;
use crate::report::data::ExitStatus;

pub fn run(args: &InitArgs) -> ExitStatus {
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
            let _ = writeln!(std::io::stderr(), "wrote {}", path.display());
            ExitStatus::Success
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
