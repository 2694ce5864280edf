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
  for (let i = 0; i < 1000; i++) t.sample();
  const u0 = process.cpuUsage();
  for (let i = 0; i < n; i++) t.sample();
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
  for (let i = 0; i < 1000; i++) t.sample();
  gc();
  const before = process.memoryUsage().heapUsed;
  const marks = [];
  for (let i = 1; i <= n; i++) {
    t.sample();
    if (i % (n / 4) === 0) {
      gc();
      marks.push(process.memoryUsage().heapUsed - before);
    }
  }
  void t.stop();
  return marks;
}

/** snapshot(): rebuilt once per sample (compared with sampling alone), then served from cache. */
function snapshotCost(n) {
  const cpu = new FakePowerSource({ component: 'cpu', powerW: 50 });
  const gpu = new FakePowerSource({ component: 'gpu', powerW: 300, devices: [{ id: '0', name: 'a' }, { id: '1', name: 'b' }] });
  const t = new EmissionsTracker({ ...common, sources: { cpu: [cpu], gpu: [gpu], ram: [] } });
  t.start();
  for (const name of ['chat', 'embed', 'rerank']) t.wrap(() => 1, { name })();
  t.sample();
  const cpuUs = (fn) => {
    const u0 = process.cpuUsage();
    fn();
    const u = process.cpuUsage(u0);
    return (u.user + u.system) / n;
  };
  for (let i = 0; i < 1000; i++) (t.sample(), t.snapshot());
  const sampleOnly = cpuUs(() => {
    for (let i = 0; i < n; i++) t.sample();
  });
  const sampleAndSnapshot = cpuUs(() => {
    for (let i = 0; i < n; i++) (t.sample(), t.snapshot());
  });
  const cached = cpuUs(() => {
    for (let i = 0; i < n; i++) t.snapshot();
  });
  void t.stop();
  console.log(
    `snapshot(): rebuilt after a sample ${(sampleAndSnapshot - sampleOnly).toFixed(2)} µs (3 handlers, 2 devices; sample alone ${sampleOnly.toFixed(2)} µs), cached ${(cached * 1000).toFixed(0)} ns`,
  );
}

const start = startLatency();
console.log(`start(): first ${start.firstMs.toFixed(2)} ms, then median ${start.medianMs.toFixed(3)} ms, p95 ${start.p95Ms.toFixed(3)} ms`);
const fake = new FakePowerSource({ component: 'cpu', powerW: 50 });
cpuPerSample('fake sources: tracker bookkeeping only', { sources: { cpu: [fake], gpu: [], ram: [] } }, 100_000);
cpuPerSample('default chain on this machine, machine mode', {}, 20_000);
cpuPerSample('default chain on this machine, process mode', { trackingMode: 'process' }, 5_000);
snapshotCost(50_000);
const marks = memoryAfterSamples(100_000);
console.log(`heap growth after 25k/50k/75k/100k samples: ${marks.map((b) => `${(b / 1024).toFixed(0)} KiB`).join(' / ')}`);
