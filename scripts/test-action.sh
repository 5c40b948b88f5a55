#!/usr/bin/env bash
# Tests the GitHub Action (action.yml) without GitHub: runs its shell steps (action/install.sh,
# action/run.sh) with the environment a runner gives them (GITHUB_ACTION_PATH, GITHUB_OUTPUT,
# GITHUB_STEP_SUMMARY, GITHUB_PATH, GITHUB_EVENT_NAME, GITHUB_EVENT_PATH, GITHUB_BASE_REF,
# RUNNER_*), in a git workspace holding templates-examples/, and checks what a workflow would
# see: the annotations, the job summary, the step outputs, the SARIF file and the exit code.
#
# Install: a fake release (packaged by scripts/release-package.sh, served from file://) must be
# installed only when its SHA-256 matches; without a release the source build is planned and
# run through a stub `cargo` that records its arguments (TEST_ACTION_REAL_CARGO=1 runs the
# real `cargo install`, a release build: slow).
#
# Then the real binary (with its --format github|sarif|json=FILE, --fail-on and --base) runs
# the check step on the examples and on a pull request that deletes a table.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

python=${PYTHON:-python3}
command -v "$python" >/dev/null 2>&1 || {
    echo "test-action.sh: needs python3 to read JSON and SARIF" >&2
    exit 1
}

cargo build --locked --quiet --bin ddb-guard
bin="$repo/target/debug/ddb-guard"
[[ -x $bin ]] || bin="$bin.exe"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ddb-guard-test-action.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

passed=0
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
ok() {
    passed=$((passed + 1))
    echo "ok - $*"
}
contains() { grep -qF -- "$2" "$1" || fail "$1 does not contain: $2"; }
# The value of one step output, from a GITHUB_OUTPUT file.
output_of() { sed -n "s/^$2=//p" "$1" | tail -n 1; }
has_output() { grep -q "^$2=" "$1" || fail "no output '$2' in $1"; }

version=$(sed -n 's/^version *= *"\([^"]*\)".*/\1/p' Cargo.toml | head -n 1)
case "$(uname -s)/$(uname -m)" in
Linux/x86_64) runner_os=Linux runner_arch=X64 target=x86_64-unknown-linux-musl ;;
Linux/aarch64) runner_os=Linux runner_arch=ARM64 target=aarch64-unknown-linux-musl ;;
Darwin/x86_64) runner_os=macOS runner_arch=X64 target=x86_64-apple-darwin ;;
Darwin/arm64) runner_os=macOS runner_arch=ARM64 target=aarch64-apple-darwin ;;
*) fail "test-action.sh runs on Linux or macOS (x86_64/arm64), not $(uname -s)/$(uname -m)" ;;
esac

# ---------------------------------------------------------------------------------------------
# The workflow file itself: no expression inside a run: script, every input reaches the scripts
# through env:, the outputs come from the check step.
"$python" - "$repo/action.yml" <<'EOF' || fail "action.yml structure"
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
# action.yml is simple block YAML: find each step's `run:` line and its `env:` block.
steps = re.split(r"\n    - ", text.split("\n  steps:\n", 1)[1])
runs = [s for s in steps if re.search(r"^\s*run: ", s, re.M)]
assert runs, "no run: steps"
for s in runs:
    run = re.search(r"^\s*run: (.*)$", s, re.M).group(1)
    assert "${{" not in run, f"expression inside run: {run}"
    assert run.startswith('bash "$GITHUB_ACTION_PATH/action/'), run
inputs = re.findall(r"^  ([a-z-]+):\n    description:", text.split("\noutputs:")[0], re.M)
assert set(inputs) == {"paths", "fail-on", "sarif-file", "base", "config", "version", "args", "inventory", "changeset"}, inputs
for name in inputs:
    env = "INPUT_" + name.upper().replace("-", "_")
    assert f"{env}: ${{{{ inputs.{name} }}}}" in text, f"input {name} not passed as {env}"
