//! The soundness oracle, unbounded: templates generated from the input's bytes, checked
//! against the brute-force concrete evaluator (tests/support/soundness_oracle.rs).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ddb_guard_fuzz::soundness(data);
});
