// Diagnoses per-process GPU utilisation on a real GPU: raw nvmlDeviceGetProcessUtilization answers
// while a PyTorch child loads GPU 0, next to nvidia-smi's own view. Not part of the test suite.
'use strict';
const { spawn, execFileSync } = require('node:child_process');
const { join } = require('node:path');
const w = require(join(__dirname, '..', '..', 'dist', 'index.cjs'));
const b = w.loadNative().binding;
b.nvmlInit();
const py = spawn('python3', [join(__dirname, 'gpu-load.py'), 'full:8'], { stdio: ['ignore', 'inherit', 'inherit'] });
console.log('python pid', py.pid);
let last = 0;
let n = 0;
const smi = (args) => { try { return execFileSync('nvidia-smi', args).toString().trim(); } catch (e) { return 'ERR ' + e.message; } };
const t = setInterval(() => {
  n++;
  for (const since of [0, last, Date.now() * 1000 - 2e6]) {
    try {
      const s = b.nvmlDeviceGetProcessUtilization(0, since);
      console.log(`#${n} since=${since} ->`, JSON.stringify(s));
      if (since === last) for (const x of s) if (x.timeStampUs > last) last = x.timeStampUs;
    } catch (e) { console.log(`#${n} since=${since} threw`, e.code, e.message); }
  }
  if (n === 6) {
    console.log(smi(['--query-compute-apps=pid,process_name,used_memory', '--format=csv']));
    console.log(smi(['pmon', '-c', '1', '-s', 'u']));
  }
  if (n >= 12) { clearInterval(t); }
}, 700);
py.on('exit', () => { clearInterval(t); b.nvmlShutdown(); console.log('done; Date.now us', Date.now() * 1000); });
