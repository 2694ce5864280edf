// Overhead of wrapping a real HTTP server's handler at full load: the same server bare, with
// attribution 'work' (the default) and with 'time'. The server (http-server.mjs, its own process)
// cycles through the three modes every PHASE_MS under a constant load (keep-alive connections, one
// request in flight each), so drift on a shared machine hits every mode alike. Per mode:
// requests/s and CPU time per request; at full load a CPU-bound server serves 1 / (CPU per
// request) requests a second. Each wrapped phase is compared with the bare phases on either side
// of it; the figures are the medians of those paired ratios. Target: the default mode costs < 3 %
// of requests/s.
//
// Fairness: with `taskset` (util-linux) and two CPUs or more, the server is pinned to one CPU and
// the load generator to another, so the two do not take turns on the same core and the server's
// requests/s is its own capacity. The load generator is `wrk` when installed (a C client, a few
// µs a request), else a built-in Node one in this process. The output says which was used.
//
// Env: BENCH_HTTP_SECONDS (per server, default 60: ~38 phases per mode), BENCH_HTTP_MODES (a subset of bare,work,time;
// keep bare, every ratio is against it), BENCH_HTTP_RUNS (repeat, default 1), BENCH_HTTP_WORKLOADS
// (a subset of chat,items), BENCH_HTTP_NODE_ARGS (flags for the server's node, e.g.
// `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it), BENCH_HTTP_LOAD (wrk | node: force a load
// generator), BENCH_HTTP_PIN (0: no pinning; or the CPUs `server,load`, default 0,1),
// BENCH_HTTP_DIST (the build the server loads, default dist/: e.g. a copy from before a change),
// BENCH_HTTP_PHASE_MS (default 500).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const SECONDS = Number(process.env.BENCH_HTTP_SECONDS ?? 60);
const PHASE_MS = Number(process.env.BENCH_HTTP_PHASE_MS ?? 500);
const CONNECTIONS = 32;

const message = (i) => ({ role: i % 2 ? 'assistant' : 'user', content: `Message ${i}: what does the energy of one request depend on, and how would you measure it on a shared server? Explain briefly, with numbers.` });
const chatBody = JSON.stringify({ model: 'bench-model', messages: Array.from({ length: 14 }, (_, i) => message(i)) });
const REQUESTS = {
  chat: { method: 'POST', path: '/v1/chat/completions', headers: { 'Content-Type': 'application/json' }, body: chatBody },
  items: { method: 'GET', path: '/items?n=20&q=bench', headers: { Connection: 'keep-alive' }, body: '' },
};
const rawRequest = ({ method, path, headers, body }) => {
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  if (body) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`);
};

const runs = (cmd, args) => {
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  return r.error === undefined;
};
const cpuCount = os.availableParallelism?.() ?? os.cpus().length;
const pinSetting = process.env.BENCH_HTTP_PIN ?? '0,1';
const [SERVER_CPU, LOAD_CPU] = pinSetting.split(',').map(Number);
const PIN = pinSetting !== '0' && cpuCount >= 2 && runs('taskset', ['--version']) && Number.isInteger(SERVER_CPU) && Number.isInteger(LOAD_CPU);
const LOAD = process.env.BENCH_HTTP_LOAD ?? (runs('wrk', ['-v']) ? 'wrk' : 'node');
const pinned = (cpu, cmd, args) => (PIN ? ['taskset', ['-c', String(cpu), cmd, ...args]] : [cmd, args]);
// The built-in generator runs in this process: pin all its threads to the load CPU.
if (PIN && LOAD === 'node' && !runs('taskset', ['-a', '-p', '-c', String(LOAD_CPU), String(process.pid)])) throw new Error('taskset could not pin the bench process');
console.log(
  `load generator: ${LOAD === 'wrk' ? 'wrk (1 thread)' : 'built-in (Node, in the bench process)'}, ${CONNECTIONS} connections; ` +
    (PIN ? `pinned: server on CPU ${SERVER_CPU}, load generator on CPU ${LOAD_CPU} (taskset)` : `not pinned (${cpuCount} CPUs${runs('taskset', ['--version']) ? '' : ', no taskset'})`),
);

/** Keeps CONNECTIONS keep-alive connections busy, one request in flight each, until the returned stop is called. */
function nodeLoad(port, request) {
  const raw = rawRequest(request);
  const sockets = [];
  for (let i = 0; i < CONNECTIONS; i++) {
    const s = net.connect(port, '127.0.0.1');
    let buf = '';
    s.setNoDelay(true);
    s.on('connect', () => s.write(raw));
    s.on('data', (chunk) => {
      buf += chunk.toString('latin1');
      for (;;) {
        const head = buf.indexOf('\r\n\r\n');
        if (head < 0) return;
        const m = /content-length: (\d+)/i.exec(buf.slice(0, head));
        const total = head + 4 + Number(m ? m[1] : 0);
        if (buf.length < total) return;
        buf = buf.slice(total);
        s.write(raw);
      }
    });
    s.on('error', () => {});
    sockets.push(s);
  }
  return async () => {
    for (const s of sockets) s.destroy();
  };
}

/** The same load from wrk (its own process, pinned to the load CPU), for SECONDS + 5 s at most. */
function wrkLoad(port, request) {
  const dir = mkdtempSync(join(os.tmpdir(), 'wattprint-http-'));
  const script = join(dir, 'request.lua');
  const headers = Object.entries(request.headers).map(([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`);
  writeFileSync(script, [`wrk.method = ${JSON.stringify(request.method)}`, `wrk.body = ${JSON.stringify(request.body)}`, ...headers, ''].join('\n'));
  const [cmd, args] = pinned(LOAD_CPU, 'wrk', ['-t1', `-c${CONNECTIONS}`, `-d${SECONDS + 5}s`, '-s', script, `http://127.0.0.1:${port}${request.path}`]);
  const child = spawn(cmd, args, { stdio: 'ignore' });
  const exited = new Promise((r) => child.once('exit', r));
  return async () => {
    child.kill('SIGINT');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
}

