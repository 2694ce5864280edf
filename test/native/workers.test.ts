// The addon in several worker threads at once: each thread loads it (one process-wide NVML state),
// calls it concurrently with the main thread, and an ending thread's unbalanced nvmlInit is released
// by its environment's cleanup, so NVML is free again once every user is gone.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { FakeGpus, TWO_H200, fakeLibrary, nativeAddon } from './nvml-helpers.js';

const script = `
const { Worker } = require('node:worker_threads');
const [addon, lib, other] = process.argv.slice(1);
const work = \`
  const { parentPort, workerData } = require('node:worker_threads');
  const b = require(workerData.addon);
  const lib = b.nvmlInit(workerData.lib);
  let energyMj = 0n, calls = 0;
  const until = Date.now() + 300;
  while (Date.now() < until) {
    energyMj += b.nvmlDeviceGetTotalEnergyConsumption(calls % 2);
    b.nvmlDeviceGetPowerUsage(0);
    b.raplReadFiles(['/nonexistent/energy_uj']);
    calls++;
  }
  let msr;
  try { b.msrRead('/nonexistent', 0, 0x611); } catch (e) { msr = { code: e.code, syscall: e.syscall, isError: e instanceof Error }; }
  let arg;
  try { b.raplReadZones(42); } catch (e) { arg = e.code; }
  // Half the threads end without nvmlShutdown: their environment's cleanup must balance it.
  if (workerData.i % 2 === 0) b.nvmlShutdown();
  parentPort.postMessage({ lib, calls, perCallMj: Number(energyMj) / calls, msr, arg });
\`;
const b = require(addon);
b.nvmlInit(lib);
const results = Promise.all([0, 1, 2, 3].map((i) => new Promise((resolve, reject) => {
  const w = new Worker(work, { eval: true, workerData: { addon, lib, i } });
  let msg;
  w.on('message', (m) => (msg = m));
  w.on('error', reject);
  w.on('exit', () => resolve(msg));
})));
let mainCalls = 0;
const spin = setInterval(() => { for (let k = 0; k < 50; k++) { b.nvmlDeviceGetCount(); mainCalls++; } }, 1);
results.then((workers) => {
  clearInterval(spin);
  let inUse;
  try { b.nvmlInit(other); } catch (e) { inUse = e.code; }
  b.nvmlShutdown();
  // Every worker is gone and the main thread balanced its own init: another library may load now.
  const reloaded = b.nvmlInit(other);
  b.nvmlShutdown();
  console.log(JSON.stringify({ workers, mainCalls, inUse, reloaded }));
});
`;

describe('the addon in worker threads', () => {
  it('loads and runs in 4 workers at once, with one error shape, and releases what an ending worker held', () => {
    const addon = nativeAddon().path!;
    const gpus = new FakeGpus(TWO_H200);
    const r = spawnSync(process.execPath, ['-e', script, addon, fakeLibrary(), fakeLibrary('minimal')], {
      encoding: 'utf8',
      // The fake re-reads its value file into one static buffer per call unless told to cache it.
      env: { ...process.env, FAKE_NVML_FILE: gpus.file, FAKE_NVML_CACHE: '1' },
      timeout: 60_000,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as {
      workers: { lib: string; calls: number; perCallMj: number; msr: unknown; arg: string }[];
      mainCalls: number;
      inUse: string;
      reloaded: string;
    };
    expect(out.workers).toHaveLength(4);
    for (const w of out.workers) {
      expect(w.lib).toBe(fakeLibrary());
      expect(w.calls).toBeGreaterThan(100);
      // Alternating GPU 0 (1000000 mJ) and 1 (2000000 mJ): the mean stays within the two.
      expect(w.perCallMj).toBeGreaterThanOrEqual(1_000_000);
      expect(w.perCallMj).toBeLessThanOrEqual(2_000_000);
      expect(w.msr).toEqual({ code: 'ENOENT', syscall: 'open', isError: true });
      expect(w.arg).toBe('ERR_INVALID_ARG_TYPE');
    }
    expect(out.mainCalls).toBeGreaterThan(0);
    // While the main thread still holds its init, another library is refused...
    expect(out.inUse).toBe('NVML_ERROR_IN_USE');
    // ...and once it lets go, nothing is left held by the workers that never called nvmlShutdown.
    expect(out.reloaded).toBe(fakeLibrary('minimal'));
  });
});
