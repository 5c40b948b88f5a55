//! Protection: the table's own guardrails (DDB003 `DeletionProtectionEnabled`, DDB004
//! point-in-time recovery), sharing the flag reader in [`flag`].

pub mod deletion_protection;
pub mod flag;
pub mod point_in_time_recovery;
