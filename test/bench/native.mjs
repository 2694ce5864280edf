// Cost of NVML reads through the addon (target: under 20 µs per device read).
// Uses the real libnvidia-ml.so.1 when it loads (unless WATTPRINT_BENCH_FAKE_NVML=1), else the fake
// NVML of test/fixtures (built here with gcc when missing). The fake re-reads its value file on
// every call, so it is timed twice: as is, and with FAKE_NVML_CACHE=1 (file read once), which
// leaves the addon's own cost: N-API call, dlsym'd function pointer, BigInt.
// Run with `npm run bench` (builds first) or `node test/bench/native.mjs` after `npm run build`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EmissionsTracker, loadNative } from '../../dist/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const native = loadNative();
if (!native.binding) {
  console.log(`nvml bench skipped: native addon not loaded (${native.errors.map((e) => e.error).join('; ')})`);
  process.exit(0);
}
const b = native.binding;

function fakeLibrary() {
  const out = join(root, 'test', '.tmp', 'fake-nvml', 'libnvidia-ml.so.1');
  if (!existsSync(out)) {
    mkdirSync(dirname(out), { recursive: true });
    const src = join(root, 'test', 'fixtures', 'fake-nvml', 'fake_nvml.c');
    const r = spawnSync('gcc', ['-O2', '-shared', '-fPIC', '-Wl,-soname,libnvidia-ml.so.1', '-o', out, src], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`gcc failed: ${r.stderr}`);
  }
  return out;
}

let kind = 'real NVML';
let libraryPath;
try {
  if (process.env.WATTPRINT_BENCH_FAKE_NVML === '1') throw new Error('fake requested');
  b.nvmlInit();
  libraryPath = 'libnvidia-ml.so.1';
} catch {
  kind = 'fake NVML';
  libraryPath = fakeLibrary();
  const file = join(mkdtempSync(join(tmpdir(), 'wattprint-bench-')), 'gpus.txt');
  const lines = ['count=2'];
  for (const i of [0, 1]) {
    lines.push(`${i}.name=NVIDIA H200`, `${i}.uuid=GPU-${i}0000000-0000-0000-0000-000000000000`, `${i}.arch=9`);
    lines.push(`${i}.energy_mj=123456789012`, `${i}.power_mw=350000`, `${i}.power_limit_mw=700000`, `${i}.util_gpu=50`);
    lines.push(`${i}.procs=${process.pid}:40,4242:10`, `${i}.procs_ts=1000`);
  }
  writeFileSync(file, lines.join('\n') + '\n');
  process.env.FAKE_NVML_FILE = file;
  b.nvmlInit(libraryPath);
}
const devices = b.nvmlDeviceGetCount();

/** Median over 7 runs of the per-call cost in µs. */
function time(label, n, fn) {
  for (let i = 0; i < Math.min(n, 2000); i++) fn(i % devices);
  const runs = [];
  for (let r = 0; r < 7; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn(i % devices);
    runs.push(Number(process.hrtime.bigint() - t0) / 1000 / n);
  }
  runs.sort((x, y) => x - y);
  const us = runs[3];
  console.log(`${label}: ${us.toFixed(2)} µs per call (${kind}, median of 7 x ${n})`);
  return us;
}

console.log(`NVML through the addon: ${devices} device(s), ${kind}${kind === 'fake NVML' ? '' : `, driver ${b.nvmlSystemGetDriverVersion()}`}`);
const results = {};
const modes = kind === 'fake NVML' ? [['file re-read per call', undefined], ['cached values', '1']] : [['', undefined]];
for (const [label, cache] of modes) {
  if (cache) process.env.FAKE_NVML_CACHE = cache;
  const tag = label ? ` [${label}]` : '';
  results[`energy${tag}`] = time(`device energy read (nvmlDeviceGetTotalEnergyConsumption)${tag}`, 50_000, (i) => b.nvmlDeviceGetTotalEnergyConsumption(i));
  time(`device power read (nvmlDeviceGetPowerUsage)${tag}`, 50_000, (i) => b.nvmlDeviceGetPowerUsage(i));
  time(`utilisation read (nvmlDeviceGetUtilizationRates)${tag}`, 50_000, (i) => b.nvmlDeviceGetUtilizationRates(i));
  time(`per-process utilisation (nvmlDeviceGetProcessUtilization, 2 samples)${tag}`, 20_000, (i) => b.nvmlDeviceGetProcessUtilization(i, 0));
}
time('N-API floor (nvmlDeviceGetCount)', 100_000, () => b.nvmlDeviceGetCount());
b.nvmlShutdown();

// One tracker sample with the NVML source on every device (CPU and RAM on fixed fake sources).
try {
  const { FakePowerSource } = await import('../../dist/testing.js');
  const base = { saveToFile: false, handleSignals: false, measurePowerSecs: 3600, countryIsoCode: 'FRA', nvmlLibraryPath: libraryPath };
  const sample = (sources) => {
    const t = new EmissionsTracker({ ...base, sources });
    t.start();
    for (let i = 0; i < 500; i++) t._sampleNow();
    const n = 5000;
    const u0 = process.cpuUsage();
    for (let i = 0; i < n; i++) t._sampleNow();
    const u = process.cpuUsage(u0);
    const gpu = t.boundary().gpu.source;
    void t.stop();
    return { us: (u.user + u.system) / n, gpu };
  };
  const fixed = () => ({ cpu: [new FakePowerSource({ component: 'cpu', powerW: 50 })], ram: [new FakePowerSource({ component: 'ram', powerW: 5 })] });
  const without = sample({ ...fixed(), gpu: [] });
  const withNvml = sample(fixed());
  console.log(
    `tracker sample with the nvml source (${withNvml.gpu}, ${devices} device(s)): ${withNvml.us.toFixed(2)} µs CPU, ` +
      `${(withNvml.us - without.us).toFixed(2)} µs more than without a GPU source`,
  );
} catch (err) {
  console.log(`tracker sample with nvml: skipped (${err.message})`);
}

const energyUs = results['energy [cached values]'] ?? results.energy;
console.log(`RESULT nvml device read: ${energyUs.toFixed(2)} µs per device (target < 20 µs): ${energyUs < 20 ? 'PASS' : 'FAIL'}`);
