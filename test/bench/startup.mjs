// Start-up costs in fresh processes (median of 3 processes each): `import` / `require` of the built
// package, the first lookupCpuTdp (reads the precomputed index) and a second one, and, side by side
// in the same run, what the first lookup cost before the index: tokenising all 4903 rows.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, '..', '..', 'dist');
const rawTable = join(here, '..', '..', 'src', 'estimate', 'data', 'cpu-tdp.json');
const RUNS = 3;

const MODEL = 'AMD EPYC 7763 64-Core Processor'; // a token-set match: the longest lookup path
const probe = (load) => `
  const { performance } = require('node:perf_hooks');
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  ${load}
  const t1 = performance.now();
  const heap1 = process.memoryUsage().heapUsed;
  const first = m.lookupCpuTdp(${JSON.stringify(MODEL)});
  const t2 = performance.now();
  m.lookupCpuTdp('Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz');
  const t3 = performance.now();
  if (first?.tdpW !== 280) throw new Error('wrong lookup ' + JSON.stringify(first));
  console.log(JSON.stringify({ importMs: t1 - t0, importHeapKiB: (heap1 - heap0) / 1024, firstLookupMs: t2 - t1, nextLookupMs: t3 - t2 }));
`;

// The lookup as it was: parse the raw table and tokenise every row on the first call.
const before = `
  const { performance } = require('node:perf_hooks');
  const t0 = performance.now();
  const rows = JSON.parse(require('node:fs').readFileSync(${JSON.stringify(rawTable)}, 'utf8')).rows;
  const byLower = new Map(), postings = new Map();
  const tokens = rows.map(([name], i) => {
    if (!byLower.has(name.toLowerCase())) byLower.set(name.toLowerCase(), i);
    const p = name.replace(/[^\\p{L}\\p{N}]/gu, ' ').toLowerCase().trim();
    const set = p === '' ? [] : [...new Set(p.split(/\\s+/))];
    for (const t of set) { const l = postings.get(t); if (l) l.push(i); else postings.set(t, [i]); }
    return set;
  });
  console.log(JSON.stringify({ indexBuildMs: performance.now() - t0, rows: tokens.length }));
`;

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function runs(args) {
  const out = [];
  for (let i = 0; i < RUNS; i++) {
    const r = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, WATTPRINT_NATIVE: '0' } });
    if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
    out.push(JSON.parse(r.stdout));
  }
  return Object.fromEntries(Object.keys(out[0]).map((k) => [k, median(out.map((o) => o[k]))]));
}

const esm = runs(['--input-type=module', '-e', `import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);
  ${probe(`const m = await import(${JSON.stringify(pathToFileURL(join(dist, 'index.js')).href)});`)}`]);
const cjs = runs(['-e', probe(`const m = require(${JSON.stringify(join(dist, 'index.cjs'))});`)]);
const old = runs(['-e', before]);
// Floors in the same run: the ESM loader's own start (a dynamic import of a one-line module) and a
// require of core modules.
const esmFloor = runs(['--input-type=module', '-e', `const t0 = performance.now(); await import('data:text/javascript,export const x = 1'); console.log(JSON.stringify({ ms: performance.now() - t0 }));`]);
const floor = runs(['-e', `const { performance } = require('node:perf_hooks'); const t0 = performance.now(); require('node:fs'); require('node:events'); console.log(JSON.stringify({ ms: performance.now() - t0 }));`]);

const f = (ms) => `${ms.toFixed(2)} ms`;
console.log(`fresh processes, median of ${RUNS}; the addon not loaded (WATTPRINT_NATIVE=0) so only the JavaScript is timed`);
console.log(`import 'wattprint' (ESM entry):     ${f(esm.importMs)}, heap +${esm.importHeapKiB.toFixed(0)} KiB`);
console.log(`require('wattprint') (CJS):          ${f(cjs.importMs)}, heap +${cjs.importHeapKiB.toFixed(0)} KiB`);
console.log(`first lookupCpuTdp (token-set path): ${f(esm.firstLookupMs)} (ESM), ${f(cjs.firstLookupMs)} (CJS)`);
console.log(`next lookupCpuTdp:                   ${f(esm.nextLookupMs)}`);
console.log(`before the index, tokenising ${old.rows} rows on the first lookup: ${f(old.indexBuildMs)}`);
console.log(`floor, first dynamic import of a one-line ESM module: ${f(esmFloor.ms)}`);
console.log(`floor, require of two core modules:  ${f(floor.ms)}`);
