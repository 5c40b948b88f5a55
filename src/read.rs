//! Reading a file to check: the whole file or an error, never a hang. A FIFO would block
//! the run forever and a device has no end, so anything that is not a regular file is
//! refused before it is opened, and again on the open handle; no more is read than the
//! size the handle reports (within the limit), or, when it reports none, one byte past the
//! limit. Every command reads through here (check, fix, inventory, the base side
//! of the pull-request guard).

use std::path::Path;

use crate::discover::{io_reason, Candidate};
use crate::load::FileError;

/// Read a whole file, refusing anything that is not a regular file without opening it: a
/// FIFO would block the run forever and a device has no end. The file may change between
/// the walk and this read (deleted, swapped for a FIFO, grown), so the type is checked
/// again on the open handle, and no more is read than the handle's size (see the module
/// documentation).
pub fn file(path: &Path, max: u64) -> Result<Vec<u8>, FileError> {
    if !std::fs::metadata(path).map_err(cannot_read)?.is_file() {
        return Err(not_regular());
    }
    regular_file(path, max)
}

/// The canonical path of a file that a template names (a local nested template, a
/// Serverless `${file(...)}` fragment), if it may be read: a regular file inside the
/// directory ddb-guard runs in. A template on an untrusted pull request could otherwise
/// name any file of the machine (`/home/runner/.aws/credentials`) and have its load error
/// quote it in a public log. The error ends a sentence: "..., which {why}".
pub fn confined(target: &Path) -> Result<std::path::PathBuf, String> {
    let real = match std::fs::canonicalize(target) {
        Ok(real) => real,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err("does not exist (no such file)".to_string())
        }
        Err(e) => return Err(format!("cannot be read ({e})")),
    };
    let root = std::env::current_dir().and_then(std::fs::canonicalize);
    match root {
        Ok(root) if real.starts_with(&root) => {}
        _ => return Err(OUTSIDE.to_string()),
    }
    match std::fs::metadata(&real) {
        Ok(meta) if meta.is_file() => Ok(real),
        Ok(_) => Err("is not a file".to_string()),
        Err(e) => Err(format!("cannot be read ({e})")),
    }
}

/// Why a file outside the directory ddb-guard runs in is not read (ends a sentence).
pub const OUTSIDE: &str = "is outside the directory ddb-guard runs in, so it is not read (run \
     ddb-guard from a directory that holds every template, such as the repository's root)";

/// Where the files a template names are read from (a Serverless service's `${file(...)}`
/// fragments, local nested templates): the working tree ([`WorkingTree`]), or the base
/// revision of a pull-request comparison (`base_revision::BaseFiles`), so that the base
/// side never reads the head's version of a file it names.
pub trait Files: Sync {
    /// The bytes of `path` (the naming template's directory joined with the path it
    /// writes), at most `max`, or why not: a phrase that follows the path ("does not
    /// exist", "is outside the directory ddb-guard runs in ...").
    fn read(&self, path: &Path, max: u64) -> Result<Vec<u8>, String>;
    /// How messages and reports name `path`.
    fn display(&self, path: &Path) -> String;
}

/// The files on disk, inside the directory ddb-guard runs in ([`confined`]).
pub struct WorkingTree;

impl Files for WorkingTree {
    fn read(&self, path: &Path, max: u64) -> Result<Vec<u8>, String> {
        let real = confined(path)?;
        file(&real, max).map_err(|e| format!("cannot be read ({})", e.message))
    }

    fn display(&self, path: &Path) -> String {
        without_dot_segments(path)
    }
}

/// `a/./b/../c` as `a/c`, `./x` kept as written otherwise (no file system access: the
/// path may not exist).
pub fn without_dot_segments(path: &Path) -> String {
    use std::path::Component;
    let mut out: Vec<Component> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir if !out.is_empty() => {}
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out.iter()
        .collect::<std::path::PathBuf>()
        .display()
        .to_string()
}

