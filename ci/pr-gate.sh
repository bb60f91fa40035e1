#!/usr/bin/env bash
# The pull-request regression gate, the same way in CI and on your machine:
#   bash ci/pr-gate.sh BASE_REF [PROFILE] [OUT]
# Builds BASE_REF (e.g. origin/main) in a temporary git worktree exactly as this checkout is built (npm packages,
# eBPF objects and the native addon, TypeScript: ci/lib.sh build_checkout), runs PROFILE (default profiles/pr-gate.yaml,
# taken from the checkout under test so both sides run the same file) with the base build and then with this
# checkout's build, compares them with the profile's gates and writes OUT (default results/pr-gate):
#   base/ head/            the two results folders        head/report/   the report of the change
#   compare.md compare.json the PR comment and the verdict
# Exit code: 0 no regression, 1 regression, 2 bad input (e.g. runs not comparable), other: a run failed.
set -uo pipefail
cd "$(dirname "$0")/.."
source ci/lib.sh
base_ref=${1:?usage: bash ci/pr-gate.sh BASE_REF [PROFILE] [OUT]}
profile=$(realpath "${2:-profiles/pr-gate.yaml}")
out=${3:-results/pr-gate}
export MESHBENCH_PLATFORM=$(profile_platform "$profile")

bash ci/setup.sh || exit $?
rm -rf "$out" && mkdir -p "$out"
worktree=$(mktemp -d /tmp/meshbench-base.XXXXXX)
trap 'git worktree remove --force "$worktree" >/dev/null 2>&1; rm -rf "$worktree"' EXIT
git worktree add --detach "$worktree" "$base_ref" >/dev/null || exit 2
# The same node_modules when the lock files match: no second download, and the very same packages.
if cmp -s package-lock.json "$worktree/package-lock.json"; then cp -a node_modules "$worktree/"; fi
# The base is built exactly as the head (ci/setup.sh → build_checkout): addon and BPF objects included,
# so the kernel data plane runs on both sides instead of being skipped on the base and never compared.
build_checkout "$worktree" >"$out/base-build.log" 2>&1 || { echo "meshbench pr-gate: cannot build $base_ref the way the head is built (npm, bpf/ objects and addon, TypeScript); see $out/base-build.log" >&2; exit 3; }

meshbench_in "$worktree" run "$profile" --output "$out/base" --quiet || exit $?
meshbench_in . run "$profile" --output "$out/head" --quiet || exit $?
[[ $(id -u) -ne 0 ]] && sudo chown -R "$(id -u):$(id -g)" "$out" 2>/dev/null

node dist/harness/cli.js report "$out/head" --quiet >/dev/null
node dist/harness/cli.js compare "$out/base" "$out/head" --json "$out/compare.json" --markdown "$out/compare.md"
rc=$?
{ echo; echo "<sub>meshbench pr-gate: \`$base_ref\` vs this change, profile \`$(basename "$profile")\`; report in the workflow's artifacts.</sub>"; } >>"$out/compare.md"
exit "$rc"
