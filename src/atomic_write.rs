//! The one way ddb-guard replaces a file (reports, baselines, fixed templates): a
//! temporary file in the same directory, written, given the target's permissions when it
//! exists, synced, renamed over the target, then the directory synced. A reader sees the
//! old file or the new one, never half of one; a failure leaves the target untouched and
//! no temporary file behind.

use std::io::{self, Write};
use std::path::Path;

/// A write that failed, and at which step (the target is unchanged).
#[derive(Debug, thiserror::Error)]
#[error("{step}: {source}")]
pub struct WriteError {
    /// What was being done: "cannot create a temporary file next to it", ...
    pub step: &'static str,
    #[source]
    pub source: io::Error,
}

/// Replace `path` by `contents` atomically (see the module documentation). `path` is
/// written as given: resolve a symbolic link first to replace its target instead.
pub fn write(path: &Path, contents: &[u8]) -> Result<(), WriteError> {
    write_with(path, |out| out.write_all(contents))
}

/// [`write`] what `fill` writes, as it writes it (a report copied from its spools is
/// never whole in memory). An error of `fill` leaves the target untouched.
pub fn write_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), WriteError> {
    let at = |step: &'static str| move |source: io::Error| WriteError { step, source };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let permissions = std::fs::metadata(path).ok().map(|m| m.permissions());
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(".{name}.ddb-guard-"))
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(at("cannot create a temporary file next to it"))?;
    let mut out = io::BufWriter::new(temp.as_file_mut());
    fill(&mut out)
        .and_then(|()| out.flush())
        .map_err(at("cannot write the temporary file"))?;
    drop(out);
    match permissions {
        Some(permissions) => temp.as_file().set_permissions(permissions),
        None => Ok(()),
    }
    .and_then(|()| temp.as_file().sync_all())
    .map_err(at("cannot write the temporary file"))?;
    // On failure the temporary file is removed when `persist` hands it back and it drops.
    temp.persist(path)
        .map_err(|e| at("cannot rename the temporary file over it")(e.error))?;
    // The rename is durable only once the directory entry is; not every platform can
    // sync a directory, and the data is already safe either way.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn replaces_the_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("r.sarif");
        std::fs::write(&target, "old").unwrap();
        write(&target, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
        assert_eq!(names(dir.path()), ["r.sarif"]);
    }

    #[test]
    fn creates_a_file_that_does_not_exist() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("new.json");
        write(&target, b"{}").unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "{}");
        assert_eq!(names(dir.path()), ["new.json"]);
    }

    #[cfg(unix)]
    #[test]
    fn keeps_the_mode_of_the_file_it_replaces() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("t.yaml");
        std::fs::write(&target, "old").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).unwrap();
        write(&target, b"new").unwrap();
        let mode = std::fs::metadata(&target).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
    }

    #[test]
    fn a_failed_rename_leaves_the_target_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        // A directory in the way: the rename over it fails.
        let target = dir.path().join("taken");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("inside"), "x").unwrap();
        let error = write(&target, b"new").unwrap_err();
        assert_eq!(error.step, "cannot rename the temporary file over it");
        assert_eq!(names(dir.path()), ["taken"]);
    }
}
