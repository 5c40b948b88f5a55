#!/usr/bin/env bash
# bench/run.sh - time ddb-guard against the floor (ripgrep) and the peers (cfn-guard, cfn-lint).
#
# Usage: bench/run.sh [options] CORPUS_DIR [COPIES]
#
# Materializes COPIES (default 10) renamed copies of the template files of CORPUS_DIR in a
# temporary directory, then times, with hyperfine (median of several warm runs):
#   corpus xCOPIES   ddb-guard check --format json, with all threads and with --threads 1,
#                    against the floor `rg -il dynamodb` on the same tree;
#   corpus x1        ddb-guard and rg (for the x1 vs xCOPIES peak RSS comparison);
#   peer-ok x1       the corpus minus the files on which a peer aborts its whole run
#                    (bench/peer-exclusions.txt): ddb-guard, cfn-guard, cfn-lint;
#   DynamoDB subset  the peer-ok files that mention DynamoDB (every file is parsed there).
# Peak RSS comes from /usr/bin/time -v. Prints a Markdown table, the ratios and a line per
# target saying met or missed. Peers are timed only when installed (see bench/README.md).
#
# Options:
#   --runs N         timed runs per fast command (default 5; the median is reported)
#   --slow-runs N    timed runs of cfn-lint on the whole peer-ok set (default 1: minutes
#                    each; 0 skips it)
#   --warmup N       untimed runs before the timed ones (default 1; not for cfn-lint)
#   --rss-runs N     /usr/bin/time runs of ddb-guard for peak RSS, median (default 3)
#   --lint-runs N    timed runs of cfn-lint on the DynamoDB subset (default 3; ~a minute each)
#   --no-peers       skip cfn-guard and cfn-lint even when installed
#   --install-peers  install the peers first with bench/peers.sh (cfn-guard 3.2.1 with cargo
#                    install, a long compile the first time; cfn-lint into a venv when none
#                    is on PATH) into bench/.tools; without it, peers already in bench/.tools
#                    are used, else those on PATH
#   --no-micro       skip `cargo bench --bench loaders` (the loader MB/s targets)
#   --keep           keep the temporary corpus directory (its path is printed)
#   --baseline-binary BIN
#                    also time BIN (an older ddb-guard) on corpus xCOPIES, default rules and
#                    retention rules, and check with bench/same-findings.sh that BIN and the
#                    measured binary report byte-identical findings on CORPUS_DIR (check
#                    JSON and SARIF, the retention-only JSON, inventory JSON); the report
#                    says same or DIFFERENT, and the script exits 1 when they differ
#   --quick          few runs, to see that the script works (2 runs, no warm-up, 1 RSS run,
#                    no cfn-lint): not for recorded results
#   --out FILE       also write the report (Markdown) to FILE
#   -h, --help       this text
#
# Environment: DDB_GUARD=path/to/binary skips the release build; MAKE_BIG_CORPUS=path to
# make-big-corpus.sh (default: CORPUS_DIR/../bench/make-big-corpus.sh, else a built-in copy
# loop with the same layout); TMPDIR for where the copies go.
# Installs hyperfine, ripgrep and GNU time with apt-get when missing (idempotent).
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

runs=5 warmup=1 rss_runs=3 slow_runs=1 lint_runs=3 peers=1 install_peers=0 micro=1 keep=0 out="" baseline=""
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift ;;
    --slow-runs) slow_runs=$2; shift ;;
    --lint-runs) lint_runs=$2; shift ;;
    --warmup) warmup=$2; shift ;;
    --rss-runs) rss_runs=$2; shift ;;
    --no-peers) peers=0 ;;
    --install-peers) install_peers=1 ;;
    --no-micro) micro=0 ;;
    --keep) keep=1 ;;
    --baseline-binary) baseline=$2; shift ;;
    --quick) runs=2 warmup=0 rss_runs=1 slow_runs=0 lint_runs=0 ;;
    --out) out=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; args+=("$@"); break ;;
    -*) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
    *) args+=("$1") ;;
  esac
  shift
