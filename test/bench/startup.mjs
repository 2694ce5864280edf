// Start-up costs of the built package in fresh processes, each against a floor measured in the same
// run (median of 3; the three values in brackets):
// - `import 'wattprint'` (ESM entry) and `require('wattprint')`, against the import / require of a
//   one-line module of the same shape (an ESM file re-exporting a CommonJS one);
// - the first start() in a process (addon on, machine and process mode), the first sample after it,
//   stop(), and the heap that import + start() retain after a forced GC and grow before it;
// - the heap that import + new EmissionsTracker() + start() allocate, every object counted whether
//   it lives or not (V8's sampling heap profiler, 32-byte mean interval, collected objects kept),
//   against a module of the package's shape whose tracker does nothing;
// - the first lookupCpuTdp of three kinds of names (the index read by byte offset), and what the
//   first lookup cost before any index: tokenising all 4903 rows;
// - the whole-process cost: total CPU at exit of a process that imports wattprint, starts a tracker
//   (machine mode, 1 s) and idles 20 s, minus a bare Node process idling 20 s side by side, and the
//   V8 "Mark-Compact (reduce)" collections (--trace-gc) each of them saw.
// `node test/bench/startup.mjs` after `npm run build` (npm run bench does both); `… quick` skips the
// 20 s whole-process rounds. With WATTPRINT_BENCH_BASELINE=<another build's dist/> (e.g. of main)
// the import, first start(), heap and whole-process figures of that build are measured in the same
// run, interleaved, as a "before" column.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, '..', '..', 'dist');
const distUrl = pathToFileURL(join(dist, 'index.js')).href;
const baseline = process.env.WATTPRINT_BENCH_BASELINE;
const baseUrl = baseline && pathToFileURL(join(baseline, 'index.js')).href;
const rawTable = join(here, '..', '..', 'src', 'estimate', 'data', 'cpu-tdp.json');
const RUNS = 3;
const IDLE_MS = 20_000;
// CodeCarbon 3.3 on this kind of machine (issue 11): import 0.13–0.26 s + init and start 1.6–1.9 s +
// sampling 127–162 ms per 20 s at 1 s: its whole-process figure is about 1.9–2.3 s.
const CODECARBON_WHOLE_MS = [1900, 2300];

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** Runs `code` (ESM when `esm`) in a fresh process RUNS times; the median of each printed field. */
function runs(code, { esm = false, args = [] } = {}) {
  const out = [];
  for (let i = 0; i < RUNS; i++) {
    const script = esm ? `import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);\n${code}` : code;
    const r = spawnSync(process.execPath, ['--expose-gc', ...args, ...(esm ? ['--input-type=module'] : []), '-e', script], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`bench child failed: ${r.stderr}`);
    out.push(JSON.parse(r.stdout.trim().split('\n').pop()));
  }
  return Object.fromEntries(Object.keys(out[0]).map((k) => [k, { median: median(out.map((o) => o[k])), all: out.map((o) => o[k]) }]));
}

// A module of the package's shape for the floors: dist/index.js re-exports dist/index.cjs.
const floorDir = mkdtempSync(join(tmpdir(), 'wattprint-bench-'));
writeFileSync(join(floorDir, 'index.cjs'), "'use strict';\nexports.x = 1;\n");
writeFileSync(join(floorDir, 'index.js'), "export * from './index.cjs';\n");
// The allocation floor has dist/index.js's exact shape, and a tracker that does nothing.
writeFileSync(join(floorDir, 'alloc.cjs'), "'use strict';\nexports.EmissionsTracker = class { start() {} };\n");
writeFileSync(
  join(floorDir, 'alloc.js'),
  "import { createRequire } from 'node:module';\nexport const { EmissionsTracker } = createRequire(import.meta.url)('./alloc.cjs');\n",
);
const timed = (load) => `
  globalThis.gc();
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  ${load}
  const ms = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 10));
  globalThis.gc();
  console.log(JSON.stringify({ ms, heapKiB: (process.memoryUsage().heapUsed - heap0) / 1024 }));`;

