#!/usr/bin/env bash
# Installs the peers the benches compare against (Portkey's gateway, node-llama-cpp) into bench/peers/node_modules,
# from bench/peers/package-lock.json. Kept out of the root install so `npm ci` at the root stays lean.
# node-llama-cpp's GPU and non-x64 prebuilt binaries are overridden with an empty package (bench/peers/no-binary):
# the benches run llama.cpp on the CPU only, and this saves ~620 MB. No install scripts run and nothing is built:
# node-llama-cpp loads its prebuilt CPU binary from @node-llama-cpp/linux-x64, and Portkey runs from its build/ folder.
set -euo pipefail
cd "$(dirname "$0")"
start=$(date +%s.%N)
ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --ignore-scripts "$@"
end=$(date +%s.%N)
printf "bench/peers installed in %.1f s, node_modules %s\n" "$(echo "$end - $start" | bc)" "$(du -sh node_modules | cut -f1)"
