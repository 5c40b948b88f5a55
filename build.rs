//! Sets `DDB_GUARD_BUILD_INFO` for `--version`: ` (COMMIT DATE)` when built from a git
//! checkout, empty otherwise (see src/build_info.rs). Never fails the build.

#[path = "src/build_info.rs"]
mod build_info;

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/build_info.rs");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".to_string());
    // SOURCE_DATE_EPOCH makes the date reproducible (https://reproducible-builds.org/).
    let seconds = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .ok()
                .map(|d| d.as_secs())
        })
        .unwrap_or(0);
    let suffix = build_info::suffix("git", Path::new(&dir), seconds / 86_400, &mut |file| {
        println!("cargo:rerun-if-changed={file}");
    });
    println!("cargo:rustc-env=DDB_GUARD_BUILD_INFO={suffix}");
}
