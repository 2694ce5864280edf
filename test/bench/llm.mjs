// Overhead of wattprint/llm's OpenAI instrumentation per call, on the real path: the real `openai`
// SDK calling a local HTTP server (a child process), and the same SDK with an in-memory `fetch`
// answering the server's bytes (no sockets: a tighter floor). Each round runs the bare client and the
// instrumented one in two fresh processes (an application uses one or the other; sharing a process
// would let one client's JIT state skew the other's), alternating which goes first; the figure is the
// client-process CPU time per call, median over rounds of (instrumented − bare). Target: < 50 µs.
// Run with `npm run bench` (builds first), or `node test/bench/llm.mjs` after a build.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROUNDS = 6;
const WARMUP = 1500;
const CALLS = 3000;
const ALL = ['server/whole', 'server/stream', 'memory/whole', 'memory/stream'];
// `node test/bench/llm.mjs memory` runs only the matching kinds.
const only = process.argv[2] === 'child' ? process.argv[5] : process.argv[2];
const KINDS = only ? ALL.filter((k) => k.includes(only)) : ALL;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const f = (x) => x.toFixed(1);

if (process.argv[2] === 'child') {
  const [, , , mode, port] = process.argv;
  const OpenAI = (await import('openai')).default;
  const { EmissionsTracker } = await import('../../dist/index.js');
  const { instrumentOpenAI } = await import('../../dist/llm.js');
  const baseURL = `http://127.0.0.1:${port}/v1`;
  const canned = {};
  for (const stream of [false, true]) {
    const r = await fetch(`${baseURL}/chat/completions`, { method: 'POST', body: JSON.stringify({ stream }) });
    canned[stream] = { body: await r.text(), type: r.headers.get('content-type') };
  }
  const memoryFetch = async (_url, init) => {
    const c = canned[JSON.parse(init.body).stream === true];
    return new Response(c.body, { status: 200, headers: { 'content-type': c.type } });
  };
  const tracker = new EmissionsTracker({ saveToFile: false, handleSignals: false, native: false, countryIsoCode: 'USA' });
  let records = 0;
  tracker.on('llm', () => records++);
  const client = (fetchImpl) => {
    const c = new OpenAI({ apiKey: 'sk-bench', baseURL, maxRetries: 0, ...(fetchImpl ? { fetch: fetchImpl } : {}) });
    return mode === 'instrumented' ? instrumentOpenAI(c, { tracker }) : c;
  };
  const clients = { server: client(), memory: client(memoryFetch) };
  const messages = [{ role: 'user', content: 'hi' }];
  const call = {
    whole: (c) => c.chat.completions.create({ model: 'gpt-4o-mini', messages }),
    stream: async (c) => {
      const s = await c.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true, stream_options: { include_usage: true } });
      for await (const _ of s);
    },
  };
  const out = {};
  for (const kind of KINDS) {
    const [path, what] = kind.split('/');
    for (let i = 0; i < WARMUP; i++) await call[what](clients[path]);
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < CALLS; i++) await call[what](clients[path]);
    const c = process.cpuUsage(cpu0);
    out[kind] = (c.user + c.system) / CALLS;
  }
  const expected = mode === 'instrumented' ? KINDS.length * (WARMUP + CALLS) : 0;
  process.send({ out, recordsOk: records === expected });
  process.exit(0);
}

const server = fork(fileURLToPath(new URL('./llm-api-server.cjs', import.meta.url)), { stdio: 'inherit' });
const port = await new Promise((r) => server.once('message', r));
const runChild = (mode) =>
  new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['child', mode, String(port), ...(only ? [only] : [])], { stdio: 'inherit' });
    child.once('message', resolve);
    child.once('exit', (code) => code !== 0 && reject(new Error(`${mode} child exited ${code}`)));
  });

const rows = Object.fromEntries(KINDS.map((k) => [k, { bare: [], instrumented: [] }]));
for (let r = 0; r < ROUNDS; r++) {
  for (const mode of r % 2 ? ['instrumented', 'bare'] : ['bare', 'instrumented']) {
    const { out, recordsOk } = await runChild(mode);
    if (!recordsOk) {
      console.log(`FAILED: the ${mode} run did not record every call`);
      process.exitCode = 1;
    }
    for (const k of KINDS) rows[k][mode].push(out[k]);
  }
}
server.disconnect();
const names = { 'server/whole': 'local HTTP server, chat completion', 'server/stream': 'local HTTP server, stream (12 chunks + usage)', 'memory/whole': 'in-memory fetch, chat completion', 'memory/stream': 'in-memory fetch, stream (12 chunks + usage)' };
for (const k of KINDS) {
  const { bare, instrumented } = rows[k];
  const overhead = median(instrumented.map((x, i) => x - bare[i]));
  console.log(`${names[k]}: CPU per call bare ${f(median(bare))} µs, instrumented ${f(median(instrumented))} µs; overhead median ${f(overhead)} µs over ${ROUNDS} rounds (target < 50 µs)`);
  if (overhead > 50) {
    console.log(`FAILED: ${names[k]} overhead ${f(overhead)} µs per call > 50 µs`);
    process.exitCode = 1;
  }
}

const { estimateLlmCall } = await import('../../dist/llm.js');
let sink = 0;
const N = 200_000;
for (let i = 0; i < 20_000; i++) sink += estimateLlmCall({ provider: 'openai', model: 'gpt-4o-mini', outputTokens: 100 + (i % 7), latencyS: 1 }).energyKWh.max;
const t0 = process.hrtime.bigint();
for (let i = 0; i < N; i++) sink += estimateLlmCall({ provider: 'openai', model: 'gpt-4o-mini', outputTokens: 100 + (i % 7), latencyS: 1 }).energyKWh.max;
console.log(`estimateLlmCall alone (hot loop): ${f(Number(process.hrtime.bigint() - t0) / 1e3 / N)} µs per call${sink < 0 ? '!' : ''}`);

// What instrumenting an LLM client with a tracker costs the tracker's other wrapped calls: rule
// 'work' finds a request's call with the promise hooks it has anyway; rule 'time' then runs each
// call in an AsyncLocalStorage. Measured before and after turning it on, per rule.
const { EmissionsTracker: Tracker } = await import('../../dist/index.js');
for (const attribution of ['work', 'time']) {
  const t = new Tracker({ saveToFile: false, handleSignals: false, native: false, countryIsoCode: 'FRA', attribution });
  t.on('warning', () => {});
  t.start();
  const wrapped = t.wrap(async (x) => {
    await null;
    return x + 1;
  }, { name: 'f' });
  const perCall = async () => {
    for (let i = 0; i < 50_000; i++) await wrapped(i);
    const c0 = process.cpuUsage();
    for (let i = 0; i < 200_000; i++) await wrapped(i);
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / 200_000;
  };
  const off = await perCall();
  t.remoteCallScope();
  const on = await perCall();
  console.log(`wrapped async call, attribution '${attribution}': ${f(off * 1000)} ns CPU, ${f(on * 1000)} ns once an LLM client is instrumented with the tracker (${on >= off ? '+' : ''}${f((on - off) * 1000)} ns)`);
  await t.stop();
}
