// Per-call cost of wrapping, old build against new, in one process: batches of an async handler
// (one awaited setImmediate, a small serialisation; 32 concurrent loops) run bare, wrapped with
// build A, bare, wrapped with build B, interleaved for ROUNDS rounds; each wrapped batch is
// compared with the bare batch just before it, and the figures are the medians of those paired
// differences (µs of CPU per call). Separate processes per build would each get their own JIT
// and machine drift; here both share them.
//
//   cp -r dist /tmp/wp-old/dist && cp package.json /tmp/wp-old/   # before the change (any folder
//   ln -s "$PWD/node_modules" /tmp/wp-old/node_modules            # that resolves the dependencies)
//   npm run build && node test/bench/wrap-ab.mjs /tmp/wp-old/dist dist
//
// Env: RULE (work | time, default work), ROUNDS (default 12), N (calls per batch, default 50,000),
// PERSIST=1 (one long-lived tracker per build instead of a fresh one per batch).
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// Without arguments (as `npm run bench` runs it) both are this build: A against B is then the
// noise floor of the comparison.
const here = dirname(fileURLToPath(import.meta.url));
const [dirA = join(here, '../../dist'), dirB = dirA] = process.argv.slice(2);
const load = (d) => import(pathToFileURL(resolve(d, 'index.js')).href);
const a = await load(dirA);
const builds = { A: a, B: dirB === dirA ? a : await load(dirB) };
const rule = process.env.RULE ?? 'work';
const N = Number(process.env.N ?? 50_000);
const ROUNDS = Number(process.env.ROUNDS ?? 12);

const handle = async (i) => {
  await new Promise((r) => setImmediate(r));
  const items = [];
  for (let k = 0; k < 20; k++) items.push({ id: k, name: `item-${k}`, i });
  return JSON.stringify(items).length;
};
async function run(fn, n) {
  let next = 0;
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (next++ < n) await fn(next);
  }));
}
function wrapWith(mod) {
  const t = new mod.EmissionsTracker({ attribution: rule, saveToFile: false, handleSignals: false, countryIsoCode: 'FRA' });
  t.on('warning', () => {});
  const fn = t.wrap(handle, { name: 'handler' });
  t.start();
  return { t, fn };
}
const kept = new Map();
async function batch(mod) {
  let w;
  if (mod && process.env.PERSIST) {
    if (!kept.has(mod)) kept.set(mod, wrapWith(mod));
    w = kept.get(mod);
  } else if (mod) w = wrapWith(mod);
  const fn = w ? w.fn : handle;
  await run(fn, 2000); // warm-up; a fresh tracker's start-up is not timed
  const c0 = process.cpuUsage();
  await run(fn, N);
  const c = process.cpuUsage(c0);
  if (w && !process.env.PERSIST) await w.t.stop();
  return (c.user + c.system) / N;
}

const bare = [];
const diff = { A: [], B: [] };
for (let r = 0; r < ROUNDS; r++) {
  for (const k of ['A', 'B']) {
    const b = await batch(undefined);
    bare.push(b);
    diff[k].push((await batch(builds[k])) - b);
  }
}
for (const w of kept.values()) await w.t.stop();
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
console.log(`rule '${rule}'${process.env.PERSIST ? ', long-lived trackers' : ', a fresh tracker per batch'}: bare ${median(bare).toFixed(3)} µs CPU/call`);
console.log(`  A ${dirA}: +${median(diff.A).toFixed(3)} µs a call`);
console.log(`  B ${dirB}: +${median(diff.B).toFixed(3)} µs a call`);
