# The meshbench image for the probes DaemonSet on a cluster (and for running meshbench itself in a pod):
# the harness, the native BPF addon and the BPF objects, built by the same script CI uses.
#   docker build -t REGISTRY/meshbench:0.1.0 .
# The workloads (echo server, load client) do not need this image: they run on a stock Node image from a
# ConfigMap. Building needs the build host's BTF (/sys/kernel/btf/vmlinux) for vmlinux.h, like ci/setup.sh.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY . .
# ci/setup.sh installs the Debian packages it needs (clang, llvm, bpftool, libbpf-dev…), runs npm ci and
# builds the TypeScript, the workloads bundle and the addon.
RUN bash ci/setup.sh && npm prune --omit=dev

FROM node:20-bookworm-slim
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends libbpf1 libelf1 zlib1g && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/meshbench
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# the addon and the BPF objects, where the build put them (bpf/build by node-gyp)
COPY --from=build /src/bpf ./bpf
ENTRYPOINT ["node", "/opt/meshbench/dist/harness/cli.js"]
