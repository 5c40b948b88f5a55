#!/usr/bin/env bash
# `ddb-guard audit` end to end against a real AWS API, locally: a pinned AWS emulator from
# PyPI (moto's server) in a virtual environment, started on a loopback port, seeded through
# its API (tests/audit/seed.py, boto3), and the real binary built with `--features audit`
# pointed at it with --endpoint-url. What the emulator lacks (AWS Backup selections and
# vault access policies: it answers 500 and 404; user permissions boundaries: it drops
# them) is covered by recorded responses in the unit tests of src/audit/
# (tests/audit/recorded-account.json); here the missing vault policy API is the "one call
# fails, the rest is audited, exit 2" case.
#
# The virtual environment is kept under target/ between runs. Prints how long the
# `--features audit` debug build took.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

MOTO="moto[server]==5.2.6"
BOTO3="boto3==1.44.18"
python=${PYTHON:-python3}
venv="$repo/target/audit-venv"

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ddb-guard-test-audit.XXXXXX")
# shellcheck source=scripts/emulator.sh
source scripts/emulator.sh
cleanup() {
    emulator_stop
    rm -rf "$tmp"
}
trap cleanup EXIT

echo "-- the emulator: $MOTO and $BOTO3 in $venv"
if ! "$venv/bin/python" -c 'import importlib.metadata as m, sys; sys.exit(0 if (m.version("moto"), m.version("boto3")) == ("5.2.6", "1.44.18") else 1)' 2>/dev/null; then
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$MOTO" "$BOTO3"
fi

echo "-- cargo build --locked --features audit"
start=$SECONDS
cargo build --locked --features audit
echo "ok - the audit build took $((SECONDS - start))s"
bin="$repo/target/debug/ddb-guard"

emulator_start "$venv" "$tmp" || fail "the emulator did not start: $(cat "$tmp/moto.log")"
echo "ok - the emulator listens on $url"

# Credentials for the emulator only: no profile, config file or instance metadata of the
# machine running the test is read.
emulator_env "$tmp"

reset() {
    "$venv/bin/python" -c "import urllib.request; urllib.request.urlopen(urllib.request.Request('$url/moto-api/reset', method='POST'))"
}

echo "-- seed: stacks, tables, IAM roles, an organization with an SCP"
"$venv/bin/python" tests/audit/seed.py "$url" >/dev/null

echo "-- ddb-guard audit --format json --inventory json"
status=0
"$bin" audit --endpoint-url "$url" --region us-east-1 --isolated \
    --format "json=$tmp/findings.json" --inventory "json=$tmp/inventory.json" \
    >"$tmp/out" 2>"$tmp/err" || status=$?
[[ $status == 1 ]] || fail "findings must exit 1 (exit $status): $(cat "$tmp/out" "$tmp/err")"
"$venv/bin/python" tests/audit/check_outputs.py complete "$tmp/findings.json" "$tmp/inventory.json"
echo "ok - exit 1; findings and inventory as seeded"

echo "-- ddb-guard audit (human)"
status=0
"$bin" audit --endpoint-url "$url" --isolated --color never >"$tmp/human" 2>&1 || status=$?
[[ $status == 1 ]] || fail "human: exit $status: $(cat "$tmp/human")"
for want in "Live tables:" "Orders (us-east-1)" "managed by: stack \`orders\` (OrdersTable)" \
    "drift: the deployed template of stack \`orders\`" \
    "not managed by CloudFormation (stack \`old-sessions\` is gone" "DDB001" "DDB003"; do
    grep -qF -- "$want" "$tmp/human" || fail "the human report lacks \`$want\`: $(cat "$tmp/human")"
done
echo "ok - the human inventory and findings"

echo "-- --inventory csv and markdown"
"$bin" audit --endpoint-url "$url" --isolated --format "json=$tmp/f2.json" --inventory csv >"$tmp/csv" 2>/dev/null || true
head -n 1 "$tmp/csv" | grep -q "managed_by" || fail "csv header: $(head -n 1 "$tmp/csv")"
grep -q '^us-east-1/live.json,Ledger,' "$tmp/csv" || fail "csv rows: $(cat "$tmp/csv")"
"$bin" audit --endpoint-url "$url" --isolated --format "json=$tmp/f3.json" --inventory markdown >"$tmp/md" 2>/dev/null || true
grep -q "### Live tables" "$tmp/md" || fail "markdown: $(cat "$tmp/md")"
echo "ok - csv and markdown inventories"

echo "-- --select DDB001: the rule selection of check"
status=0
"$bin" audit --endpoint-url "$url" --isolated --select DDB001 --format "json=$tmp/sel.json" >/dev/null 2>&1 || status=$?
[[ $status == 1 ]] || fail "--select DDB001: exit $status"
"$venv/bin/python" - "$tmp/sel.json" <<'PY'
import json, sys
codes = {f["rule"] for f in json.load(open(sys.argv[1]))["findings"]}
assert codes == {"DDB001"}, codes
PY
echo "ok - only DDB001 findings"

