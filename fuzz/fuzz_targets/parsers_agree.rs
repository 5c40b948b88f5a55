#![no_main]
//! Differential: a file the strict YAML 1.2 parser (saphyr) reads must read the same
//! through the YAML 1.1 parser (libyaml-safer) that stands for CloudFormation, or the
//! loader must refuse it.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        ddb_guard_fuzz::parsers_agree(text);
    }
});
