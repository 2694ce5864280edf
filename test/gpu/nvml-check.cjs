// Checks wattprint's NVML readings against nvidia-smi on a real GPU under load (test/gpu/check.sh).
// Not part of the test suite: it needs an NVIDIA GPU, PyTorch and nvidia-smi.
'use strict';
const { spawn, execFileSync } = require('node:child_process');
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..', '..');
const out = process.env.OUT || '/tmp';
const w = require(join(root, 'dist', 'index.cjs'));

const PHASES = ['idle:6', 'full:12', 'duty:8:0.5', 'idle:6'];
const PERIOD_MS = 100;

function smiFields() {
  const wanted = ['power.draw', 'power.draw.instant', 'power.draw.average', 'utilization.gpu', 'enforced.power.limit'];
  return wanted.filter((f) => {
    try {
      const v = execFileSync('nvidia-smi', ['-i', '0', `--query-gpu=${f}`, '--format=csv,noheader,nounits']).toString().trim();
      return !/N\/A|Not Supported/i.test(v);
    } catch {
      return false;
    }
  });
}

function integrate(samples, key, t0, t1) {
  let e = 0;
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1], b = samples[i];
    const lo = Math.max(a.t, t0), hi = Math.min(b.t, t1);
    if (hi > lo && Number.isFinite(a[key]) && Number.isFinite(b[key])) e += ((a[key] + b[key]) / 2) * (hi - lo) / 1000;
  }
  return e;
}

function counterAt(samples, t) {
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1], b = samples[i];
    if (b.t >= t) return a.mJ + (b.mJ - a.mJ) * ((t - a.t) / (b.t - a.t || 1));
  }
  return samples[samples.length - 1].mJ;
}

