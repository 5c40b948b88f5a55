//! Baselines for gradual adoption: `--write-baseline FILE` records today's findings, and
//! `--baseline FILE` lets only new findings fail the run.
//!
//! An entry is (rule, path, logical ID), never a line or a message: editing a template
//! elsewhere, or improving a message, must not turn old findings into new ones. Paths are
//! relative to the baseline file's directory with `/` separators, so the same file works
//! whether the run was `ddb-guard check`, `check .` or `check stacks/` and on any OS.
//! The file is sorted JSON, so it diffs well in review.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::report::data::{Report, Status};

pub const VERSION: u32 = 1;

/// One accepted finding: (rule, path, logical ID). Defined with the report data, which
/// lists the stale ones.
pub use crate::report::data::BaselineEntry as Entry;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub version: u32,
    pub findings: Vec<Entry>,
}

/// A baseline file that cannot be used; the run stops with exit 2 rather than fail open.
#[derive(Debug)]
pub struct BaselineError(pub String);

impl std::fmt::Display for BaselineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BaselineError {}

/// How report paths become baseline paths: relative to the baseline file's directory.
pub struct Keys {
    base: PathBuf,
}

impl Keys {
    pub fn for_file(baseline: &Path) -> Keys {
        let absolute = normalize(baseline);
        Keys {
            base: absolute.parent().map(Path::to_path_buf).unwrap_or_default(),
        }
    }

    /// `display` is a report path, as reached from the current directory.
    pub fn path(&self, display: &str) -> String {
        let path = Path::new(display);
        let absolute = normalize(path);
        let relative = absolute
            .strip_prefix(&self.base)
            .map(Path::to_path_buf)
            .unwrap_or(absolute);
        let parts: Vec<String> = relative
            .components()
            .filter(|c| !matches!(c, Component::CurDir))
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        parts.join("/")
    }
}

/// The absolute path with `.` and `..` resolved lexically (without touching the file
/// system), so `stacks/../b.json` and `b.json` are the same key.
fn normalize(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = PathBuf::new();
    for component in absolute.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

impl Baseline {
    /// The findings that count in `report`, as baseline entries (sorted, no duplicates).
    pub fn from_report(report: &Report, keys: &Keys) -> Baseline {
        let entries: BTreeSet<Entry> = report
            .files
            .iter()
            .flat_map(|file| {
                let path = keys.path(&file.path);
                file.findings.iter().map(move |f| Entry {
                    rule: f.code.to_string(),
                    path: path.clone(),
                    resource: f.resource.clone(),
                })
            })
            .collect();
        Baseline {
            version: VERSION,
            findings: entries.into_iter().collect(),
        }
    }

    pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            BaselineError(format!(
                "{}: cannot read baseline: {}",
                path.display(),
                crate::discover::io_reason(&e)
            ))
        })?;
        let baseline: Baseline = serde_json::from_str(&text).map_err(|e| {
            BaselineError(format!(
                "{}:{}:{}: invalid baseline: {e}",
                path.display(),
                e.line(),
                e.column()
            ))
        })?;
        if baseline.version != VERSION {
            return Err(BaselineError(format!(
                "{}: baseline version {} is not supported (expected {VERSION}); rewrite it with --write-baseline",
                path.display(),
                baseline.version
            )));
        }
        Ok(baseline)
    }

    /// Write atomically ([`atomic_write`](crate::atomic_write)), so a crash never leaves
    /// half a baseline.
    pub fn write(&self, path: &Path) -> Result<(), BaselineError> {
        let fail = |e: std::io::Error| {
            BaselineError(format!(
                "{}: cannot write baseline: {}",
                path.display(),
                crate::discover::io_reason(&e)
            ))
        };
        let mut text = serde_json::to_string_pretty(self)
            .map_err(|e| BaselineError(format!("cannot serialize baseline: {e}")))?;
        text.push('\n');
        crate::atomic_write::write(path, text.as_bytes()).map_err(|e| fail(e.source))
    }

    /// Move the findings this baseline records out of the report's failing findings, and
    /// record the entries that match nothing in the files this run checked. Entries for
    /// files not checked in this run (or that failed to load) are not judged.
    pub fn apply(&self, report: &mut Report, keys: &Keys) {
        let entries: BTreeSet<&Entry> = self.findings.iter().collect();
        let mut matched: BTreeSet<&Entry> = BTreeSet::new();
        let mut judged: BTreeSet<String> = BTreeSet::new();
        for file in &mut report.files {
            let path = keys.path(&file.path);
            let findings = std::mem::take(&mut file.findings);
            for finding in findings {
                let entry = Entry {
                    rule: finding.code.to_string(),
                    path: path.clone(),
                    resource: finding.resource.clone(),
                };
                match entries.get(&entry) {
                    Some(known) => {
                        matched.insert(known);
                        file.baselined.push(finding);
                    }
                    None => file.findings.push(finding),
                }
            }
            if file.status != Status::Failed {
                judged.insert(path);
            }
        }
        report.stale_baseline = self
            .findings
            .iter()
            .filter(|e| judged.contains(&e.path) && !matched.contains(e))
            .cloned()
            .collect();
        report.resummarize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_relative_to_the_baseline_and_use_forward_slashes() {
        let cwd = std::env::current_dir().unwrap_or_default();
        let keys = Keys::for_file(&cwd.join("baseline.json"));
        assert_eq!(keys.path("./stacks/app.yaml"), "stacks/app.yaml");
        assert_eq!(keys.path("stacks/app.yaml"), "stacks/app.yaml");
        let nested = Keys::for_file(&cwd.join("stacks").join("baseline.json"));
        assert_eq!(nested.path("stacks/app.yaml"), "app.yaml");
        let up = Keys::for_file(&cwd.join("stacks").join("..").join("baseline.json"));
        assert_eq!(up.path("stacks/../stacks/app.yaml"), "stacks/app.yaml");
    }

    #[test]
    fn a_baseline_of_another_version_is_refused() {
        let dir = std::env::temp_dir().join(format!("ddb-guard-bl-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("b.json");
        let _ = std::fs::write(&path, "{\"version\": 9, \"findings\": []}");
        let err = Baseline::load(&path).err().map(|e| e.0).unwrap_or_default();
        assert!(err.contains("version 9"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
