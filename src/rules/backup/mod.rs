//! Backup: an AWS Backup plan covers the table (DDB005).

pub mod backup_plan;
