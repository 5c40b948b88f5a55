#!/usr/bin/env bash
# Run the cargo-fuzz targets, one at a time, at the lowest CPU priority.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default: 600 s, every target)
#   FUZZ_KEEP_GOING=1 scripts/fuzz.sh 1200 load_yaml      (go on after a crash)
#
# Only the stable toolchain is assumed: cargo-fuzz passes nightly-only flags
# (-Zsanitizer=address, ...), which RUSTC_BOOTSTRAP=1 allows on stable. cargo-fuzz is
# installed from crates.io if missing (idempotent). New corpus entries go to the ignored
# fuzz/corpus-run/<target>/; the committed seeds in fuzz/corpus/<target>/ are read only.
# Crashes land in fuzz/artifacts/<target>/: copy each into fuzz/corpus/<target>/ and pin
# it with a test (tests/it/hostile.rs or a unit test), so cargo test replays it.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-600}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(load_yaml load_json evaluate fix_roundtrip parsers_agree soundness yaml_fast_agrees json_fast_agrees)
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    nice -n 19 cargo install cargo-fuzz --locked
fi

# FUZZ_KEEP_GOING=1: libFuzzer's fork mode, which records a crash and goes on, so that
# one long run collects every find (each lands in fuzz/artifacts/<target>/).
keep_going=()
if [ "${FUZZ_KEEP_GOING:-0}" = 1 ]; then
    keep_going=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
fi

export RUSTC_BOOTSTRAP=1
export CARGO_BUILD_JOBS=1
for target in "${targets[@]}"; do
    mkdir -p "fuzz/corpus-run/$target"
    echo "== $target for ${seconds}s"
    nice -n 19 cargo fuzz run "$target" \
        "fuzz/corpus-run/$target" "fuzz/corpus/$target" -- \
        -dict=fuzz/dict/cfn.dict -max_len=16384 -timeout=10 -rss_limit_mb=2048 \
        -max_total_time="$seconds" -print_final_stats=1 "${keep_going[@]}"
done
