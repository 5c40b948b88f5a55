//! The autofix round trip (`check --fix`) on arbitrary templates.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ddb_guard_fuzz::fix_roundtrip(data);
});