const median = (xs) => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};
const pct = (x) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} %`;
const MODES = (process.env.BENCH_HTTP_MODES ?? 'bare,work,time').split(',');
const WRAPPED = MODES.filter((m) => m !== 'bare');

/** One server under load for SECONDS; per wrapped mode, its paired cost in requests/s and CPU per request. */
async function bench(workload) {
  const nodeArgs = [...(process.env.BENCH_HTTP_NODE_ARGS ?? '').split(' ').filter(Boolean), join(here, 'http-server.mjs'), String(PHASE_MS), workload];
  const [cmd, args] = pinned(SERVER_CPU, process.execPath, nodeArgs);
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const port = await new Promise((resolve, reject) => {
    child.stdout.once('data', (d) => resolve(Number(String(d).trim())));
    child.once('exit', (code) => reject(new Error(`server exited ${code}: ${stderr}`)));
  });

  const stopLoad = (LOAD === 'wrk' ? wrkLoad : nodeLoad)(port, REQUESTS[workload]);
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
  await stopLoad();

  // The first cycles warm up (JIT, connections).
  const phases = stderr.trim().split('\n').map((l) => JSON.parse(l)).slice(6).filter((p) => p.requests > 0);
  const cpuOf = (p) => p.cpuUs / p.requests;
  const rateOf = (p) => (p.requests * 1000) / p.ms;
  const busyOf = (p) => p.cpuUs / 1000 / p.ms;
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
  const costs = {};
  for (const mode of MODES) {
    const label = `${workload}, ${mode === 'bare' ? 'not wrapped' : `wrapped, attribution '${mode}'`}`;
    const ps = per(mode);
    const own = `${median(ps.map(cpuOf)).toFixed(1)} µs CPU/request, ${Math.round(median(ps.map(rateOf)))} req/s, server busy ${(median(ps.map(busyOf)) * 100).toFixed(0)} % of a CPU (medians of ${ps.length} phases)`;
    if (mode !== 'bare') costs[mode] = { rate: 1 - paired(mode, rateOf), cpu: paired(mode, cpuOf) - 1 };
    const vs = mode === 'bare' ? '' : `; paired with bare: requests/s ${pct(-costs[mode].rate)}, CPU/request ${pct(costs[mode].cpu)}`;
    console.log(`http server, ${label}: ${own}${vs}`);
  }
  return costs;
}

// BENCH_HTTP_RUNS: repeat both servers (each run's paired medians, then the median of the runs).
const RUNS = Number(process.env.BENCH_HTTP_RUNS ?? 1);
const WORKLOADS = (process.env.BENCH_HTTP_WORKLOADS ?? 'chat,items').split(',');
const results = Object.fromEntries(WORKLOADS.map((w) => [w, []]));
for (let r = 0; r < RUNS; r++) {
  const load = os.loadavg()[0].toFixed(1);
  for (const w of WORKLOADS) results[w].push(await bench(w));
  console.log(`run ${r + 1} of ${RUNS}: load average ${load} → ${os.loadavg()[0].toFixed(1)} (${cpuCount} CPUs)`);
}
const each = (xs) => (xs.length > 1 ? ` (runs ${xs.map((x) => pct(x)).join(', ')})` : '');
const title = { chat: 'chat completion server', items: 'minimal JSON handler (worst case)' };
for (const mode of WRAPPED) {
  for (const workload of WORKLOADS) {
    const rate = results[workload].map((c) => c[mode].rate);
    const cpu = results[workload].map((c) => c[mode].cpu);
    const target = mode === 'work' ? ` [target < 3 %: ${median(rate) < 0.03 ? 'ok' : 'ABOVE TARGET'}]` : '';
    console.log(`'${mode}' cost at full load, ${title[workload]}: requests/s ${pct(-median(rate))}${each(rate.map((x) => -x))}, CPU/request ${pct(median(cpu))}${each(cpu)}${target}`);
  }
}