async function main() {
  const native = w.loadNative();
  if (!native.binding) throw new Error('addon did not load: ' + JSON.stringify(native.errors));
  const b = native.binding;
  const lib = b.nvmlInit();
  const info = {
    library: lib,
    driver: b.nvmlSystemGetDriverVersion(),
    devices: b.nvmlDeviceGetCount(),
    name: b.nvmlDeviceGetName(0),
    architecture: b.nvmlDeviceGetArchitecture(0),
    powerLimitW: b.nvmlDeviceGetEnforcedPowerLimit(0) / 1000,
  };
  console.log('NVML', JSON.stringify(info));
  // The real driver's cost per call (an ioctl each), median of 5 rounds of 500 calls.
  const cost = {};
  for (const [name, call] of [
    ['nvmlDeviceGetTotalEnergyConsumption', () => b.nvmlDeviceGetTotalEnergyConsumption(0)],
    ['nvmlDeviceGetPowerUsage', () => b.nvmlDeviceGetPowerUsage(0)],
    ['nvmlDeviceGetUtilizationRates', () => b.nvmlDeviceGetUtilizationRates(0)],
    ['nvmlDeviceGetProcessUtilization', () => b.nvmlDeviceGetProcessUtilization(0, Date.now() * 1000 - 1e6)],
  ]) {
    const rounds = [];
    for (let r = 0; r < 5; r++) {
      const t0 = performance.now();
      for (let i = 0; i < 500; i++) call();
      rounds.push(((performance.now() - t0) * 1000) / 500);
    }
    cost[name] = +rounds.sort((x, y) => x - y)[2].toFixed(2);
  }
  info.usPerCall = cost;
  console.log('µs per call (median of 5 × 500)', JSON.stringify(cost));

  const fields = smiFields();
  console.log('nvidia-smi fields', fields.join(','));
  const smi = [];
  const smiProc = spawn('nvidia-smi', ['-i', '0', `--query-gpu=timestamp,${fields.join(',')}`, '--format=csv,noheader,nounits', `-lms`, String(PERIOD_MS)]);
  let smiBuf = '';
  smiProc.stdout.on('data', (d) => {
    smiBuf += d;
    let nl;
    while ((nl = smiBuf.indexOf('\n')) >= 0) {
      const line = smiBuf.slice(0, nl); smiBuf = smiBuf.slice(nl + 1);
      const cells = line.split(',').map((s) => s.trim());
      const row = { t: performance.now() };
      fields.forEach((f, i) => { row[f] = Number(cells[i + 1]); });
      smi.push(row);
    }
  });

  const nvml = [];
  const timer = setInterval(() => {
    const t = performance.now();
    nvml.push({ t, mJ: Number(b.nvmlDeviceGetTotalEnergyConsumption(0)), powerW: b.nvmlDeviceGetPowerUsage(0) / 1000, util: b.nvmlDeviceGetUtilizationRates(0).gpu });
  }, PERIOD_MS);

  const tracker = new w.EmissionsTracker({ measurePowerSecs: 1, outputDir: out, countryIsoCode: 'USA', saveToFile: true, projectName: 'gpu-check' });
  const warnings = [];
  tracker.on('warning', (x) => warnings.push(String(x.message ?? x)));

  const marks = {};
  await new Promise((resolve, reject) => {
    const py = spawn('python3', [join(__dirname, 'gpu-load.py'), ...PHASES], { stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '';
    py.stdout.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const [what, kind] = buf.slice(0, nl).split(' '); buf = buf.slice(nl + 1);
        const t = performance.now();
        if (what === 'ready') { marks.ready = t; tracker.start(); marks.trackerStart = performance.now(); }
        if (what === 'phase') (marks.phases ??= []).push({ kind, t });
        if (what === 'done') { marks.done = t; }
      }
    });
    py.on('exit', (code) => (code === 0 ? resolve() : reject(new Error('gpu-load.py exited ' + code))));
  });
  const result = await tracker.stop();
  marks.trackerStop = performance.now();
  await new Promise((r) => setTimeout(r, 300));
  clearInterval(timer);
  smiProc.kill();

  const windows = [];
  const ph = marks.phases;
  for (let i = 0; i < ph.length; i++) {
    const t0 = ph[i].t + 1000; // skip the first second of a phase: both readers lag a transition
    const t1 = (i + 1 < ph.length ? ph[i + 1].t : marks.done);
    windows.push({ name: `${i}:${ph[i].kind}`, t0, t1 });
  }
  windows.push({ name: 'whole tracked run', t0: marks.trackerStart, t1: marks.trackerStop });
  const rows = windows.map(({ name, t0, t1 }) => {
    const s = (t1 - t0) / 1000;
    const counterJ = (counterAt(nvml, t1) - counterAt(nvml, t0)) / 1000;
    const row = { window: name, seconds: +s.toFixed(2), nvmlCounterW: +(counterJ / s).toFixed(1), nvmlPowerUsageW: +(integrate(nvml, 'powerW', t0, t1) / s).toFixed(1) };
    for (const f of fields.filter((f) => f.startsWith('power.draw'))) row[`smi ${f} W`] = +(integrate(smi, f, t0, t1) / s).toFixed(1);
    if (fields.includes('power.draw')) row['counter / smi power.draw'] = +(row.nvmlCounterW / row['smi power.draw W']).toFixed(4);
    row.nvmlUtil = +(nvml.filter((x) => x.t >= t0 && x.t <= t1).reduce((a, x, _, arr) => a + x.util / arr.length, 0)).toFixed(1);
    return row;
  });
  const whole = windows[windows.length - 1];
  const counterWholeJ = (counterAt(nvml, whole.t1) - counterAt(nvml, whole.t0)) / 1000;
  const trackerGpuJ = result.gpuEnergyKWh * 3.6e6 / result.pue;
  const summary = {
    info, fields, rows, warnings,
    tracker: { gpuEnergyJ: +trackerGpuJ.toFixed(1), nvmlCounterJ: +counterWholeJ.toFixed(1), ratio: +(trackerGpuJ / counterWholeJ).toFixed(4), boundary: result.boundary.gpu, gpuModel: result.gpuModel, gpuPowerW: result.gpuPowerW, durationS: result.durationS, emissionsKg: result.emissionsKg },
    samples: { nvml: nvml.length, smi: smi.length },
  };
  console.table(rows);
  console.log(JSON.stringify(summary.tracker, null, 1));
  writeFileSync(join(out, 'gpu-check.json'), JSON.stringify({ ...summary, nvml, smi, marks }, null, 1));
  b.nvmlShutdown();
}

main().catch((e) => { console.error(e); process.exitCode = 1; });
