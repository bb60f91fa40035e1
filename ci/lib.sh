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

# Builds a checkout the way ci/setup.sh builds this one: npm packages, the eBPF objects and the native addon
# (bpf/Makefile), then the TypeScript. Both sides of the PR gate go through it, so a data plane that needs
# the addon (kernel, dual) is measured on both sides or on neither.
build_checkout() { # build_checkout DIR
  local dir=$1
  ( cd "$dir" || exit 1
    stamp=node_modules/.meshbench-lock-hash
    hash=$(sha256sum package-lock.json | cut -d' ' -f1)
    if [[ ! -f $stamp || $(cat "$stamp") != "$hash" ]]; then
      npm ci --no-audit --no-fund --loglevel=error && echo "$hash" >"$stamp"
    fi &&
    make -C bpf --no-print-directory -s &&
    npm run --silent build &&
    [[ -f bpf/addon/build/Release/meshbench_bpf.node ]]
  )
}

stamp() { date -u +%Y%m%dT%H%M%SZ; }