// In ES module scripts (top-level await); `require` from createRequire for the CommonJS rows.
const esmImport = runs(timed(`await import(${JSON.stringify(distUrl)});`), { esm: true });
const esmFloor = runs(timed(`await import(${JSON.stringify(pathToFileURL(join(floorDir, 'index.js')).href)});`), { esm: true });
const cjsRequire = runs(timed(`require(${JSON.stringify(join(dist, 'index.cjs'))});`), { esm: true, args: [] });
const cjsFloor = runs(timed(`require(${JSON.stringify(join(floorDir, 'index.cjs'))});`), { esm: true });

// The first start() and what follows it, in a process that did nothing else before.
const startProbe = (mode, url = distUrl) => `
  globalThis.gc();
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const { EmissionsTracker } = await import(${JSON.stringify(url)});
  const t1 = performance.now();
  const t = new EmissionsTracker({ saveToFile: false, handleSignals: false, countryIsoCode: 'FRA', trackingMode: '${mode}' });
  t.start();
  const t2 = performance.now();
  const heapNoGc = process.memoryUsage().heapUsed;
  t.sample();
  const t3 = performance.now();
  await new Promise((r) => setTimeout(r, 10));
  globalThis.gc();
  const heap1 = process.memoryUsage().heapUsed;
  const t4 = performance.now();
  await t.stop();
  const t5 = performance.now();
  console.log(JSON.stringify({ importMs: t1 - t0, startMs: t2 - t1, sampleMs: t3 - t2, stopMs: t5 - t4, heapKiB: (heap1 - heap0) / 1024, heapNoGcKiB: (heapNoGc - heap0) / 1024 }));`;
const start = { machine: runs(startProbe('machine'), { esm: true }), process: runs(startProbe('process'), { esm: true }) };

// Allocated, not grown: heapUsed moves by whole pages of old space. The profiler's own messages
// allocate too: a run that loads nothing measures them, and they are subtracted.
const allocProbe = (url, mode = 'machine') => `
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  globalThis.gc();
  await session.post('HeapProfiler.startSampling', { samplingInterval: 32, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  if (${JSON.stringify(url)} !== '') {
    const { EmissionsTracker } = await import(${JSON.stringify(url)});
    new EmissionsTracker({ saveToFile: false, handleSignals: false, countryIsoCode: 'FRA', trackingMode: '${mode}' }).start();
  }
  const { profile } = await session.post('HeapProfiler.stopSampling');
  let bytes = 0;
  (function add(node) { bytes += node.selfSize; node.children.forEach(add); })(profile.head);
  console.log(JSON.stringify({ kib: bytes / 1024 }));
  process.exit(0);`;
const allocNothing = runs(allocProbe(''), { esm: true });
const allocated = (url, mode) => {
  const r = runs(allocProbe(url, mode), { esm: true });
  const net = r.kib.all.map((k) => k - allocNothing.kib.median);
  return { median: median(net), all: net };
};
const alloc = {
  machine: allocated(distUrl, 'machine'),
  process: allocated(distUrl, 'process'),
  floor: allocated(pathToFileURL(join(floorDir, 'alloc.js')).href),
};
const baseStart = baseUrl && runs(startProbe('machine', baseUrl), { esm: true });

