// An HTTP "inference" server whose request handler is wrapped by wattprint: every request gets
// its share of the energy measured while it ran, printed as one line per request.
//
//   npm run build && node examples/inference-server.mjs
//   curl 'http://127.0.0.1:8080/generate?prompt=hello+world&tokens=32'
//   curl http://127.0.0.1:8080/stats        # callStats() as JSON
//   Ctrl-C                                   # stops the tracker: emissions.csv + wattprint-report.json
//
// PORT (default 8080; 0 picks a free port). Tracker options come from WATTPRINT_* variables too,
// e.g. WATTPRINT_COUNTRY_ISO_CODE=FRA, WATTPRINT_OUTPUT_DIR=/tmp.
import http from 'node:http';
import { EmissionsTracker } from '../dist/index.js';

const tracker = new EmissionsTracker({
  projectName: 'inference-server-example',
  task: 'text generation',
  modality: 'text',
  batchSize: 1,
  saveToJson: true,
  // This server stops the tracker itself on SIGINT/SIGTERM (below), after closing the server.
  handleSignals: false,
});
tracker.on('warning', (w) => console.error(`[wattprint] ${w.message}`));
tracker.on('call', (r) => {
  const perToken = r.energyPerOutputTokenJ === undefined ? '-' : r.energyPerOutputTokenJ.toFixed(5);
  console.log(
    `request ${r.labels.requestId} ${r.name} ${r.outcome} duration_s=${r.durationS.toFixed(4)} energy_j=${r.energyJ.toFixed(5)} ` +
      `gpu_j=${r.gpuEnergyJ.toFixed(5)} cpu_j=${r.cpuEnergyJ.toFixed(5)} ram_j=${r.ramEnergyJ.toFixed(5)} ` +
      `input_tokens=${r.inputTokens ?? 0} output_tokens=${r.outputTokens ?? 0} j_per_token=${perToken} emissions_g=${(r.emissionsKg * 1000).toExponential(3)}`,
  );
});

/** A stand-in for a model: about 2 ms of compute per generated token. */
async function* generateTokens(prompt, maxTokens) {
  for (let i = 0; i < maxTokens; i++) {
    const until = performance.now() + 2;
    let x = 0;
    while (performance.now() < until) x += Math.sqrt(i + x);
    yield `${prompt.length % 7 === 0 ? 'a' : 'b'}${i} `;
    await new Promise((r) => setImmediate(r)); // let concurrent requests interleave
  }
}

// The request handler, wrapped: the call lasts until the whole response is written.
const handleGenerate = tracker.wrap(
  async (req, res, url) => {
    const prompt = url.searchParams.get('prompt') ?? 'hello';
    const maxTokens = Math.max(1, Math.min(Number(url.searchParams.get('tokens') ?? 16) || 16, 1024));
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    let outputTokens = 0;
    for await (const token of generateTokens(prompt, maxTokens)) {
      res.write(token);
      outputTokens++;
    }
    await new Promise((resolve) => res.end('\n', resolve));
    return { inputTokens: prompt.split(/\s+/).filter(Boolean).length, outputTokens };
  },
  { name: 'GET /generate', tokens: (result) => result },
);

let nextRequestId = 0;
const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/generate') {
    tracker
      .withLabels({ requestId: ++nextRequestId, route: url.pathname }, () => handleGenerate(req, res, url))
      .catch((err) => {
        console.error(`request failed: ${err.message}`);
        res.destroy(err);
      });
  } else if (url.pathname === '/stats') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(tracker.callStats(), null, 2));
  } else {
    res.writeHead(404).end('try /generate?prompt=hello&tokens=32 or /stats\n');
  }
});

async function shutdown() {
  server.close();
  server.closeAllConnections();
  await tracker.stop();
  const s = tracker.callStats('GET /generate');
  const idle = tracker.callStats().idleEnergyJ ?? 0;
  console.log(
    `summary requests=${s.count} errors=${s.errors} energy_j=${s.energyJ.toFixed(5)} idle_j=${idle.toFixed(5)} ` +
      `p50_j=${(s.p50EnergyJ ?? 0).toFixed(5)} p95_j=${(s.p95EnergyJ ?? 0).toFixed(5)} ` +
      `j_per_token=${(s.energyPerOutputTokenJ ?? 0).toFixed(5)} requests_per_kwh=${(s.requestsPerKWh ?? 0).toFixed(0)}`,
  );
}
// once: a second Ctrl-C kills the process the default way.
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);

tracker.start();
server.listen(Number(process.env.PORT ?? 8080), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
