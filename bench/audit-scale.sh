#!/usr/bin/env bash
# `ddb-guard audit` on an account with thousands of tables: a pinned AWS emulator (moto's
# server, the virtual environment of scripts/test-audit.sh) seeded by bench/audit_seed.py,
# then the audit of its one Region with DDB_GUARD_TIMINGS=1 (time to read the account and
# to analyse it, then the per-stage table) under /usr/bin/time.
#
# usage: bench/audit-scale.sh [TABLES [STACKS [CONCURRENCY]]]   (default 2000 50 8)
# DDB_GUARD=path picks the binary (default target/debug/ddb-guard, built with
# `cargo build --features audit`). Record the output in bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
tables=${1:-2000}
stacks=${2:-50}
concurrency=${3:-8}
bin=${DDB_GUARD:-target/debug/ddb-guard}
venv=target/audit-venv
[[ -x $venv/bin/moto_server ]] || { echo "run scripts/test-audit.sh once first (it makes $venv)" >&2; exit 2; }
[[ -x $bin ]] || { echo "no $bin: cargo build --features audit" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ddb-guard-audit-scale.XXXXXX")
# shellcheck source=scripts/emulator.sh
source scripts/emulator.sh
cleanup() {
    emulator_stop
    rm -rf "$tmp"
}
trap cleanup EXIT

emulator_start "$venv" "$tmp" || { echo "the emulator did not start: $(cat "$tmp/moto.log")" >&2; exit 1; }
emulator_env "$tmp"

start=$SECONDS
"$venv/bin/python" bench/audit_seed.py "$url" "$tables" "$stacks"
echo "seeding took $((SECONDS - start)) s"
echo "- $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores; $(uptime)"
echo "- $bin ($(git rev-parse --short HEAD)), --concurrency $concurrency"
# The emulator's CPU seconds (user + system) before and after: it is one Python process.
cpu() { awk '{printf "%.1f", ($14 + $15) / 100}' "/proc/$server/stat"; }
before=$(cpu)
status=0
DDB_GUARD_TIMINGS=1 /usr/bin/time -f "process: %U s user + %S s system CPU, %e s wall, %M KB peak RSS" \
    "$bin" audit --endpoint-url "$url" --region us-east-1 --isolated --concurrency "$concurrency" \
    --format "json=$tmp/findings.json" --inventory "json=$tmp/inventory.json" 2>&1 || status=$?
"$venv/bin/python" - "$tmp/findings.json" "$tmp/inventory.json" "$tables" <<'PY'
import json, sys
findings = json.load(open(sys.argv[1]))
inventory = json.load(open(sys.argv[2]))
rows = len(inventory["tables"])
print(f"{sys.argv[3]} tables seeded, {rows} in the inventory, "
      f"{len(findings['findings'])} findings, {len(findings['errors'])} errors")
for e in findings["errors"]:
    print(f"error: {e['path']}: {e['message']}")
assert rows == int(sys.argv[3]), "a table is missing from the inventory"
PY
echo "the emulator used $(awk -v a="$before" -v b="$(cpu)" 'BEGIN {printf "%.1f", b - a}') s of CPU during the audit"
echo "exit code $status"
