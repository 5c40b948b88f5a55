//! ddb-guard: prove that every DynamoDB table in a set of CloudFormation templates is
//! retained on stack deletion and on replacement.
//!
//! One straight pipeline, one module per stage:
//! [`discover`] -> [`load`] -> [`model`] -> [`rules`] -> [`report`]. Every command gets a
//! file's template through [`template_file::TemplateFile`]; [`check::Checker`] runs the
//! per-file pipeline; [`fix`] applies the fixes that rules attach to findings; each
//! command is a module of [`commands`]. See ARCHITECTURE.md.

pub mod atomic_write;
pub mod audit;
pub mod base_revision;
pub mod baseline;
#[cfg(test)]
mod build_info;
pub mod cdk;
pub mod changeset;
pub mod check;
pub mod cli;
pub mod commands;
pub mod config;
pub mod discover;
pub mod file_error;
pub mod finding;
pub mod fix;
pub mod fix_engine;
pub mod git;
pub mod guard;
pub mod hash;
pub mod inventory;
pub mod load;
pub mod model;
pub mod ordered;
pub mod prefilter;
pub mod progress;
pub mod reach;
pub mod read;
pub mod report;
pub mod rules;
pub mod ruleset;
pub mod source;
pub mod stackset;
pub mod template_file;
pub mod timings;
