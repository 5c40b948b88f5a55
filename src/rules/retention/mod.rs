//! Retention: the table survives its resource's deletion or replacement (DDB001
//! `DeletionPolicy`, DDB002 `UpdateReplacePolicy`), sharing the policy reader in [`policy`].

pub mod deletion_policy;
pub mod policy;
pub mod update_replace_policy;
