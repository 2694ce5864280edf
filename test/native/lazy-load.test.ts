// What `import 'wattprint'` and a plain start() load, and what waits for first use (issue 11,
// start-up): the native addon only when a probe finds hardware for it, the node:crypto / v8 /
// stream / http built-ins and the dist/lazy-*.cjs chunks only when something calls for them, from
// the `import` entry as from `require`.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes, randomUuid } from '../../src/builtins.js';
import perSource from '../../src/intensity/data/carbon-intensity-per-source.json' with { type: 'json' };
import usaEmissions from '../../src/intensity/data/usa-emissions.json' with { type: 'json' };
import { deferNative, loadNative } from '../../src/native/load.js';
import type { NativeLoadResult } from '../../src/native/load.js';
import { nvmlSource } from '../../src/sources/nvml.js';
import { raplCpuSource } from '../../src/sources/rapl.js';
import { MSR } from '../../src/sources/rapl-msr.js';
import { FakeMsrCounter, buildSystem, writeMsr } from '../fixtures/powercap/tree.js';
import { FakeGpus, TWO_H200, fakeContext, fakeLibrary, nativeAddon } from './nvml-helpers.js';
import { fakeContext as raplContext, useFakeSystems } from './rapl-helpers.js';

const root = resolve(__dirname, '../..');
const dist = join(root, 'dist');
const build = useFakeSystems();

