import { describe, expect, it } from 'vitest';
import type { WattprintReport } from '../../src/inference/index.js';
import { FakeHost, deferred, reportValidator } from './fake-host.js';



async function scenario() {
  const host = new FakeHost({
    task: 'chat completion',
    modality: 'text',
    batchSize: 8,
    pue: 1.2,
    wue: 1.8,
    baseline: { durationMs: 200 },
    amortize: { trainingEmissionsKg: 1000, expectedRequests: 1_000_000 },
  });
  host.setPower(10, 30, 10); // 50 W idle (×1.2 PUE = 60 W)
  host.start();
  host.tick(200);
  await host.calls.baselineReady;
  host.setPower(20, 70, 10); // 100 W (×1.2 = 120 W)
  const chat = host.calls.wrap((d: { promise: Promise<void> }, prompt: string) => d.promise.then(() => prompt.toUpperCase()), {
    name: 'chat',
    tokens: (out, [, prompt]) => ({ inputTokens: prompt.length, outputTokens: out.length * 2 }),
  });
  const embed = host.calls.wrap(() => host.advance(50), { name: 'embed', tokens: () => ({ inputTokens: 10 }) });
  // [200,300]: two chats concurrently for 100 ms; [300,400]: one embed of 50 ms, then idle.
  const d1 = deferred();
  const d2 = deferred();
  const p1 = host.calls.withLabels({ model: 'm' }, () => chat(d1, 'hello'));
  const p2 = chat(d2, 'hi');
  host.advance(100);
  d1.resolve();
  d2.resolve();
  await Promise.all([p1, p2]);
  host.sampleNow();
  embed();
  host.advance(50);
  host.stop();
  return host;
}

