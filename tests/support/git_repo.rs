//! A git repository in a temp dir for the pull-request guard's tests (`tests/it/base.rs`,
//! `tests/it/pr_guard.rs`): write, commit and run the real binary in it, isolated from the
//! machine's git and ddb-guard configuration.
#![allow(dead_code)] // each test file uses its own part

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::Command as Bin;
use serde_json::Value;
use tempfile::TempDir;

/// A table that DDB001-DDB004 accept, so that only the comparison rules can fire.
pub const ORDERS: &str = "\
AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Queue:
    Type: AWS::SQS::Queue
  OrdersTable:
    Type: AWS::DynamoDB::Table
    DeletionPolicy: Retain
    UpdateReplacePolicy: Retain
    Properties:
      TableName: !Sub '${AWS::StackName}-orders'
      BillingMode: PAY_PER_REQUEST
      KeySchema:
        - AttributeName: id
          KeyType: HASH
      AttributeDefinitions:
        - AttributeName: id
          AttributeType: S
        - AttributeName: customer
          AttributeType: S
      GlobalSecondaryIndexes:
        - IndexName: byCustomer
          KeySchema:
            - AttributeName: customer
              KeyType: HASH
          Projection:
            ProjectionType: ALL
      DeletionProtectionEnabled: true
      PointInTimeRecoverySpecification:
        PointInTimeRecoveryEnabled: true
";

pub const QUEUE_ONLY: &str = "\
AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Queue:
    Type: AWS::SQS::Queue
";

pub struct Repo {
    pub dir: TempDir,
}

impl Repo {
    pub fn new() -> Repo {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repo { dir };
        repo.git(&["init", "-q", "-b", "main"]);
        repo.git(&["config", "user.email", "test@example.com"]);
        repo.git(&["config", "user.name", "Test"]);
        repo.git(&["config", "commit.gpgsign", "false"]);
        repo
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, path: &str, text: &str) {
        let full = self.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    }

    pub fn remove(&self, path: &str) {
        std::fs::remove_file(self.path().join(path)).unwrap();
    }

    pub fn git(&self, args: &[&str]) {
        let status = isolated(Command::new("git"), self.path())
            .current_dir(self.path())
            .args(args)
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?} failed");
    }

    pub fn commit(&self, message: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
    }

    /// The binary, run in `dir` (relative to the repository).
    pub fn guard_in(&self, dir: &str) -> Bin {
        let mut bin = Bin::cargo_bin("ddb-guard").unwrap();
        isolated_bin(&mut bin, self.path());
        bin.current_dir(self.path().join(dir));
        bin
    }

    pub fn guard(&self) -> Bin {
        self.guard_in("")
    }
}

/// Git must not see the user's or the system's configuration, nor a repository above the
/// temp dir.
pub fn isolated(mut cmd: Command, dir: &Path) -> Command {
    cmd.env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("HOME", dir)
        .env("GIT_CEILING_DIRECTORIES", ceiling(dir));
    cmd
}

pub fn isolated_bin(bin: &mut Bin, dir: &Path) {
    bin.env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("HOME", dir)
        .env("GIT_CEILING_DIRECTORIES", ceiling(dir))
        .env("COLUMNS", "100")
        .env_remove("NO_COLOR");
}

pub fn ceiling(dir: &Path) -> PathBuf {
    dir.parent().unwrap_or(dir).to_path_buf()
}

/// Every finding of the run, from `--format json`, after checking the exit code.
pub fn json_findings(bin: &mut Bin, expected_exit: i32) -> Vec<Value> {
    let out = bin.args(["--format", "json"]).assert().code(expected_exit);
    let json: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    json["findings"].as_array().unwrap().clone()
}

/// (rule, severity, path, line) of every finding, from `--format json`.
pub fn findings(bin: &mut Bin, expected_exit: i32) -> Vec<(String, String, String, u64)> {
    json_findings(bin, expected_exit)
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

pub fn messages(bin: &mut Bin, expected_exit: i32) -> Vec<String> {
    json_findings(bin, expected_exit)
        .iter()
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect()
}

pub fn f(rule: &str, severity: &str, path: &str, line: u64) -> (String, String, String, u64) {
    (rule.into(), severity.into(), path.into(), line)
}

pub fn without_policies(template: &str) -> String {
    template
        .lines()
        .filter(|l| !l.contains("Policy: Retain"))
        .map(|l| format!("{l}\n"))
        .collect()
}
