#!/usr/bin/env bash
# Restores the earlier nightly runs that the last successful nightly workflow uploaded, so history and the
# night-to-night comparison continue (GitHub Actions only; needs the gh CLI and GH_TOKEN).
#   bash ci/fetch-history.sh RESULTS_ROOT [WORKFLOW_FILE] [ARTIFACT]
set -uo pipefail
root=${1:?usage: bash ci/fetch-history.sh RESULTS_ROOT [WORKFLOW_FILE] [ARTIFACT]}
workflow=${2:-meshbench-nightly.yml}
artifact=${3:-meshbench-nightly-results}
mkdir -p "$root"
id=$(gh run list --workflow "$workflow" --status success --limit 1 --json databaseId --jq '.[0].databaseId' 2>/dev/null)
if [[ -z $id || $id == null ]]; then echo "meshbench: no earlier successful $workflow run; starting a new history" >&2; exit 0; fi
gh run download "$id" --name "$artifact" --dir "$root" || echo "meshbench: run $id has no $artifact artifact; starting a new history" >&2
exit 0
