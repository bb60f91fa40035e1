#!/usr/bin/env bash
# Temporary: builds bpf/.output/kernelSteering.bpf.o with the same flags as the bpf/ build chain (bpf/Makefile,
# owned by the probes work) until that chain is merged; then `make -C bpf` builds it with everything else.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p .output
[[ -s .output/vmlinux.h ]] || bpftool btf dump file /sys/kernel/btf/vmlinux format c > .output/vmlinux.h
arch=$(uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
clang -g -O2 -Wall -target bpf -D__TARGET_ARCH_"$arch" -I.output -I. -c kernelSteering.bpf.c -o .output/kernelSteering.bpf.o.tmp
llvm-strip -g .output/kernelSteering.bpf.o.tmp
mv .output/kernelSteering.bpf.o.tmp .output/kernelSteering.bpf.o
