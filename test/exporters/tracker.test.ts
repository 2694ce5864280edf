// The exporters and the timeline on a real EmissionsTracker (fake sources on a manual clock): what
// they expose is the tracker's own accounting, and the per-call histograms see every wrapped call.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { otelMetrics } from '../../src/exporters/otel.js';
import { prometheusMetrics } from '../../src/exporters/prometheus.js';
import { recordTimeline, type TimelineCalls, type TimelineSample } from '../../src/exporters/timeline.js';
import { FakePowerSource, ManualClock } from '../../src/testing/index.js';
import type { PowerSource } from '../../src/types.js';
import { EmissionsTracker } from '../../src/tracker.js';

function tracker(clock: ManualClock) {
  const cpu = new FakePowerSource({ component: 'cpu', powerW: 40, clock, devices: [{ id: 'package-0', name: 'Test CPU' }] });
  const ram = new FakePowerSource({ component: 'ram', powerW: 6, clock, kind: 'estimated', id: 'ram-model' });
  return new EmissionsTracker({
    sources: { cpu: [cpu], gpu: [], ram: [ram] },
    saveToFile: false,
    handleSignals: false,
    clock: clock.now,
    pue: 1.5,
    forceCarbonIntensityGPerKWh: 300,
    projectName: 'svc',
    measurePowerSecs: 3600,
    callSampleIntervalMs: 60_000,
  });
}

describe('exporters on a real tracker', () => {
  it('Prometheus, OpenTelemetry and the timeline agree with the tracker on energy, power, emissions and calls', async () => {
    const clock = new ManualClock();
    const t = tracker(clock);
    const registry = new Registry();
    const prom = prometheusMetrics(t, { registry });
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    const provider = new MeterProvider({ readers: [reader] });
    const otel = otelMetrics(t, provider.getMeter('svc'));
    const path = join(mkdtempSync(join(tmpdir(), 'wattprint-exp-')), 'timeline.jsonl');
    const timeline = recordTimeline(t, { path });

    t.start();
    const work = t.wrap((ms: number) => clock.advance(ms), { name: 'work' });
    clock.advance(10_000);
    t.sample(); // 10 s idle
    work(2000); // 2 s call
    work(500);
    clock.advance(1500);
    t.sample(); // 4 s more, the calls attributed
    const snap = t.snapshot();
    expect(snap.components.cpu.energyJ).toBeCloseTo(40 * 14, 6);

    const text = await registry.metrics();
    const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}()|.+*?^$[\]\\]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(value('wattprint_energy_joules_total{component="cpu",device="package-0",source="fake",kind="measured",scope="machine",project="svc"}')).toBeCloseTo(560, 6);
    expect(value('wattprint_energy_joules_total{component="ram",device="0",source="ram-model",kind="estimated",scope="machine",project="svc"}')).toBeCloseTo(84, 6);
    expect(value('wattprint_power_watts{component="cpu",device="package-0",source="fake",kind="measured",scope="machine",project="svc"}')).toBeCloseTo(40, 6);
    // Emissions after PUE: 560 J × 1.5 / 3.6e6 kWh × 300 g/kWh.
    expect(value('wattprint_emissions_grams_total{component="cpu",project="svc"}')).toBeCloseTo(((560 * 1.5) / 3.6e6) * 300, 9);
    expect(value('wattprint_pue')).toBe(1.5);
    expect(value('wattprint_calls_total{name="work",outcome="ok"}')).toBe(2);
    expect(value('wattprint_call_energy_joules_count{name="work"}')).toBe(2);
    // All the power of the 4 s interval goes to the calls that ran in it: 2.5 s of 46 W × 1.5... shared by overlap.
    const callsJ = value('wattprint_call_energy_joules_sum{name="work"}');
    expect(callsJ).toBeCloseTo(snap.calls[0]!.energyJ, 9);
    expect(callsJ).toBeGreaterThan(0);

    await reader.forceFlush();
    const metrics = exporter.getMetrics().flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics));
    const hwEnergy = metrics.find((m) => m.descriptor.name === 'hw.energy')!;
    expect(hwEnergy.dataPoints.find((p) => p.attributes['hw.type'] === 'cpu')!.value).toBeCloseTo(560, 6);
    const callEnergy = metrics.find((m) => m.descriptor.name === 'wattprint.call.energy')!;
    expect((callEnergy.dataPoints[0]!.value as { count: number; sum: number }).sum).toBeCloseTo(callsJ, 9);

    await t.stop();
    timeline.close();
    prom.close();
    otel.close();
    await provider.shutdown();
    const lines = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as TimelineSample | TimelineCalls);
    const samples = lines.filter((l): l is TimelineSample => l.type === 'sample');
    expect(samples.map((s) => [s.t0_s, s.t_s])).toEqual([
      [0, 10],
      [10, 14],
      [14, 14],
    ].slice(0, samples.length));
    expect(samples[0]!.cpu_power_w).toBeCloseTo(40 * 1.5, 6);
    expect(samples[0]!.kinds).toEqual({ cpu: 'measured', gpu: 'none', ram: 'estimated' });
    const calls = lines.filter((l): l is TimelineCalls => l.type === 'calls').at(-1)!;
    expect(calls.calls[0]).toMatchObject({ name: 'work', count: 2 });
    expect(calls.calls[0]!.energy_j).toBeCloseTo(callsJ, 6);
  });
});

describe('snapshot power read by the exporters', () => {
  it('a sample a moment after another (a flush on the timer tick) does not turn counter steps into 0 W or spikes', async () => {
    const clock = new ManualClock();
    // A counter that moves in 4 J steps every 100 ms (40 W), as hardware counters update in steps.
    const stepped: PowerSource = {
      id: 'stepped',
      component: 'cpu',
      kind: 'measured',
      probe: () => ({ ok: true, devices: [{ id: 'package-0', name: 'p0' }] }),
      start() {},
      read: () => {
        const j = Math.floor(clock.now() / 100) * 4;
        return { energyJ: j, devicesJ: { 'package-0': j } };
      },
    };
    const t = new EmissionsTracker({ sources: { cpu: [stepped], gpu: [], ram: [] }, saveToFile: false, handleSignals: false, clock: clock.now, measurePowerSecs: 10, forceCarbonIntensityGPerKWh: 100 });
    const registry = new Registry();
    const prom = prometheusMetrics(t, { registry });
    t.start();
    const power = async () => Number(/^wattprint_power_watts\{[^}]*device="package-0"[^}]*\} (\S+)$/m.exec(await registry.metrics())?.[1]);
    clock.advance(10_000);
    t.sample();
    expect(await power()).toBeCloseTo(40, 9);
    clock.advance(1); // same 100 ms step: the counter has not moved
    t.sample();
    expect(await power()).toBeCloseTo(40, 9);
    expect(t.snapshot().components.cpu.powerW).toBeCloseTo(40, 9);
    clock.advance(99); // the next step lands 1 ms after the previous sample
    t.sample();
    expect(await power()).toBeCloseTo(40, 9);
    clock.advance(9_900);
    t.sample(); // 10 s window since the last one shown: 100 steps
    expect(await power()).toBeCloseTo(40, 9);
    expect(t.snapshot().components.cpu.powerW).toBeCloseTo(40, 9);
    prom.close();
    await t.stop();
  });
});
