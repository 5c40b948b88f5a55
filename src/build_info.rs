//! What `--version` adds to the package version: the git commit and the build date when
//! the crate is built from a git checkout of itself, nothing otherwise (the published
//! crate, a source tarball, a machine without git). Compiled into the build script
//! (`build.rs`), and into the library's tests only; every step that cannot answer is
//! skipped, so the build never fails for it.

use std::path::Path;
use std::process::Command;

/// ` (COMMIT DATE)`, or the empty string when `dir` is not the top of a git work tree or
/// `git` cannot be run. `watch` receives the files whose change moves HEAD (for
/// `cargo:rerun-if-changed`).
pub fn suffix(
    git: &str,
    dir: &Path,
    days_since_epoch: u64,
    watch: &mut dyn FnMut(String),
) -> String {
    match commit(git, dir, watch) {
        Some(commit) => {
            let (y, m, d) = civil_from_days(days_since_epoch);
            format!(" ({commit} {y:04}-{m:02}-{d:02})")
        }
        None => String::new(),
    }
}

/// The short hash of HEAD, only when `dir` is the top of a git work tree (a crate unpacked
/// inside some other repository is not a checkout of ddb-guard).
fn commit(git: &str, dir: &Path, watch: &mut dyn FnMut(String)) -> Option<String> {
    let top = run(git, dir, &["rev-parse", "--show-toplevel"])?;
    match (Path::new(&top).canonicalize(), dir.canonicalize()) {
        (Ok(top), Ok(dir)) if top == dir => {}
        _ => return None,
    }
    // HEAD moves when it is checked out elsewhere (HEAD) or committed to (its ref, loose
    // or packed).
    let mut files = vec!["HEAD".to_string(), "packed-refs".to_string()];
    files.extend(run(git, dir, &["symbolic-ref", "-q", "HEAD"]));
    for file in files {
        // Only files that exist: Cargo reruns a build script on every build while a file
        // it watches is missing (a repository without packed refs has none).
        if let Some(path) = run(git, dir, &["rev-parse", "--git-path", &file]) {
            let path = dir.join(path);
            if path.exists() {
                watch(path.display().to_string());
            }
        }
    }
    let hash = run(git, dir, &["rev-parse", "--short=9", "HEAD"])?;
    hash.chars().all(|c| c.is_ascii_hexdigit()).then_some(hash)
}

fn run(git: &str, dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new(git)
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

/// Year, month and day of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`), so that no date crate is needed.
pub fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let (era, doe) = (z / 146_097, z % 146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_match_known_days() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(59), (1970, 3, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_527), (2026, 3, 15));
        assert_eq!(civil_from_days(20_818), (2026, 12, 31));
    }

    #[test]
    fn no_git_means_no_suffix_and_no_failure() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut watched = Vec::new();
        let suffix = suffix("/nonexistent/git", dir.path(), 0, &mut |f| watched.push(f));
        assert_eq!(suffix, "");
        assert!(watched.is_empty());
    }

    #[test]
    fn a_directory_that_is_not_a_checkout_has_no_suffix() {
        // A temporary directory is not the top of a work tree (whether or not it lies
        // inside one), like a published crate unpacked in ~/.cargo/registry.
        let dir = tempfile::tempdir().expect("temp dir");
        assert_eq!(suffix("git", dir.path(), 0, &mut |_| {}), "");
    }

    #[test]
    fn a_checkout_gets_its_commit_and_the_date() {
        let dir = tempfile::tempdir().expect("temp dir");
        let git = |args: &[&str]| {
            Command::new("git")
                .args(args)
                .current_dir(dir.path())
                .env("GIT_AUTHOR_NAME", "t")
                .env("GIT_AUTHOR_EMAIL", "t@example.com")
                .env("GIT_COMMITTER_NAME", "t")
                .env("GIT_COMMITTER_EMAIL", "t@example.com")
                .output()
                .is_ok_and(|o| o.status.success())
        };
        if !git(&["init", "-q"]) {
            return; // no git on this machine: the case above covers it
        }
        assert!(git(&["commit", "-q", "--allow-empty", "-m", "first"]));
        let head = run("git", dir.path(), &["rev-parse", "--short=9", "HEAD"]).expect("HEAD");
        let mut watched = Vec::new();
        let suffix = suffix("git", dir.path(), 20_818, &mut |f| watched.push(f));
        assert_eq!(suffix, format!(" ({head} 2026-12-31)"));
        assert!(watched.iter().any(|f| f.ends_with("HEAD")), "{watched:?}");
    }
}
