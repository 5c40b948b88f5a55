//! The integration tests, one binary: each former `tests/*.rs` file is a module here, so
//! `cargo test` links one test executable instead of one per file (each a separate link on
//! a 2-core machine). Run one group with `cargo test --test it MODULE::` (for example
//! `cargo test --test it distribution::man_pages`).

// `fuzz_corpus` includes the fuzz workspace's oracles, which include
// support/soundness_oracle.rs by path as `oracle` does through `support`.
#![allow(clippy::duplicate_mod)]

#[path = "../common/mod.rs"]
mod common;

#[path = "../support/mod.rs"]
mod support;

mod base;
mod baseline;
mod changeset;
mod cli;
mod config;
mod distribution;
mod docs;
mod fix;
mod fix_props;
mod fuzz_corpus;
mod guardrails;
mod hostile;
mod iam_oracle;
mod inventory;
mod json_fast;
mod layers;
mod load_errors;
mod oracle;
mod output_docs;
mod policy_files;
mod pr_guard;
mod reports;
mod repos;
mod required_guardrails;
mod retain;
mod selection;
mod serverless;
mod soundness;
mod stream;
mod suppressions;
mod yaml_fast;
