#![no_main]
//! Differential: a text the fast YAML path accepts must build the same document through
//! saphyr's path (the fast path declines everything it cannot read exactly alike).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        ddb_guard_fuzz::yaml_fast_agrees(text);
    }
});
