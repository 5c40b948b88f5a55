#![no_main]
//! Differential: a text the fast JSON path accepts must build the same document through
//! the jsonc path, and a text the jsonc path refuses must be declined (the fast path
//! declines everything it cannot read exactly alike).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        ddb_guard_fuzz::json_fast_agrees(text);
    }
});
