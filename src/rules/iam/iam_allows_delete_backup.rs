//! DDB011 iam-allows-delete-backup
//!
//! ## What it checks
//! Every identity policy in the template (the same resources as DDB010) must not allow
//! deleting backups of DynamoDB data on a resource that can be a backup ARN, unless a
//! `Deny` in the same document takes it back. The guarded actions and the ARNs IAM
//! authorizes them against:
//! - `dynamodb:DeleteBackup`: `arn:…:dynamodb:…:table/NAME/backup/ID`
//! - `backup:DeleteRecoveryPoint`: `arn:…:backup:…:recovery-point:ID`, and the DynamoDB
//!   backup ARN (recovery points of tables without advanced backup features)
//! - `backup:DeleteBackupVault`: `arn:…:backup:…:backup-vault:NAME`
//! - `backup:DeleteBackupPlan` and `backup:DeleteBackupSelection`: `arn:…:backup:…:backup-plan:ID`
//!
//! Action and resource matching, `NotAction`, `NotResource`, `Fn::If`, `Deny` and service
//! control policies follow the same IAM semantics as DDB010. The finding points at the
//! action string that grants, and lists every guarded action it grants. The rule reads the
//! same files as DDB010, for the same reason.
//!
//! ## Why it matters
//! Backups are the last copy of a table's data. The guardrail behind ddb-guard denies
//! `dynamodb:DeleteBackup` and the AWS Backup deletions through IAM and service control
//! policies; a template that grants them lets one principal destroy the table's history,
//! which turns any later mistake, or ransomware, into permanent data loss.
//!
//! ## Example
//! ```yaml
//! BackupAdminPolicy:
//!   Type: AWS::IAM::ManagedPolicy
//!   Properties:
//!     PolicyDocument:
//!       Statement:
//!         - Effect: Allow
//!           Action: backup:*
//!           Resource: "*"
//! ```
//!
//! ## Use instead
//! ```yaml
//! BackupAdminPolicy:
//!   Type: AWS::IAM::ManagedPolicy
//!   Properties:
//!     PolicyDocument:
//!       Statement:
//!         - Effect: Allow
//!           Action: [backup:StartBackupJob, backup:Describe*, backup:List*, backup:Get*]
//!           Resource: "*"
//! ```
//!
//! ## Fix safety
//! No automatic fix: narrow the actions, or add a `Deny` for the delete actions to the same
//! policy.

use super::grant::{check_grants, GrantSpec, NEEDLES};
use crate::finding::{Finding, Severity};
use crate::model::iam::{
    DELETE_BACKUP, DELETE_BACKUP_PLAN, DELETE_BACKUP_SELECTION, DELETE_BACKUP_VAULT,
    DELETE_RECOVERY_POINT,
};
use crate::rules::{Check, ResourceView, Rule};

pub const RULE: Rule = Rule {
    code: "DDB011",
    name: "iam-allows-delete-backup",
    severity: Severity::Warning,
    summary: "IAM policy must not allow deleting DynamoDB backups or AWS Backup recovery points, vaults or plans",
    needles: NEEDLES,
    default_enabled: true,
    per_table: false,
    check: Check::Resource(check),
    source: include_str!("iam_allows_delete_backup.rs"),
};

const SPEC: GrantSpec = GrantSpec {
    guarded: &[
        DELETE_BACKUP,
        DELETE_RECOVERY_POINT,
        DELETE_BACKUP_VAULT,
        DELETE_BACKUP_SELECTION,
        DELETE_BACKUP_PLAN,
    ],
    report_invalid: false,
    target: "a backup ARN",
    consequence: "it undoes the guardrail that keeps the backups of DynamoDB tables",
    help: "list only the actions the principal needs (e.g. `backup:StartBackupJob`, not `backup:*`), or scope `Resource` away from backups",
};

fn check(view: &ResourceView) -> Vec<Finding> {
    check_grants(view, &RULE, &SPEC)
}