done
[ ${#args[@]} -ge 1 ] && [ ${#args[@]} -le 2 ] || { usage >&2; exit 2; }
corpus=${args[0]}
copies=${args[1]:-10}
[ -d "$corpus" ] || { echo "not a directory: $corpus" >&2; exit 2; }
case "$copies" in ''|*[!0-9]*|0) echo "COPIES must be a positive integer: $copies" >&2; exit 2 ;; esac
corpus=$(cd "$corpus" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
# shellcheck source=bench/common.sh
source "$here/common.sh"

# --- tools ---------------------------------------------------------------------------------
need=()
command -v hyperfine >/dev/null || need+=(hyperfine)
command -v rg >/dev/null || need+=(ripgrep)
[ -x /usr/bin/time ] || need+=(time)
if [ ${#need[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null && [ "$(id -u)" -eq 0 ]; then
    echo "installing ${need[*]} with apt-get" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2
  else
    echo "missing ${need[*]}: install them (Debian: apt-get install ${need[*]})" >&2
    exit 2
  fi
fi

ddb=$(ddb_binary "$repo")
if [ -n "$baseline" ]; then
  [ -x "$baseline" ] || { echo "not an executable: $baseline" >&2; exit 2; }
  baseline=$(cd "$(dirname "$baseline")" && pwd)/$(basename "$baseline")
fi

have_guard=0 have_lint=0
if [ "$peers" -eq 1 ]; then
  # The peers' cache (bench/peers.sh): filled now with --install-peers, used when filled.
  if [ "$install_peers" -eq 1 ]; then
    peer_dirs=$("$here/peers.sh")
  else
    peer_dirs=$(for d in "${DDB_BENCH_TOOLS:-$here/.tools}"/{bin,venv/bin}; do [ -d "$d" ] && echo "$d"; done || true)
  fi
  while read -r d; do
    if [ -n "$d" ]; then PATH=$d:$PATH; fi
  done <<< "$peer_dirs"
  export PATH
  command -v cfn-guard >/dev/null && have_guard=1
  command -v cfn-lint >/dev/null && have_lint=1
fi

# --- corpora -------------------------------------------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ddb-bench.XXXXXX")
if [ "$keep" -eq 1 ]; then
  echo "corpora kept in $tmp" >&2
else
  trap 'rm -rf "$tmp"' EXIT
fi

make_copies "$corpus" "$copies" "$tmp/big"
x1=$(find "$tmp/big" -mindepth 1 -maxdepth 1 -type d | sort | head -n 1)

# Peer-ok: the corpus minus every file any peer aborts on; the exclusion list is relative
# to the shared corpus, so a different corpus simply excludes nothing that is not there.
exclusions=$here/peer-exclusions.txt
template_files "$corpus" | tr '\0' '\n' | sed 's,^\./,,' > "$tmp/all.txt"
grep -v '^#' "$exclusions" | cut -f2 | sed '/^$/d' | sort -u > "$tmp/excluded.txt"
grep -vxF -f "$tmp/excluded.txt" "$tmp/all.txt" | tr '\n' '\0' > "$tmp/peer-ok.list" || true
mkdir -p "$tmp/peer-ok" "$tmp/ddb-subset"
tar -C "$corpus" --null -T "$tmp/peer-ok.list" -cf - | tar -C "$tmp/peer-ok" -xf -
(cd "$tmp/peer-ok" && rg -il --null dynamodb .) | sort -z > "$tmp/ddb.list" || true
tar -C "$tmp/peer-ok" --null -T "$tmp/ddb.list" -cf - | tar -C "$tmp/ddb-subset" -xf -

# --- measuring -----------------------------------------------------------------------------
rows=$tmp/rows.tsv # set tool median_s runs rss_kb files bytes load cpu_s
: > "$rows"

count_files() { find "$1" -type f | wc -l; }
count_bytes() { find "$1" -type f -printf '%s\n' | awk '{s+=$1} END {print s+0}'; }
loadavg() { cut -d' ' -f1 /proc/loadavg; }

# measure SET_LABEL DIR TOOL RUNS WARMUP RSS_RUNS CMD...
measure() {
  local label=$1 dir=$2 tool=$3 n=$4 warmup=$5 rss_runs=$6
  shift 6
  local load csv median rss files bytes
  load=$(loadavg)
  echo "timing $tool on $label ($n runs, load $load): $*" >&2
  csv=$tmp/h.csv
  hyperfine -N -i --style basic --warmup "$warmup" --runs "$n" --export-csv "$csv" -- "$*" >&2
  # Columns: command,mean,stddev,median,user,system,min,max; counted from the end, since
  # the command itself may hold commas (`--select DDB001,DDB002`).
  median=$(awk -F, 'NR == 2 {print $(NF - 4)}' "$csv")
  cpu=$(awk -F, 'NR == 2 {print $(NF - 3) + $(NF - 2)}' "$csv") # mean user + system
  # Peak RSS: the median over rss_runs runs of /usr/bin/time -v.
  rss=$(for _ in $(seq 1 "$rss_runs"); do
    /usr/bin/time -v "$@" > /dev/null 2> "$tmp/time.txt" || true
    awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/time.txt"
  done | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}')
  files=$(count_files "$dir")
  bytes=$(count_bytes "$dir")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$tool" "$median" "$n" "$rss" "$files" "$bytes" "$load" "$cpu" >> "$rows"
}

big_label="corpus x$copies"
ddb_json=(check --format json)
measure "$big_label" "$tmp/big" "rg -il dynamodb" "$runs" "$warmup" 1 rg -il dynamodb "$tmp/big"
measure "$big_label" "$tmp/big" ddb-guard "$runs" "$warmup" "$rss_runs" "$ddb" "${ddb_json[@]}" "$tmp/big"
measure "$big_label" "$tmp/big" "ddb-guard --threads 1" "$runs" "$warmup" 1 "$ddb" "${ddb_json[@]}" --threads 1 "$tmp/big"
# The retention rules alone (what the prefilter-vs-rg target was written for): only files
# that name a table type are parsed. Information, next to the default rule set.
# shellcheck disable=SC2054 # one --select value: the comma is the rule list, not an array separator
retention=(--select DDB001,DDB002)
measure "$big_label" "$tmp/big" "ddb-guard ${retention[*]}" "$runs" "$warmup" 1 "$ddb" "${ddb_json[@]}" "${retention[@]}" "$tmp/big"
if [ -n "$baseline" ]; then
  measure "$big_label" "$tmp/big" "baseline ddb-guard" "$runs" "$warmup" 1 "$baseline" "${ddb_json[@]}" "$tmp/big"
  measure "$big_label" "$tmp/big" "baseline ddb-guard ${retention[*]}" "$runs" "$warmup" 1 "$baseline" "${ddb_json[@]}" "${retention[@]}" "$tmp/big"
fi
measure "corpus x1" "$x1" "rg -il dynamodb" "$runs" "$warmup" 1 rg -il dynamodb "$x1"
measure "corpus x1" "$x1" ddb-guard "$runs" "$warmup" "$rss_runs" "$ddb" "${ddb_json[@]}" "$x1"

guard_rule=$here/ddb_retain.guard
lint_args=(--include-checks I3011 --mandatory-checks I3011 --ignore-checks W I E1 E2 E3 E4 E5 E6 E7 E8 E9)
lint_globs() { for e in yaml yml json template; do printf '%s\n' "$1/**/*.$e"; done; }
for set in peer-ok ddb-subset; do
  dir=$tmp/$set
  label=$([ "$set" = peer-ok ] && echo "peer-ok x1" || echo "DynamoDB subset")
  measure "$label" "$dir" "rg -il dynamodb" "$runs" "$warmup" 1 rg -il dynamodb "$dir"
  measure "$label" "$dir" ddb-guard "$runs" "$warmup" "$rss_runs" "$ddb" "${ddb_json[@]}" "$dir"
  # Like for like with cfn-guard's Retain rule: the retention rules only.
  measure "$label" "$dir" "ddb-guard ${retention[*]}" "$runs" "$warmup" 1 "$ddb" "${ddb_json[@]}" "${retention[@]}" "$dir"
  if [ "$have_guard" -eq 1 ]; then
    measure "$label" "$dir" cfn-guard "$runs" "$warmup" 1 cfn-guard validate -r "$guard_rule" -d "$dir" -o json
  fi
  if [ "$have_lint" -eq 1 ]; then
    mapfile -t globs < <(lint_globs "$dir")
    if [ "$set" = peer-ok ]; then n=$slow_runs; else n=$lint_runs; fi
    w=0 # the page cache is warm from the tools before; a warm-up run costs minutes
    if [ "$n" -gt 0 ]; then
      measure "$label" "$dir" cfn-lint "$n" "$w" 1 cfn-lint "${lint_args[@]}" -- "${globs[@]}"
    fi
  fi
done

same_report="" same_status=0
if [ -n "$baseline" ]; then
  echo "comparing findings of $baseline and $ddb on $corpus" >&2
  same_report=$("$here/same-findings.sh" "$baseline" "$ddb" "$corpus" 2>&1) || same_status=$?
fi

micro_report=""
if [ "$micro" -eq 1 ]; then
  echo "running cargo bench --bench loaders (load $(loadavg))" >&2
  micro_report=$(cd "$repo" && DDB_BENCH_CORPUS=$corpus cargo bench --locked --bench loaders 2>/dev/null) || micro_report="cargo bench failed"
fi

# --- report --------------------------------------------------------------------------------
report() {
  local commit
  commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
  echo "## ddb-guard benchmark"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit: $commit; host: $(nproc) cores; load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- versions: $("$ddb" --version); $(rg --version | head -n 1); $(hyperfine --version)$([ "$have_guard" -eq 1 ] && echo "; $(cfn-guard --version 2>&1 | head -n 1)")$([ "$have_lint" -eq 1 ] && echo "; cfn-lint $(cfn-lint --version 2>&1 | awk '{print $NF}')")"
  echo "- median s: hyperfine median wall time of warm runs (page cache hot); CPU s: mean user + system time;"
  echo "  load: 1-minute load average when the row started (a load above the core count inflates wall times);"
  echo "  peak RSS: /usr/bin/time -v (median of $rss_runs runs for ddb-guard)"
  echo
  echo "| set | files | MB | tool | median s | runs | CPU s | files/s | MB/s | peak RSS MB | load |"
  echo "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|"
  awk -F'\t' '{
    mb = $7 / 1e6
    printf "| %s | %d | %.1f | %s | %.3f | %d | %.3f | %.0f | %.1f | %.1f | %s |\n", $1, $6, mb, $2, $3, $4, $9, $6 / $3, mb / $3, $5 / 1024, $8
  }' "$rows"
  echo
  # The YAML loader's speed against the tokenizer alone (saphyr-parser events), on the
  # corpus when the bench loaded it, else on the generated template: MB/s per CPU-second.
  local loader_mbs tokenizer_mbs
  mbs() { printf '%s\n' "$micro_report" | awk -v name="$1" 'index($0, name ":") == 1 {v = $(NF - 4)} END {print v}'; }
  loader_mbs=$(mbs "corpus yaml loader"); tokenizer_mbs=$(mbs "corpus saphyr-parser events only")
  if [ -z "$loader_mbs" ] || [ -z "$tokenizer_mbs" ]; then
    loader_mbs=$(mbs "yaml loader"); tokenizer_mbs=$(mbs "saphyr-parser events only")
  fi
  echo "### Targets (issue 23)"
  echo
  echo "Each target as the issue states it; CPU is user + system time (what a load average above"
  echo "the core count does not distort), wall is the median wall time."
  echo
  awk -F'\t' -v copies="$copies" -v big="$big_label" -v loader="$loader_mbs" -v tokenizer="$tokenizer_mbs" '
    { t[$1 "|" $2] = $3; r[$1 "|" $2] = $5; c[$1 "|" $2] = $9 }
    # Wall-time ratio first; for timed targets also the CPU-time ratio (user + system),
    # which a load average above the core count does not distort.
    function check(name, have, value, op, goal, unit, cpu,   ok) {
      if (!have) { printf "- %s: not measured (tool not installed or skipped)\n", name; return }
      ok = (op == "<=") ? value <= goal : value >= goal
      printf "- %s: %.2f%s (target %s %s%s): %s", name, value, unit, op, goal, unit, ok ? "MET" : "MISSED"
      if (cpu != "") printf "; by CPU time %.2f%s: %s", cpu, unit, ((op == "<=") ? cpu <= goal : cpu >= goal) ? "MET" : "MISSED"
      printf "\n"
    }
    function ratio(a, b) { return (b > 0) ? a / b : 0 }
    END {
      # Which rows exist, before any t[...] below creates an empty one by reading it.
      p = "peer-ok x1|"; d = "DynamoDB subset|"; k = "ddb-guard --select DDB001,DDB002"
      have_big_k = (big "|" k) in t
      have_d_guard = (d "cfn-guard") in t; have_d_k = (d k) in t
      have_p_guard = (p "cfn-guard") in t; have_p_k = (p k) in t
      have_p_guard_rss = (p "cfn-guard") in r
      have_p_lint = (p "cfn-lint") in t; have_d_lint = (d "cfn-lint") in t
      have_base = (big "|baseline ddb-guard") in t
      have_base_k = (big "|baseline " k) in t
      g = big "|ddb-guard"; f = big "|rg -il dynamodb"; s = big "|ddb-guard --threads 1"
      check("peer-ok x1, default rules: cfn-guard / ddb-guard by wall time", have_p_guard, ratio(t[p "cfn-guard"], t[p "ddb-guard"]), ">=", 20, "x", "")
      check("peer-ok x1, default rules: cfn-guard / ddb-guard by CPU time", have_p_guard, ratio(c[p "cfn-guard"], c[p "ddb-guard"]), ">=", 12, "x", "")
      check("corpus x" copies ", default rules: ddb-guard / rg by CPU time", 1, ratio(c[g], c[f]), "<=", 4, "x", "")
      check("corpus x" copies ", retention rules only (" substr(k, 11) "): ddb-guard / rg by CPU time", have_big_k, ratio(c[big "|" k], c[f]), "<=", 2, "x", "")
      check("YAML loader / tokenizer-only speed (MB/s per CPU-second, cargo bench --bench loaders)", loader != "" && tokenizer > 0, ratio(loader, tokenizer) * 100, ">=", 90, "%", "")
      check("peak RSS corpus x" copies " / corpus x1 (default rules)", 1, ratio(r[g], r["corpus x1|ddb-guard"]), "<=", 1.2, "x", "")
      if (have_base) {
        printf "\n### Against the baseline binary (corpus x%s, CPU time)\n\n", copies
        printf "- default rules: baseline %.3f s, this %.3f s: %.2fx the baseline CPU time\n", c[big "|baseline ddb-guard"], c[g], ratio(c[g], c[big "|baseline ddb-guard"])
        if (have_base_k && have_big_k) printf "- retention rules only: baseline %.3f s, this %.3f s: %.2fx the baseline CPU time\n", c[big "|baseline " k], c[big "|" k], ratio(c[big "|" k], c[big "|baseline " k])
      }
      printf "\n### Other targets (information)\n\n"
      check("corpus x" copies ": ddb-guard / rg wall time", 1, ratio(t[g], t[f]), "<=", 2, "x", ratio(c[g], c[f]))
      check("corpus x" copies ": wall time 2 threads / --threads 1", 1, ratio(t[g], t[s]), "<=", 0.6, "x", "")
      check("peer-ok x1: cfn-guard / ddb-guard", have_p_guard, ratio(t[p "cfn-guard"], t[p "ddb-guard"]), ">=", 15, "x", ratio(c[p "cfn-guard"], c[p "ddb-guard"]))
      check("peer-ok x1: cfn-lint / ddb-guard", have_p_lint, ratio(t[p "cfn-lint"], t[p "ddb-guard"]), ">=", 300, "x", ratio(c[p "cfn-lint"], c[p "ddb-guard"]))
      check("peer-ok x1: cfn-guard peak RSS / ddb-guard peak RSS", have_p_guard_rss, ratio(r[p "cfn-guard"], r[p "ddb-guard"]), ">=", 10, "x", "")
      check("DynamoDB subset: cfn-guard / ddb-guard", have_d_guard, ratio(t[d "cfn-guard"], t[d "ddb-guard"]), ">=", 5, "x", ratio(c[d "cfn-guard"], c[d "ddb-guard"]))
      check("DynamoDB subset: cfn-lint / ddb-guard", have_d_lint, ratio(t[d "cfn-lint"], t[d "ddb-guard"]), ">=", 100, "x", ratio(c[d "cfn-lint"], c[d "ddb-guard"]))
      check("peer-ok x1: ddb-guard / rg wall time", 1, ratio(t[p "ddb-guard"], t[p "rg -il dynamodb"]), "<=", 2, "x", ratio(c[p "ddb-guard"], c[p "rg -il dynamodb"]))
      check("DynamoDB subset: cfn-guard / ddb-guard " substr(k, 11) " (like for like)", have_d_guard && have_d_k, ratio(t[d "cfn-guard"], t[d k]), ">=", 5, "x", ratio(c[d "cfn-guard"], c[d k]))
      check("peer-ok x1: cfn-guard / ddb-guard " substr(k, 11) " (like for like)", have_p_guard && have_p_k, ratio(t[p "cfn-guard"], t[p k]), ">=", 15, "x", ratio(c[p "cfn-guard"], c[p k]))
    }' "$rows"
  if [ -n "$baseline" ]; then
    echo
    echo "### Findings against the baseline binary (bench/same-findings.sh, on CORPUS_DIR)"
    echo
    echo '```'
    echo "$same_report"
    echo '```'
  fi
  if [ -n "$micro_report" ]; then
    echo
    echo "### Loaders (cargo bench --bench loaders, with DDB_BENCH_CORPUS=CORPUS_DIR; targets: YAML >= 70 MB/s, JSON >= 80 MB/s)"
    echo
    echo '```'
    echo "$micro_report"
    echo '```'
  fi
}

if [ -n "$out" ]; then
  report | tee "$out"
else
  report
fi
# Different findings are a failure of the change being measured, whatever its speed.
[ "$same_status" -eq 0 ] || { echo "findings differ from the baseline binary's" >&2; exit 1; }