/** A deferred addon that counts its loads (the real addon built for the tests behind it). */
function counted(): { native: NativeLoadResult; loads: () => number } {
  let n = 0;
  return {
    native: deferNative(() => {
      n++;
      return nativeAddon();
    }),
    loads: () => n,
  };
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function devRoot(nodes: string[]): string {
  const d = mkdtempSync(join(tmpdir(), 'wattprint-dev-'));
  dirs.push(d);
  for (const n of nodes) writeFileSync(join(d, n), '');
  return d;
}

describe('the addon loads on first need', () => {
  it('NVML: no /dev/nvidiactl, no /dev/dxg and no library path → NOT_PRESENT without loading it', () => {
    const { native, loads } = counted();
    const { ctx } = fakeContext();
    const s = nvmlSource({ ...ctx, devRoot: devRoot([]) }, native, { env: {} });
    const probe = s.probe();
    expect(probe).toMatchObject({ ok: false, code: 'NOT_PRESENT' });
    expect(probe.ok ? '' : probe.reason).toMatch(/neither .*\/nvidiactl nor .*\/dxg \(WSL\) exists/);
    expect(loads()).toBe(0);
    s.close();
  });

  for (const node of ['nvidiactl', 'dxg']) {
    it(`NVML: with /dev/${node} it loads the addon and asks NVML`, () => {
      const { native, loads } = counted();
      const { ctx } = fakeContext();
      // No driver on the test machine: NVML's own answer, which only the loaded addon can give.
      const s = nvmlSource({ ...ctx, devRoot: devRoot([node]) }, native, { env: {} });
      expect(s.probe()).toMatchObject({ ok: false, code: 'NOT_PRESENT', reason: expect.stringMatching(/^NVML is not available \(dlopen/) });
      expect(loads()).toBe(1);
      s.close();
    });
  }

  it('NVML: a library path set skips the device-node check (the fake NVML, no device nodes)', () => {
    new FakeGpus(TWO_H200);
    const { native, loads } = counted();
    const { ctx } = fakeContext();
    const s = nvmlSource({ ...ctx, devRoot: devRoot([]) }, native, { env: {}, libraryPath: fakeLibrary(), powerSampleIntervalMs: 3_600_000 });
    const probe = s.probe();
    expect(probe.ok && probe.devices.map((d) => d.name)).toEqual(['NVIDIA H200', 'NVIDIA H200']);
    expect(loads()).toBe(1);
    s.close();
  });

  it('NVML: a binding given by the host is used whatever /dev holds', () => {
    new FakeGpus(TWO_H200);
    const { ctx } = fakeContext();
    const s = nvmlSource({ ...ctx, devRoot: devRoot([]) }, nativeAddon(), { env: {}, libraryPath: fakeLibrary(), powerSampleIntervalMs: 3_600_000 });
    expect(s.probe()).toMatchObject({ ok: true });
    s.close();
  });

  it('RAPL: no powercap tree and no MSR device files → NOT_PRESENT without loading it', () => {
    const sys = build({});
    const { native, loads } = counted();
    const { ctx } = raplContext(sys);
    expect(raplCpuSource(ctx, native).probe()).toMatchObject({ ok: false, code: 'NOT_PRESENT' });
    expect(loads()).toBe(0);
  });

  it('RAPL: a powercap tree loads it and reads through it', () => {
    const sys = build({ rapl: [{ name: 'package-0', maxPowerUw: [150_000_000] }] });
    const { native, loads } = counted();
    const { ctx } = raplContext(sys);
    const s = raplCpuSource(ctx, native);
    expect(s.probe()).toMatchObject({ ok: true, devices: [{ details: { reader: 'native', method: 'powercap' } }] });
    expect(loads()).toBe(1);
  });

  it('RAPL: MSR device files (no powercap) load it for the MSR reads', () => {
    const sys = build({ cpu: { vendor: 'GenuineIntel', family: 6, model: 0x55 }, cpuSockets: [0] });
    writeMsr(sys.devRoot, 0, MSR.RAPL_POWER_UNIT, 0xa0e03n);
    new FakeMsrCounter(sys.devRoot, 0, MSR.PKG_ENERGY_STATUS, 5);
    const { native, loads } = counted();
    const { ctx } = raplContext(sys);
    const probe = raplCpuSource(ctx, native).probe();
    expect(probe).toMatchObject({ ok: true, devices: [{ details: { reader: 'native', method: 'msr' } }] });
    expect(loads()).toBe(1);
  });

  it('run ids and lock tokens are version-4 UUIDs from the kernel CSPRNG, without node:crypto', () => {
    const ids = Array.from({ length: 2000 }, randomUuid);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
    // Every hex digit outside the fixed version and variant bits takes many values.
    const digits = new Set(ids.map((id) => id[0]));
    expect(digits.size).toBe(16);
    expect(randomBytes(32)).toHaveLength(32);
  });

  it('deferNative hands over the load result unchanged on first read', () => {
    const real = loadNative({ disabled: true });
    const d = deferNative(() => real);
    expect([d.binding, d.path, d.errors, d.fix, d.disabled]).toEqual([real.binding, real.path, real.errors, real.fix, real.disabled]);
  });
});

/** Runs `body` in a fresh process after loading the built package by `import` or `require`. */
function inFreshProcess(kind: 'esm' | 'cjs', body: string, dir = mkdtempSync(join(tmpdir(), 'wattprint-lazy-'))): Record<string, unknown> {
  const names = 'EmissionsTracker, recordTimeline, electricityMapsProvider';
  const load =
    kind === 'esm'
      ? `import { createRequire } from 'node:module'; const require = createRequire(import.meta.url); import { ${names} } from ${JSON.stringify(join(dist, 'index.js'))};`
      : `const { ${names} } = require(${JSON.stringify(join(dist, 'index.cjs'))});`;
  const probe = `
    const loaded = () => Object.keys(require.cache).filter((k) => k.startsWith(${JSON.stringify(dist)}) || k.includes('node-gyp-build')).map((k) => k.slice(k.lastIndexOf('/') + 1));
    const builtins = () => ['crypto', 'v8', 'stream', 'http', 'https'].filter((m) => process.moduleLoadList.includes('NativeModule ' + m));
    const lazy = () => loaded().filter((f) => f.startsWith('lazy-') || f.includes('node-gyp-build') || f.endsWith('.node')).sort();
    const out = {};
    ${body}
    console.log(JSON.stringify(out));`;
  dirs.push(dir);
  mkdirSync(join(dir, 'dev'), { recursive: true });
  const file = join(dir, kind === 'esm' ? 'probe.mjs' : 'probe.cjs');
  const code = probe.replaceAll('DIR', JSON.stringify(dir));
  writeFileSync(file, `${load}\n${kind === 'esm' ? code : `(async () => {${code}})();`}`);
  const r = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, WATTPRINT_CLOUD_METADATA: 'false' } });
  expect(r.stderr, r.stderr).not.toMatch(/Error/);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

