#!/usr/bin/env bash
# Validates what GitHub runs but this machine cannot: the workflows, the action and the
# pre-commit hook manifest. Offline after the tools are installed (ci-tools.sh): the JSON
# schemas ship inside check-jsonschema, and zizmor runs its offline audits only.
#   - check-jsonschema: .github/workflows/*.yml (vendor.github-workflows) and action.yml
#     (vendor.github-actions) against SchemaStore's schemas;
#   - zizmor: security audit (pinning, permissions, credentials, template injection...);
#   - pre-commit validate-manifest: .pre-commit-hooks.yaml;
#   - shellcheck: the action's scripts and the repository's scripts.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=$(bash scripts/ci-tools.sh)
workflows=(.github/workflows/*.yml)

echo "-- check-jsonschema (workflows, action.yml)"
"$bin/check-jsonschema" --builtin-schema vendor.github-workflows "${workflows[@]}"
"$bin/check-jsonschema" --builtin-schema vendor.github-actions action.yml

echo "-- zizmor --offline"
"$bin/zizmor" --offline --strict-collection --no-progress --persona regular \
    action.yml .pre-commit-hooks.yaml "${workflows[@]}"

echo "-- pre-commit validate-manifest"
"$bin/pre-commit" validate-manifest .pre-commit-hooks.yaml

echo "-- shellcheck"
"$bin/shellcheck" action/*.sh scripts/*.sh .ci/run
echo "workflows, action and hooks: ok"