for out in ("findings", "errors", "sarif-file", "exit-code"):
    assert f"value: ${{{{ steps.check.outputs.{out} }}}}" in text, out
assert "PR_BASE_SHA: ${{ github.event.pull_request.base.sha" in text
EOF
ok "action.yml: no expressions in run:, inputs via env:, outputs from the check step"

# ---------------------------------------------------------------------------------------------
# A simulated runner: every scenario gets fresh GITHUB_OUTPUT/STEP_SUMMARY/PATH files.
step=0
new_step() {
    step=$((step + 1))
    sdir="$tmp/step-$step"
    mkdir -p "$sdir/runner-temp"
    : >"$sdir/output"
    : >"$sdir/summary"
    : >"$sdir/path"
}
runner() {
    env -i PATH="$PATH" HOME="${HOME:-$tmp}" TMPDIR="$sdir/runner-temp" \
        GITHUB_ACTIONS=true CI=true \
        GITHUB_ACTION_PATH="$repo" GITHUB_WORKSPACE="$ws" \
        GITHUB_OUTPUT="$sdir/output" GITHUB_STEP_SUMMARY="$sdir/summary" GITHUB_PATH="$sdir/path" \
        GITHUB_SERVER_URL=https://github.com GITHUB_REPOSITORY=example/app \
        GITHUB_EVENT_NAME="${EVENT_NAME:-push}" GITHUB_EVENT_PATH="${EVENT_PATH:-$tmp/push.json}" \
        GITHUB_BASE_REF="${BASE_REF:-}" \
        RUNNER_OS="$runner_os" RUNNER_ARCH="$runner_arch" RUNNER_TEMP="$sdir/runner-temp" \
        "$@"
}
echo '{"ref": "refs/heads/main"}' >"$tmp/push.json"

ws="$tmp/workspace"
mkdir -p "$ws"

# ---------------------------------------------------------------------------------------------
# Install: release binary, verified.
releases="$tmp/releases"
DIST="$releases/v$version" bash scripts/release-package.sh "$target" "$bin" >/dev/null
asset="ddb-guard-v$version-$target.tar.gz"
[[ -f $releases/v$version/$asset && -f $releases/v$version/$asset.sha256 ]] ||
    fail "release-package.sh did not write $asset and its .sha256"

new_step
runner env INPUT_VERSION="" DDB_GUARD_REPOSITORY=ddb-guard/ddb-guard \
    DDB_GUARD_RELEASES_URL="file://$releases" bash "$repo/action/install.sh" plan \
    >"$sdir/stdout" 2>"$sdir/stderr" || fail "install plan (release): $(cat "$sdir/stderr")"
[[ $(output_of "$sdir/output" method) == release ]] || fail "expected method=release: $(cat "$sdir/output")"
[[ $(output_of "$sdir/output" version) == "$version" ]] || fail "version output"
installed=$(output_of "$sdir/output" bin)
cmp -s "$installed" "$bin" || fail "installed binary differs from the packaged one"
contains "$sdir/stderr" "SHA-256 verified"
runner env DDB_GUARD_BIN="$installed" bash "$repo/action/install.sh" activate 2>/dev/null ||
    fail "activate"
[[ $(cat "$sdir/path") == "$(dirname "$installed")" ]] || fail "GITHUB_PATH: $(cat "$sdir/path")"
ok "install: the release binary for the action's version is downloaded, verified and put on PATH"

new_step
runner env INPUT_VERSION="v$version" DDB_GUARD_RELEASES_URL="file://$releases" \
    bash "$repo/action/install.sh" plan >/dev/null 2>&1 || fail "install plan (vX.Y.Z)"
[[ $(output_of "$sdir/output" method) == release ]] || fail "expected method=release for v$version"
ok "install: version v$version (with a v) selects that release"

