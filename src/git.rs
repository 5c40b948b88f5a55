//! The git plumbing of `check --base REV`, through the `git` CLI: find the repository, resolve
//! the revision, list what changed under the given paths, and read a file at the base.
//!
//! Only the `git` binary is used (no libgit2): it is already on every CI runner, it honours
//! the user's configuration (safe.directory, alternates, partial clones) and its errors are
//! the ones users know. Every command runs with literal pathspecs, NUL-separated output and
//! no pager, external diff or textconv, so no configuration can change what we parse.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("cannot run git: {0}")]
    Spawn(String),
    #[error("`--base` needs a git repository, and {dir} is not inside one ({detail})")]
    NotARepository { dir: String, detail: String },
    #[error("unknown revision `{rev}` ({detail})")]
    UnknownRevision { rev: String, detail: String },
    #[error("`{rev}` and HEAD have no common ancestor in this clone")]
    NoMergeBase { rev: String },
    #[error("`git {command}` failed: {detail}")]
    Failed { command: String, detail: String },
}

impl GitError {
    pub fn help(&self) -> Option<&'static str> {
        match self {
            GitError::Spawn(_) => Some("install git, or compare two directories with `ddb-guard diff OLD NEW`"),
            GitError::NotARepository { .. } => Some("run inside the repository, or compare two files or directories with `ddb-guard diff OLD NEW`"),
            GitError::UnknownRevision { .. } | GitError::NoMergeBase { .. } => Some("in a shallow CI clone, fetch the base first (actions/checkout with `fetch-depth: 0`, or `git fetch origin <base>`)"),
            GitError::Failed { .. } => None,
        }
    }
}

/// One changed path between the base and the working tree; paths are relative to the
/// repository root, with `/` separators, as git prints them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    Modified(String),
    Renamed { from: String, to: String },
    Deleted(String),
    Added(String),
}

#[derive(Clone, Debug)]
pub struct Repo {
    /// The top of the work tree, as git reports it.
    pub root: PathBuf,
    /// Where git commands run (pathspecs are relative to it).
    cwd: PathBuf,
}

impl Repo {
    /// The repository containing `cwd`.
    pub fn discover(cwd: &Path) -> Result<Repo, GitError> {
        let out = run(cwd, ["rev-parse", "--show-toplevel"])?;
        if !out.status.success() {
            return Err(GitError::NotARepository {
                dir: cwd.display().to_string(),
                detail: stderr_line(&out),
            });
        }
        let root = String::from_utf8_lossy(&out.stdout).trim_end().to_string();
        if root.is_empty() {
            return Err(GitError::NotARepository {
                dir: cwd.display().to_string(),
                detail: "no work tree".into(),
            });
        }
        Ok(Repo {
            root: PathBuf::from(root),
            cwd: cwd.to_path_buf(),
        })
    }

