#!/usr/bin/env bash
# bench/same-findings.sh - do two ddb-guard binaries report the same thing on a tree?
#
# Usage: bench/same-findings.sh OLD_BIN NEW_BIN [DIR]
#
# Runs both binaries on DIR (default: the shared corpus, /work/shared/corpus) with
#   check --format json --fail-on never
#   check --format sarif --fail-on never
#   check --format json --fail-on never --select DDB001,DDB002   (the retention-only path)
#   inventory --format json
# and compares the outputs byte for byte (stdout, and the exit code). A speed change must
# keep them identical (issue 23). Prints one line per output, `same` or `DIFFERENT` with
# the first lines of the diff, and exits 1 when any output differs, 2 on a usage error.
# Outputs are kept in a temporary directory, printed when something differs.
#
# Environment: THREADS=N passes --threads N to both (the outputs do not depend on it).
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
case "${1:-}" in -h|--help) usage; exit 0 ;; esac
[ $# -ge 2 ] && [ $# -le 3 ] || { usage >&2; exit 2; }
old=$1 new=$2 dir=${3:-/work/shared/corpus}
for b in "$old" "$new"; do
  [ -x "$b" ] || { echo "not an executable: $b" >&2; exit 2; }
done
[ -d "$dir" ] || { echo "not a directory: $dir" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ddb-same.XXXXXX")
threads=()
[ -n "${THREADS:-}" ] && threads=(--threads "$THREADS")

runs=(
  "check-json|check --format json --fail-on never"
  "check-sarif|check --format sarif --fail-on never"
  "check-retention-json|check --format json --fail-on never --select DDB001,DDB002"
  "inventory-json|inventory --format json"
)
differ=0
for entry in "${runs[@]}"; do
  name=${entry%%|*}
  read -r -a args <<< "${entry#*|}"
  for side in old new; do
    bin=$old
    [ "$side" = new ] && bin=$new
    # Relative paths from DIR, so that the output does not hold the temporary directory.
    set +e
    (cd "$dir" && "$bin" "${args[@]}" "${threads[@]}" .) > "$tmp/$name.$side" 2> "$tmp/$name.$side.err"
    echo "exit $?" >> "$tmp/$name.$side"
    set -e
  done
  if cmp -s "$tmp/$name.old" "$tmp/$name.new"; then
    echo "$name: same ($(wc -c < "$tmp/$name.new") bytes)"
  else
    differ=1
    echo "$name: DIFFERENT"
    diff "$tmp/$name.old" "$tmp/$name.new" | head -n 20 || true
  fi
done
if [ "$differ" -eq 1 ]; then
  echo "outputs kept in $tmp" >&2
  exit 1
fi
rm -rf "$tmp"
