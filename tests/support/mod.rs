//! Helpers of several integration-test modules (tests/it/): the git repository builder and
//! the oracles. The fuzz workspace and examples/fix-verify.rs include single files of it by
//! path, so each file stands alone.
#![allow(dead_code)] // each test module uses its own part

pub mod fix_oracle;
pub mod git_repo;
pub mod iam_oracle;
pub mod pair_oracle_remove;
pub mod pair_oracle_replace;
pub mod soundness_oracle;
