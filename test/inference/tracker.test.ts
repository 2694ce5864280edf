import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv from 'ajv';
import { describe, expect, it } from 'vitest';
import { EmissionsTracker } from '../../src/index.js';
import type { CallRecord, EmissionsTrackerOptions } from '../../src/index.js';
import { FakePowerSource, ManualClock } from '../../src/testing/index.js';

const schema = JSON.parse(readFileSync(new URL('../../docs/report-schema.json', import.meta.url), 'utf8'));
const validator = () => {
  const ajv = new Ajv({ allErrors: true, strict: true });
  ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
  return ajv.compile(schema);
};

/**
 * A real EmissionsTracker on fake sources of known power (CPU 30 W, GPU 60 W, RAM 10 W) and a manual
 * clock. The rule 'time' (these tests check its maths end to end; the 'work' rule has its own tests).
 */
function setup(extra: EmissionsTrackerOptions = {}) {
  const clock = new ManualClock(10_000);
  const cpu = new FakePowerSource({ component: 'cpu', powerW: 30, clock, id: 'fake-rapl' });
  const gpu = new FakePowerSource({ component: 'gpu', powerW: 60, clock, id: 'fake-nvml', devices: [{ id: '0', name: 'Fake H100' }] });
  const ram = new FakePowerSource({ component: 'ram', powerW: 10, clock, id: 'fake-dimm', kind: 'estimated' });
  const tracker = new EmissionsTracker({
    sources: { cpu: [cpu], gpu: [gpu], ram: [ram] },
    clock: clock.now,
    saveToFile: false,
    handleSignals: false,
    native: false,
    forceCarbonIntensityGPerKWh: 300,
    attribution: 'time',
    ...extra,
  });
  const records: CallRecord[] = [];
  tracker.on('call', (r) => records.push(r));
  tracker.on('warning', () => {});
  return { clock, cpu, gpu, ram, tracker, records };
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('CallTracker through EmissionsTracker', () => {
  it('attributes concurrent calls by overlap and conserves the tracker’s total energy', async () => {
    const { clock, tracker, records } = setup({ callSampleIntervalMs: 100 });
    const handler = tracker.wrap((d: { promise: Promise<void> }) => d.promise, { name: 'handler' });
    tracker.start();
    const a = deferred();
    const b = deferred();
    const pa = tracker.withLabels({ req: 'a' }, () => handler(a));
    clock.advance(100);
    tracker.sample();
    const pb = tracker.withLabels({ req: 'b' }, () => handler(b));
    clock.advance(100);
    b.resolve();
    await pb;
    clock.advance(100);
    a.resolve();
    await pa; // 100 ms since the last sample: its end samples
    clock.advance(100);
    const data = await tracker.stop();
    const A = records.find((r) => r.labels.req === 'a')!;
    const B = records.find((r) => r.labels.req === 'b')!;
    // 100 W: [0,100] A alone 10 J; [100,200] A and B 5 J each; [200,300] A 10 J; [300,400] idle 10 J.
    expect(A.energyJ).toBeCloseTo(25, 9);
    expect(B.energyJ).toBeCloseTo(5, 9);
    expect(A.gpuEnergyJ).toBeCloseTo(15, 9);
    expect(A.emissionsKg).toBeCloseTo((25 * 300) / 3.6e9, 18);
    const stats = tracker.callStats();
    expect(stats.idleEnergyJ).toBeCloseTo(10, 9);
    const totalJ = data.energyConsumedKWh * 3.6e6;
    expect(totalJ).toBeCloseTo(40, 9);
    expect(Math.abs(A.energyJ + B.energyJ + stats.idleEnergyJ! - totalJ) / totalJ).toBeLessThan(1e-9);
    expect(Math.abs(stats.emissionsKg + stats.idleEmissionsKg! - data.emissionsKg) / data.emissionsKg).toBeLessThan(1e-9);
  });

  it('measures functions wrapped after start()', async () => {
    const { clock, tracker, records } = setup();
    tracker.start();
    const f = tracker.wrap(() => clock.advance(40), { name: 'late' });
    f();
    clock.advance(60);
    await tracker.stop();
    expect(records).toHaveLength(1);
    expect(records[0]!.energyJ).toBeCloseTo(4, 9);
  });

  it('a call tracker made at the first wrap after start() takes over the totals kept since start(): the same report as one made before', async () => {
    // Same clock, sources and calls; one tracker wraps before start(), the other only after three
    // samples (its call code loads then). Every attribution figure of their reports must agree.
    const run = async (wrapEarly: boolean) => {
      const { clock, tracker } = setup({ pue: 1.2 });
      let f = wrapEarly ? tracker.wrap(() => clock.advance(30), { name: 'h' }) : undefined;
      tracker.start();
      for (let i = 0; i < 3; i++) {
        clock.advance(100);
        tracker.sample();
      }
      f ??= tracker.wrap(() => clock.advance(30), { name: 'h' });
      f();
      clock.advance(70);
      f();
      clock.advance(50);
      const data = await tracker.stop();
      return { report: await tracker.report(), totalJ: data.energyConsumedKWh * 3.6e6 };
    };
    const early = await run(true);
    const late = await run(false);
    const a = late.report.results.attribution;
    expect(late.report.measurement.intervalsObserved).toBe(early.report.measurement.intervalsObserved);
    expect(late.report.measurement.attribution).toEqual(early.report.measurement.attribution);
    expect(late.report.measurement.intervalsObserved).toBe(4); // three samples, then stop()'s
    for (const k of Object.keys(a) as (keyof typeof a)[]) {
      if (typeof a[k] === 'number') expect(a[k], k).toBeCloseTo(early.report.results.attribution[k] as number, 12);
    }
    expect(a.trackerOverhead.cpuS).toBeGreaterThan(0);
    // 100 W × 1.2 over 0.48 s = 57.6 J, of which the two calls held 0.06 s = 7.2 J; the rest is idle.
    expect(late.totalJ).toBeCloseTo(57.6, 9);
    expect(a.callsEnergyJ).toBeCloseTo(7.2, 9);
    expect(Math.abs(a.callsEnergyJ + a.idleEnergyJ + a.unattributedEnergyJ - late.totalJ) / late.totalJ).toBeLessThan(1e-9);
  });

  it('applies PUE to call energy and reports it in the boundary', async () => {
    const { clock, tracker, records } = setup({ pue: 1.5 });
    const f = tracker.wrap(() => clock.advance(100), { name: 'work' });
    tracker.start();
    f();
    await tracker.stop();
    expect(records[0]!.energyJ).toBeCloseTo(15, 9);
    const report = await tracker.report();
    expect(report.boundary.included.facilityOverhead).toBe(true);
    expect(report.operationalConditions.pue).toBe(1.5);
  });

  it('baseline through the tracker: dynamic energy above idle power', async () => {
    const { clock, tracker, records, gpu } = setup({ baseline: { durationMs: 1000 } });
    const f = tracker.wrap(() => clock.advance(100), { name: 'infer' });
    tracker.start();
    clock.advance(1000);
    tracker.sample();
    const b = await (tracker as unknown as { baselineReady: Promise<{ powerW: number } | undefined> }).baselineReady;
    expect(b?.powerW).toBeCloseTo(100, 9);
    gpu.setPowerW(160); // 200 W total under load
    clock.advance(0);
    f();
    await tracker.stop();
    const r = records.at(-1)!;
    expect(r.energyJ).toBeCloseTo(20, 9);
    expect(r.dynamicEnergyJ).toBeCloseTo(10, 9);
  });

  it('writes wattprint-report.json at stop through the JSON reporter, valid against the schema', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wattprint-inference-'));
    const { clock, tracker } = setup({
      saveToJson: true,
      outputDir: dir,
      task: 'text generation',
      modality: 'text',
      batchSize: 1,
      amortize: { trainingEmissionsKg: 50, expectedRequests: 1000 },
    });
    const gen = tracker.wrap(async function* (n: number) {
      for (let i = 0; i < n; i++) {
        clock.advance(20);
        yield i;
      }
    }, { name: 'generate', streamTokens: 'chunks' });
    tracker.start();
    for await (const _ of gen(5)) {
      // consume
    }
    clock.advance(100);
    await tracker.stop();
    const report = JSON.parse(readFileSync(join(dir, 'wattprint-report.json'), 'utf8'));
    const validate = validator();
    expect(validate(report), JSON.stringify(validate.errors, null, 2)).toBe(true);
    expect(report.task).toEqual({ task: 'text generation', modality: 'text' });
    expect(report.tokens.outputTokens).toBe(5);
    expect(report.hardware.gpus).toEqual([{ model: 'Fake H100', count: 1 }]);
    expect(report.measurement.components.map((c: { source: string; kind: string }) => `${c.source}:${c.kind}`)).toEqual([
      'fake-rapl:measured',
      'fake-nvml:measured',
      'fake-dimm:estimated',
    ]);
    expect(report.results.perRequest.meanEnergyJ).toBeCloseTo(10, 9); // 100 ms at 100 W
    expect(report.results.perRequest.energyPerOutputTokenJ).toBeCloseTo(2, 9);
    expect(report.results.amortization.perRequestKg).toBeCloseTo(0.05, 12);
    expect(report.operationalConditions.carbonIntensity.gPerKWh).toBe(300);
  });
});
