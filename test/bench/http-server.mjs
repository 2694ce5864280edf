// The server of http.mjs (its own process), with one of two handlers (argv[3]):
// - 'chat': an OpenAI-style chat completion endpoint: reads and parses a ~2 KB JSON body,
//   tokenises the messages, awaits the "model" (a stand-in: one turn of the event loop), and
//   writes a JSON completion with usage, as an inference gateway does around its model call;
// - 'items': a minimal JSON API (parse the query, serialise a ~2 KB response, hash it), the
//   cheapest realistic handler and so the worst case for a per-request overhead.
// It cycles through phases of PHASE_MS each: 'bare'
// (handler not wrapped, no tracker), 'work' and 'time' (a fresh EmissionsTracker with that
// `attribution` rule, handler wrapped). Alternating fast inside one process under the same load
// cancels the drift of a shared machine. Each phase is measured from SETTLE_MS after its switch,
// so that tracker start-up and stop (a one-off cost per run) are not charged per request. On
// SIGTERM it prints, per phase, the mode, the requests served and the process CPU time used (JSON
// lines on stderr). BENCH_HTTP_MODES: the modes to cycle through (default bare,work,time).
import { createHash } from 'node:crypto';
import http from 'node:http';
import { pathToFileURL } from 'node:url';

// BENCH_HTTP_DIST: another build to load (http.mjs), e.g. a copy of dist/ from before a change.
const { EmissionsTracker } = await import(process.env.BENCH_HTTP_DIST ? pathToFileURL(`${process.env.BENCH_HTTP_DIST}/index.js`).href : '../../dist/index.js');

const PHASE_MS = Number(process.argv[2] ?? 500);
const SETTLE_MS = Math.min(100, PHASE_MS / 5);
const WORKLOAD = process.argv[3] ?? 'chat';
const MODES = (process.env.BENCH_HTTP_MODES ?? 'bare,work,time').split(',');

const vocabulary = new Map();
const tokenize = (text) => text.split(/(\s+|[,.!?;:])/).filter(Boolean).map((w) => {
  let id = vocabulary.get(w);
  if (id === undefined) vocabulary.set(w, (id = vocabulary.size));
  return id;
});

async function chat(req, res) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  const promptTokens = body.messages.flatMap((m) => tokenize(m.content));
  await new Promise((r) => setImmediate(r)); // the model
  const words = promptTokens.slice(-48).map((id) => `w${id}`);
  const out = JSON.stringify({
    id: `chatcmpl-${promptTokens.length}`,
    object: 'chat.completion',
    model: body.model,
    choices: [{ index: 0, message: { role: 'assistant', content: words.join(' ') }, finish_reason: 'stop' }],
    usage: { prompt_tokens: promptTokens.length, completion_tokens: words.length, total_tokens: promptTokens.length + words.length },
  });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
  res.end(out);
}

async function items(req, res) {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const n = Number(url.searchParams.get('n') ?? 20);
  await new Promise((r) => setImmediate(r)); // an awaited dependency
  const items = [];
  for (let i = 0; i < n; i++) items.push({ id: i, name: `item-${i}`, score: Math.sqrt(i * 7919) % 1, tags: ['a', 'b', String(i % 5)] });
  const body = JSON.stringify({ query: url.searchParams.get('q'), items });
  const etag = createHash('sha256').update(body).digest('base64url').slice(0, 16);
  res.writeHead(200, { 'content-type': 'application/json', etag, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const handle = WORKLOAD === 'chat' ? chat : items;
let handler = handle;
let tracker;
let served = 0;
let phase;
const phases = [];

async function nextPhase(i) {
  if (phase) {
    const cpu = process.cpuUsage(phase.cpu);
    phases.push({ mode: phase.mode, requests: served - phase.served, cpuUs: cpu.user + cpu.system, ms: performance.now() - phase.t0 });
  }
  if (tracker) {
    const t = tracker;
    tracker = undefined;
    handler = handle;
    await t.stop();
  }
  const mode = MODES[i % MODES.length];
  if (mode !== 'bare') {
    tracker = new EmissionsTracker({ attribution: mode, saveToFile: false, handleSignals: false, countryIsoCode: 'FRA' });
    tracker.on('warning', () => {});
    handler = tracker.wrap(handle, { name: 'GET /items' });
    tracker.start();
  }
  // Measured from SETTLE_MS after the switch: starting and stopping a tracker (probing sources,
  // loading tables: a few ms of CPU once per run) is not a per-request cost.
  phase = undefined;
  setTimeout(() => {
    phase = { mode, served, cpu: process.cpuUsage(), t0: performance.now() };
  }, SETTLE_MS);
}

const server = http.createServer((req, res) => {
  served++;
  handler(req, res).catch((e) => res.destroy(e));
});
server.keepAliveTimeout = 60_000;
let i = 0;
await nextPhase(i++);
const timer = setInterval(() => void nextPhase(i++), PHASE_MS);
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
process.on('SIGTERM', () => {
  clearInterval(timer);
  server.close();
  server.closeAllConnections();
  for (const p of phases) console.error(JSON.stringify(p));
  process.exit(0);
});
