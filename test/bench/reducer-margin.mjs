// How much of V8's memory-reducer margin a host's steps use. V8 11 arms the reducer, once per
// process, when the main thread grows the old generation 1 MB past its size at start-up before any
// mark-compact; it collects about 8 s later (docs/performance.md). Each host here runs its steps in
// a fresh `node --trace-gc` file script, then makes N objects that each get a property of a new name
// (a V8 map and an internalized string each, both old space: the bytes per object are printed), and
// idles 10.5 s, so that a reducer armed by the first samples collects within the run. The margin is
// the smallest N whose run gets a "Mark-Compact (reduce)", found by bisection to RESOLUTION objects
// (two runs per step; either arming counts). What the steps use is the margin of the empty host
// minus theirs, in the same objects.
// `node test/bench/reducer-margin.mjs` after `npm run build` (npm run bench does both).
// Only what Node's loader has already loaded is imported statically (see reducer-hosts.mjs).
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const distUrl = pathToFileURL(join(here, '..', '..', 'dist', 'index.js')).href;
const MAX_OBJECTS = 6000;
const RESOLUTION = 100;
const IDLE_MS = 10_500;

const HOSTS = [
  ['nothing', []],
  ['one `console.log` line', ['console']],
  ["`await import('node:child_process')`", ['child_process']],
  ["`await import('node:fs')` (as an ES module's `import … from 'node:fs'`)", ['fs']],
  ['`import` wattprint', ['import']],
  ['`import` wattprint + constructor', ['import', 'ctor']],
  ['`import` wattprint + constructor + `start()` (machine mode, 1 s)', ['import', 'ctor', 'start']],
  ['one `console.log` line, then `import` + constructor + `start()`', ['console', 'import', 'ctor', 'start']],
];

/** Makes `n` objects, each with one own property of a name no other object has. */
function fill(n) {
  const salt = Math.random().toString(36).slice(2, 8);
  const keep = [];
  for (let i = 0; i < n; i++) keep.push({ [`m${salt}${i}`]: i });
  return keep;
}

async function host(n, steps) {
  let mod;
  let tracker;
  let started = false;
  for (const s of steps) {
    if (s === 'console') console.log('host says hello');
    else if (s === 'child_process') await import('node:child_process');
    else if (s === 'fs') await import('node:fs');
    else if (s === 'import') mod = await import(distUrl);
    else if (s === 'ctor') tracker = new mod.EmissionsTracker({ saveToFile: false, handleSignals: false, countryIsoCode: 'FRA', measurePowerSecs: 1 });
    else if (s === 'start') {
      tracker.start();
      started = true;
    }
  }
  globalThis.keep = fill(n);
  setTimeout(() => {
    if (started) void tracker.stop();
  }, IDLE_MS);
}

async function arms(n, steps) {
  const { spawn } = await import('node:child_process');
  const once = () =>
    new Promise((resolve, reject) => {
      const p = spawn(process.execPath, ['--trace-gc', fileURLToPath(import.meta.url), 'host', String(n), ...steps], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      p.stdout.on('data', (d) => (out += d));
      p.on('exit', (code) => (code === 0 ? resolve(out.includes('Mark-Compact (reduce)')) : reject(new Error(`host ${steps.join(',')} ${n} exited ${code}`))));
    });
  const [a, b] = await Promise.all([once(), once()]);
  return a || b;
}

/** The smallest N (to RESOLUTION) that arms the reducer after `steps`, as [low, high]. */
async function margin(steps) {
  if (await arms(0, steps)) return [0, 0];
  let lo = 0;
  let hi = MAX_OBJECTS;
  if (!(await arms(hi, steps))) return [hi, Infinity];
  while (hi - lo > RESOLUTION) {
    const mid = Math.round((lo + hi) / 2);
    if (await arms(mid, steps)) hi = mid;
    else lo = mid;
  }
  return [lo, hi];
}

// `node test/bench/reducer-margin.mjs fs`: the empty host and the hosts with that step only.
async function main(step) {
  const v8 = await import('node:v8');
  const oldBytes = () => v8.getHeapSpaceStatistics().filter((s) => s.space_name === 'old_space').reduce((a, s) => a + s.space_used_size, 0);
  const before = oldBytes();
  const sample = fill(20_000);
  const bytesPerObject = (oldBytes() - before) / sample.length;
  console.log(`Old-space bytes per object of the fill, measured here: ${bytesPerObject.toFixed(0)}\n`);
  console.log(`| host | margin left (objects) | used by the steps (objects) |\n|---|---:|---:|`);
  let emptyMid;
  for (const [label, steps] of step ? HOSTS.filter(([, st]) => st.length === 0 || st.includes(step)) : HOSTS) {
    const [lo, hi] = await margin(steps);
    const mid = (lo + hi) / 2;
    emptyMid ??= mid;
    const range = hi === 0 ? 'armed with none' : hi === Infinity ? `> ${lo}` : `${lo}–${hi}`;
    console.log(`| ${label} | ${range} | ${hi === 0 ? `≥ ${Math.round(emptyMid)}` : Math.round(emptyMid - mid)} |`);
  }
}

if (process.argv[2] === 'host') await host(Number(process.argv[3]), process.argv.slice(4));
else await main(process.argv[2]);
