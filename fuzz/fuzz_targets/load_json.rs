//! The JSON loader, then the whole pipeline and both renderers, then the change-set gate
//! (`ddb-guard changeset`, which reads JSON with the same loader), on arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        ddb_guard_fuzz::load_and_check(text, ddb_guard::load::Format::Json);
    }
    ddb_guard_fuzz::pipeline(data, "fuzz.json");
    ddb_guard_fuzz::changeset(data);
});
