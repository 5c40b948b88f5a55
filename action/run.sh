#!/usr/bin/env bash
# The check step of the GitHub Action (action.yml): one `ddb-guard check` run that writes the
# annotations (`--format github`, which also appends the job summary to GITHUB_STEP_SUMMARY),
# the SARIF file and a JSON report from which the step outputs are read.
#
# Every input arrives through the environment, never through `${{ }}` inside the script (a
# crafted input would otherwise run as shell code). Inputs are never evaluated: they are split
# into words with globbing off and passed to ddb-guard as separate arguments.
#   DDB_GUARD_BIN       the binary (from install.sh); default `ddb-guard` on PATH
#   INPUT_PATHS         files/directories; one per line, or separated by spaces (default .)
#   INPUT_FAIL_ON       error | warning | never; empty: ddb-guard's default (or its config file)
#   INPUT_SARIF_FILE    where to write SARIF; empty: no SARIF
#   INPUT_BASE          git revision for the pull-request guard; `none` turns it off; empty:
#                       the pull request's base (PR_BASE_SHA, else origin/GITHUB_BASE_REF);
#                       a shallow checkout is completed so that its merge base exists
#   INPUT_CONFIG        config file (--config), for the check and the inventory
#   INPUT_ARGS          more arguments, separated by spaces; the inventory gets those it
#                       shares with check (--no-ignore, --hidden, --threads, limits, ...)
#   INPUT_INVENTORY     `false` leaves the protection inventory out of the job summary
#   INPUT_CHANGESET     change-set files or globs; set: `ddb-guard changeset` on them instead
#                       of `check` on INPUT_PATHS (no base, no inventory). A glob that matches
#                       nothing is passed as it is, so ddb-guard fails on it (never a pass).
#   PR_BASE_SHA         github.event.pull_request.base.sha (or merge_group.base_sha)
#   GITHUB_EVENT_NAME, GITHUB_BASE_REF, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY: from the runner
set -uo pipefail

warn() { echo "::warning title=ddb-guard action::$*"; }
output() { printf '%s=%s\n' "$1" "$2" >>"${GITHUB_OUTPUT:?GITHUB_OUTPUT is not set}"; }

bin=${DDB_GUARD_BIN:-ddb-guard}

# Splits $1 into the global array `words`: on newlines when it has any (so paths may hold
# spaces), else on blanks; drops empty words and CRs. No globbing, no quote removal, no expansion. (Plain bash 3.2 so
# that it also runs with macOS's /bin/bash.)
split_words() {
    local text=$1 w
    local IFS
    if [[ $text == *$'\n'* ]]; then IFS=$'\n'; else IFS=$' \t'; fi
    set -f
    # shellcheck disable=SC2206 # splitting is the point; globbing is off
    local -a split=($text)
    set +f
    words=()
    for w in ${split[@]+"${split[@]}"}; do
        # Trim each word (a path may hold inner spaces, not leading or trailing ones).
        w=${w#"${w%%[![:space:]]*}"}
        w=${w%"${w##*[![:space:]]}"}
        if [[ -n $w ]]; then words+=("$w"); fi
    done
    return 0
}

# Sets `base`: the revision the pull-request guard compares against, or nothing.
resolve_base() {
    base=${INPUT_BASE:-}
    if [[ $base == none ]]; then
        base=""
        return 0
    fi
    if [[ -z $base ]]; then
        case "${GITHUB_EVENT_NAME:-}" in
        pull_request | pull_request_target | merge_group) ;;
        *) return 0 ;;
        esac
        if [[ -n ${PR_BASE_SHA:-} ]]; then
            base=$PR_BASE_SHA
        elif [[ -n ${GITHUB_BASE_REF:-} ]]; then
            base=origin/$GITHUB_BASE_REF
        else
            return 0
        fi
    fi
    fetch_base
}

