#!/usr/bin/env bash
# Validates ddb-guard's SARIF the way GitHub code scanning will read it: Microsoft's SARIF
# Multitool checks the SARIF 2.1.0 schema and the SARIF spec rules, plus GitHub's own
# ingestion rules (`--rule-kind "Gh;Sarif"`). Runs on the SARIF of templates-examples/, of
# tests/fixtures/reports/ (a file that cannot be parsed: tool execution notifications) and of
# `ddb-guard changeset --template` on tests/fixtures/changeset/.
# Fails on any error-level validation result.
#
# The Multitool comes from npm (pinned), installed idempotently under target/ci-tools/
# (ignored by git, removed by `cargo clean`). It is a self-contained .NET binary; ICU is not
# needed because globalization-invariant mode is on.
set -euo pipefail
cd "$(dirname "$0")/.."

version=5.7.0
tools=${DDB_GUARD_CI_TOOLS:-$PWD/target/ci-tools}
dir="$tools/sarif-multitool"
bin="$dir/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool"
stamp="$dir/.version"

if [[ "$(uname -s)" != Linux ]]; then
    echo "validate-sarif.sh: the npm Multitool package used here is Linux-only; skipping" >&2
    exit 0
fi
if [[ ! -x $bin || ! -f $stamp || "$(cat "$stamp")" != "$version" ]]; then
    command -v npm >/dev/null 2>&1 || {
        echo "validate-sarif.sh: npm is needed to install @microsoft/sarif-multitool@$version" >&2
        exit 1
    }
    echo "validate-sarif.sh: installing @microsoft/sarif-multitool@$version into $dir" >&2
    rm -rf "$dir"
    mkdir -p "$dir"
    # --ignore-scripts: the package's postinstall only does the chmod below.
    npm install --prefix "$dir" --no-audit --no-fund --ignore-scripts --loglevel=error \
        "@microsoft/sarif-multitool@$version" >&2
    chmod +x "$bin"
    echo "$version" >"$stamp"
fi
export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1
export DOTNET_CLI_TELEMETRY_OPTOUT=1

cargo build --quiet --locked
ddb_guard=target/debug/ddb-guard
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

status=0
for input in templates-examples tests/fixtures/reports tests/fixtures/changeset; do
    name=$(basename "$input")
    sarif="$work/$name.sarif"
    set +e
    case $input in
    # The deploy-time gate, with --template: the template's key is the primary location
    # and the change set's ResourceChange a related one.
    */changeset)
        "$ddb_guard" changeset "$input/every-action.json" "$input/nested-root.json" \
            "$input/nested-data.json" --template "$input/template.yaml" --format "sarif=$sarif"
        ;;
    *) "$ddb_guard" check "$input" --format "sarif=$sarif" ;;
    esac
    code=$?
    set -e
    # 1 (findings) and 2 (a file that cannot be parsed) are expected; anything else is not.
    if [[ $code -gt 2 || ! -s $sarif ]]; then
        echo "validate-sarif.sh: ddb-guard exited $code on $input without a SARIF report" >&2
        exit 1
    fi
    "$bin" validate --rule-kind "Gh;Sarif" --log ForceOverwrite \
        -o "$work/$name.validation.sarif" "$sarif" >&2
    # The Multitool exits 0 whatever it finds; its own SARIF output says what it found.
    node - "$work/$name.validation.sarif" "$input" <<'JS' || status=1
const [file, input] = process.argv.slice(2);
const log = JSON.parse(require("fs").readFileSync(file, "utf8"));
const results = log.runs.flatMap((run) => run.results || []);
const notifications = log.runs.flatMap((run) =>
  (run.invocations || []).flatMap((i) => [
    ...(i.toolExecutionNotifications || []),
    ...(i.toolConfigurationNotifications || []),
  ]),
);
for (const r of results) {
  const args = (r.message.arguments || []).join(" | ");
  console.error(`${input}: ${r.level || "warning"} ${r.ruleId}: ${args}`);
}
for (const n of notifications.filter((n) => n.level === "error")) {
  console.error(`${input}: Multitool error: ${n.message.text}`);
}
const errors = results.filter((r) => (r.level || "warning") === "error").length +
  notifications.filter((n) => n.level === "error").length;
if (errors > 0) {
  console.error(`${input}: ${errors} SARIF validation error(s)`);
  process.exit(1);
}
console.error(`${input}: SARIF valid (${results.length} non-error remark(s))`);
JS
done
exit $status
