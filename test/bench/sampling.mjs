// Sampling on the real path: idle processes whose only work is a timer. Each round runs, side by
// side, a process with a tracker sampling on its own timer and a floor process that wakes as often
// and reads the same files as often with plain readFileSync (see floorRead). CPU per
// sample is process.cpuUsage over a fixed window after a warm-up, divided by the samples taken;
// the figure is the ratio tracker / floor, median of 3 rounds. Also the heap allocated per sample on
// the timer path, tracker and floor side by side. Start-up and the whole-process cost are
// test/bench/startup.mjs's.
// `node test/bench/sampling.mjs` after `npm run build` (npm run bench does both).
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
// WATTPRINT_BENCH_DIST=<dir> measures another build (an older commit's dist/) against the same floor.
const distUrl = pathToFileURL(join(process.env.WATTPRINT_BENCH_DIST ?? join(here, '..', '..', 'dist'), 'index.js')).href;
const ROUNDS = 3;

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const cpuMs = (u) => (u.user + u.system) / 1000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const UTIL_MIN_INTERVAL_MS = 1000; // the tracker's utilisation columns: /proc/stat and meminfo at most once a second
let lastUtilMs = -Infinity;

/**
 * The floor's reads, as plain as they come: the files a minimal tracker with the same output reads,
 * as often as it must, minimally parsed. Machine mode: /proc/stat every sample (the CPU load of the
 * estimate). Process mode: the walk of its own tree every sample (task/<tid>/children, then stat
 * for the CPU time and status for the RSS of every member). Both: /proc/stat and /proc/meminfo for
 * the utilisation columns at most once a second (the tracker's rate).
 */
function floorRead(processMode) {
  let total = 0;
  const now = performance.now();
  const util = now - lastUtilMs >= UTIL_MIN_INTERVAL_MS;
  if (util) lastUtilMs = now;
  if (!processMode || util) {
    const stat = readFileSync('/proc/stat', 'latin1');
    const cpuLine = stat.slice(0, stat.indexOf('\n')).split(' ');
    for (let i = 2; i < 10; i++) total += Number(cpuLine[i]);
  }
  if (util) total += readFileSync('/proc/meminfo', 'latin1').length;
  if (processMode) {
    const pids = [process.pid];
    for (let i = 0; i < pids.length; i++) {
      const task = `/proc/${pids[i]}/task`;
      for (const tid of readdirSync(task)) {
        for (const c of readFileSync(`${task}/${tid}/children`, 'latin1').split(' ')) if (c) pids.push(Number(c));
      }
    }
    for (const pid of pids) {
      const s = readFileSync(`/proc/${pid}/stat`, 'latin1').split(' ');
      total += Number(s[13]) + Number(s[14]);
      total += readFileSync(`/proc/${pid}/status`, 'latin1').length;
    }
  }
  return total;
}

async function child(kind, mode, intervalMsText, warmMsText, windowMsText) {
  const intervalMs = Number(intervalMsText);
  const warmMs = Number(warmMsText);
  const windowMs = Number(windowMsText);
  const processMode = mode === 'process';
  if (kind === 'alloc-tracker' || kind === 'alloc-floor') {
    // Heap grown between consecutive samples on the timer path (the timer's own work included, as
    // for the floor); an interval holding a GC (heap shrank) is left out.
    const deltas = [];
    let last;
    const onSample = () => {
      const h = process.memoryUsage().heapUsed;
      if (last !== undefined && h >= last) deltas.push(h - last);
      last = h;
    };
    let stop;
    if (kind === 'alloc-tracker') {
      const { EmissionsTracker } = await import(distUrl);
      const t = new EmissionsTracker({ saveToFile: false, handleSignals: false, countryIsoCode: 'FRA', trackingMode: mode, measurePowerSecs: intervalMs / 1000 });
      t.on('measurement', onSample);
      t.start();
      stop = () => t.stop();
    } else {
      const timer = setInterval(() => {
        floorRead(processMode);
        onSample();
      }, intervalMs);
      stop = () => clearInterval(timer);
    }
    await sleep(warmMs);
    deltas.length = 0;
    await sleep(windowMs);
    await stop();
    const mean = deltas.reduce((a, b) => a + b, 0) / deltas.length;
    process.stdout.write(JSON.stringify({ bytesPerSample: mean, samples: deltas.length }));
    process.exit(0);
  }
  let samples = 0;
  let tracker;
  if (kind === 'tracker') {
    const { EmissionsTracker } = await import(distUrl);
    tracker = new EmissionsTracker({
      saveToFile: false, handleSignals: false, countryIsoCode: 'FRA', trackingMode: mode, measurePowerSecs: intervalMs / 1000,
    });
    tracker.on('measurement', () => samples++);
    tracker.start();
  } else if (kind === 'floor') {
    setInterval(() => {
      floorRead(processMode);
      samples++;
    }, intervalMs);
  }
  await sleep(warmMs);
  const s0 = samples;
  const u0 = process.cpuUsage();
  await sleep(windowMs);
  const u = process.cpuUsage(u0);
  const n = samples - s0;
  process.stdout.write(JSON.stringify({ cpuMs: cpuMs(u), samples: n, usPerSample: (cpuMs(u) * 1000) / n }));
  process.exit(0);
}

