import { EventEmitter } from 'node:events';
import type { CallRecord } from '../../src/inference/types.js';
import type { ComponentSnapshot, TrackerSnapshot } from '../../src/types.js';

const none = (component: ComponentSnapshot['component']): ComponentSnapshot => ({
  component,
  source: 'none',
  kind: 'none',
  scope: 'machine',
  energyJ: 0,
  powerW: 0,
  emissionsG: 0,
  devices: [],
});

/** A snapshot of a machine with two RAPL packages (per-device split), no GPU and estimated RAM. */
export function machineSnapshot(over: Partial<TrackerSnapshot> = {}): TrackerSnapshot {
  return {
    projectName: 'fleet-test',
    runId: 'run-1',
    running: true,
    trackingMode: 'machine',
    startedAtMs: 1_700_000_000_000,
    lastSampleAtMs: 1_700_000_060_000,
    durationS: 60,
    pue: 1.2,
    components: {
      cpu: {
        component: 'cpu',
        source: 'rapl',
        kind: 'measured',
        scope: 'machine',
        energyJ: 3000,
        powerW: 50,
        emissionsG: 0.4,
        devices: [
          { id: 'package-0', name: 'package-0', energyJ: 1800, powerW: 30 },
          { id: 'package-1', name: 'package-1', energyJ: 1200, powerW: 20 },
        ],
      },
      gpu: none('gpu'),
      ram: {
        component: 'ram',
        source: 'ram-dimm',
        kind: 'estimated',
        scope: 'machine',
        energyJ: 600,
        powerW: 10,
        emissionsG: 0.08,
        devices: [{ id: 'dimms', name: '4 DIMMs' }],
      },
    },
    energyJ: 3600,
    emissionsG: 0.48,
    intensity: { gPerKWh: 400, source: 'test-grid' },
    calls: [{ name: 'complete', ok: 5, error: 1, aborted: 2, energyJ: 12, inputTokens: 100, outputTokens: 40 }],
    ...over,
  };
}

/** A stand-in tracker: `snapshot()` returns `current` (counting reads), `emitCall` fires 'call'. */
export class FakeSource extends EventEmitter {
  current: TrackerSnapshot;
  reads = 0;
  constructor(snapshot: TrackerSnapshot = machineSnapshot()) {
    super();
    this.current = snapshot;
  }
  snapshot(): TrackerSnapshot {
    this.reads++;
    return this.current;
  }
  emitCall(name: string, energyJ: number, extra: Partial<CallRecord> = {}): void {
    const r: CallRecord = {
      name,
      startEpochMs: Date.now(),
      startMs: 0,
      endMs: 1,
      durationS: 0.001,
      energyJ,
      cpuEnergyJ: energyJ,
      gpuEnergyJ: 0,
      ramEnergyJ: 0,
      emissionsKg: 0,
      amortizedEmissionsKg: 0,
      totalEmissionsKg: 0,
      labels: {},
      error: false,
      outcome: 'ok',
      stream: false,
      ...extra,
    };
    this.emit('call', r);
  }
}