describe.each(['esm', 'cjs'] as const)('the built package (%s entry)', (kind) => {
  it('a powercap tree loads the RAPL chunk at start(), whose source then measures its counter', () => {
    const sys = buildSystem({ rapl: [{ name: 'package-0', maxPowerUw: [65_000_000] }] });
    const zone = sys.zone('intel-rapl:0');
    const out = inFreshProcess(
      kind,
      `const t = new EmissionsTracker({ saveToFile: false, handleSignals: false, countryIsoCode: 'FRA', sysfsRoot: DIR + '/sys', devRoot: DIR + '/dev' });
       out.beforeStart = lazy();
       t.start();
       out.afterStart = lazy();
       require('node:fs').writeFileSync(${JSON.stringify(zone.energyFile)}, String(${zone.shownUj + 2_000_000n}) + '\\n');
       const data = await t.stop();
       out.source = data.boundary.cpu.source;
       out.cpuJ = data.cpuEnergyKWh * 3.6e6;`,
      sys.root,
    );
    expect(out.beforeStart).toEqual([]);
    // With the addon loaded for powercap, NVML asks the driver through it rather than trust the
    // absence of device nodes: its chunk loads too (the machine test above loads neither).
    expect(out.afterStart).toEqual(expect.arrayContaining(['lazy-rapl.cjs', 'lazy-nvml.cjs']));
    expect(out.source).toBe('rapl');
    // energy_uj moved by 2,000,000 µJ (PUE 1): 2 J, to within one count of the zone's energy unit.
    expect(out.cpuJ).toBeCloseTo(2, 3);
  });

  it('import and a plain start/sample/stop load no lazy chunk, no addon and none of the costly built-ins', () => {
    const out = inFreshProcess(
      kind,
      `out.afterImport = { lazy: lazy(), builtins: builtins() };
       const t = new EmissionsTracker({ saveToFile: false, handleSignals: false, countryIsoCode: 'FRA', sysfsRoot: DIR + '/sys', devRoot: DIR + '/dev' });
       t.start(); t.sample();
       out.afterStart = { lazy: lazy(), builtins: builtins() };
       await t.stop();
       out.afterStop = { lazy: lazy(), builtins: builtins() };
       out.runId = t.runId;
       const report = await t.report();
       out.reportIntervals = report.measurement.intervalsObserved;
       out.afterReport = lazy();`,
    );
    const none = { lazy: [], builtins: [] };
    expect(out.afterImport).toEqual(none);
    expect(out.afterStart).toEqual(none);
    // The final data carry the run id, made at its first read from /dev/urandom, not node:crypto.
    expect(out.afterStop).toEqual(none);
    expect(out.runId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(out.reportIntervals).toBeGreaterThanOrEqual(2);
    // The report's call section needs the call tracker, which nothing before it had asked for.
    expect(out.afterReport).toEqual(['lazy-inference.cjs', 'lazy-report.cjs']);
  });

  it('reads the data tables a location needs from dist/data/: one for a country, the regional ones for a region', () => {
    const out = inFreshProcess(
      kind,
      `const fs = require('node:fs');
       const readFileSync = fs.readFileSync;
       let tables = [];
       fs.readFileSync = function (p, ...rest) {
         const s = String(p);
         if (s.includes('/dist/data/')) tables.push(s.slice(s.lastIndexOf('/') + 1));
         return readFileSync.call(this, p, ...rest);
       };
       const run = async (where) => {
         tables = [];
         const t = new EmissionsTracker({ saveToFile: false, handleSignals: false, ...where, sysfsRoot: DIR + '/sys', devRoot: DIR + '/dev' });
         t.start();
         const data = await t.stop();
         return { tables: [...new Set(tables)].sort(), gPerKWh: data.intensityGPerKWh, region: data.region };
       };
       out.country = await run({ countryIsoCode: 'FRA' });
       out.state = await run({ countryIsoCode: 'USA', region: 'California' });`,
    );
    expect(out.country).toMatchObject({ tables: ['global-energy-mix.json'] });
    // A region name may be a Nordic bidding zone, so that small table is read for any region;
    // the Canadian one is not read for a US state.
    expect(out.state).toEqual({
      tables: ['global-energy-mix.json', 'nordic-emissions.json', 'usa-emissions.json'],
      gPerKWh: expect.closeTo(usaEmissions.data.california * 0.45359237, 9),
      region: 'california',
    });
  });

  it('recordTimeline and the live providers load their chunks at the first call, and work', () => {
    const out = inFreshProcess(
      kind,
      `const t = new EmissionsTracker({ saveToFile: false, handleSignals: false, countryIsoCode: 'FRA', sysfsRoot: DIR + '/sys', devRoot: DIR + '/dev' });
       t.start();
       const timeline = recordTimeline(t, { path: DIR + '/timeline.jsonl' });
       out.afterTimeline = lazy();
       t.sample();
       timeline.close();
       out.lines = require('node:fs').readFileSync(DIR + '/timeline.jsonl', 'utf8').trim().split('\\n').length;
       const p = electricityMapsProvider({ token: 'k', zone: 'FR' });
       out.provider = p.id;
       out.afterProvider = lazy();
       out.http = builtins().includes('http') || builtins().includes('https');
       await t.stop();
       const writer = new EmissionsTracker({ handleSignals: false, countryIsoCode: 'FRA', outputDir: DIR, sysfsRoot: DIR + '/sys', devRoot: DIR + '/dev' });
       out.afterCsvTracker = lazy();
       writer.start();
       await writer.stop();
       out.csvLines = require('node:fs').readFileSync(DIR + '/emissions.csv', 'utf8').trim().split('\\n').length;`,
    );
    expect(out.afterTimeline).toEqual(['lazy-timeline.cjs']);
    expect(out.lines).toBeGreaterThanOrEqual(1);
    expect(out.provider).toBe('electricity-maps');
    expect(out.afterProvider).toEqual(['lazy-live-intensity.cjs', 'lazy-timeline.cjs']);
    expect(out.http).toBe(false); // node:http(s) waits for the first request
    // The default tracker writes a CSV: its reporter's chunk loads with it, and writes header + row.
    expect(out.afterCsvTracker).toEqual(['lazy-live-intensity.cjs', 'lazy-reporters.cjs', 'lazy-timeline.cjs']);
    expect(out.csvLines).toBe(2);
  });
});

/** A copy of the package (dist/ reads ../package.json), under the repo so node_modules resolve. */
function distCopy(): string {
  const tmp = join(root, 'test', '.tmp');
  mkdirSync(tmp, { recursive: true });
  const pkg = mkdtempSync(join(tmp, 'dist-copy-'));
  dirs.push(pkg);
  cpSync(join(root, 'package.json'), join(pkg, 'package.json'));
  const copy = join(pkg, 'dist');
  cpSync(dist, copy, { recursive: true });
  return copy;
}

/** Runs `code` with `node -e`; it must print nothing to stderr and one JSON line last. */
function evalJson(code: string): Record<string, unknown> {
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', timeout: 30_000 });
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

describe('a copy of dist/ without a file (a bundle that left it behind)', () => {
  it('throws MISSING_CHUNK, naming the file and the fix, at the first use only', () => {
    const copy = distCopy();
    rmSync(join(copy, 'lazy-report.cjs'));
    const code = `(async () => {
      const { EmissionsTracker } = require(${JSON.stringify(join(copy, 'index.cjs'))});
      const t = new EmissionsTracker({ saveToFile: false, handleSignals: false, countryIsoCode: 'FRA', native: false });
      t.start();
      const data = await t.stop();
      const err = await t.report().then(() => undefined, (e) => e);
      console.log(JSON.stringify({ stopped: data.durationS >= 0, name: err?.name, code: err?.code, message: err?.message }));
    })();`;
    const out = evalJson(code);
    expect(out).toMatchObject({ stopped: true, name: 'WattprintError', code: 'MISSING_CHUNK' });
    expect(out.message).toMatch(/dist\/lazy-report\.cjs .*keep wattprint external/);
  });

  it('without an offline table: MISSING_DATA at construction for a country it must check, a warning and the next provider when a sample needs it', () => {
    const copy = distCopy();
    const run = (options: object) => {
      const code = `(async () => {
        const { EmissionsTracker } = require(${JSON.stringify(join(copy, 'index.cjs'))});
        const warnings = [];
        let t;
        try {
          t = new EmissionsTracker({ saveToFile: false, handleSignals: false, native: false, ...${JSON.stringify(options)} });
        } catch (err) {
          return console.log(JSON.stringify({ name: err.name, code: err.code, message: err.message }));
        }
        t.on('warning', (w) => warnings.push(w.message));
        t.start();
        const data = await t.stop();
        console.log(JSON.stringify({ warnings, gPerKWh: data.intensityGPerKWh }));
      })();`;
      return evalJson(code);
    };
    rmSync(join(copy, 'data', 'usa-emissions.json'));
    const state = run({ countryIsoCode: 'USA', region: 'california' });
    expect(state.warnings).toEqual(
      expect.arrayContaining([expect.stringMatching(/^intensity provider 'offline' threw: .*data\/usa-emissions\.json .*keep wattprint external .*bundle\); the next/)]),
    );
    expect(state.gPerKWh).toBe(perSource.world_average);
    rmSync(join(copy, 'data', 'global-energy-mix.json'));
    const country = run({ countryIsoCode: 'FRA' });
    expect(country).toMatchObject({ name: 'WattprintError', code: 'MISSING_DATA' });
    expect(country.message).toMatch(/data\/global-energy-mix\.json .*keep wattprint external/);
  });
});
