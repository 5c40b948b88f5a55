#!/usr/bin/env bash
# bench/profile.sh - where ddb-guard's time goes, stage by stage, on a tree (issue 23).
#
# Usage: bench/profile.sh [DIR] [COPIES]
#
# Runs `ddb-guard check --format json` with DDB_GUARD_TIMINGS=1 on DIR (default: the shared
# corpus, /work/shared/corpus) as it is (x1) and, when COPIES > 1 (default 10), on COPIES
# copies of its template files made as bench/run.sh makes them (make-big-corpus.sh when
# found, else the same layout with a copy loop). For each set it prints the machine load
# (`uptime`), the stage table ddb-guard prints on stderr (each stage's time summed over the
# threads), and the process's user + system CPU time and wall time from /usr/bin/time, to
# compare with the table's total. The JSON findings go to a file, and the script checks
# that they are the same with and without the timings (the timings only add to stderr).
#
# Under parse, the table shows its parts: the fast YAML and JSON paths (each: the whole
# reading of a file it accepts, and the work thrown away on one it declines), the tokenizer (saphyr-parser's events,
# jsonc-parser's AST), our tree building, and the YAML dialect checks that cost a pass of
# their own (the Unicode scan, libyaml-safer's second reading). The YAML split reads the
# clock once per parser event, which adds some time to both parts; `perf` does not.
#
# Environment: DDB_GUARD=path/to/binary skips the release build; THREADS=N passes
# --threads N; MAKE_BIG_CORPUS=path to make-big-corpus.sh; TMPDIR for where copies go;
# FLAME=path.svg also records the x1 run with `perf record` (one thread, DWARF call
# graphs) and writes a flame graph there (needs perf and inferno: `cargo install
# inferno`), with the folded stacks beside it (path.folded) and a top-30 list of
# self time (path.top.txt).
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
case "${1:-}" in -h|--help) usage; exit 0 ;; esac
[ $# -le 2 ] || { usage >&2; exit 2; }

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
# shellcheck source=bench/common.sh
source "$here/common.sh"
corpus=${1:-/work/shared/corpus}
copies=${2:-10}
[ -d "$corpus" ] || { echo "not a directory: $corpus" >&2; exit 2; }
case "$copies" in ''|*[!0-9]*|0) echo "COPIES must be a positive integer: $copies" >&2; exit 2 ;; esac
corpus=$(cd "$corpus" && pwd)

ddb=$(ddb_binary "$repo")
threads=()
[ -n "${THREADS:-}" ] && threads=(--threads "$THREADS")

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ddb-profile.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# profile LABEL DIR: one untimed warm-up (page cache), then one run with the timings.
profile() {
  local label=$1 dir=$2 code=0
  "$ddb" check --format json "${threads[@]}" "$dir" > "$tmp/plain.json" 2>/dev/null || true
  echo "### $label ($(find "$dir" -type f | wc -l) files, $(du -sm "$dir" | cut -f1) MB)"
  echo
  echo "- $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores; uptime: $(uptime | sed 's/^ *//')"
  echo
  echo '```'
  if [ -x /usr/bin/time ]; then
    DDB_GUARD_TIMINGS=1 /usr/bin/time -f 'process: %U s user + %S s system CPU, %e s wall, %M KB peak RSS' \
      "$ddb" check --format json "${threads[@]}" "$dir" > "$tmp/timed.json" 2> "$tmp/stderr" || code=$?
  else
    DDB_GUARD_TIMINGS=1 "$ddb" check --format json "${threads[@]}" "$dir" > "$tmp/timed.json" 2> "$tmp/stderr" || code=$?
  fi
  sed -n '/^timings/,$p' "$tmp/stderr"
  echo '```'
  echo
  echo "- exit code $code; findings $(if cmp -s "$tmp/plain.json" "$tmp/timed.json"; then echo "identical with and without the timings"; else echo "DIFFER with the timings (a bug)"; fi)"
  echo
}

if [ -n "${FLAME:-}" ]; then
  echo "recording perf samples for $FLAME" >&2
  perf record -q -F 4000 --call-graph dwarf,32768 -o "$tmp/perf.data" \
    "$ddb" check --format json --fail-on never --threads 1 "$corpus" > /dev/null 2>&1 || true
  perf script -i "$tmp/perf.data" 2>/dev/null | inferno-collapse-perf > "${FLAME%.svg}.folded"
  inferno-flamegraph --title "ddb-guard check, corpus x1, one thread" \
    < "${FLAME%.svg}.folded" > "$FLAME"
  perf report -i "$tmp/perf.data" --stdio --no-children --sort symbol -g none 2>/dev/null \
    | grep -v '^#' | grep -v '^$' | head -30 > "${FLAME%.svg}.top.txt"
  rm -f "$tmp/perf.data"
fi

echo "## ddb-guard profile: $("$ddb" --version), commit $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo
profile "corpus x1" "$corpus"

if [ "$copies" -gt 1 ]; then
  make_copies "$corpus" "$copies" "$tmp/big"
  profile "corpus x$copies" "$tmp/big"
fi
