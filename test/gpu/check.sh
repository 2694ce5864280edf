#!/bin/bash
# One prepared check on a machine with an NVIDIA GPU (run through the device tool, never by CI):
# NVML readings through wattprint's addon against nvidia-smi under real load, then `wattprint
# detect` and `wattprint run` around a GPU job. Needs dist/ and native/prebuilds/ (npm run build),
# node_modules/eventemitter3 and node_modules/node-gyp-build, PyTorch, nvidia-smi. Writes to $OUT.
set -u
OUT=${OUT:-/tmp/wattprint-gpu}; mkdir -p "$OUT"; export OUT
if ! command -v node >/dev/null; then
  # A node binary carried as .gpu-node/node.xz (this machine's Node 20, xz-compressed).
  python3 -c 'import lzma,shutil;shutil.copyfileobj(lzma.open(".gpu-node/node.xz"),open("/tmp/node","wb"))' && chmod +x /tmp/node
  export PATH=/tmp:$PATH
fi
node -v; nvidia-smi --query-gpu=name,driver_version,power.limit --format=csv
node test/gpu/nvml-check.cjs 2>&1 | tee "$OUT/nvml-check.txt"
node dist/cli.cjs detect 2>&1 | tee "$OUT/detect.txt"
nvidia-smi --query-gpu=power.draw --format=csv,noheader,nounits -lms 200 >"$OUT/run-smi.csv" & smi=$!
node dist/cli.cjs run --country-iso-code USA --output-dir "$OUT" -- python3 test/gpu/gpu-load.py idle:2 full:8 2>&1 | tee "$OUT/run.txt"
kill $smi
ls -la "$OUT"