    /// The full commit id `rev` names.
    pub fn resolve(&self, rev: &str) -> Result<String, GitError> {
        // Not an option in disguise (`--output=x`); refused here rather than with
        // `--end-of-options`, which git before 2.24 does not know.
        if rev.starts_with('-') || rev.is_empty() {
            return Err(GitError::UnknownRevision {
                rev: rev.to_string(),
                detail: "not a revision name".into(),
            });
        }
        let spec = format!("{rev}^{{commit}}");
        let out = self.git(["rev-parse", "--verify", "--quiet", spec.as_str()])?;
        if !out.status.success() {
            return Err(GitError::UnknownRevision {
                rev: rev.to_string(),
                detail: "no commit by that name in this clone".into(),
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// The best common ancestor of `commit` and HEAD: what a pull request changes is what
    /// it changed since it forked, not what the base branch did meanwhile (`git diff REV...`).
    pub fn merge_base(&self, rev: &str, commit: &str) -> Result<String, GitError> {
        let out = self.git(["merge-base", commit, "HEAD"])?;
        let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if !out.status.success() || id.is_empty() {
            return Err(GitError::NoMergeBase {
                rev: rev.to_string(),
            });
        }
        Ok(id)
    }

    /// Is this a shallow clone (history cut off, as CI checkouts usually are)?
    pub fn is_shallow(&self) -> bool {
        self.git(["rev-parse", "--is-shallow-repository"])
            .map(|out| out.status.success() && out.stdout.starts_with(b"true"))
            .unwrap_or(false)
    }

    /// What changed under `paths` between `commit` and the working tree, untracked files
    /// (not ignored) included as added: a template moved with `mv` and not yet staged is
    /// still a move.
    pub fn changes(&self, commit: &str, paths: &[PathBuf]) -> Result<Vec<Change>, GitError> {
        let fixed = [
            "diff",
            "--no-ext-diff",
            "--no-textconv",
            "--ignore-submodules",
            "--name-status",
            "-z",
            "-M",
            commit,
            "--",
        ];
        let mut args: Vec<&OsStr> = fixed.iter().map(OsStr::new).collect();
        args.extend(paths.iter().map(|p| p.as_os_str()));
        let out = self.git(&args)?;
        let diff = checked("diff", out)?;
        let mut changes = parse_name_status(&diff)?;

        let fixed = [
            "ls-files",
            "--others",
            "--exclude-standard",
            "--full-name",
            "-z",
            "--",
        ];
        let mut args: Vec<&OsStr> = fixed.iter().map(OsStr::new).collect();
        args.extend(paths.iter().map(|p| p.as_os_str()));
        let out = self.git(&args)?;
        let untracked = checked("ls-files", out)?;
        changes.extend(
            untracked
                .split(|b| *b == 0)
                .filter(|p| !p.is_empty())
                .map(|p| Change::Added(String::from_utf8_lossy(p).into_owned())),
        );
        Ok(changes)
    }

    /// The bytes of each of `paths` (relative to the root) at `commit`, `None` for a blob
    /// larger than `max`, in one `git cat-file --batch` process rather than one per file
    /// (a pull request can touch thousands of templates). Only the bytes of blobs within
    /// the limit are kept; larger ones are skipped through a small buffer.
    pub fn read_all(
        &self,
        commit: &str,
        paths: &[&str],
        max: u64,
    ) -> Result<Vec<Option<Vec<u8>>>, GitError> {
        use std::io::{BufRead, BufReader, Read, Write};
        if paths.is_empty() {
            return Ok(Vec::new());
        }
        // The batch protocol is line-based: a path with a line break goes alone.
        if paths.iter().any(|p| p.contains('\n')) {
            return paths.iter().map(|p| self.read(commit, p, max)).collect();
        }
        let failed = |detail: String| GitError::Failed {
            command: "cat-file --batch".into(),
            detail,
        };
        let mut child = command(&self.cwd)
            .args(["cat-file", "--batch"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| GitError::Spawn(e.to_string()))?;
        let requests: String = paths.iter().map(|p| format!("{commit}:{p}\n")).collect();
        let mut stdin = child.stdin.take();
        // Written from another thread: git answers while it reads, and both pipes are finite.
        let writer = std::thread::spawn(move || {
            if let Some(stdin) = stdin.as_mut() {
                // A write error means git exited; the reader below reports it.
                let _ = stdin.write_all(requests.as_bytes());
            }
        });
        let Some(stdout) = child.stdout.take() else {
            return Err(failed("no output pipe".into()));
        };
        let mut out = BufReader::new(stdout);
        let mut blobs = Vec::with_capacity(paths.len());
        let mut result = Ok(());
        for path in paths {
            let mut header = String::new();
            if let Err(e) = out.read_line(&mut header) {
                result = Err(failed(e.to_string()));
                break;
            }
            // `<oid> blob <size>`, or `<object> missing`.
            let fields: Vec<&str> = header.trim_end().rsplitn(3, ' ').collect();
            let size = match fields.as_slice() {
                [size, "blob", _] => size.parse::<u64>().ok(),
                _ => None,
            };
            let Some(size) = size else {
                result = Err(failed(format!(
                    "cannot read `{path}` at the base: {}",
                    header.trim()
                )));
                break;
            };
            let mut body = (&mut out).take(size);
            // A short body means git stopped mid-blob: an error, never a truncated template.
            let short = || failed(format!("the base version of `{path}` ended early"));
            if size > max {
                match std::io::copy(&mut body, &mut std::io::sink()) {
                    Ok(n) if n == size => blobs.push(None),
                    Ok(_) => result = Err(short()),
                    Err(e) => result = Err(failed(e.to_string())),
                }
            } else {
                let mut bytes = Vec::with_capacity(size as usize);
                match body.read_to_end(&mut bytes) {
                    Ok(_) if bytes.len() as u64 == size => blobs.push(Some(bytes)),
                    Ok(_) => result = Err(short()),
                    Err(e) => result = Err(failed(e.to_string())),
                }
            }
            if result.is_err() {
                break;
            }
            let mut newline = [0u8; 1];
            if let Err(e) = out.read_exact(&mut newline) {
                result = Err(failed(e.to_string()));
                break;
            }
        }
        if result.is_err() {
            let _ = child.kill();
        }
        let _ = writer.join();
        let status = child.wait().map_err(|e| failed(e.to_string()))?;
        result?;
        if !status.success() {
            return Err(failed(format!(
                "exit status {}",
                status.code().unwrap_or(-1)
            )));
        }
        Ok(blobs)
    }

    /// Every file named `name` in `commit`, as root-relative `/`-separated paths.
    pub fn files_named(&self, commit: &str, name: &str) -> Result<Vec<String>, GitError> {
        let out = self.git(["ls-tree", "-r", "-z", "--name-only", "--full-tree", commit])?;
        if !out.status.success() {
            return Err(GitError::Failed {
                command: "ls-tree".into(),
                detail: stderr_line(&out),
            });
        }
        Ok(out
            .stdout
            .split(|b| *b == 0)
            .filter_map(|p| std::str::from_utf8(p).ok())
            .filter(|p| p.rsplit('/').next() == Some(name))
            .map(str::to_string)
            .collect())
    }

    /// The mode (`100644`, `120000` for a symbolic link, ...) and type (`blob`, `tree`)
    /// of `path` (relative to the root) at `commit`, or `None` when there is nothing there.
    pub fn entry(&self, commit: &str, path: &str) -> Result<Option<(String, String)>, GitError> {
        let out = self.git(["ls-tree", "-z", "--full-tree", commit, "--", path])?;
        let listing = checked("ls-tree", out)?;
        // `<mode> SP <type> SP <object> TAB <path>` NUL, for the exact path only.
        for record in listing.split(|b| *b == 0).filter(|r| !r.is_empty()) {
            let record = String::from_utf8_lossy(record);
            let Some((meta, name)) = record.split_once('\t') else {
                continue;
            };
            if name != path {
                continue;
            }
            let mut fields = meta.split(' ');
            if let (Some(mode), Some(kind)) = (fields.next(), fields.next()) {
                return Ok(Some((mode.to_string(), kind.to_string())));
            }
        }
        Ok(None)
    }

    /// Does `commit` hold a file at `path` (relative to the root)?
    pub fn has_file(&self, commit: &str, path: &str) -> Result<bool, GitError> {
        let object = format!("{commit}:{path}");
        let out = self.git(["cat-file", "-t", object.as_str()])?;
        Ok(out.status.success() && out.stdout.starts_with(b"blob"))
    }

    /// The bytes of `path` (relative to the root) at `commit`, or `Ok(None)` when the blob
    /// is larger than `max` bytes (read no further than that, so a huge blob in the history
    /// cannot exhaust memory).
    pub fn read(&self, commit: &str, path: &str, max: u64) -> Result<Option<Vec<u8>>, GitError> {
        use std::io::Read;
        let object = format!("{commit}:{path}");
        let mut child = command(&self.cwd)
            .args(["cat-file", "blob", object.as_str()])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| GitError::Spawn(e.to_string()))?;
        let mut bytes = Vec::new();
        if let Some(stdout) = child.stdout.take() {
            stdout
                .take(max.saturating_add(1))
                .read_to_end(&mut bytes)
                .map_err(|e| GitError::Failed {
                    command: "cat-file".into(),
                    detail: e.to_string(),
                })?;
        }
        if bytes.len() as u64 > max {
            // Stop git rather than drain the rest; an error from the kill changes nothing.
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        let out = child.wait_with_output().map_err(|e| GitError::Failed {
            command: "cat-file".into(),
            detail: e.to_string(),
        })?;
        if !out.status.success() {
            return Err(GitError::Failed {
                command: "cat-file".into(),
                detail: stderr_line(&out),
            });
        }
        Ok(Some(bytes))
    }

    fn git<I, S>(&self, args: I) -> Result<Output, GitError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        run(&self.cwd, args)
    }
}

fn run<I, S>(cwd: &Path, args: I) -> Result<Output, GitError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    command(cwd)
        .args(args)
        .output()
        .map_err(|e| GitError::Spawn(e.to_string()))
}

fn command(cwd: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.current_dir(cwd)
        // `diff.relative` would make paths relative to the current directory; set as
        // configuration, which older git ignores, rather than with `--no-relative`.
        .args([
            "--no-pager",
            "--literal-pathspecs",
            "-c",
            "core.quotepath=off",
            "-c",
            "diff.relative=false",
        ])
        .stdin(Stdio::null());
    cmd
}

fn checked(command: &str, out: Output) -> Result<Vec<u8>, GitError> {
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(GitError::Failed {
            command: command.to_string(),
            detail: stderr_line(&out),
        })
    }
}

/// The first line of git's error output, without its `fatal: ` prefix.
fn stderr_line(out: &Output) -> String {
    let text = String::from_utf8_lossy(&out.stderr);
    let line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let line = line
        .strip_prefix("fatal: ")
        .or_else(|| line.strip_prefix("error: "))
        .unwrap_or(line);
    if line.is_empty() {
        format!("exit status {}", out.status.code().unwrap_or(-1))
    } else {
        line.to_string()
    }
}

/// `git diff --name-status -z`: a status field, then one path (two for renames and copies),
/// every field NUL-terminated.
fn parse_name_status(bytes: &[u8]) -> Result<Vec<Change>, GitError> {
    let mut fields = bytes
        .split(|b| *b == 0)
        .map(|f| String::from_utf8_lossy(f).into_owned());
    let mut changes = Vec::new();
    let malformed = || GitError::Failed {
        command: "diff".into(),
        detail: "unexpected --name-status output".into(),
    };
    while let Some(status) = fields.next() {
        if status.is_empty() {
            continue;
        }
        let mut path = || {
            fields
                .next()
                .filter(|p| !p.is_empty())
                .ok_or_else(malformed)
        };
        let change = match status.as_bytes()[0] {
            b'R' => Change::Renamed {
                from: path()?,
                to: path()?,
            },
            // A copy leaves the source in place: the copy is a new file.
            b'C' => {
                path()?;
                Change::Added(path()?)
            }
            b'D' => Change::Deleted(path()?),
            b'A' => Change::Added(path()?),
            // M, T (type change), U (unmerged), X: the file exists on both sides.
            _ => Change::Modified(path()?),
        };
        changes.push(change);
    }
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_status_parses_every_kind_of_change() {
        let raw = b"M\0a.yaml\0R087\0old dir/b.yaml\0new/b.yaml\0D\0c.json\0A\0d.yml\0C100\0e.yaml\0f.yaml\0";
        let Ok(changes) = parse_name_status(raw) else {
            panic!("valid output is rejected");
        };
        assert_eq!(
            changes,
            vec![
                Change::Modified("a.yaml".into()),
                Change::Renamed {
                    from: "old dir/b.yaml".into(),
                    to: "new/b.yaml".into()
                },
                Change::Deleted("c.json".into()),
                Change::Added("d.yml".into()),
                Change::Added("f.yaml".into()),
            ]
        );
    }

    #[test]
    fn truncated_name_status_is_an_error_not_a_panic() {
        assert!(parse_name_status(b"R100\0only-one\0").is_err());
        assert!(parse_name_status(b"M\0").is_err());
    }
}
