//! IAM: which policies may delete or weaken a table or its backups (DDB010-DDB012, sharing
//! the grant search in [`grant`]) and the run-level required guardrails (DDB013).

pub mod grant;
pub mod iam_allows_delete_backup;
pub mod iam_allows_delete_table;
pub mod iam_allows_update_table;
pub mod required_guardrail;