# A tampered archive: the checksum no longer matches; nothing is installed, no fallback.
tampered="$tmp/tampered"
cp -R "$releases" "$tampered"
printf 'x' >>"$tampered/v$version/$asset"
new_step
status=0
runner env INPUT_VERSION="" DDB_GUARD_RELEASES_URL="file://$tampered" \
    bash "$repo/action/install.sh" plan >"$sdir/stdout" 2>"$sdir/stderr" || status=$?
[[ $status == 2 ]] || fail "tampered archive: exit $status, expected 2"
contains "$sdir/stdout" "::error title=ddb-guard action::checksum mismatch for $asset"
[[ ! -s $sdir/output ]] || fail "tampered archive still set outputs: $(cat "$sdir/output")"
ok "install: a release archive whose SHA-256 does not match is refused (exit 2, no fallback)"

# No release for this version: build from the action's source, through a stub cargo.
stub="$tmp/stub-bin"
mkdir -p "$stub"
cat >"$stub/cargo" <<EOF
#!/usr/bin/env bash
printf '%s\n' "\$@" >"$tmp/cargo-args"
root=
while [[ \$# -gt 0 ]]; do
    if [[ \$1 == --root ]]; then root=\$2; fi
    shift
done
mkdir -p "\$root/bin"
cp "$bin" "\$root/bin/ddb-guard"
EOF
chmod +x "$stub/cargo"
cargo_path="$stub:$PATH"
if [[ ${TEST_ACTION_REAL_CARGO:-} == 1 ]]; then cargo_path=$PATH; fi

new_step
PATH=$cargo_path runner env INPUT_VERSION="" DDB_GUARD_RELEASES_URL="file://$tmp/no-releases" \
    bash "$repo/action/install.sh" plan >/dev/null 2>"$sdir/stderr" ||
    fail "install plan (source): $(cat "$sdir/stderr")"
[[ $(output_of "$sdir/output" method) == source ]] || fail "expected method=source"
root=$(output_of "$sdir/output" root)
hash=$(output_of "$sdir/output" source-hash)
[[ $hash =~ ^[0-9a-f]{64}$ ]] || fail "source-hash is not a SHA-256: $hash"
[[ $root == "$sdir/runner-temp/"* ]] || fail "source root outside RUNNER_TEMP: $root"
PATH=$cargo_path runner env DDB_GUARD_SOURCE_ROOT="$root" bash "$repo/action/install.sh" build \
    >/dev/null 2>&1 || fail "install build"
if [[ ${TEST_ACTION_REAL_CARGO:-} != 1 ]]; then
    expected=$(printf '%s\n' install --locked --path "$repo" --root "$root" --target-dir \
        "$sdir/runner-temp/ddb-guard-action/cargo-target")
    [[ $(cat "$tmp/cargo-args") == "$expected" ]] || fail "cargo arguments: $(cat "$tmp/cargo-args")"
fi
built=$(output_of "$sdir/output" bin)
runner env DDB_GUARD_BIN="$built" bash "$repo/action/install.sh" activate 2>/dev/null ||
    fail "activate after the source build"
ok "install: without a release, cargo install --locked --path <action> builds into the cached root"

# The cache key's hash is stable, and changes with the source.
new_step
PATH=$cargo_path runner env INPUT_VERSION=source bash "$repo/action/install.sh" plan \
    >/dev/null 2>&1 || fail "install plan (version: source)"
[[ $(output_of "$sdir/output" method) == source ]] || fail "version: source must build"
[[ $(output_of "$sdir/output" source-hash) == "$hash" ]] || fail "source-hash is not stable"
ok "install: version 'source' always builds; the cache key is stable"

new_step
status=0
runner env INPUT_VERSION=0.0.1 DDB_GUARD_RELEASES_URL="file://$tmp/no-releases" \
    bash "$repo/action/install.sh" plan >"$sdir/stdout" 2>/dev/null || status=$?
[[ $status == 2 ]] || fail "unknown version: exit $status"
contains "$sdir/stdout" "no release binary of ddb-guard 0.0.1"
new_step
status=0
# shellcheck disable=SC2016 # the $(...) must reach the script unexpanded
runner env INPUT_VERSION='1.0.0; touch "$GITHUB_WORKSPACE/pwned" $(touch pwned)' \
    bash "$repo/action/install.sh" plan >"$sdir/stdout" 2>/dev/null || status=$?
[[ $status == 2 ]] || fail "malformed version: exit $status"
[[ ! -e $ws/pwned && ! -e pwned ]] || fail "a crafted version input ran a command"
contains "$sdir/stdout" "version must be empty, 'source', or a release version"
ok "install: an unknown or malformed version is a clear error, never executed"

# ---------------------------------------------------------------------------------------------
# The check step, part 1: how run.sh turns inputs into arguments and reads the report back,
# with a stub ddb-guard that records its arguments and writes a canned JSON report.

# A git workspace like actions/checkout leaves: the examples, committed, pushed to an origin.
git_quiet() { git -c user.name=test -c user.email=test@example.com -c init.defaultBranch=main "$@" >/dev/null 2>&1; }
rm -rf "$ws"
mkdir -p "$ws"
cp -R templates-examples "$ws/templates-examples"
origin="$tmp/origin.git"
git_quiet init --bare "$origin"
git_quiet -C "$ws" init
git_quiet -C "$ws" add -A
git_quiet -C "$ws" commit -m examples
git_quiet -C "$ws" remote add origin "$origin"
git_quiet -C "$ws" push origin HEAD:main
base_sha=$(git -C "$ws" rev-parse HEAD)
# The pull request: deletes the unprotected table's template.
git_quiet -C "$ws" rm templates-examples/unprotected/sessions.yaml
git_quiet -C "$ws" commit -m "drop sessions"
git_quiet -C "$ws" push origin HEAD:refs/heads/feature
# actions/checkout clones one commit: the base is not there until run.sh fetches it.
pr="$tmp/pr"
git_quiet clone --depth 1 --branch feature "file://$origin" "$pr"
printf '{"pull_request": {"base": {"sha": "%s", "ref": "main"}}}\n' "$base_sha" >"$tmp/pr.json"
# The runner evaluates github.event.pull_request.base.sha (action.yml's PR_BASE_SHA) from the
# event payload.
pr_base=$("$python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["pull_request"]["base"]["sha"])' "$tmp/pr.json")
[[ $pr_base == "$base_sha" ]] || fail "event payload"

# The stub: records its arguments; writes a report whose strings look like the summary (they
# must not confuse the reader in run.sh).
stub_ddb="$stub/ddb-guard-stub"
cat >"$tmp/stub-report.json" <<'JSON'
{
  "version": 1,
  "summary": {
    "files": 7,
    "templates": 6,
    "tables": 9,
    "findings": 3,
    "errors": 1,
    "skipped": 0,
    "not_templates": 1
  },
  "findings": [
    {"rule": "DDB001", "message": "\"summary\":{\"findings\":99,\"errors\":98}"}
  ],
  "errors": []
}
JSON
cat >"$stub_ddb" <<STUB
#!/usr/bin/env bash
if [[ \$1 == inventory ]]; then
    printf '%s\n' "\$@" >"$tmp/ddb-inventory-args"
    echo "## stub inventory"
    exit 0
fi
printf '%s\n' "\$@" >"$tmp/ddb-args"
for a in "\$@"; do
    case "\$a" in
    json=*) cp "$tmp/stub-report.json" "\${a#json=}" ;;
    esac
done
exit \${STUB_EXIT:-1}
STUB
chmod +x "$stub_ddb"
silent_ddb="$stub/ddb-guard-silent"
printf '#!/usr/bin/env bash\nexit 2\n' >"$silent_ddb"
chmod +x "$silent_ddb"

# Runs the check step in $1 (a workspace) with the env assignments that follow; sets $sdir
# and $status.
check_step() {
    local dir=$1
    shift
    new_step
    status=0
    (cd "$dir" && runner env "$@" bash "$repo/action/run.sh") \
        >"$sdir/stdout" 2>"$sdir/stderr" || status=$?
}
args_are() {
    local want
    want=$(printf '%s\n' "$@")
    [[ $(cat "$tmp/ddb-args") == "$want" ]] ||
        fail "arguments differ; got:"$'\n'"$(cat "$tmp/ddb-args")"$'\n'"want:"$'\n'"$want"
}
json_arg() { sed -n 's/^json=//p' "$tmp/ddb-args"; }

check_step "$ws" DDB_GUARD_BIN="$stub_ddb" INPUT_PATHS=. INPUT_SARIF_FILE=ddb-guard.sarif \
    INPUT_FAIL_ON="" INPUT_BASE="" INPUT_CONFIG="" INPUT_ARGS="" PR_BASE_SHA=""
[[ $status == 1 ]] || fail "the step must exit with ddb-guard's code (1), got $status"
args_are check --format github --format "json=$(json_arg)" --format sarif=ddb-guard.sarif -- .
[[ $(json_arg) == "$sdir/runner-temp/"* ]] || fail "JSON report outside RUNNER_TEMP: $(json_arg)"
[[ ! -e $(json_arg) ]] || fail "the JSON report was not cleaned up"
[[ $(output_of "$sdir/output" findings) == 3 ]] || fail "findings output: $(cat "$sdir/output")"
[[ $(output_of "$sdir/output" errors) == 1 ]] || fail "errors output: $(cat "$sdir/output")"
[[ $(output_of "$sdir/output" exit-code) == 1 ]] || fail "exit-code output"
has_output "$sdir/output" sarif-file # empty: the stub writes no SARIF
ok "run.sh: defaults give one check with github, json and sarif formats; counts read from the summary"
[[ $(cat "$tmp/ddb-inventory-args") == $'inventory\n--format\nmarkdown\n--\n.' ]] ||
    fail "inventory arguments: $(cat "$tmp/ddb-inventory-args")"
contains "$sdir/summary" "## stub inventory"
rm -f "$tmp/ddb-inventory-args"
check_step "$ws" DDB_GUARD_BIN="$stub_ddb" INPUT_PATHS=. INPUT_INVENTORY=false
[[ ! -e $tmp/ddb-inventory-args ]] || fail "inventory: false still ran the inventory"
if grep -q "stub inventory" "$sdir/summary"; then fail "inventory: false still wrote it"; fi
ok "run.sh: the Markdown inventory of the same paths goes into the job summary unless inventory: false"

rm -f "$tmp/ddb-inventory-args"
check_step "$ws" DDB_GUARD_BIN="$stub_ddb" INPUT_PATHS=. INPUT_CONFIG=ci/ddb-guard.toml \
    INPUT_ARGS="--select DDB001 --no-ignore --threads 2 --max-file-size=8M --fail-on never --hidden"
[[ $(cat "$tmp/ddb-inventory-args") == $'inventory\n--format\nmarkdown\n--no-ignore\n--threads\n2\n--max-file-size=8M\n--hidden\n--config\nci/ddb-guard.toml\n--\n.' ]] ||
    fail "inventory arguments with args and config: $(cat "$tmp/ddb-inventory-args")"
ok "run.sh: the inventory gets the config input and the args it shares with check (not --select or --fail-on)"

check_step "$ws" DDB_GUARD_BIN="$stub_ddb" INPUT_PATHS=$'with space\r\n\n  templates-examples/retained\n' \
    INPUT_SARIF_FILE="" INPUT_FAIL_ON=warning INPUT_CONFIG=ci/ddb-guard.toml \
    INPUT_ARGS="--no-ignore  --threads 2" STUB_EXIT=0
[[ $status == 0 ]] || fail "exit 0 expected, got $status"
args_are check --format github --format "json=$(json_arg)" --fail-on warning \
    --config ci/ddb-guard.toml --no-ignore --threads 2 -- "with space" "templates-examples/retained"
ok "run.sh: paths one per line (inner spaces kept; blank lines, indentation and CRs dropped), fail-on, config, args"

# shellcheck disable=SC2016 # the $(...) must reach the script unexpanded
check_step "$ws" DDB_GUARD_BIN="$stub_ddb" INPUT_PATHS='a $(touch pwned1) `touch pwned2` *' \
    INPUT_ARGS='; touch pwned3 && touch pwned4 | touch pwned5' INPUT_SARIF_FILE='$(touch pwned6).sarif' \
    INPUT_FAIL_ON='never;touch pwned7' INPUT_CONFIG='"; touch pwned8'
for n in 1 2 3 4 5 6 7 8; do [[ ! -e $ws/pwned$n ]] || fail "an input ran a command (pwned$n)"; done
# shellcheck disable=SC2016
args_are check --format github --format "json=$(json_arg)" --format 'sarif=$(touch pwned6).sarif' \
    --fail-on 'never;touch pwned7' --config '"; touch pwned8' \
    ';' touch pwned3 '&&' touch pwned4 '|' touch pwned5 \
    -- a '$(touch' 'pwned1)' '`touch' 'pwned2`' '*'
ok "run.sh: crafted inputs reach ddb-guard as literal words (no expansion, no globbing)"

check_step "$ws" DDB_GUARD_BIN="$silent_ddb" INPUT_PATHS=.
[[ $status == 2 ]] || fail "exit 2 expected, got $status"
contains "$sdir/stdout" "::error title=ddb-guard action::ddb-guard exited with 2 without writing a report"
[[ -z $(output_of "$sdir/output" findings) ]] || fail "findings output without a report"
ok "run.sh: no report (e.g. bad arguments) is an error annotation, exit code kept, no made-up counts"

# The real inventory, whatever the check's formats: its Markdown lands in the job summary.
check_step "$ws" DDB_GUARD_BIN="$bin" INPUT_PATHS=templates-examples/backup INPUT_SARIF_FILE=""
contains "$sdir/summary" "## DynamoDB protection inventory"
# shellcheck disable=SC2016 # Markdown backticks, not a command substitution
contains "$sdir/summary" '| `templates-examples/backup/orders-data.yaml` | `OrdersTable` |'
contains "$sdir/summary" "| vault-lock |"
ok "run.sh: the real binary's Markdown inventory is in the job summary"

# Base selection: push events never get one; pull requests get the payload's base SHA (fetched
# into the shallow clone), else origin/GITHUB_BASE_REF; an explicit base wins; none disables.
check_step "$pr" DDB_GUARD_BIN="$stub_ddb" PR_BASE_SHA="" INPUT_PATHS=.
if grep -q -- '^--base$' "$tmp/ddb-args"; then fail "push event got --base"; fi
if git -C "$pr" cat-file -e "$base_sha^{commit}" 2>/dev/null; then
    fail "the base is already in the shallow clone"
fi
EVENT_NAME=pull_request EVENT_PATH="$tmp/pr.json" BASE_REF=main \
    check_step "$pr" DDB_GUARD_BIN="$stub_ddb" PR_BASE_SHA="$pr_base" INPUT_PATHS=templates-examples \
    INPUT_SARIF_FILE=ddb-guard.sarif
args_are check --format github --format "json=$(json_arg)" --format sarif=ddb-guard.sarif \
    --base "$base_sha" -- templates-examples
git -C "$pr" merge-base "$base_sha" HEAD >/dev/null 2>&1 ||
    fail "run.sh did not fetch the base commit and the history joining it to HEAD"
ok "run.sh: a pull request's base SHA (from the event) and its merge base are fetched into the shallow clone"
# What run.sh fetched is enough for the real pull-request guard.
status=0
(cd "$pr" && "$bin" check --format json --base "$base_sha" templates-examples) >"$tmp/pr-report.json" \
    2>"$tmp/pr-stderr" || status=$?
[[ $status == 1 ]] || fail "check --base after run.sh's fetch: exit $status: $(cat "$tmp/pr-stderr")"
grep -q '"rule": "DDB020"' "$tmp/pr-report.json" || fail "no DDB020 for the deleted template"
ok "run.sh: after its fetch, the real check --base finds the deleted table (DDB020)"

rm -rf "$pr"
git_quiet clone --depth 1 --branch feature "file://$origin" "$pr"
EVENT_NAME=pull_request BASE_REF=main \
    check_step "$pr" DDB_GUARD_BIN="$stub_ddb" PR_BASE_SHA="" INPUT_PATHS=. INPUT_SARIF_FILE=""
args_are check --format github --format "json=$(json_arg)" --base origin/main -- .
git -C "$pr" merge-base origin/main HEAD >/dev/null 2>&1 || fail "origin/main was not fetched"
EVENT_NAME=pull_request BASE_REF=main \
    check_step "$pr" DDB_GUARD_BIN="$stub_ddb" PR_BASE_SHA="$pr_base" INPUT_BASE=none INPUT_PATHS=.
if grep -q -- '^--base$' "$tmp/ddb-args"; then fail "base: none still passed --base"; fi
check_step "$pr" DDB_GUARD_BIN="$stub_ddb" INPUT_BASE=HEAD~0 INPUT_PATHS=. INPUT_SARIF_FILE=""
args_are check --format github --format "json=$(json_arg)" --base HEAD~0 -- .
ok "run.sh: GITHUB_BASE_REF alone gives origin/<base>; 'none' disables; an explicit base is used on any event"

# ---------------------------------------------------------------------------------------------
# The check step, part 2: the real binary on the examples.
# ---------------------------------------------------------------------------------------------
# The examples as they are at the base (all tables), in their own workspace.
ex="$tmp/examples"
git_quiet clone "file://$origin" "$ex"
expected_json="$tmp/expected.json"
(cd "$ex" && "$bin" check --format json templates-examples >"$expected_json") || true

check_step "$ex" DDB_GUARD_BIN="$bin" INPUT_PATHS=templates-examples \
    INPUT_SARIF_FILE=results/ddb-guard.sarif INPUT_FAIL_ON="" INPUT_BASE="" INPUT_CONFIG="" INPUT_ARGS=""
[[ $status == 1 ]] || fail "check step on the examples: exit $status, expected 1: $(cat "$sdir/stderr")"
"$python" "$repo/scripts/test-action-check.py" "$expected_json" "$sdir/stdout" "$sdir/summary" \
    "$sdir/output" "$ex/results/ddb-guard.sarif" || fail "check step outputs (see above)"
contains "$sdir/summary" "## DynamoDB protection inventory"
# shellcheck disable=SC2016 # Markdown backticks, not a command substitution
contains "$sdir/summary" '| `templates-examples/backup/orders-data.yaml` | `OrdersTable` |'
ok "real check: annotations, job summary, outputs and SARIF agree with the JSON report (exit 1)"

check_step "$ex" DDB_GUARD_BIN="$bin" INPUT_PATHS=templates-examples INPUT_SARIF_FILE="" \
    INPUT_FAIL_ON=never
[[ $status == 0 ]] || fail "fail-on never: exit $status"
[[ -z $(output_of "$sdir/output" sarif-file) ]] || fail "sarif-file output without a SARIF file"
[[ $(output_of "$sdir/output" findings) -gt 0 ]] || fail "fail-on never must still count findings"
ok "real check: fail-on never passes with the findings counted; empty sarif-file writes none"

check_step "$ex" DDB_GUARD_BIN="$bin" INPUT_PATHS=templates-examples/retained INPUT_SARIF_FILE=clean.sarif
[[ $status == 0 ]] || fail "retained examples: exit $status: $(cat "$sdir/stderr")"
[[ $(output_of "$sdir/output" findings) == 0 ]] || fail "the retained examples have findings"
[[ -s $ex/clean.sarif ]] || fail "no SARIF for a clean run"
ok "real check: a clean run exits 0 with findings=0 and still writes the SARIF"

rm -rf "$pr"
git_quiet clone --depth 1 --branch feature "file://$origin" "$pr"
EVENT_NAME=pull_request EVENT_PATH="$tmp/pr.json" BASE_REF=main \
    check_step "$pr" DDB_GUARD_BIN="$bin" PR_BASE_SHA="$pr_base" \
    INPUT_PATHS=templates-examples INPUT_SARIF_FILE=pr.sarif
[[ $status == 1 ]] || fail "pull request deleting a table: exit $status: $(cat "$sdir/stderr")"
contains "$sdir/stdout" "title=DDB020"
grep -q '"ruleId": *"DDB020"' "$pr/pr.sarif" || fail "DDB020 is not in the SARIF"
ok "real check: a pull request that deletes a table's template fails with DDB020"

# ---------------------------------------------------------------------------------------------
# The changeset input: `ddb-guard changeset` on change-set files and globs, same outputs.
cs="$tmp/changesets"
mkdir -p "$cs/out"
cp "$repo/tests/fixtures/changeset/"*.json "$repo/tests/fixtures/changeset/template.yaml" "$cs/"
check_step "$cs" DDB_GUARD_BIN="$stub_ddb" INPUT_CHANGESET=$'paged-*.json\n nested-root.json' \
    INPUT_PATHS=ignored INPUT_SARIF_FILE=cs.sarif INPUT_FAIL_ON=warning INPUT_BASE=main \
    INPUT_ARGS="--template template.yaml"
args_are changeset --format github --format "json=$(json_arg)" --format sarif=cs.sarif \
    --fail-on warning --template template.yaml -- paged-1.json paged-2.json nested-root.json
ok "run.sh: changeset input expands globs in order and runs changeset (no base, no paths)"
check_step "$cs" DDB_GUARD_BIN="$stub_ddb" INPUT_CHANGESET='missing-*.json'
args_are changeset --format github --format "json=$(json_arg)" -- 'missing-*.json'
ok "run.sh: a changeset glob that matches nothing reaches ddb-guard as it is (fails closed)"

check_step "$cs" DDB_GUARD_BIN="$bin" INPUT_CHANGESET='every-action.json' INPUT_SARIF_FILE=out/cs.sarif \
    INPUT_ARGS="--template template.yaml"
[[ $status == 1 ]] || fail "changeset step: exit $status, expected 1: $(cat "$sdir/stderr")"
contains "$sdir/stdout" "::error file=template.yaml,line="
contains "$sdir/stdout" "title=DDB030 changeset-table-removed"
contains "$sdir/summary" "DDB031"
[[ $(output_of "$sdir/output" findings) == 9 ]] || fail "changeset findings output: $(cat "$sdir/output")"
[[ $(output_of "$sdir/output" errors) == 0 ]] || fail "changeset errors output"
[[ $(output_of "$sdir/output" exit-code) == 1 ]] || fail "changeset exit-code output"
[[ $(output_of "$sdir/output" sarif-file) == out/cs.sarif ]] || fail "changeset sarif-file output"
grep -q '"ruleId": *"DDB031"' "$cs/out/cs.sarif" || fail "DDB031 is not in the SARIF"
if grep -q "protection inventory" "$sdir/summary"; then fail "changeset step wrote an inventory"; fi
ok "real changeset: annotations on the template, job summary, outputs and SARIF (exit 1)"

check_step "$cs" DDB_GUARD_BIN="$bin" INPUT_CHANGESET='paged-1.json' INPUT_SARIF_FILE=""
[[ $status == 2 ]] || fail "a missing page must exit 2, got $status"
[[ $(output_of "$sdir/output" errors) == 1 ]] || fail "missing page errors output: $(cat "$sdir/output")"
check_step "$cs" DDB_GUARD_BIN="$bin" INPUT_CHANGESET='no-changes.json' INPUT_SARIF_FILE=""
[[ $status == 0 ]] || fail "a change set without changes must pass, got $status"
ok "real changeset: a missing page fails closed (exit 2); no changes passes"

echo
echo "$passed passed"
