// CPU cost of a Prometheus scrape of wattprint's full metric set, on the real path: an HTTP server
// in this process answers GET /metrics from prom-client's registry while a separate client process
// scrapes it as Prometheus does (sequential requests on a keep-alive connection). The floor is the
// same server answering a fixed body of the same size, measured in the same run; the cost of the
// metrics is the difference. Target: < 1 ms of CPU per scrape in all. Also: the CPU of one
// OpenTelemetry collection through @opentelemetry/sdk-metrics. Run with `npm run bench`.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { Registry } from 'prom-client';
import { EmissionsTracker } from '../../dist/index.js';
import { otelMetrics } from '../../dist/otel.js';
import { prometheusMetrics } from '../../dist/prometheus.js';
import { FakePowerSource } from '../../dist/testing.js';

const SCRAPES = 2000;

// A busy machine: two CPU packages, four GPUs, RAM, and eight wrapped handlers with calls of all sizes.
const cpu = new FakePowerSource({ component: 'cpu', powerW: 180, devices: [{ id: 'package-0', name: 'package-0' }, { id: 'package-1', name: 'package-1' }] });
const gpu = new FakePowerSource({ component: 'gpu', powerW: 2400, devices: [0, 1, 2, 3].map((i) => ({ id: String(i), name: 'NVIDIA H200' })) });
const ram = new FakePowerSource({ component: 'ram', powerW: 30, kind: 'estimated', id: 'ram-dimm' });
const tracker = new EmissionsTracker({
  sources: { cpu: [cpu], gpu: [gpu], ram: [ram] },
  saveToFile: false,
  handleSignals: false,
  countryIsoCode: 'FRA',
  measurePowerSecs: 3600,
  callSampleIntervalMs: 60_000,
});
tracker.on('warning', () => {});
tracker.start();
const names = ['chat', 'complete', 'embed', 'rerank', 'summarize', 'classify', 'translate', 'moderate'];
for (const name of names) {
  const fn = tracker.wrap(() => 1, { name, tokens: () => ({ inputTokens: 100, outputTokens: 40 }) });
  for (let i = 0; i < 50; i++) fn();
}
await new Promise((r) => setTimeout(r, 50));
tracker.sample();

const registry = new Registry();
const metrics = prometheusMetrics(tracker, { registry });
// Fill every histogram bucket of every handler, as a long-running server would.
for (const name of names) for (let k = 0; k < 14; k++) tracker.emit('call', { name, energyJ: 0.005 * 10 ** (k / 2) });

const body = await registry.metrics();
const series = body.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
const fixed = 'x'.repeat(body.length);

async function cpuPerScrapeUs(handler) {
  const server = createServer(handler);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}/metrics`;
  const client = `const url=${JSON.stringify(url)};(async()=>{for(let i=0;i<${SCRAPES + 100};i++){const r=await fetch(url);await r.text();if(i===99)process.stdout.write('warm\\n');}})();`;
  const child = spawn(process.execPath, ['-e', client], { stdio: ['ignore', 'pipe', 'inherit'] });
  let start;
  child.stdout.on('data', () => (start = process.cpuUsage()));
  await new Promise((r) => child.on('exit', r));
  const used = process.cpuUsage(start);
  server.close();
  server.closeAllConnections();
  return (used.user + used.system) / SCRAPES;
}

const floorUs = await cpuPerScrapeUs((_req, res) => res.writeHead(200, { 'content-type': registry.contentType }).end(fixed));
const scrapeUs = await cpuPerScrapeUs((_req, res) => {
  registry.metrics().then((b) => res.writeHead(200, { 'content-type': registry.contentType }).end(b));
});

// OpenTelemetry: CPU of one collection of every instrument through the SDK.
const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
const provider = new MeterProvider({ readers: [reader] });
const otel = otelMetrics(tracker, provider.getMeter('bench'));
for (const name of names) for (let k = 0; k < 14; k++) tracker.emit('call', { name, energyJ: 0.005 * 10 ** (k / 2), labels: { model: 'm' }, outcome: 'ok' });
for (let i = 0; i < 100; i++) await reader.forceFlush();
const COLLECTS = 1000;
const t = process.cpuUsage();
for (let i = 0; i < COLLECTS; i++) {
  exporter.reset();
  await reader.forceFlush();
}
const c = process.cpuUsage(t);
const collectUs = (c.user + c.system) / COLLECTS;

otel.close();
await provider.shutdown();
metrics.close();
await tracker.stop();

const fmt = (us) => `${(us / 1000).toFixed(3)} ms`;
console.log(`metric set: ${series} series, ${body.length} bytes (2 CPU packages, 4 GPUs, RAM, 8 handlers with full histograms)`);
console.log(`CPU per scrape over HTTP: ${fmt(scrapeUs)}  (floor, same server with a fixed body: ${fmt(floorUs)}; metrics alone: ${fmt(scrapeUs - floorUs)})`);
console.log(`CPU per OpenTelemetry collection (sdk-metrics, in-memory exporter): ${fmt(collectUs)}`);
if (!(scrapeUs < 1000)) {
  console.log(`FAILED: a scrape costs ${fmt(scrapeUs)} of CPU, target < 1 ms`);
  process.exitCode = 1;
}