describe('report', () => {
  it('validates against docs/report-schema.json and states the checklist items', async () => {
    const host = await scenario();
    const report = host.report();
    const validate = reportValidator();
    const json = JSON.parse(JSON.stringify(report)) as WattprintReport;
    expect(validate(json), JSON.stringify(validate.errors, null, 2)).toBe(true);
    expect(json).toEqual(report); // nothing lost to JSON (no undefined, NaN or Infinity)

    // (1) task and modality
    expect(report.task).toEqual({ task: 'chat completion', modality: 'text' });
    // (2) tokens: 'hello' and 'hi' in, 10 and 4 out; embed 10 in, no output count
    expect(report.tokens).toEqual({ inputTokens: 17, outputTokens: 14, callsWithOutputTokens: 2, calls: 3 });
    // (3) hardware
    expect(report.hardware.cpu).toEqual({ model: 'Test CPU', sockets: 1, threads: 8, physicalCores: 4, arch: 'x64' });
    expect(report.hardware.gpus).toEqual([{ model: 'Test GPU', count: 2 }]);
    expect(report.hardware.memory.totalGiB).toBe(32);
    // (4) operational conditions over 400 ms observed: 250 call-ms, 150 busy ms
    const oc = report.operationalConditions;
    expect(oc.observedS).toBeCloseTo(0.4, 12);
    expect(oc.requests).toBe(3);
    expect(oc.requestRatePerS).toBeCloseTo(7.5, 9);
    expect(oc.concurrency.maxInFlight).toBe(2);
    expect(oc.concurrency.meanInFlight).toBeCloseTo(0.25 / 0.4, 9);
    expect(oc.concurrency.meanInFlightWhileBusy).toBeCloseTo(0.25 / 0.15, 9);
    expect(oc.concurrency.busyFraction).toBeCloseTo(0.15 / 0.4, 9);
    expect(oc.declaredBatchSize).toBe(8);
    expect(oc.pue).toBe(1.2);
    expect(oc.wue).toBe(1.8);
    expect(oc.location.countryIsoCode).toBe('FRA');
    expect(oc.carbonIntensity).toEqual({
      gPerKWh: 400,
      source: 'test:fixed',
      year: 2024,
      provider: '',
      zone: null,
      freshness: null,
      signal: null,
      emissionFactor: null,
      locationSource: null,
    });
    // (5) measurement
    expect(report.measurement.components.map((c) => [c.component, c.source, c.kind])).toEqual([
      ['cpu', 'rapl', 'measured'],
      ['gpu', 'nvml', 'measured'],
      ['ram', 'ram-dimm', 'estimated'],
    ]);
    expect(report.measurement.samplingIntervalMs).toEqual({ idle: 15000, duringCalls: 100 });
    expect(report.measurement.baseline).toMatchObject({ status: 'measured', requestedDurationMs: 200 });
    expect((report.measurement.baseline as { powerW: number }).powerW).toBeCloseTo(60, 9);
    // (6) boundary
    expect(report.boundary.included).toEqual({
      gpu: true,
      cpu: true,
      dram: true,
      restOfServer: false,
      facilityOverhead: true,
      idleEnergy: true,
      network: false,
      storage: false,
    });
    expect(report.boundary.emissions).toEqual({ operational: true, embodied: false, trainingAmortized: true });
    expect(report.boundary.notes.join(' ')).toMatch(/RAM energy is estimated/);
    // (7) units
    expect(report.units).toMatchObject({ energy: 'J', emissions: 'kgCO2eq', carbonIntensity: 'gCO2eq/kWh' });

    // Results: [200,300] 12 J to the chats (6 J each); [300,400] 12 J, embed 6 J, idle 6 J; baseline 12 J idle.
    const r = report.results;
    expect(r.attribution.observedEnergyJ).toBeCloseTo(12 + 12 + 12, 9);
    expect(r.attribution.callsEnergyJ).toBeCloseTo(18, 9);
    expect(r.attribution.idleEnergyJ).toBeCloseTo(18, 9);
    expect(r.run.energyJ).toBeCloseTo(36, 9);
    expect(r.perRequest.meanEnergyJ).toBeCloseTo(6, 9);
    expect(r.perRequest.windowEnergyPerRequestJ).toBeCloseTo(12, 9);
    // Dynamic: each 100 ms interval carries 60 W × busy time of idle power.
    // Chats: (12 − 6) / 2 = 3 J each; embed: 6 − 3 = 3 J.
    expect(r.perRequest.meanDynamicEnergyJ).toBeCloseTo(3, 9);
    expect(r.perRequest.energyPerOutputTokenJ).toBeCloseTo(12 / 14, 9);
    expect(r.perRequest.amortizedEmissionsKg).toBeCloseTo(1e-3, 15);
    expect(r.perRequest.totalEmissionsKg).toBeCloseTo((6 * 400) / 3.6e9 + 1e-3, 15);
    expect(r.amortization).toMatchObject({ perRequestKg: 1e-3, requests: 3 });
    expect(r.amortization!.amortizedEmissionsKg).toBeCloseTo(3e-3, 15);
    expect(r.byName.map((s) => [s.name, s.count])).toEqual([
      ['chat', 2],
      ['embed', 1],
    ]);
    expect(r.calls.idleEnergyJ).toBeCloseTo(18, 9);
  });

  it('is valid before any call, with nulls where nothing was observed', () => {
    const host = new FakeHost().start();
    const report = host.report();
    const validate = reportValidator();
    expect(validate(JSON.parse(JSON.stringify(report))), JSON.stringify(validate.errors)).toBe(true);
    expect(report.task).toEqual({ task: null, modality: null });
    expect(report.results.perRequest.meanEnergyJ).toBeNull();
    expect(report.results.amortization).toBeNull();
    expect(report.measurement.baseline).toEqual({ status: 'not-configured', requestedDurationMs: null });
    expect(report.boundary.included.facilityOverhead).toBe(false);
    expect(report.run.endTime).toBeNull();
  });

  it('the schema rejects a report missing a checklist section or with a wrong unit', async () => {
    const host = await scenario();
    const validate = reportValidator();
    const good = JSON.parse(JSON.stringify(host.report()));
    const noHardware = { ...good };
    delete noHardware.hardware;
    expect(validate(noHardware)).toBe(false);
    expect(validate({ ...good, units: { ...good.units, energy: 'kWh' } })).toBe(false);
    expect(validate({ ...good, boundary: { ...good.boundary, emissions: { ...good.boundary.emissions, embodied: true } } })).toBe(false);
  });
});
