#!/usr/bin/env bash
# bench/peers.sh - install the benchmark's peers, pinned, and print where they are.
#
# Usage: bench/peers.sh
#
# Installs, when not already there, into a cache directory (default bench/.tools, ignored by
# git; DDB_BENCH_TOOLS=DIR to put it elsewhere):
#   cfn-guard 3.2.1  from crates.io, `nice -n 19 cargo install --locked` into DIR/bin (a long
#                    compile on 2 cores: 43 minutes at a load average of 15-20; once built,
#                    later runs only check its version);
#   cfn-lint 1.51.0  from PyPI into the virtualenv DIR/venv, when no cfn-lint is on PATH
#                    (PYTHON=python3.x picks the interpreter); once made, it is used first.
# Prints the directories to put in front of PATH, one per line (nothing else on stdout;
# progress goes to stderr). Idempotent. bench/run.sh --install-peers runs it, and bench/run.sh
# also uses the cache when an earlier run filled it.
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
case "${1:-}" in -h|--help) usage; exit 0 ;; esac
[ $# -eq 0 ] || { usage >&2; exit 2; }

guard_version=3.2.1
lint_version=1.51.0
here=$(cd "$(dirname "$0")" && pwd)
tools=${DDB_BENCH_TOOLS:-$here/.tools}
mkdir -p "$tools"
tools=$(cd "$tools" && pwd)

# cfn-guard: the pinned version in the cache, whatever else is on PATH (results compare
# across runs only with the same peer).
guard=$tools/bin/cfn-guard
if ! { [ -x "$guard" ] && "$guard" --version 2>&1 | grep -qF " $guard_version"; }; then
  command -v cargo >/dev/null || { echo "peers.sh: cargo is needed to install cfn-guard" >&2; exit 1; }
  echo "peers.sh: installing cfn-guard $guard_version into $tools (cargo install, long)" >&2
  nice -n 19 cargo install cfn-guard --locked --version "$guard_version" --root "$tools" >&2
  "$guard" --version >&2
fi
echo "$tools/bin"

# cfn-lint: the one on PATH when there is one (outside the cache), else a pinned venv.
venv=$tools/venv
if [ -x "$venv/bin/cfn-lint" ] || ! command -v cfn-lint >/dev/null; then
  if ! { [ -x "$venv/bin/cfn-lint" ] && "$venv/bin/cfn-lint" --version 2>&1 | grep -qF "$lint_version"; }; then
    python=${PYTHON:-python3}
    command -v "$python" >/dev/null || { echo "peers.sh: $python is needed to install cfn-lint" >&2; exit 1; }
    echo "peers.sh: installing cfn-lint $lint_version into $venv" >&2
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "cfn-lint==$lint_version" >&2
  fi
  echo "$venv/bin"
fi
