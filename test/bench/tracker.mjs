// Tracker overhead: start() latency, CPU time per sample, memory after 100,000 samples.
// Run with `npm run bench` (builds first); needs --expose-gc for the memory figure.
import { EmissionsTracker } from '../../dist/index.js';
import { FakePowerSource } from '../../dist/testing.js';

const common = { saveToFile: false, handleSignals: false, measurePowerSecs: 3600, countryIsoCode: 'FRA' };
const gc = globalThis.gc ?? (() => {});

function startLatency() {
  const t0 = performance.now();
  const first = new EmissionsTracker(common);
  first.start();
  const firstMs = performance.now() - t0;
  void first.stop();
  const times = [];
  for (let i = 0; i < 50; i++) {
    const t = new EmissionsTracker(common);
    const s = performance.now();
    t.start();
    times.push(performance.now() - s);
    void t.stop();
  }
  times.sort((a, b) => a - b);
  return { firstMs, medianMs: times[25], p95Ms: times[47] };
}

function cpuPerSample(label, options, n) {
  const t = new EmissionsTracker({ ...common, ...options });
  t.start();
  for (let i = 0; i < 1000; i++) t._sampleNow();
  const u0 = process.cpuUsage();
  for (let i = 0; i < n; i++) t._sampleNow();
  const u = process.cpuUsage(u0);
  void t.stop();
  const us = (u.user + u.system) / n;
  console.log(`cpu per sample (${label}): ${us.toFixed(2)} µs over ${n} samples`);
  return us;
}

function memoryAfterSamples(n) {
  const cpu = new FakePowerSource({ component: 'cpu', powerW: 50 });
  const t = new EmissionsTracker({ ...common, sources: { cpu: [cpu], gpu: [], ram: [] } });
  t.start();
  for (let i = 0; i < 1000; i++) t._sampleNow();
  gc();
  const before = process.memoryUsage().heapUsed;
  const marks = [];
  for (let i = 1; i <= n; i++) {
    t._sampleNow();
    if (i % (n / 4) === 0) {
      gc();
      marks.push(process.memoryUsage().heapUsed - before);
    }
  }
  void t.stop();
  return marks;
}

const start = startLatency();
console.log(`start(): first ${start.firstMs.toFixed(2)} ms, then median ${start.medianMs.toFixed(3)} ms, p95 ${start.p95Ms.toFixed(3)} ms`);
const fake = new FakePowerSource({ component: 'cpu', powerW: 50 });
cpuPerSample('fake sources: tracker bookkeeping only', { sources: { cpu: [fake], gpu: [], ram: [] } }, 100_000);
cpuPerSample('default chain on this machine, machine mode', {}, 20_000);
cpuPerSample('default chain on this machine, process mode', { trackingMode: 'process' }, 5_000);
const marks = memoryAfterSamples(100_000);
console.log(`heap growth after 25k/50k/75k/100k samples: ${marks.map((b) => `${(b / 1024).toFixed(0)} KiB`).join(' / ')}`);
