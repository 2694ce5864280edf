// Overhead of wrapping a real HTTP server's handler at full load: the same server bare, with
// attribution 'work' (the default) and with 'time'. The server (http-server.mjs, its own process)
// cycles through the three modes every PHASE_MS under a constant load from this process
// (keep-alive connections, one request in flight each), so drift on a shared machine hits every
// mode alike. Per mode: requests/s and CPU time per request; at full load a CPU-bound server
// serves 1 / (CPU per request) requests a second, the steadier of the two figures when other jobs
// share the machine. Medians over the phases. Target: the default mode costs < 3 % of requests/s.
import { spawn } from 'node:child_process';
import net from 'node:net';
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
const child = spawn(process.execPath, [join(here, 'http-server.mjs'), String(PHASE_MS), workload], { stdio: ['ignore', 'pipe', 'pipe'] });
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
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const per = (mode) => phases.filter((p) => p.mode === mode);
const cpuPerReq = (mode) => median(per(mode).map((p) => p.cpuUs / p.requests));
const rate = (mode) => median(per(mode).map((p) => (p.requests * 1000) / p.ms));
const bareCpu = cpuPerReq('bare');
const bareRate = rate('bare');
for (const mode of ['bare', 'work', 'time']) {
  const label = `${workload}, ${mode === 'bare' ? 'not wrapped' : `wrapped, attribution '${mode}'`}`;
  const vs = mode === 'bare' ? '' : `: +${((cpuPerReq(mode) / bareCpu - 1) * 100).toFixed(1)} % CPU per request, ${((1 - rate(mode) / bareRate) * 100).toFixed(1)} % fewer requests/s`;
  console.log(`http server, ${label}: ${cpuPerReq(mode).toFixed(1)} µs CPU/request, ${Math.round(rate(mode))} req/s (median of ${per(mode).length} phases)${vs}`);
}
return cpuPerReq('work') / bareCpu - 1;
}

const chatCost = await bench('chat');
const itemsCost = await bench('items');
console.log(`default mode ('work') cost at full load, chat completion server: ${(chatCost * 100).toFixed(1)} % CPU per request [target < 3 %: ${chatCost < 0.03 ? 'ok' : 'ABOVE TARGET'}]`);
console.log(`the same on the minimal JSON handler (worst case): ${(itemsCost * 100).toFixed(1)} %`);
