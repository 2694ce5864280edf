// Cost of a live intensity chain on the sampling path, against the offline data alone (the floor),
// measured in the same run: CPU per sample once the live value is cached, and start() latency
// (start never waits for the network). The live API is a local server; nothing leaves the machine.
import { createServer } from 'node:http';
import { EmissionsTracker, electricityMapsProvider, ukCarbonIntensityProvider } from '../../dist/index.js';

const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ zone: 'FR', carbonIntensity: 31, datetime: '2026-12-04T15:00:00.000Z', emissionFactorType: 'lifecycle', isEstimated: false }));
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const baseUrl = `http://127.0.0.1:${server.address().port}`;
const common = { saveToFile: false, handleSignals: false, measurePowerSecs: 3600, countryIsoCode: 'FRA' };
// The UK link cannot answer for FRA: it stays in the chain to cost its (skipped) turn on every sample.
const live = () => ({
  intensityProvider: [electricityMapsProvider({ token: 'bench-token', zone: 'FR', baseUrl }), ukCarbonIntensityProvider({ baseUrl })],
});
const quiet = (t) => t.on('warning', () => {});

function startMs(options) {
  const times = [];
  for (let i = 0; i < 60; i++) {
    const t = quiet(new EmissionsTracker({ ...common, ...options() }));
    const s = performance.now();
    t.start();
    times.push(performance.now() - s);
    void t.stop();
  }
  times.sort((a, b) => a - b);
  return times[30];
}

async function cpuPerSampleUs(options, n) {
  const t = quiet(new EmissionsTracker({ ...common, ...options() }));
  t.start();
  const deadline = Date.now() + 5000;
  while (t.snapshot().intensity?.freshness !== 'live' && options !== offline) {
    if (Date.now() > deadline) throw new Error('the live value never arrived');
    await new Promise((r) => setTimeout(r, 10));
    t.sample();
  }
  for (let i = 0; i < 1000; i++) t.sample();
  const u0 = process.cpuUsage();
  for (let i = 0; i < n; i++) t.sample();
  const u = process.cpuUsage(u0);
  const provider = t.snapshot().intensity?.provider;
  await t.stop();
  return { us: (u.user + u.system) / n, provider };
}

const offline = () => ({});
startMs(offline); // warm-up
const rows = [];
for (const [label, opts] of [['offline data only (floor)', offline], ['Electricity Maps → UK → offline, live value cached', live]]) {
  const start = startMs(opts);
  const { us, provider } = await cpuPerSampleUs(opts, 100_000);
  rows.push({ label, startMedianMs: start.toFixed(3), cpuPerSampleUs: us.toFixed(2), answeredBy: provider });
}
console.table(rows);
server.close();
