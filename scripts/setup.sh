#!/usr/bin/env bash
# Installs everything ccp-dml needs on Debian (as root) and builds it. Idempotent and quiet when done.
#   bash scripts/setup.sh           system packages + npm packages + native addon + TypeScript
#   bash scripts/setup.sh --dev     also Python PyTorch (reference fixtures, tests and benchmarks)
set -euo pipefail
cd "$(dirname "$0")/.."

# libtcmalloc-minimal4: the CPU tensor allocator that keeps freed memory (native/allocator.cc); without it the
# addon falls back to libtorch's default allocator (slower: page faults on every large tensor).
want=(libtorch-dev libgloo-dev libopenblas0 libtcmalloc-minimal4 g++ make python3)
# --dev: Python PyTorch for fixtures, tests and the side-by-side benchmarks (scipy, sklearn, tqdm: what
# pytorch-metric-learning needs for scripts/fixtures/pml_reference.py; libjemalloc2: the tuned PyTorch
# column); chromium for the browser-demo test
[[ "${1:-}" == "--dev" ]] && want+=(python3-torch python3-numpy python3-scipy python3-sklearn python3-tqdm libjemalloc2 chromium)

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})) && [[ -z "${LIBTORCH:-}" || " ${missing[*]} " == *python3-torch* ]]; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: missing Debian packages: ${missing[*]} (run as root, or install them)" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]} (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [[ ! -d node_modules ]] || [[ package.json -nt node_modules/.package-lock.json ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "setup: installing npm packages"
  # onnxruntime-node (tests) ships its CPU binaries; its install step would only try to download GPU ones.
  ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund --loglevel=error >/dev/null
fi
node scripts/build-native.mjs
npx tsc -p tsconfig.json
