#!/usr/bin/env bash
# The GPU checks in one command, for a machine that has a CUDA libtorch (a pip torch) but no Node.js and no
# network: unpacks .device-kit/ (made here by `node scripts/device-kit.mjs`), builds the addon against that
# libtorch, and runs the CUDA tests, the distributed equivalence tests and the main job on the GPU. Each
# step has a time limit, so the whole stays under 9 minutes; logs go to $OUT (default ./device-out).
#
#   bash scripts/device-check.sh            # LIBTORCH defaults to python3's torch, else Debian's libtorch
#
# Prints a summary line per step and exits non-zero if any step failed.
set -uo pipefail
cd "$(dirname "$0")/.."
kit=.device-kit
out=${OUT:-device-out}
work=${TMPDIR:-/tmp}/ccp-dml-device
mkdir -p "$out" "$work"
trap 'rm -rf "$work"' EXIT
failed=0
step() { # step <name> <seconds> <command...>: runs with a limit, logs to $out/<name>.log, prints the verdict
  local name=$1 limit=$2 t0=$SECONDS
  shift 2
  timeout --kill-after=10 "$limit" "$@" >"$out/$name.log" 2>&1
  local rc=$?
  ((rc == 0)) || failed=1
  printf 'device-check: %-10s rc=%-3s %4ss\n' "$name" "$rc" "$((SECONDS - t0))"
  ((rc == 0)) || tail -n 25 "$out/$name.log"
  return $rc
}
# xz archives through Python's lzma when the machine has no xz; files already there are overwritten, none removed.
unpack() {
  python3 -c '
import sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    t.extractall(sys.argv[2], **({"filter": "tar"} if hasattr(tarfile, "tar_filter") else {}))' "$1" "$2"
}

[[ -f $kit/manifest.json ]] || { echo "device-check: $kit/ is missing: run 'node scripts/device-kit.mjs' where npm works, and carry $kit" >&2; exit 2; }
rm -rf "$work/node"
unpack "$kit/node.tar.xz" "$work/node" && unpack "$kit/modules.tar.xz" . && unpack "$kit/dist.tar.xz" . || { echo 'device-check: unpacking the kit failed' >&2; exit 2; }
export PATH=$work/node/bin:$PATH
if ! command -v make >/dev/null; then dpkg -x "$kit"/make_*.deb "$work/make" && export PATH=$PATH:$work/make/usr/bin; fi
if [[ -z ${LIBTORCH:-} ]] && torch=$(python3 -c 'import os, torch; print(os.path.dirname(torch.__file__))' 2>/dev/null); then export LIBTORCH=$torch; fi

{
  echo "node $(node --version), kit built at $(node -p "require('./$kit/manifest.json').commit")"
  echo "LIBTORCH=${LIBTORCH:-unset: Debian libtorch}"
  python3 -c 'import torch; print("python torch", torch.__version__, "cuda", torch.version.cuda, "gpus", torch.cuda.device_count())' 2>&1
  for tool in g++ make nvcc nvidia-smi; do printf '%s: ' "$tool"; command -v "$tool" >/dev/null && "$tool" --version 2>&1 | grep -m1 -iE 'version|g\+\+|make|nvidia' || echo 'not found'; done
  nvidia-smi -L 2>&1
  echo "nproc $(nproc)"
  for w in include defines cuda-libs cxx-std; do echo "torch-paths $w: $(node scripts/torch-paths.cjs "$w")"; done
} >"$out/inventory.log" 2>&1
cat "$out/inventory.log"

step build 300 node node_modules/node-gyp/bin/node-gyp.js rebuild -j "$(nproc)" --nodedir="$work/node" || { echo 'device-check: the addon did not build; nothing else runs'; exit 1; }
step smoke 60 node --input-type=module -e "
  const e = await import('./dist/src/engine/index.js');
  const { distributed } = await import('./dist/src/index.js');
  console.log(JSON.stringify({ cuda: e.cudaIsAvailable(), gpus: e.cudaDeviceCount(), backends: distributed.ProcessGroup.availableBackends() }));
  if (!e.cudaIsAvailable()) process.exitCode = 3;" && cat "$out/smoke.log"
step cuda 240 node --test --test-reporter=spec dist/test/training/cuda.test.js dist/test/engine/precision.test.js dist/test/training/device.test.js
step dist 150 node --test --test-reporter=spec dist/test/distributed/equivalence.test.js dist/test/distributed/collectives.test.js
step mnist 120 node dist/src/cli/main.js train --preset mnist --device cuda --out "$work/runs" &&
  grep -E 'projection|MAP@R|device' "$out/mnist.log" | tail -n 8
exit $failed
