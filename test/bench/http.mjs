// Overhead of wrapping a real HTTP server's handler at full load: the same server bare, with
// attribution 'work' (the default) and with 'time'. The server (http-server.mjs, its own process)
// cycles through the three modes every PHASE_MS under a constant load from this process
// (keep-alive connections, one request in flight each), so drift on a shared machine hits every
// mode alike. Per mode: requests/s and CPU time per request; at full load a CPU-bound server
// serves 1 / (CPU per request) requests a second, the steadier of the two figures when other jobs
// share the machine. Each wrapped phase is compared with the bare phases on either side of it;
// the figures are the medians of those paired ratios. Target: the default mode costs < 3 % of requests/s.
// Env: BENCH_HTTP_SECONDS (per server, default 30), BENCH_HTTP_MODES (a subset of bare,work,time;
// keep bare, every ratio is against it), BENCH_HTTP_RUNS (repeat, default 1), BENCH_HTTP_NODE_ARGS (flags for the server's node, e.g.
// `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it).
import { spawn } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const SECONDS = Number(process.env.BENCH_HTTP_SECONDS ?? 30);
const PHASE_MS = 500;
const CONNECTIONS = 32;

const message = (i) => ({ role: i % 2 ? 'assistant' : 'user', content: `Message ${i}: what does the energy of one request depend on, and how would you measure it on a shared server? Explain briefly, with numbers.` });
const chatBody = JSON.stringify({ model: 'bench-model', messages: Array.from({ length: 14 }, (_, i) => message(i)) });
const REQUESTS = {
  chat: Buffer.from(`POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(chatBody)}\r\n\r\n${chatBody}`),
  items: Buffer.from('GET /items?n=20&q=bench HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n'),
};

async function bench(workload) {
const child = spawn(process.execPath, [...(process.env.BENCH_HTTP_NODE_ARGS ?? '').split(' ').filter(Boolean), join(here, 'http-server.mjs'), String(PHASE_MS), workload], { stdio: ['ignore', 'pipe', 'pipe'] });
let stderr = '';
child.stderr.on('data', (d) => (stderr += d));
const port = await new Promise((resolve, reject) => {
  child.stdout.once('data', (d) => resolve(Number(String(d).trim())));
  child.once('exit', (code) => reject(new Error(`server exited ${code}: ${stderr}`)));
});

const request = REQUESTS[workload];
const sockets = [];
for (let i = 0; i < CONNECTIONS; i++) {
  const s = net.connect(port, '127.0.0.1');
  let buf = '';
  s.setNoDelay(true);
  s.on('connect', () => s.write(request));
  s.on('data', (chunk) => {
    buf += chunk.toString('latin1');
    for (;;) {
      const head = buf.indexOf('\r\n\r\n');
      if (head < 0) return;
      const m = /content-length: (\d+)/i.exec(buf.slice(0, head));
      const total = head + 4 + Number(m ? m[1] : 0);
      if (buf.length < total) return;
      buf = buf.slice(total);
      s.write(request);
    }
  });
  s.on('error', () => {});
  sockets.push(s);
}
await new Promise((r) => setTimeout(r, SECONDS * 1000));
for (const s of sockets) s.destroy();
const exited = new Promise((r) => child.once('exit', r));
child.kill('SIGTERM');
await exited;

// The first cycles warm up (JIT, connections).
const phases = stderr.trim().split('\n').map((l) => JSON.parse(l)).slice(6).filter((p) => p.requests > 0);
const median = (xs) => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};
const cpuOf = (p) => p.cpuUs / p.requests;
const rateOf = (p) => (p.requests * 1000) / p.ms;
const per = (mode) => phases.filter((p) => p.mode === mode);
// Paired: each wrapped phase against the mean of the bare phases just before and after it, so
// that the machine's drift (other jobs starting and stopping) cancels; the median of those ratios.
const paired = (mode, f) => {
  const ratios = [];
  phases.forEach((p, i) => {
    if (p.mode !== mode) return;
    const before = phases.slice(0, i).reverse().find((q) => q.mode === 'bare');
    const after = phases.slice(i + 1).find((q) => q.mode === 'bare');
    if (before && after) ratios.push(f(p) / ((f(before) + f(after)) / 2));
  });
  return median(ratios);
};
const pct = (x) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} %`;
for (const mode of (process.env.BENCH_HTTP_MODES ?? 'bare,work,time').split(',')) {
  const label = `${workload}, ${mode === 'bare' ? 'not wrapped' : `wrapped, attribution '${mode}'`}`;
  const vs = mode === 'bare' ? '' : `: ${pct(paired(mode, cpuOf) - 1)} CPU per request, requests/s ratio ${paired(mode, rateOf).toFixed(3)}`;
  console.log(`http server, ${label}: ${median(per(mode).map(cpuOf)).toFixed(1)} µs CPU/request, ${Math.round(median(per(mode).map(rateOf)))} req/s (median of ${per(mode).length} phases)${vs}`);
}
return paired('work', cpuOf) - 1;
}

// BENCH_HTTP_RUNS: repeat both servers (each run's paired medians, then the median of the runs).
const RUNS = Number(process.env.BENCH_HTTP_RUNS ?? 1);
const costs = { chat: [], items: [] };
for (let r = 0; r < RUNS; r++) {
  const load = os.loadavg()[0].toFixed(1);
  costs.chat.push(await bench('chat'));
  costs.items.push(await bench('items'));
  console.log(`run ${r + 1} of ${RUNS}: load average ${load} → ${os.loadavg()[0].toFixed(1)} (${os.cpus().length} CPUs)`);
}
const runsMedian = (xs) => [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1];
const each = (xs) => (xs.length > 1 ? ` (runs: ${xs.map((x) => (x * 100).toFixed(1)).join(', ')})` : '');
const chatCost = runsMedian(costs.chat);
const itemsCost = runsMedian(costs.items);
console.log(`default mode ('work') cost at full load, chat completion server: ${(chatCost * 100).toFixed(1)} % CPU per request${each(costs.chat)} [target < 3 %: ${chatCost < 0.03 ? 'ok' : 'ABOVE TARGET'}]`);
console.log(`the same on the minimal JSON handler (worst case): ${(itemsCost * 100).toFixed(1)} %${each(costs.items)} [target < 3 %: ${itemsCost < 0.03 ? 'ok' : 'ABOVE TARGET'}]`);