/// [`file()`] for a file the walk has just seen as a regular file (from its directory
/// entry, or a stat of a path given by name), which is the check `file` makes before
/// opening: a second stat per file was 7% of a run's CPU time. Both leave the same window
/// between the check and the open; the check on the open handle stays.
pub fn candidate(candidate: &Candidate, max: u64) -> Result<Vec<u8>, FileError> {
    regular_file(&candidate.path, max)
}

fn cannot_read(e: std::io::Error) -> FileError {
    FileError::new(format!("cannot read file: {}", io_reason(&e)))
}

fn not_regular() -> FileError {
    FileError::new("not a regular file (a FIFO, socket or device cannot be a template)")
}

fn regular_file(path: &Path, max: u64) -> Result<Vec<u8>, FileError> {
    let file = open_nonblocking(path).map_err(cannot_read)?;
    let meta = file.metadata().map_err(cannot_read)?;
    if !meta.is_file() {
        return Err(not_regular());
    }
    if meta.len() > max {
        return Err(FileError::new(format!(
            "file is {} bytes, larger than the {} byte limit",
            meta.len(),
            max
        ))
        .with_help("raise the limit with --max-file-size if this really is a template"));
    }
    if meta.len() > 0 {
        return sized(file, meta.len()).map_err(cannot_read);
    }
    // No size on the handle (a file system that does not know it until it is read): to
    // its end, one byte past the limit at most.
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut std::io::Read::take(file, max + 1), &mut bytes)
        .map_err(cannot_read)?;
    if bytes.len() as u64 > max {
        return Err(FileError::new(format!(
            "file grew past the {max} byte limit while it was read"
        ))
        .with_help("raise the limit with --max-file-size if this really is a template"));
    }
    Ok(bytes)
}

/// The `len` bytes the open handle says the file holds, read into a buffer of that size.
/// `read_to_end` of the file alone made one more `read` call per file that only found
/// the end; limited to `len`, the end is known without it, so a file of up to 8 KiB (most
/// templates) takes one call and a larger one a few (std reads in doubling sizes from
/// 8 KiB when it has no size hint; a buffer zeroed for one call of the whole size cost
/// more instructions than the calls it saves). The file is read as it was when its size
/// was taken: bytes it gains meanwhile are not read (it is being written, and no read of
/// it is whole), and one that shrinks is read to its new end.
fn sized(file: std::fs::File, len: u64) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(len as usize);
    std::io::Read::read_to_end(&mut std::io::Read::take(file, len), &mut bytes)?;
    Ok(bytes)
}

/// Open for reading without blocking: if a FIFO was swapped in after the type check, the
/// open returns at once and the check on the handle rejects it. Regular files ignore the
/// flag.
#[cfg(unix)]
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file is read whole whatever its size (one read call, or several where the
    /// kernel gives less), and one over the limit is refused.
    #[test]
    fn a_file_is_read_whole_at_any_size_and_refused_over_the_limit() {
        let tmp = tempfile::tempdir().unwrap();
        for len in [0usize, 1, 31, 32, 33, 8191, 8192, 8193, 70_000, 300_001] {
            let path = tmp.path().join(format!("f{len}.yaml"));
            let text: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            std::fs::write(&path, &text).unwrap();
            assert_eq!(file(&path, 1 << 20).unwrap(), text, "{len} bytes");
            let candidate = Candidate {
                display: path.display().to_string(),
                path: path.clone(),
            };
            assert_eq!(super::candidate(&candidate, 1 << 20).unwrap(), text);
            if len > 0 {
                let refused = file(&path, len as u64 - 1).unwrap_err();
                assert!(
                    refused.message.contains("larger than the"),
                    "{}",
                    refused.message
                );
            }
        }
    }

    #[test]
    fn paths_are_shown_without_dot_segments() {
        assert_eq!(without_dot_segments(Path::new("a/./b/../c.yml")), "a/c.yml");
        assert_eq!(without_dot_segments(Path::new("./x.yml")), "./x.yml");
    }
}