// First lookups, each in its own process, and the first lookup as it was before any index.
const MODELS = [
  ['normalised match', 'Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz', 150],
  ['token-set match', 'AMD EPYC 7763 64-Core Processor', 280],
  ['no match (token sets)', 'AMD EPYC', undefined],
];
const lookups = MODELS.map(([what, model, tdpW]) => {
  const r = runs(`
    const m = require(${JSON.stringify(join(dist, 'index.cjs'))});
    const t0 = performance.now();
    const hit = m.lookupCpuTdp(${JSON.stringify(model)});
    const t1 = performance.now();
    m.lookupCpuTdp('Intel Xeon Gold 6148');
    const t2 = performance.now();
    if (hit?.tdpW !== ${JSON.stringify(tdpW)}) throw new Error('wrong lookup ' + JSON.stringify(hit));
    console.log(JSON.stringify({ firstMs: t1 - t0, nextMs: t2 - t1 }));`);
  return { what, ...r };
});
const before = runs(`
  const t0 = performance.now();
  const rows = JSON.parse(require('node:fs').readFileSync(${JSON.stringify(rawTable)}, 'utf8')).rows;
  const byLower = new Map(), postings = new Map();
  rows.map(([name], i) => {
    if (!byLower.has(name.toLowerCase())) byLower.set(name.toLowerCase(), i);
    const p = name.replace(/[^\\p{L}\\p{N}]/gu, ' ').toLowerCase().trim();
    const set = p === '' ? [] : [...new Set(p.split(/\\s+/))];
    for (const t of set) { const l = postings.get(t); if (l) l.push(i); else postings.set(t, [i]); }
    return set;
  });
  console.log(JSON.stringify({ ms: performance.now() - t0 }));`);

// Whole process: tracker and bare side by side, total CPU at exit, and the memory-reducer GCs.
const wholeChild = (url) => `
  let t;
  if (${JSON.stringify(url)} !== '') {
    const { EmissionsTracker } = await import(${JSON.stringify(url)});
    t = new EmissionsTracker({ saveToFile: false, handleSignals: false, countryIsoCode: 'FRA', measurePowerSecs: 1 });
    t.start();
  }
  const started = process.cpuUsage();
  await new Promise((r) => setTimeout(r, ${IDLE_MS}));
  const u = process.cpuUsage();
  console.log(JSON.stringify({ cpuMs: (u.user + u.system) / 1000, startedMs: (started.user + started.system) / 1000 }));
  process.exit(0);`;
function runWhole(url) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--trace-gc', '--input-type=module', '-e', wholeChild(url)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`whole-process child (${url || 'bare'}) exited ${code}`));
      const lines = out.trim().split('\n');
      resolve({ ...JSON.parse(lines.pop()), reduceGcs: lines.filter((l) => l.includes('Mark-Compact (reduce)')).length });
    });
  });
}
const whole = [];
if (process.argv[2] !== 'quick') {
  for (let i = 0; i < RUNS; i++) {
    const [t, b, o] = await Promise.all([runWhole(distUrl), runWhole(''), ...(baseUrl ? [runWhole(baseUrl)] : [])]);
    whole.push({
      costMs: t.cpuMs - b.cpuMs,
      // CPU from process start to start() returning, against the bare process at the same point.
      startupMs: t.startedMs - b.startedMs,
      trackerGcs: t.reduceGcs,
      bareGcs: b.reduceGcs,
      ...(o ? { baseCostMs: o.cpuMs - b.cpuMs, baseStartupMs: o.startedMs - b.startedMs, baseGcs: o.reduceGcs } : {}),
    });
  }
}
rmSync(floorDir, { recursive: true, force: true });

