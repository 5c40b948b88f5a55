//! Helpers shared by the integration tests: write templates into a temp dir and run the
//! real binary on them.
#![allow(dead_code)]

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

pub fn ddb_guard() -> Command {
    let mut cmd = Command::cargo_bin("ddb-guard").expect("binary builds");
    cmd.env("NO_COLOR", "1")
        .env_remove("FORCE_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env("COLUMNS", "100");
    cmd
}

pub fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create dirs");
    }
    std::fs::write(path, text).expect("write file");
}

/// Run `check --format json` on `paths` (relative to `dir`), returning the exit code and
/// the parsed report.
pub fn check_json(dir: &Path, paths: &[&str]) -> (i32, Value) {
    let output = ddb_guard()
        .current_dir(dir)
        .arg("check")
        .args(paths)
        .args(["--format", "json"])
        .output()
        .expect("runs");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code().unwrap_or(-1), report)
}

/// Check one template given as text, named `name`.
pub fn check_one(name: &str, text: &str) -> (i32, Value) {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), name, text);
    check_json(dir.path(), &[name])
}

pub fn findings(report: &Value) -> Vec<Value> {
    report["findings"].as_array().cloned().unwrap_or_default()
}

/// The findings of one rule, as (resource, line, column, message).
pub fn rule_hits(report: &Value, rule: &str) -> Vec<(String, u64, u64, String)> {
    findings(report)
        .into_iter()
        .filter(|f| f["rule"] == rule)
        .map(|f| {
            (
                f["resource"].as_str().unwrap_or_default().to_string(),
                f["line"].as_u64().unwrap_or_default(),
                f["column"].as_u64().unwrap_or_default(),
                f["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}
