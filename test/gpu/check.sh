#!/bin/bash
# One prepared check on a machine with an NVIDIA GPU (run through the device tool, never by CI):
# NVML readings through wattprint's addon against nvidia-smi under real load, `wattprint detect`,
# then `wattprint run` around the same GPU job in process mode and in machine mode. Needs dist/ and
# native/prebuilds/ (npm run build), node_modules/{eventemitter3,node-gyp-build,commander},
# PyTorch and nvidia-smi. Writes to $OUT.
set -u
OUT=${OUT:-/tmp/wattprint-gpu}; mkdir -p "$OUT"; export OUT
if ! command -v node >/dev/null; then
  # A node binary carried as .gpu-node/node.xz (the development machine's Node 20, xz-compressed).
  python3 -c 'import lzma,shutil;shutil.copyfileobj(lzma.open(".gpu-node/node.xz"),open("/tmp/node","wb"))' && chmod +x /tmp/node
  export PATH=/tmp:$PATH
fi
node -v; nvidia-smi --query-gpu=name,driver_version,power.limit --format=csv
node test/gpu/nvml-check.cjs 2>&1 | tee "$OUT/nvml-check.txt"
node dist/cli.cjs detect 2>&1 | tee "$OUT/detect.txt"
for mode in process machine; do
  nvidia-smi --query-gpu=power.draw --format=csv,noheader,nounits -lms 100 >"$OUT/run-$mode-smi.csv" & smi=$!
  start=$(date +%s.%N)
  node dist/cli.cjs run --tracking-mode $mode --country-iso-code USA --output-dir "$OUT" --output-file "run-$mode.csv" \
    -- python3 test/gpu/gpu-load.py idle:2 full:8 2>&1 | tee "$OUT/run-$mode.txt"
  end=$(date +%s.%N); kill $smi
  python3 -c "import sys;v=[float(x) for x in open('$OUT/run-$mode-smi.csv') if x.strip()];s=$end-$start;print('$mode: nvidia-smi power.draw mean %.1f W over %.2f s of wattprint run = %.0f J (%d samples)'%(sum(v)/len(v),s,sum(v)/len(v)*s,len(v)))" | tee -a "$OUT/runs.txt"
done