const f = (x, d = 1) => x.toFixed(d);
const cell = (r, unit = 'ms', d = 1) => `${f(r.median, d)} ${unit} (${r.all.map((v) => f(v, d)).join(', ')})`;
const ratio = (a, b) => `${f(a.median / b.median, 2)}`;
console.log(`fresh processes, median of ${RUNS} (each run in brackets); load average ${loadavg()}`);
console.log('| what | measured | floor, same run | ratio | target |');
console.log('|---|---:|---:|---:|---:|');
console.log(`| import 'wattprint' (ESM entry) | ${cell(esmImport.ms)} | ${cell(esmFloor.ms)} | ${ratio(esmImport.ms, esmFloor.ms)} | < 20 ms |`);
if (baseStart) {
  const mib = (r) => ({ median: r.median / 1024, all: r.all.map((k) => k / 1024) });
  console.log(`| before (${baseline}), same run: import / first start() / heap retained / heap grown | ${cell(baseStart.importMs)} / ${cell(baseStart.startMs)} / ${cell(mib(baseStart.heapKiB), 'MiB', 2)} / ${cell(mib(baseStart.heapNoGcKiB), 'MiB', 2)} | | | |`);
  console.log(`| now, same probe: import / first start() | ${cell(start.machine.importMs)} / ${cell(start.machine.startMs)} | | | |`);
}
console.log(`| require('wattprint') | ${cell(cjsRequire.ms)} | ${cell(cjsFloor.ms)} | ${ratio(cjsRequire.ms, cjsFloor.ms)} | — |`);
const kib = (r) => ({ median: r.median / 1024, all: r.all.map((k) => k / 1024) });
console.log(`| heap retained by import 'wattprint' after GC (no tracker) | ${cell(kib(esmImport.heapKiB), 'MiB', 2)} | ${cell(kib(esmFloor.heapKiB), 'MiB', 2)} | — | — |`);
for (const mode of ['machine', 'process']) {
  const s = start[mode];
  console.log(`| first start(), ${mode} mode (addon on, countryIsoCode set) | ${cell(s.startMs)} | | | < 5 ms |`);
  console.log(`| first sample() after it, ${mode} mode | ${cell(s.sampleMs, 'ms', 2)} | | | — |`);
  console.log(`| stop(), ${mode} mode | ${cell(s.stopMs)} | | | — |`);
  console.log(`| heap retained by import + start() after GC, ${mode} mode | ${cell({ median: s.heapKiB.median / 1024, all: s.heapKiB.all.map((k) => k / 1024) }, 'MiB', 2)} | | | < 1 MiB |`);
  console.log(`| heap grown by import + start() before GC, ${mode} mode | ${cell({ median: s.heapNoGcKiB.median / 1024, all: s.heapNoGcKiB.all.map((k) => k / 1024) }, 'MiB', 2)} | | | — |`);
}
for (const mode of ['machine', 'process']) {
  const a = alloc[mode];
  const above = { median: a.median - alloc.floor.median, all: a.all.map((k) => k - alloc.floor.median) };
  console.log(`| heap allocated by import + new EmissionsTracker() + start(), ${mode} mode (all objects, live or not) | ${cell(kib(a), 'MiB', 2)}; above the floor ${cell(kib(above), 'MiB', 2)} | ${cell(kib(alloc.floor), 'MiB', 2)} | — | < 1 MiB |`);
}
for (const l of lookups) console.log(`| first lookupCpuTdp, ${l.what} | ${cell(l.firstMs, 'ms', 2)} | | | — |`);
console.log(`| a later lookupCpuTdp of another name | ${cell(lookups[0].nextMs, 'ms', 2)} | | | — |`);
console.log(`| the first lookup before any index (tokenising 4903 rows) | ${cell(before.ms)} | | | — |`);
if (whole.length > 0) {
  const cost = median(whole.map((w) => w.costMs));
  console.log(
    `| whole process, 20 s idle at 1 s (machine mode), minus a bare process | ${f(cost)} ms (${whole.map((w) => f(w.costMs)).join(', ')}) | | ` +
      `CodeCarbon ≈ ${CODECARBON_WHOLE_MS.join('–')} ms: ${f(CODECARBON_WHOLE_MS[0] / cost, 0)}x–${f(CODECARBON_WHOLE_MS[1] / cost, 0)}x below | ≥ 40x below |`,
  );
  console.log(`| of which until start() returned | ${f(median(whole.map((w) => w.startupMs)))} ms (${whole.map((w) => f(w.startupMs)).join(', ')}) | | | |`);
  console.log(`| Mark-Compact (reduce) GCs, tracker / bare process | ${whole.map((w) => `${w.trackerGcs} / ${w.bareGcs}`).join(', ')} | | | 0 |`);
  if (baseUrl) {
    console.log(`| before, same rounds: whole process / until start() returned / reduce GCs | ${f(median(whole.map((w) => w.baseCostMs)))} ms (${whole.map((w) => f(w.baseCostMs)).join(', ')}) / ${f(median(whole.map((w) => w.baseStartupMs)))} ms / ${whole.map((w) => w.baseGcs).join(', ')} | | | |`);
  }
}
console.log(`load average at end: ${loadavg()}`);