# `check --base` compares with the merge base of the base and HEAD, so git needs both commits
# and the history that joins them; actions/checkout fetches a single commit by default.
# Complete a shallow clone and fetch the base when they are missing; if that fails (e.g. a
# private repository without credentials), ddb-guard stops with a clear error (exit 2).
fetch_base() {
    if git merge-base "$base" HEAD >/dev/null 2>&1; then return 0; fi
    if [[ $(git rev-parse --is-shallow-repository 2>/dev/null) == true ]]; then
        echo "ddb-guard action: shallow checkout; fetching the history the pull-request guard needs" >&2
        git fetch --no-tags --quiet --unshallow origin >&2 || true
    fi
    if ! git rev-parse --verify --quiet "$base^{commit}" >/dev/null 2>&1; then
        local ref=$base
        if [[ $base == origin/* ]]; then ref="+refs/heads/${base#origin/}:refs/remotes/$base"; fi
        git fetch --no-tags --quiet origin "$ref" >&2 || true
    fi
    if ! git merge-base "$base" HEAD >/dev/null 2>&1; then
        warn "cannot fetch the base revision $base and its history; use actions/checkout with fetch-depth: 0"
    fi
    return 0
}

words=()
split_words "${INPUT_PATHS:-.}"
paths=(${words[@]+"${words[@]}"})
if ((${#paths[@]} == 0)); then paths=(.); fi
split_words "${INPUT_ARGS:-}"
extra=(${words[@]+"${words[@]}"})

work=$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/ddb-guard-action.XXXXXX")
trap 'rm -rf "$work"' EXIT
json="$work/report.json"

# The deploy-time gate: change sets instead of templates. Globs are expanded here (pathname
# expansion only: nothing in an input is run), sorted, so pages keep their numbered order.
changesets=()
split_words "${INPUT_CHANGESET:-}"
for w in ${words[@]+"${words[@]}"}; do
    matches=()
    if [[ $w == *[\*\?\[]* ]]; then
        shopt -s nullglob
        saved_ifs=$IFS
        IFS= # a path may hold spaces: expand, never split
        # shellcheck disable=SC2206 # pathname expansion of the glob is the point
        matches=($w)
        IFS=$saved_ifs
        shopt -u nullglob
    fi
    if ((${#matches[@]} == 0)); then matches=("$w"); fi
    changesets+=("${matches[@]}")
done

if ((${#changesets[@]} > 0)); then
    args=(changeset --format github --format "json=$json")
else
    args=(check --format github --format "json=$json")
fi
sarif=${INPUT_SARIF_FILE:-}
if [[ -n $sarif ]]; then
    mkdir -p "$(dirname "$sarif")"
    args+=(--format "sarif=$sarif")
fi
if [[ -n ${INPUT_FAIL_ON:-} ]]; then args+=(--fail-on "$INPUT_FAIL_ON"); fi
if [[ -n ${INPUT_CONFIG:-} ]]; then args+=(--config "$INPUT_CONFIG"); fi
if ((${#changesets[@]} > 0)); then
    args+=(${extra[@]+"${extra[@]}"} -- "${changesets[@]}")
else
    resolve_base
    if [[ -n $base ]]; then args+=(--base "$base"); fi
    args+=(${extra[@]+"${extra[@]}"} -- "${paths[@]}")
fi

echo "ddb-guard ${args[*]}" >&2
"$bin" "${args[@]}"
status=$?

# The JSON report's summary holds the counts. Read without jq (not on every runner): the
# summary object comes before the findings, has only numbers, and JSON escapes every quote
# inside strings, so the first `"summary":{` is the key itself.
count() {
    local compact=$1 key=$2 value
    value=${compact#*\"summary\":\{}
    value=${value%%\}*}
    if [[ $value =~ \"$key\":([0-9]+) ]]; then printf '%s' "${BASH_REMATCH[1]}"; fi
}
findings="" errors=""
if [[ -s $json ]]; then
    compact=$(head -c 65536 "$json" | tr -d ' \t\r\n')
    findings=$(count "$compact" findings)
    errors=$(count "$compact" errors)
fi
output findings "$findings"
output errors "$errors"
if [[ -n $sarif && -s $sarif ]]; then output sarif-file "$sarif"; else output sarif-file ""; fi
output exit-code "$status"

if [[ -z $findings ]]; then
    echo "::error title=ddb-guard action::ddb-guard exited with $status without writing a report"
fi

# Sets `inventory_args`: the arguments of INPUT_ARGS that `inventory` shares with `check`
# (how files are found and read, and which config applies), so that the inventory describes
# the same files as the check; the rest (--select, --fail-on, ...) only concerns findings.
select_inventory_args() {
    inventory_args=()
    local i=0 arg
    while ((i < ${#extra[@]})); do
        arg=${extra[i]}
        case "$arg" in
        --no-ignore | --hidden | -L | --follow | --isolated | --force-exclude | \
            --threads=* | --max-file-size=* | --max-depth=* | --max-nodes=* | --max-scalar-len=*)
            inventory_args+=("$arg")
            ;;
        --threads | --max-file-size | --max-depth | --max-nodes | --max-scalar-len)
            inventory_args+=("$arg")
            if ((i + 1 < ${#extra[@]})); then inventory_args+=("${extra[i + 1]}"); fi
            i=$((i + 1))
            ;;
        esac
        i=$((i + 1))
    done
    if [[ -n ${INPUT_CONFIG:-} ]]; then inventory_args+=(--config "$INPUT_CONFIG"); fi
    return 0
}

# The protection inventory of the same paths (every table's layers, the guardrails) goes into
# the job summary as Markdown. It never changes the step's result: the check decides that.
if ((${#changesets[@]} == 0)) && [[ ${INPUT_INVENTORY:-true} != false && -n ${GITHUB_STEP_SUMMARY:-} ]]; then
    inventory="$work/inventory.md"
    select_inventory_args
    if "$bin" inventory --format markdown ${inventory_args[@]+"${inventory_args[@]}"} -- "${paths[@]}" >"$inventory" 2>"$work/inventory.err" ||
        [[ -s $inventory ]]; then
        { echo; cat "$inventory"; } >>"$GITHUB_STEP_SUMMARY"
    else
        warn "no protection inventory in the job summary: $(head -c 500 "$work/inventory.err")"
    fi
fi
exit "$status"
