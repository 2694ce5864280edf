// Wrapped-call overhead and memory. Run with `npm run bench` (builds first), or
// `node --expose-gc test/bench/calls.mjs` after a build. Targets: < 1 µs median added to a sync
// call; heap after 1,000,000 calls no larger than after 100,000 (flat).
import { EmissionsTracker } from '../../dist/index.js';

const CALLS = 1_000_000;
console.log(`attribution '${process.env.BENCH_ATTRIBUTION ?? 'work'}' (BENCH_ATTRIBUTION=time for the other rule)`);
const BATCH = 10_000;
const gc = globalThis.gc;
if (!gc) console.log('note: run node with --expose-gc for the memory figures');

function newTracker() {
  const tracker = new EmissionsTracker({
    saveToFile: false,
    handleSignals: false,
    native: false,
    countryIsoCode: 'FRA',
    attribution: process.env.BENCH_ATTRIBUTION ?? 'work',
  });
  tracker.on('warning', () => {});
  return tracker;
}

/** A measured run must have counted every call; a bench of the unmeasured pass-through is worthless. */
function checkCounted(tracker, name, expected) {
  const n = tracker.callStats(name).count;
  if (n < expected) {
    console.log(`FAILED: only ${n} of ${expected} '${name}' calls were measured`);
    process.exitCode = 1;
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

/** Per-call ns of `bare` and `wrapped` over CALLS calls in interleaved batches. */
function overhead(bare, wrapped) {
  let sink = 0;
  for (let i = 0; i < 200_000; i++) sink += bare(i) + wrapped(i); // warm up both (JIT)
  const bareNs = [];
  const wrappedNs = [];
  let totalWrappedNs = 0;
  let totalBareNs = 0;
  for (let b = 0; b < CALLS / BATCH; b++) {
    let t = process.hrtime.bigint();
    for (let i = 0; i < BATCH; i++) sink += bare(i);
    let d = Number(process.hrtime.bigint() - t);
    bareNs.push(d / BATCH);
    totalBareNs += d;
    t = process.hrtime.bigint();
    for (let i = 0; i < BATCH; i++) sink += wrapped(i);
    d = Number(process.hrtime.bigint() - t);
    wrappedNs.push(d / BATCH);
    totalWrappedNs += d;
  }
  if (sink === 42) console.log('');
  return {
    bareMedianNs: median(bareNs),
    wrappedMedianNs: median(wrappedNs),
    medianOverheadNs: median(wrappedNs.map((w, i) => w - bareNs[i])),
    meanOverheadNs: (totalWrappedNs - totalBareNs) / CALLS,
  };
}

function report(label, r) {
  const ok = r.medianOverheadNs < 1000 ? 'ok' : 'ABOVE TARGET';
  console.log(
    `wrapped sync call (${label}): median overhead ${(r.medianOverheadNs / 1000).toFixed(3)} µs/call ` +
      `(bare ${r.bareMedianNs.toFixed(1)} ns, wrapped ${r.wrappedMedianNs.toFixed(1)} ns; mean incl. samples ` +
      `${(r.meanOverheadNs / 1000).toFixed(3)} µs) over ${CALLS.toLocaleString('en')} calls [target < 1 µs: ${ok}]`,
  );
}

// 1. Overhead, stats only (no 'call' listener: records are not built).
{
  const tracker = newTracker();
  const bare = (x) => x + 1;
  const wrapped = tracker.wrap((x) => x + 1, { name: 'sync' });
  tracker.start();
  report('no listener', overhead(bare, wrapped));
  await tracker.stop();
  checkCounted(tracker, 'sync', CALLS);
  const s = tracker.callStats('sync');
  const t = tracker.callStats();
  console.log(
    `  calls measured ${s.count.toLocaleString('en')}, their energy ${s.energyJ.toFixed(3)} J, idle ${t.idleEnergyJ.toFixed(3)} J, ` +
      `p50 ${s.p50EnergyJ?.toExponential(3)} J/call`,
  );
}

// 2. Overhead with a 'call' listener (a CallRecord built and emitted per call).
{
  const tracker = newTracker();
  let records = 0;
  tracker.on('call', () => records++);
  const bare = (x) => x + 1;
  const wrapped = tracker.wrap((x) => x + 1, { name: 'sync' });
  tracker.start();
  report("with a 'call' listener", overhead(bare, wrapped));
  await tracker.stop();
  checkCounted(tracker, 'sync', CALLS);
  console.log(`  records emitted ${records.toLocaleString('en')}`);
}

// 3. Async: a wrapped async function vs the bare one (promise + settle per call).
{
  const tracker = newTracker();
  const bare = async (x) => x + 1;
  const wrapped = tracker.wrap(async (x) => x + 1, { name: 'async' });
  tracker.start();
  const n = 200_000;
  for (let i = 0; i < 20_000; i++) await wrapped(i);
  let t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await bare(i);
  const bareNs = Number(process.hrtime.bigint() - t) / n;
  t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await wrapped(i);
  const wrappedNs = Number(process.hrtime.bigint() - t) / n;
  console.log(`wrapped async call: overhead ${((wrappedNs - bareNs) / 1000).toFixed(3)} µs/call (bare ${bareNs.toFixed(0)} ns, wrapped ${wrappedNs.toFixed(0)} ns) over ${n.toLocaleString('en')} awaited calls`);
  await tracker.stop();
  checkCounted(tracker, 'async', n);
}

// 4. Memory: heap after GC at 100,000 and 1,000,000 calls of a tight loop that never yields.
if (gc) {
  const tracker = newTracker();
  let records = 0;
  tracker.on('call', () => records++);
  const wrapped = tracker.wrap((x) => x + 1, { name: 'mem' });
  tracker.start();
  for (let i = 0; i < 10_000; i++) wrapped(i);
  gc();
  const base = process.memoryUsage().heapUsed;
  const marks = {};
  let sink = 0;
  for (let i = 1; i <= CALLS; i++) {
    sink += wrapped(i);
    if (i === 100_000 || i === 500_000 || i === CALLS) {
      gc();
      marks[i] = process.memoryUsage().heapUsed - base;
    }
  }
  if (sink === 42) console.log('');
  const kb = (b) => `${(b / 1024).toFixed(0)} KiB`;
  const growth = marks[CALLS] - marks[100_000];
  console.log(
    `heap after GC vs. baseline: ${kb(marks[100_000])} at 100k calls, ${kb(marks[500_000])} at 500k, ${kb(marks[CALLS])} at 1M ` +
      `(growth 100k→1M ${kb(growth)}) [target flat: ${growth < 256 * 1024 ? 'ok' : 'GROWING'}]`,
  );
  await tracker.stop();
  checkCounted(tracker, 'mem', CALLS);
  console.log(`  records emitted ${records.toLocaleString('en')}, callStats count ${tracker.callStats('mem').count.toLocaleString('en')}`);
}
