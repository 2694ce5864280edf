// In-process cross-check of http.mjs without the network: an async handler (one awaited
// setImmediate, a small JSON serialisation) called by 32 concurrent loops, bare or wrapped with
// each attribution rule. Each mode runs in its own process (promise hooks are process-wide), three
// rounds interleaved; the figure is CPU time per call.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const mode = process.argv[2];
if (mode === undefined) {
  const runs = { bare: [], time: [], work: [] };
  for (let r = 0; r < 3; r++) {
    for (const m of Object.keys(runs)) {
      const out = spawnSync(process.execPath, [fileURLToPath(import.meta.url), m], { encoding: 'utf8' });
      runs[m].push(Number(out.stdout.trim()));
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[1];
  const bare = median(runs.bare);
  for (const [m, xs] of Object.entries(runs)) {
    const vs = m === 'bare' ? '' : ` (+${(median(xs) - bare).toFixed(2)} µs, +${((median(xs) / bare - 1) * 100).toFixed(1)} %)`;
    console.log(`async handler, ${m === 'bare' ? 'not wrapped' : `wrapped, attribution '${m}'`}: ${median(xs).toFixed(2)} µs CPU/call (runs ${xs.map((x) => x.toFixed(2)).join(', ')})${vs}`);
  }
} else {
  const { EmissionsTracker } = await import('../../dist/index.js');
  const handle = async (i) => {
    await new Promise((r) => setImmediate(r));
    const items = [];
    for (let k = 0; k < 20; k++) items.push({ id: k, name: `item-${k}`, i });
    return JSON.stringify(items).length;
  };
  let fn = handle;
  let tracker;
  if (mode !== 'bare') {
    tracker = new EmissionsTracker({ attribution: mode, saveToFile: false, handleSignals: false, countryIsoCode: 'FRA' });
    tracker.on('warning', () => {});
    fn = tracker.wrap(handle, { name: 'handler' });
    tracker.start();
  }
  const run = async (n) => {
    let next = 0;
    await Promise.all(Array.from({ length: 32 }, async () => {
      while (next++ < n) await fn(next);
    }));
  };
  await run(20_000); // warm-up
  const n = 300_000;
  const c0 = process.cpuUsage();
  await run(n);
  const c = process.cpuUsage(c0);
  console.log(((c.user + c.system) / n).toFixed(3));
  if (tracker) await tracker.stop();
}
