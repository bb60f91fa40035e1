#!/usr/bin/env bash
# Installs what meshbench needs on a fresh Debian/Ubuntu machine (as root) and builds it. Safe to run again:
# it installs only what is missing and `npm ci` only when package-lock.json changed.
set -euo pipefail
cd "$(dirname "$0")/.."

need_pkgs=()
want() { # want COMMAND-or-FILE PACKAGE
  if [[ "$1" == /* ]]; then [[ -e "$1" ]] || need_pkgs+=("$2"); else command -v "$1" >/dev/null 2>&1 || need_pkgs+=("$2"); fi
}
want nginx nginx-light
want wrk wrk
want ab apache2-utils
want hey hey
want h2load nghttp2-client
want haproxy haproxy
want clang clang
want llvm-strip llvm
want bpftool bpftool
want /usr/include/bpf/libbpf.h libbpf-dev
want /usr/include/gelf.h libelf-dev
want /usr/include/zlib.h zlib1g-dev
want iptables iptables
want ip iproute2
want taskset util-linux
want make make
want g++ g++
want nm binutils
want readelf binutils
want chromium chromium
want python3 python3
want openssl openssl
if ((${#need_pkgs[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "meshbench setup: missing packages ${need_pkgs[*]}; run as root (sudo bash ci/setup.sh) to install them" >&2
    exit 3
  fi
  echo "meshbench setup: installing ${need_pkgs[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
  # The distribution's nginx starts itself on port 80; meshbench starts its own, configured copies.
  if command -v systemctl >/dev/null 2>&1; then systemctl disable --now nginx haproxy >/dev/null 2>&1 || true; fi
  pkill -x nginx >/dev/null 2>&1 || true
  pkill -x haproxy >/dev/null 2>&1 || true
fi

# npm packages, eBPF objects, skeletons and the native addon (bpf/Makefile: incremental, so a second run does
# nothing), then the TypeScript: the same steps ci/pr-gate.sh builds its base with.
source ci/lib.sh
build_checkout .
