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
    deny_coverage, deny_reach, grants, statement_copies, DenyCoverage, DenyReach, Grant, Shortfall,
    Via, MAX_DENY_WORK,
};
pub(crate) use managed::NamedPolicies;
pub use managed::{
    managed_grants, managed_grants_of, names_managed_policies, Allows, ManagedPolicy,
    AWS_MANAGED_POLICIES, SERVERLESS_MANAGED_POLICIES, SERVERLESS_MANAGED_POLICIES_ID,
};
pub use statement::{
    documents, has_documents, policies, statements, ActionItem, Actions, Effect, Policies,
    PolicyDocument, PolicyKind, ResourceItem, Resources, Statement, Where, IDENTITY_DOCUMENTS,
};
pub use wildcard::{
    action_matches, display_glob, display_named, glob_can_match_shape, glob_covers, has_unresolved,
    is_literal, lit, shape_glob, wildcard_match, Glob, Marker, Part, Symbol,
};

// ---------------------------------------------------------------------------------------
// Guarded actions and the ARNs they act on

pub const TABLE_ARN: &str = "arn:{}:dynamodb:{}:{}:table/{}";
pub const TABLE_BACKUP_ARN: &str = "arn:{}:dynamodb:{}:{}:table/{}/backup/{}";
pub const RECOVERY_POINT_ARN: &str = "arn:{}:backup:{}:{}:recovery-point:{}";
pub const BACKUP_VAULT_ARN: &str = "arn:{}:backup:{}:{}:backup-vault:{}";
pub const BACKUP_PLAN_ARN: &str = "arn:{}:backup:{}:{}:backup-plan:{}";

/// An action the guardrail denies, and the ARN shapes IAM authorizes it against (from
/// the Service Authorization Reference). Every rule and guardrail names one of the
/// constants below, so no two of them can disagree about an action's ARNs.
#[derive(Clone, Copy, Debug)]
pub struct Guarded {
    pub action: &'static str,
    pub shapes: &'static [&'static str],
}

pub const DELETE_TABLE: Guarded = Guarded {
    action: "dynamodb:DeleteTable",
    shapes: &[TABLE_ARN],
};
pub const UPDATE_TABLE: Guarded = Guarded {
    action: "dynamodb:UpdateTable",
    shapes: &[TABLE_ARN],
};
pub const DELETE_BACKUP: Guarded = Guarded {
    action: "dynamodb:DeleteBackup",
    shapes: &[TABLE_BACKUP_ARN],
};
/// A DynamoDB table's recovery point is a DynamoDB backup unless the vault uses AWS
/// Backup's advanced features, so both shapes.
pub const DELETE_RECOVERY_POINT: Guarded = Guarded {
    action: "backup:DeleteRecoveryPoint",
    shapes: &[RECOVERY_POINT_ARN, TABLE_BACKUP_ARN],
};
pub const UPDATE_RECOVERY_POINT_LIFECYCLE: Guarded = Guarded {
    action: "backup:UpdateRecoveryPointLifecycle",
    shapes: &[RECOVERY_POINT_ARN, TABLE_BACKUP_ARN],
};
pub const DELETE_BACKUP_VAULT: Guarded = Guarded {
    action: "backup:DeleteBackupVault",
    shapes: &[BACKUP_VAULT_ARN],
};
pub const DELETE_BACKUP_VAULT_LOCK_CONFIGURATION: Guarded = Guarded {
    action: "backup:DeleteBackupVaultLockConfiguration",
    shapes: &[BACKUP_VAULT_ARN],
};
pub const DELETE_BACKUP_VAULT_ACCESS_POLICY: Guarded = Guarded {
    action: "backup:DeleteBackupVaultAccessPolicy",
    shapes: &[BACKUP_VAULT_ARN],
};
pub const DELETE_BACKUP_SELECTION: Guarded = Guarded {
    action: "backup:DeleteBackupSelection",
    shapes: &[BACKUP_PLAN_ARN],
};
pub const DELETE_BACKUP_PLAN: Guarded = Guarded {
    action: "backup:DeleteBackupPlan",
    shapes: &[BACKUP_PLAN_ARN],
};

/// Every deletion of a table, its backups or what keeps them: what DDB023 (and, in the
/// inventory's order, a service control policy) recognizes a `Deny` for.
pub const DELETIONS: &[Guarded] = &[
    DELETE_TABLE,
    DELETE_BACKUP,
    DELETE_RECOVERY_POINT,
    DELETE_BACKUP_VAULT,
    DELETE_BACKUP_VAULT_LOCK_CONFIGURATION,
    DELETE_BACKUP_VAULT_ACCESS_POLICY,
    DELETE_BACKUP_SELECTION,
    DELETE_BACKUP_PLAN,
];

/// Every action a rule or a guardrail is about: what a policy must state clearly (a
/// policy file whose statement on one of these IAM would refuse is an error).
pub const GUARDED_ACTIONS: &[&str] = &[
    DELETE_TABLE.action,
    UPDATE_TABLE.action,
    DELETE_BACKUP.action,
    DELETE_RECOVERY_POINT.action,
    DELETE_BACKUP_VAULT.action,
    DELETE_BACKUP_VAULT_LOCK_CONFIGURATION.action,
    DELETE_BACKUP_VAULT_ACCESS_POLICY.action,
    DELETE_BACKUP_SELECTION.action,
    DELETE_BACKUP_PLAN.action,
];

#[cfg(test)]
mod tests {
    use super::*;

    /// `GUARDED_ACTIONS` and `DELETIONS` name each action once, and every deletion is
    /// guarded.
    #[test]
    fn every_deletion_is_a_guarded_action_named_once() {
        for list in [
            GUARDED_ACTIONS.to_vec(),
            DELETIONS.iter().map(|g| g.action).collect(),
        ] {
            let mut sorted = list.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), list.len(), "{list:?}");
        }
        for g in DELETIONS {
            assert!(GUARDED_ACTIONS.contains(&g.action), "{}", g.action);
            assert!(!g.shapes.is_empty(), "{}", g.action);
        }
    }
}
