# Shared by ci/nightly.sh and ci/pr-gate.sh (sourced, not run).

# meshbench from a checkout's build; the netns platform needs root, so non-root users go through sudo
# (passwordless on GitHub's hosted runners). The kubernetes platform needs no root.
meshbench_in() { # meshbench_in CHECKOUT ARGS...
  local checkout=$1
  shift
  if [[ $(id -u) -ne 0 && ${MESHBENCH_PLATFORM:-netns} == netns ]]; then
    sudo -E env "PATH=$PATH" node "$checkout/dist/harness/cli.js" "$@"
  else
    node "$checkout/dist/harness/cli.js" "$@"
  fi
}

# The platform a profile asks for (netns unless it says kubernetes), so we know whether root is needed.
profile_platform() {
  if grep -Eq '^platform:[[:space:]]*kubernetes' "$1"; then echo kubernetes; else echo netns; fi
}

stamp() { date -u +%Y%m%dT%H%M%SZ; }
