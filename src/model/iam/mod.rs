//! The IAM policy model: which documents a resource carries, their statements (with
//! `Fn::If` and other intrinsics expanded), IAM's wildcard matching, and the question the
//! guardrail rules ask: can this document allow a given action on a table or backup ARN,
//! with no `Deny` in the same document that takes it back?
//!
//! Everything here over-approximates what an `Allow` grants and under-approximates what a
//! `Deny` takes away, so "no grant found" is a proof and a grant is a real possibility:
//! an action that cannot be resolved may be the guarded one, a resource that cannot be
//! resolved may be any ARN, and a `Deny` counts only when it applies in every case where
//! the `Allow` does (no IAM `Condition`, no condition the `Allow` does not share).
//!
//! `wildcard`: IAM's `*`/`?` matcher and ARN-shape globs; `statement`: the documents a
//! resource carries and their statements; `resource_glob`: a statement's `Resource` values
//! as globs; `grant`: the grant question.

mod grant;
mod managed;
mod resource_glob;
mod statement;
mod wildcard;

pub use grant::{
    deny_coverage, deny_reach, grants, DenyCoverage, DenyReach, Grant, Shortfall, Via,
    MAX_DENY_WORK,
};
pub use managed::{
    managed_grants, names_managed_policies, Allows, ManagedPolicy, AWS_MANAGED_POLICIES,
    SERVERLESS_MANAGED_POLICIES, SERVERLESS_MANAGED_POLICIES_ID,
};
pub use statement::{
    documents, has_documents, statements, ActionItem, Actions, Effect, PolicyDocument, PolicyKind,
    ResourceItem, Resources, Statement, Where, IDENTITY_DOCUMENTS,
};
pub use wildcard::{
    action_matches, display_glob, glob_can_match_shape, glob_covers, is_literal, lit, shape_glob,
    wildcard_match, Glob, Marker, Part,
};

// ---------------------------------------------------------------------------------------
// Guarded actions and the ARNs they act on

pub const TABLE_ARN: &str = "arn:{}:dynamodb:{}:{}:table/{}";
pub const TABLE_BACKUP_ARN: &str = "arn:{}:dynamodb:{}:{}:table/{}/backup/{}";
pub const RECOVERY_POINT_ARN: &str = "arn:{}:backup:{}:{}:recovery-point:{}";
pub const BACKUP_VAULT_ARN: &str = "arn:{}:backup:{}:{}:backup-vault:{}";
pub const BACKUP_PLAN_ARN: &str = "arn:{}:backup:{}:{}:backup-plan:{}";

/// Every action a rule or a guardrail is about: what a policy must state clearly (a
/// policy file whose statement on one of these IAM would refuse is an error).
pub const GUARDED_ACTIONS: &[&str] = &[
    "dynamodb:DeleteTable",
    "dynamodb:UpdateTable",
    "dynamodb:DeleteBackup",
    "backup:DeleteRecoveryPoint",
    "backup:DeleteBackupVault",
    "backup:DeleteBackupVaultLockConfiguration",
    "backup:DeleteBackupVaultAccessPolicy",
    "backup:DeleteBackupSelection",
    "backup:DeleteBackupPlan",
];

/// An action the guardrail denies, and the ARN shapes IAM authorizes it against (from
/// the Service Authorization Reference).
#[derive(Clone, Copy, Debug)]
pub struct Guarded {
    pub action: &'static str,
    pub shapes: &'static [&'static str],
}
