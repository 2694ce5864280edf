// Memory over a long run: 24 h of samples at 1 s (86,400, on a manual clock, the default sources of
// this machine in machine mode) with 1,036,800 wrapped calls between them (12 per sample, with a
// 'call' listener) and a snapshot every 15 samples, as a Prometheus scrape would take. Heap after a
// forced GC at 10 %, 50 % and 100 % of the run; exits 1 when it grows by more than 256 KiB from the
// 10 % mark to the end. Needs --expose-gc (npm run bench passes it).
import { EmissionsTracker } from '../../dist/index.js';

const gc = globalThis.gc;
if (!gc) {
  console.error('memory.mjs needs --expose-gc');
  process.exit(1);
}
const SAMPLES = 86_400;
const CALLS_PER_SAMPLE = 12;
const LIMIT_BYTES = 256 * 1024;

let nowMs = 1_000_000;
const tracker = new EmissionsTracker({
  saveToFile: false, handleSignals: false, countryIsoCode: 'FRA', measurePowerSecs: 1, clock: () => nowMs,
});
let records = 0;
tracker.on('call', () => records++);
const chat = tracker.wrap((x) => x + 1, { name: 'chat' });
const embed = tracker.wrap((x) => x * 2, { name: 'embed' });
tracker.start();

const marks = {};
const at = new Set([SAMPLES / 10, SAMPLES / 2, SAMPLES]);
let sink = 0;
const t0 = performance.now();
for (let i = 1; i <= SAMPLES; i++) {
  for (let k = 0; k < CALLS_PER_SAMPLE; k++) {
    nowMs += 1;
    sink += k % 3 === 0 ? embed(k) : chat(k);
  }
  nowMs += 1000 - CALLS_PER_SAMPLE;
  tracker.sample();
  if (i % 15 === 0) tracker.snapshot();
  if (at.has(i)) {
    gc();
    marks[i] = process.memoryUsage().heapUsed;
  }
}
const wallS = (performance.now() - t0) / 1000;
await tracker.stop();
if (sink === 42) console.log('');
const kib = (b) => `${(b / 1024).toFixed(0)} KiB`;
const growth = marks[SAMPLES] - marks[SAMPLES / 10];
const ok = growth < LIMIT_BYTES;
console.log(
  `24 h of 1 s samples (${SAMPLES.toLocaleString('en')}) with ${(SAMPLES * CALLS_PER_SAMPLE).toLocaleString('en')} wrapped calls (${records.toLocaleString('en')} records): ` +
    `heap after GC ${kib(marks[SAMPLES / 10])} at 2.4 h, ${kib(marks[SAMPLES / 2])} at 12 h, ${kib(marks[SAMPLES])} at 24 h; ` +
    `growth 2.4 h → 24 h ${kib(growth)} [target < ${kib(LIMIT_BYTES)}: ${ok ? 'ok' : 'GROWING'}] (${wallS.toFixed(1)} s wall)`,
);
if (records !== SAMPLES * CALLS_PER_SAMPLE) {
  console.error(`expected ${SAMPLES * CALLS_PER_SAMPLE} call records, got ${records}`);
  process.exit(1);
}
process.exit(ok ? 0 : 1);
