#!/usr/bin/env bash
# bench/fix-corpus.sh CORPUS_DIR: run `ddb-guard check --fix` over a copy of a corpus of
# templates and verify, file by file, what the fix promises:
#   - every changed file parses to the original tree plus only retention policies of
#     tables, each now Retain (examples/fix-verify.rs, an oracle independent of the engine);
#   - no DDB001/DDB002 finding with a safe fix is left, comments/BOM/CRLF are kept;
#   - a second `--fix` is a no-op (checked per file by the oracle, and for the whole tree
#     by `--diff` printing nothing);
#   - no file was refused and no temporary file is left behind.
# Not a unit test: it needs a corpus (never copied into the repository). The corpus is
# only read. PROFILE=release builds optimised binaries (default: the debug build).
set -euo pipefail

corpus=${1:?usage: bench/fix-corpus.sh CORPUS_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
profile=${PROFILE:-dev}
case "$profile" in dev) dir=debug ;; *) dir=$profile ;; esac

cargo build --quiet --manifest-path "$root/Cargo.toml" --profile "$profile" \
    --bin ddb-guard --example fix-verify
bin=$root/target/$dir/ddb-guard
verify=$root/target/$dir/examples/fix-verify

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -R "$corpus" "$work/fixed"
before=$(find "$work/fixed" -type f | wc -l)

start=$(date +%s.%N)
set +e
"$bin" check --fix --no-ignore --hidden --format json "$work/fixed" >"$work/fix.json" 2>"$work/fix.err"
fix_status=$?
set -e
end=$(date +%s.%N)

echo "== --fix (exit $fix_status; 2 also means some files could not be checked at all)"
cat "$work/fix.err"
printf 'took %.2fs\n' "$(echo "$end - $start" | bc)"

failures=0
refused=$(grep -o 'a fix was refused[^"]*\|changed on disk[^"]*\|did not converge[^"]*' "$work/fix.json" | sort | uniq -c || true)
if [ -n "$refused" ]; then
    echo "== refused fixes"
    echo "$refused"
    failures=$((failures + 1))
fi

after=$(find "$work/fixed" -type f | wc -l)
if [ "$before" != "$after" ]; then
    echo "FAIL: $before files before --fix, $after after (temporary files left?)"
    failures=$((failures + 1))
fi

echo "== file by file"
if ! "$verify" "$corpus" "$work/fixed" >"$work/verify.txt"; then
    failures=$((failures + 1))
fi
grep '^FAIL' "$work/verify.txt" || true
tail -n 1 "$work/verify.txt"

echo "== second run"
"$bin" check --diff --no-ignore --hidden "$work/fixed" >"$work/second.diff" 2>"$work/second.err" || true
cat "$work/second.err"
if [ -s "$work/second.diff" ]; then
    echo "FAIL: a second --fix would still change files:"
    head -n 40 "$work/second.diff"
    failures=$((failures + 1))
fi

echo "== what is left"
left=$("$bin" check --no-ignore --hidden --format json "$work/fixed" 2>/dev/null | grep -c '"rule": "DDB00[12]"' || true)
"$bin" check --diff --unsafe-fixes --no-ignore --hidden "$work/fixed" >/dev/null 2>"$work/unsafe.err" || true
echo "$left DDB001/DDB002 findings left; with --unsafe-fixes: $(cat "$work/unsafe.err")"

if [ "$failures" -gt 0 ]; then
    echo "fix-corpus: $failures check(s) failed"
    exit 1
fi
echo "fix-corpus: all checks passed"
