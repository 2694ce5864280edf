// Overhead of wattprint/llm's OpenAI instrumentation per call, on the real path: the real `openai`
// SDK calling a local HTTP server (a child process), bare client vs instrumented client in
// interleaved blocks, client-process CPU time per call. Target: < 50 µs per call.
// Run with `npm run bench` (builds first), or `node --expose-gc test/bench/llm.mjs` after a build.
import { fork } from 'node:child_process';
import OpenAI from 'openai';
import { EmissionsTracker } from '../../dist/index.js';
import { estimateLlmCall, instrumentOpenAI } from '../../dist/llm.js';

const BLOCKS = 16;
const CALLS = { whole: 200, stream: 150 };
const server = fork(new URL('./llm-api-server.cjs', import.meta.url), { stdio: 'inherit' });
const port = await new Promise((r) => server.once('message', r));
const baseURL = `http://127.0.0.1:${port}/v1`;

const tracker = new EmissionsTracker({ saveToFile: false, handleSignals: false, native: false, countryIsoCode: 'USA' });
let records = 0;
tracker.on('llm', () => records++);
tracker.on('warning', (w) => console.log('warning', w.message));
const bare = new OpenAI({ apiKey: 'sk-bench', baseURL, maxRetries: 0 });
const instrumented = instrumentOpenAI(new OpenAI({ apiKey: 'sk-bench', baseURL, maxRetries: 0 }), { tracker });
// The same SDK path without sockets: a fetch answering from memory the bytes the server sends, a
// tighter floor (no server, no kernel) to tell the instrumentation's cost from the network's noise.
const canned = {};
for (const stream of [false, true]) {
  const r = await fetch(`${baseURL}/chat/completions`, { method: 'POST', body: JSON.stringify({ stream }) });
  canned[stream] = { body: await r.text(), type: r.headers.get('content-type') };
}
const memoryFetch = async (_url, init) => {
  const c = canned[JSON.parse(init.body).stream === true];
  return new Response(c.body, { status: 200, headers: { 'content-type': c.type } });
};
const bareMem = new OpenAI({ apiKey: 'sk-bench', baseURL, maxRetries: 0, fetch: memoryFetch });
const instrumentedMem = instrumentOpenAI(new OpenAI({ apiKey: 'sk-bench', baseURL, maxRetries: 0, fetch: memoryFetch }), { tracker });

const calls = {
  whole: (c) => c.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
  stream: async (c) => {
    const s = await c.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } });
    for await (const _ of s);
  },
};

/** CPU µs and wall µs per call of `n` sequential calls. */
async function block(client, kind, n) {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await calls[kind](client);
  const wallUs = Number(process.hrtime.bigint() - t0) / 1e3 / n;
  const c = process.cpuUsage(cpu0);
  return { cpuUs: (c.user + c.system) / n, wallUs };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const f = (x) => x.toFixed(1);

for (const [path, b0, w0] of [['local HTTP server', bare, instrumented], ['in-memory fetch', bareMem, instrumentedMem]]) {
  for (const kind of ['whole', 'stream']) {
    const n = CALLS[kind];
    await block(b0, kind, n); // warm up both (JIT, keep-alive sockets)
    await block(w0, kind, n);
    const b = [];
    const w = [];
    const before = records;
    for (let i = 0; i < BLOCKS; i++) {
      globalThis.gc?.();
      b.push(await block(b0, kind, n));
      globalThis.gc?.();
      w.push(await block(w0, kind, n));
    }
    if (records - before !== BLOCKS * n) {
      console.log(`FAILED: ${records - before} records for ${BLOCKS * n} instrumented calls`);
      process.exitCode = 1;
    }
    const overheadCpu = median(w.map((x, i) => x.cpuUs - b[i].cpuUs));
    console.log(
      `${path}, ${kind === 'whole' ? 'chat completion' : 'stream (12 chunks + usage)'}: CPU per call bare ${f(median(b.map((x) => x.cpuUs)))} µs, ` +
        `instrumented ${f(median(w.map((x) => x.cpuUs)))} µs; overhead median ${f(overheadCpu)} µs (target < 50 µs); wall per call bare ${f(median(b.map((x) => x.wallUs)))} µs`,
    );
    if (overheadCpu > 50) {
      console.log(`FAILED: ${path} ${kind} overhead ${f(overheadCpu)} µs CPU per call > 50 µs`);
      process.exitCode = 1;
    }
  }
}

// The estimate alone (part of the overhead above), in a loop.
let sink = 0;
const N = 200_000;
for (let i = 0; i < 20_000; i++) sink += estimateLlmCall({ provider: 'openai', model: 'gpt-4o-mini', outputTokens: 100 + (i % 7), latencyS: 1 }).energyKWh.max;
const t0 = process.hrtime.bigint();
for (let i = 0; i < N; i++) sink += estimateLlmCall({ provider: 'openai', model: 'gpt-4o-mini', outputTokens: 100 + (i % 7), latencyS: 1 }).energyKWh.max;
console.log(`estimateLlmCall: ${f(Number(process.hrtime.bigint() - t0) / 1e3 / N)} µs per call${sink < 0 ? '!' : ''}`);
server.disconnect();