echo "-- --all-regions when the Regions cannot be listed: exit 2, no Region audited"
# The emulator has no account:ListRegions (the listing itself, and opt-in Regions, are
# tested on recorded responses in src/audit/analyze.rs): its error answer is the case of
# a list that cannot be read, which must stop the audit rather than shorten it.
status=0
"$bin" audit --endpoint-url "$url" --all-regions --isolated --format "json=$tmp/all.json" >"$tmp/out" 2>&1 || status=$?
[[ $status == 2 ]] || fail "--all-regions, no list: exit $status: $(cat "$tmp/out")"
grep -q "enabled Regions could not be listed (account:ListRegions" "$tmp/out" || fail "--all-regions, no list: $(cat "$tmp/out")"
[[ ! -e $tmp/all.json ]] || fail "--all-regions, no list: a report was written"
echo "ok - no Region list: exit 2, said so, nothing audited"

echo "-- --require-guardrail (DDB013) on the live SCPs and identity policies"
status=0
"$bin" audit --endpoint-url "$url" --region us-east-1 --isolated --select DDB013 \
    --require-guardrail scp:deny-delete-backup,scp:deny-delete-table \
    --format "json=$tmp/guard.json" >/dev/null 2>&1 || status=$?
[[ $status == 1 ]] || fail "--require-guardrail: exit $status"
"$venv/bin/python" - "$tmp/guard.json" <<'PY'
import json, sys
findings = [f for f in json.load(open(sys.argv[1]))["findings"] if f["rule"] == "DDB013"]
# The backup SCP holds deny-delete-backup; the table SCP's NotResource leaves Scratch out.
assert len(findings) == 1, findings
message = findings[0]["message"]
assert "dynamodb:DeleteTable" in message and "NotResource" in message and "Scratch" in message, message
PY
echo "ok - DDB013: the NotResource SCP is too narrow, the backup SCP holds"

echo "-- a progress bar with counts on a terminal, none with --quiet"
status=0
env -u CI script -qec "\"$bin\" audit --endpoint-url $url --region us-east-1 --isolated --format json=$tmp/p.json --inventory json=$tmp/pi.json" /dev/null >"$tmp/tty" 2>&1 || status=$?
if ! grep -q "Regions" "$tmp/tty" || ! grep -q "tables [0-9]*/4" "$tmp/tty"; then
    fail "no progress bar on a terminal: $(cat -v "$tmp/tty" | head -c 2000)"
fi
env -u CI script -qec "\"$bin\" audit --quiet --endpoint-url $url --region us-east-1 --isolated --format json=$tmp/p.json --inventory json=$tmp/pi.json" /dev/null >"$tmp/tty" 2>&1 || true
if grep -q "Regions" "$tmp/tty"; then fail "--quiet drew a progress bar: $(cat -v "$tmp/tty" | head -c 2000)"; fi
status=0
"$bin" audit --endpoint-url "$url" --region us-east-1 --isolated --format "json=$tmp/p.json" --inventory "json=$tmp/pi.json" >"$tmp/out" 2>"$tmp/err" || status=$?
if grep -q "Regions" "$tmp/err"; then fail "a progress bar on a pipe: $(cat "$tmp/err")"; fi
echo "ok - the bar counts tables of 4; hidden with --quiet and on a pipe"

echo "-- one call fails (the emulator has no GetBackupVaultAccessPolicy): exit 2, the rest audited"
reset
"$venv/bin/python" tests/audit/seed.py "$url" --with-vault >/dev/null
status=0
"$bin" audit --endpoint-url "$url" --region us-east-1 --isolated \
    --format "json=$tmp/findings.json" --inventory "json=$tmp/inventory.json" \
    >"$tmp/out" 2>"$tmp/err" || status=$?
[[ $status == 2 ]] || fail "a failed read must exit 2 (exit $status): $(cat "$tmp/out" "$tmp/err")"
grep -q "could not be read; the audit is incomplete" "$tmp/err" || fail "stderr: $(cat "$tmp/err")"
"$venv/bin/python" tests/audit/check_outputs.py vault-unreadable "$tmp/findings.json" "$tmp/inventory.json"
echo "ok - exit 2, the vault's error named, every table still audited"

echo "-- two reports on standard output: a usage error before any call"
status=0
"$bin" audit --endpoint-url "$url" --isolated --format json --inventory csv >"$tmp/out" 2>&1 || status=$?
[[ $status == 2 ]] || fail "two stdout reports: exit $status: $(cat "$tmp/out")"
grep -q "would both write to standard output" "$tmp/out" || fail "two stdout reports: $(cat "$tmp/out")"
echo "ok - --format json --inventory csv: exit 2"

echo "-- no Region anywhere: a usage error"
status=0
env -u AWS_REGION "$bin" audit --endpoint-url "$url" --isolated >"$tmp/out" 2>&1 || status=$?
[[ $status == 2 ]] || fail "no Region: exit $status: $(cat "$tmp/out")"
grep -q "no Region to audit" "$tmp/out" || fail "no Region: $(cat "$tmp/out")"
echo "ok - no Region: exit 2"
echo "test-audit: all passed"