function runChild(...args) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), 'child', ...args.map(String)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`child ${args.join(' ')} exited ${code}`))));
  });
}

async function main() {
  const load = () => execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).split(' ').slice(0, 3).join(' ');
  console.log(`load average at start: ${load()}`);
  const configs = [
    ['machine', 1000, 3000, 15000],
    ['process', 1000, 3000, 15000],
    ['machine', 100, 1000, 5000],
    ['process', 100, 1000, 5000],
    // Steady state: after the memory-reducer GC that follows start-up (about 8 s in).
    ['machine', 1000, 12000, 15000],
    ['process', 1000, 12000, 15000],
  ];
  // `steady`: the last two rows alone; `rows=1,3`: those rows (1-based); `alloc`: the allocation rows alone.
  const arg = process.argv[2] ?? '';
  const only = arg === 'steady' ? configs.slice(-2) : arg.startsWith('rows=') ? arg.slice(5).split(',').map((i) => configs[Number(i) - 1]) : arg === 'alloc' ? [] : configs;
  for (const [mode, intervalMs, warmMs, windowMs] of only) {
    const rows = [];
    for (let r = 0; r < ROUNDS; r++) {
      // Side by side, so both meet the same load on a shared machine.
      const [t, f] = await Promise.all([
        runChild('tracker', mode, intervalMs, warmMs, windowMs),
        runChild('floor', mode, intervalMs, warmMs, windowMs),
      ]);
      rows.push({ t: t.usPerSample, f: f.usPerSample, ratio: t.usPerSample / f.usPerSample });
    }
    const fmt = (k) => rows.map((x) => x[k].toFixed(k === 'ratio' ? 2 : 0)).join(', ');
    console.log(
      `sampling, ${mode} mode, every ${intervalMs} ms, after ${warmMs / 1000} s: tracker ${median(rows.map((x) => x.t)).toFixed(0)} µs/sample (${fmt('t')}), ` +
        `floor ${median(rows.map((x) => x.f)).toFixed(0)} µs (${fmt('f')}), ratio ${median(rows.map((x) => x.ratio)).toFixed(2)} (${fmt('ratio')}); target ≤ 2`,
    );
  }

  if (only === configs || arg === 'alloc') {
    for (const mode of ['machine', 'process']) {
      const rows = [];
      for (let r = 0; r < ROUNDS; r++) {
        const [t, f] = await Promise.all([runChild('alloc-tracker', mode, 100, 2000, 10000), runChild('alloc-floor', mode, 100, 2000, 10000)]);
        rows.push({ t: t.bytesPerSample, f: f.bytesPerSample });
      }
      const fmt = (k) => rows.map((x) => x[k].toFixed(0)).join(', ');
      console.log(
        `heap allocated per sample, ${mode} mode, every 100 ms (timer path, intervals without a GC): tracker ${median(rows.map((x) => x.t)).toFixed(0)} B (${fmt('t')}), ` +
          `floor ${median(rows.map((x) => x.f)).toFixed(0)} B (${fmt('f')}); per 1000 samples: tracker ${((median(rows.map((x) => x.t)) * 1000) / 1024 / 1024).toFixed(2)} MiB`,
      );
    }
  }
  console.log(`load average at end: ${load()}`);
}

const [role, ...args] = process.argv.slice(2);
if (role === 'child') await child(...args);
else await main();
