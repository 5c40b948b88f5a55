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
server=""
cleanup() {
    if [[ -n $server ]]; then
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

port=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"
"$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$tmp/moto.log" 2>&1 &
server=$!
for _ in $(seq 100); do
    "$venv/bin/python" -c "import urllib.request; urllib.request.urlopen('$url/moto-api/')" 2>/dev/null && break
    sleep 0.2
done

export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
export AWS_CONFIG_FILE="$tmp/no-config" AWS_SHARED_CREDENTIALS_FILE="$tmp/no-credentials"
export AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_DEFAULT_PROFILE AWS_ROLE_ARN AWS_WEB_IDENTITY_TOKEN_FILE

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
