import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bucketIndex, recordTimeline, type TimelineCalls, type TimelineSample } from '../../src/exporters/timeline.js';
import type { Measurement } from '../../src/types.js';
import { FakeSource } from './fake-source.js';

const measurement = (startMs: number, endMs: number, cpuW: number, ramW: number): Measurement => {
  const s = (endMs - startMs) / 1000;
  return {
    startMs,
    endMs,
    durationS: s,
    cpuEnergyJ: cpuW * s,
    gpuEnergyJ: 0,
    ramEnergyJ: ramW * s,
    energyJ: (cpuW + ramW) * s,
    cpuPowerW: cpuW,
    gpuPowerW: 0,
    ramPowerW: ramW,
    intensityGPerKWh: 400,
    emissionsKg: ((cpuW + ramW) * s * 400) / 3.6e9,
  };
};

describe('recordTimeline', () => {
  it("writes one line per 'measurement' with times from the run's start and each component's kind", async () => {
    const tick = () => new Promise<void>((r) => setImmediate(r));
    const dir = mkdtempSync(join(tmpdir(), 'wattprint-timeline-'));
    const path = join(dir, 'timeline.jsonl');
    const source = new FakeSource();
    const t = recordTimeline(source, { path });
    source.emit('measurement', measurement(5000, 7000, 40, 10));
    await tick();
    source.emitCall('complete', 0.5);
    source.emitCall('complete', 20000);
    source.emit('measurement', measurement(7000, 8000, 80, 10));
    await tick();
    source.emit('measurement', measurement(8000, 9000, 60, 10));
    // A call attributed by a later listener of the same sample is in that sample's calls line.
    source.emitCall('complete', 2);
    t.close();
    t.close();
    expect(source.listenerCount('measurement')).toBe(0);
    expect(source.listenerCount('call')).toBe(0);
    const lines = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as TimelineSample | TimelineCalls);
    expect(lines.map((l) => l.type)).toEqual(['sample', 'sample', 'calls', 'sample', 'calls']);
    expect((lines[4] as TimelineCalls).calls[0]!.count).toBe(3);
    const samples = lines.filter((l): l is TimelineSample => l.type === 'sample');
    expect(samples.map((s) => [s.t0_s, s.t_s])).toEqual([
      [0, 2],
      [2, 3],
      [3, 4],
    ]);
    expect(samples[1]!.cpu_power_w).toBe(80);
    expect(samples[0]!.cpu_energy_j).toBe(80);
    expect(samples[0]!.kinds).toEqual({ cpu: 'measured', gpu: 'none', ram: 'estimated' });
    expect(samples[0]!.run_id).toBe('run-1');
    expect(samples[0]!.project_name).toBe('fleet-test');
    const calls = lines.filter((l): l is TimelineCalls => l.type === 'calls');
    const last = calls.at(-1)!.calls[0]!;
    expect(last).toMatchObject({ name: 'complete', count: 3, energy_j: 20002.5 });
    expect(last.counts).toHaveLength(calls[0]!.bucket_bounds_j.length + 1);
    expect(last.counts[bucketIndex(calls[0]!.bucket_bounds_j, 0.5)]).toBe(1);
    expect(last.counts[4]).toBe(1); // 0.5 J in (0.316, 1]
    expect(last.counts[5]).toBe(1); // 2 J in (1, 3.16]
    expect(last.counts.at(-1)).toBe(1); // above 10 kJ
  });

  it('bucketIndex: first bound at or above the energy, overflow past the last', () => {
    const b = [0.01, 0.1, 1];
    expect(bucketIndex(b, 0)).toBe(0);
    expect(bucketIndex(b, 0.01)).toBe(0);
    expect(bucketIndex(b, 0.011)).toBe(1);
    expect(bucketIndex(b, 1)).toBe(2);
    expect(bucketIndex(b, 1.5)).toBe(3);
  });

  it('a write failure is reported, never thrown into the tracker', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wattprint-timeline-'));
    const path = join(dir, 'no-such-dir', 'timeline.jsonl');
    const source = new FakeSource();
    const errors: Error[] = [];
    const t = recordTimeline(source, { path, onError: (e) => errors.push(e) });
    expect(() => source.emit('measurement', measurement(0, 1000, 1, 1))).not.toThrow();
    t.close();
    await new Promise((r) => setImmediate(r)); // the write's rejection is reported asynchronously
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toContain('no-such-dir');
    expect(() => recordTimeline(source, { path: '' })).toThrow(/`path`/);
  });
});
