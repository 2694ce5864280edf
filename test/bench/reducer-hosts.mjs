// Which small hosts get V8's memory-reducer collections, with and without a tracker: each host is a
// fresh `node --trace-gc` process running a few steps (load a library, print a line, listen with
// node:http, import wattprint and start a tracker), then idling 13 s, long enough for a reducer armed
// by the first samples to collect. Prints the "Mark-Compact (reduce)" collections of each of RUNS
// runs per host. No time is measured, but load moves the count of some hosts (docs/performance.md),
// so two processes at most run at once.
// `node test/bench/reducer-hosts.mjs` after `npm run build` (npm run bench does both).
// Only what Node's loader has already loaded is imported statically: a host must load no more than
// its steps (node:child_process, which the parent needs, is one of them).
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const distUrl = pathToFileURL(join(here, '..', '..', 'dist', 'index.js')).href;
const RUNS = 3;
const PARALLEL = 2;
const IDLE_MS = 13_000;

// Each host runs this file (a script, as real hosts are, not `node -e`), with `host` and its steps.
const HOSTS = [
  ['nothing', []],
  ['one `console.log` line', ['console']],
  ["`await import('node:child_process')`", ['child_process']],
  ["`await import('node:fs')` (as an ES module's `import … from 'node:fs'`)", ['fs']],
  ['an `http` server listening', ['http']],
  ['`import` wattprint + `start()` (machine mode, 1 s), nothing else', ['wattprint']],
  ['one `console.log` line, then wattprint', ['console', 'wattprint']],
  ['`node:child_process` (as the sampling bench\'s child), then wattprint', ['child_process', 'wattprint']],
  ["`await import('node:fs')`, then wattprint", ['fs', 'wattprint']],
  ['an `http` server listening, then wattprint', ['http', 'wattprint']],
  ["`require('prom-client')` alone", ['prom-client']],
  ["`require('ajv')` alone", ['ajv']],
  ["`require('openai')` alone", ['openai']],
  ["`require('commander')` alone", ['commander']],
  ["`require('@opentelemetry/api')` alone", ['@opentelemetry/api']],
];

async function host(steps) {
  let tracker;
  for (const s of steps) {
    if (s === 'console') console.log('host says hello');
    else if (s === 'child_process') await import('node:child_process');
    else if (s === 'fs') await import('node:fs');
    else if (s === 'http') {
      const http = await import('node:http');
      const server = http.createServer((_req, res) => res.end('ok'));
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
      server.unref();
    } else if (s === 'wattprint') {
      const { EmissionsTracker } = await import(distUrl);
      tracker = new EmissionsTracker({ saveToFile: false, handleSignals: false, countryIsoCode: 'FRA', measurePowerSecs: 1 });
      tracker.start();
    } else {
      const { createRequire } = await import('node:module');
      globalThis[`lib:${s}`] = createRequire(join(here, '..', '..', 'package.json'))(s);
    }
  }
  setTimeout(() => tracker?.stop(), IDLE_MS);
}

async function runHost(steps) {
  const { spawn } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--trace-gc', fileURLToPath(import.meta.url), 'host', ...steps], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('exit', (code) => (code === 0 ? resolve(out.split('\n').filter((l) => l.includes('Mark-Compact (reduce)')).length) : reject(new Error(`host ${steps.join(',')} exited ${code}`))));
  });
}

// `node test/bench/reducer-hosts.mjs fs`: only the hosts with that step.
async function main(step) {
  const hosts = step ? HOSTS.filter(([, steps]) => steps.includes(step)) : HOSTS;
  const jobs = hosts.flatMap(([, steps], h) => Array.from({ length: RUNS }, () => ({ h, steps })));
  const counts = hosts.map(() => []);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const job = jobs[next++];
      counts[job.h].push(await runHost(job.steps));
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  console.log(`Memory-reducer collections per run (${RUNS} runs per host, each idling ${IDLE_MS / 1000} s after its steps):\n`);
  console.log('| host | collections per run |\n|---|---|');
  hosts.forEach(([label], h) => console.log(`| ${label} | ${counts[h].join(', ')} |`));
}

if (process.argv[2] === 'host') await host(process.argv.slice(3));
else await main(process.argv[2]);
