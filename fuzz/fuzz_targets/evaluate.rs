//! The intrinsic evaluator, through the template model, on arbitrary templates.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        ddb_guard_fuzz::evaluate(text);
    }
});
