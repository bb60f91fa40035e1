#!/usr/bin/env bash
# The nightly benchmark, the same way in CI and on your machine:
#   bash ci/nightly.sh [PROFILE] [RESULTS_ROOT]
# 1. runs PROFILE (default profiles/nightly.yaml) into RESULTS_ROOT/<time>-<profile> (default results/nightly);
# 2. compares it with the latest earlier run in RESULTS_ROOT (its gates), recording compare.json beside it;
# 3. writes its report (report/index.html …) and the history of RESULTS_ROOT (RESULTS_ROOT/history/), with the
#    change points (E-divisive means) of every gated metric's nightly series;
# 4. keeps the newest MESHBENCH_KEEP_RUNS runs (default 60).
# Exit code: 0; 1 when the gate flagged a regression against the previous night or tonight's run brought a new
# change point in the worse direction; or the run's own failure code.
set -uo pipefail
cd "$(dirname "$0")/.."
source ci/lib.sh
profile=${1:-profiles/nightly.yaml}
root=${2:-results/nightly}
keep=${MESHBENCH_KEEP_RUNS:-60}
export MESHBENCH_PLATFORM=$(profile_platform "$profile")

bash ci/setup.sh || exit $?
mkdir -p "$root"
previous=$(ls -1d "$root"/*/ 2>/dev/null | grep -v '/history/$' | sort | tail -n 1)
name=$(sed -nE 's/^name:[[:space:]]*([a-z0-9-]+).*/\1/p' "$profile" | head -n 1)
out="$root/$(stamp)-${name:-run}"

meshbench_in . run "$profile" --output "$out" || { rc=$?; echo "meshbench nightly: run failed (exit $rc); keeping what it measured in $out" >&2; [[ -f $out/run.json ]] || exit "$rc"; }
[[ $(id -u) -ne 0 ]] && sudo chown -R "$(id -u):$(id -g)" "$out" 2>/dev/null
node dist/harness/cli.js report "$out" --quiet || exit $?

gate=0
if [[ -n $previous && -f ${previous%/}/run.json ]]; then
  node dist/harness/cli.js compare "${previous%/}" "$out" --json "$out/compare.json" --markdown "$out/compare.md" --only-flagged --allow-missing
  gate=$?
  if ((gate == 2)); then echo "meshbench nightly: not compared with ${previous%/} (see above); the history still shows both" >&2; gate=0; fi
else
  echo "meshbench nightly: first run in $root, nothing to compare with" >&2
fi

# Oldest runs go first; the history covers what is kept.
ls -1d "$root"/*/ | grep -v '/history/$' | sort | head -n "-$keep" | xargs -r rm -rf
node dist/harness/cli.js history "$root" --metric "${MESHBENCH_HISTORY_METRIC:-latency.p99}" --output "$root/history" --fail-on-change-point
history=$?
if ((history == 1)); then
  echo "meshbench nightly: a new change point in the worse direction (see $root/history/history.md, Change points)" >&2
  gate=1
elif ((history != 0)); then
  exit "$history"
fi
echo "meshbench nightly: results $out, report $out/report/index.html, history $root/history/history.html" >&2
exit "$gate"
