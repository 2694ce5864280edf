// The PowerSource contract, run over every implementation: the public fake, the constant source,
// RAPL on a fixture powercap tree (fs and native readers), NVML through the fake C library and
// through the TypeScript fake binding, and the CPU TDP and RAM DIMM estimates.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { NativeLoadResult } from '../../src/native/binding.js';
import { constantPowerSource } from '../../src/sources/constant.js';
import { cpuTdpSource } from '../../src/sources/cpu-tdp.js';
import { nvmlSource } from '../../src/sources/nvml.js';
import { ramModelSource } from '../../src/sources/ram-dimm.js';
import { raplCpuSource } from '../../src/sources/rapl.js';
import { FakeNvmlBinding, FakePowerSource, ManualClock } from '../../src/testing/index.js';
import { COMPONENTS, type PowerSource, type SourceContext } from '../../src/types.js';
import { buildSystem, type FakeSystem } from '../fixtures/powercap/tree.js';
import { FakeGpus, fakeLibrary, nativeAddon } from '../native/nvml-helpers.js';
import { native as raplNative } from '../native/rapl-helpers.js';

/** One implementation under the contract: a working source on hardware the test drives, and a failing one. */
interface Subject {
  readonly source: PowerSource;
  /** Moves the clock (and the hardware's counters) by `ms`. */
  advance(ms: number): void;
  /** Energy the source should report since start(), J, and the tolerance of that figure. */
  truthJ(): number;
  readonly toleranceJ: number;
}
interface Implementation {
  readonly name: string;
  working(): Subject;
  /** A source of the same kind whose probe fails here; undefined where probing cannot fail (estimates). */
  unavailable?(): PowerSource;
}

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

function context(clock: ManualClock, roots: Partial<SourceContext> = {}): SourceContext {
  return { sysfsRoot: '/sys', procfsRoot: '/proc', devRoot: '/dev', trackingMode: 'machine', pid: process.pid, nowMs: clock.now, ...roots };
}

/** A source that integrates `powerW` over the clock: truth is power × time. */
function constantPower(clock: ManualClock, source: PowerSource, powerW: number, toleranceJ = 1e-9): Subject {
  let elapsedMs = 0;
  return {
    source,
    advance(ms) {
      clock.advance(ms);
      elapsedMs += ms;
    },
    truthJ: () => (powerW * elapsedMs) / 1000,
    toleranceJ,
  };
}

function raplOn(reader: 'fs' | 'native'): Implementation {
  const tree = (spec: Parameters<typeof buildSystem>[0]): FakeSystem => {
    const sys = buildSystem(spec);
    cleanups.push(() => sys.cleanup());
    return sys;
  };
  const source = (sys: FakeSystem, clock: ManualClock) =>
    raplCpuSource(context(clock, { sysfsRoot: sys.sysfsRoot, procfsRoot: sys.procfsRoot, devRoot: sys.devRoot }), raplNative, { reader, msr: false });
  return {
    name: `RAPL (${reader} reader, fixture powercap tree)`,
    working() {
      const sys = tree({ rapl: [{ name: 'package-0', raw: 2 ** 32 - 3_000_000, maxPowerUw: [125_000_000] }] });
      const clock = new ManualClock(1000);
      const zone = sys.zone('intel-rapl:0');
      return {
        source: source(sys, clock),
        advance(ms) {
          clock.advance(ms);
          // 80 W in raw counts of 61.035 µJ; the first steps wrap the 32-bit counter.
          zone.addRaw(Math.round((80 * ms * 1000) / zone.euNj));
        },
        truthJ: () => zone.addedUj() / 1e6,
        toleranceJ: 1e-5,
      };
    },
    unavailable: () => source(tree({}), new ManualClock()),
  };
}

function nvmlThroughC(): Implementation {
  const gpus = () =>
    new FakeGpus({ count: 1, '0.name': 'NVIDIA H200', '0.uuid': 'GPU-c0ffee00-0000-0000-0000-000000000000', '0.arch': 9, '0.energy_mj': '5000000', '0.power_mw': 250000 });
  const source = (clock: ManualClock, native: NativeLoadResult) => {
    const s = nvmlSource(context(clock), native, { libraryPath: fakeLibrary(), env: {}, powerSampleIntervalMs: 3_600_000 });
    cleanups.push(() => s.close?.());
    return s;
  };
  return {
    name: 'NVML (fake C library through the addon)',
    working() {
      const file = gpus();
      const clock = new ManualClock();
      let mj = 5_000_000;
      let addedMj = 0;
      return {
        source: source(clock, nativeAddon()),
        advance(ms) {
          clock.advance(ms);
          mj += 250 * ms;
          addedMj += 250 * ms;
          file.set({ '0.energy_mj': String(mj) });
        },
        truthJ: () => addedMj / 1000,
        toleranceJ: 1e-9,
      };
    },
    unavailable() {
      gpus().set({ count: 0 });
      return source(new ManualClock(), nativeAddon());
    },
  };
}

function nvmlThroughTs(): Implementation {
  const source = (clock: ManualClock, binding: FakeNvmlBinding) => {
    const s = nvmlSource(context(clock), { binding: binding as never, errors: [] }, { env: {} });
    cleanups.push(() => s.close?.());
    return s;
  };
  return {
    name: 'NVML (FakeNvmlBinding)',
    working() {
      const clock = new ManualClock();
      const binding = new FakeNvmlBinding({ clock, gpus: [{ powerW: 300 }, { powerW: 100 }] });
      return constantPower(clock, source(clock, binding), 400, 1e-6);
    },
    unavailable: () => source(new ManualClock(), new FakeNvmlBinding({ gpus: [{}], initError: 'NVML_ERROR_DRIVER_NOT_LOADED' })),
  };
}

/** A procfs with only what the estimates read: 16 GiB of memory (and /proc/stat where a test writes it). */
function estimateProcfs(): string {
  const root = mkdtempSync(join(tmpdir(), 'wattprint-contract-proc-'));
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'meminfo'), 'MemTotal:       16777216 kB\nMemAvailable:    8388608 kB\n');
  return root;
}

const IMPLEMENTATIONS: Implementation[] = [
  {
    name: 'FakePowerSource',
    working() {
      const clock = new ManualClock();
      return constantPower(clock, new FakePowerSource({ component: 'gpu', powerW: 120, clock }), 120);
    },
    unavailable: () => new FakePowerSource({ component: 'gpu', powerW: 1, unavailable: 'unplugged' }),
  },
  {
    name: 'constantPowerSource',
    working() {
      const clock = new ManualClock();
      return constantPower(clock, constantPowerSource({ component: 'ram', powerW: 8, nowMs: clock.now }), 8);
    },
  },
  raplOn('fs'),
  raplOn('native'),
  nvmlThroughC(),
  nvmlThroughTs(),
  {
    name: 'CPU TDP estimate',
    working() {
      const clock = new ManualClock();
      const cpu = { model: 'Test CPU', threads: 8, sockets: 1, arch: 'x86_64' };
      const procfsRoot = estimateProcfs();
      // The CPUs are busy half of the time: P = 90 W × (0.1 + 0.9 × 0.5³).
      let ticks = 1000;
      const writeStat = () => writeFileSync(join(procfsRoot, 'stat'), `cpu  ${ticks} 0 0 ${ticks} 0 0 0 0 0 0\n`);
      writeStat();
      const subject = constantPower(clock, cpuTdpSource(context(clock, { procfsRoot }), { tdpW: 90, cpu }), 90 * (0.1 + 0.9 * 0.125));
      return {
        ...subject,
        advance(ms: number) {
          ticks += ms;
          writeStat();
          subject.advance(ms);
        },
      };
    },
  },
  {
    name: 'RAM DIMM estimate',
    working() {
      const clock = new ManualClock();
      // 16 GiB: 2 DIMMs × 5 W, the x86 floor of 10 W.
      return constantPower(clock, ramModelSource(context(clock, { procfsRoot: estimateProcfs() }), { arch: 'x86_64' }), 10);
    },
  },
];

describe.each(IMPLEMENTATIONS)('PowerSource contract: $name', (impl) => {
  it('has a stable id, a component and a kind', () => {
    const { source } = impl.working();
    expect(source.id).toMatch(/^[\w-]+$/);
    expect(COMPONENTS).toContain(source.component);
    expect(['measured', 'estimated']).toContain(source.kind);
    if (source.maxReadIntervalMs !== undefined) expect(source.maxReadIntervalMs).toBeGreaterThan(0);
  });

  it('probes without throwing, the same answer twice, with named devices', () => {
    const { source } = impl.working();
    const first = source.probe();
    expect(first.ok).toBe(true);
    if (!first.ok) return;
    expect(first.devices.length).toBeGreaterThan(0);
    for (const d of first.devices) {
      expect(typeof d.id).toBe('string');
      expect(d.name.length).toBeGreaterThan(0);
    }
    expect(source.probe().ok).toBe(true);
  });

  it.runIf(impl.unavailable !== undefined)('explains a failed probe instead of throwing, and closes', () => {
    const source = impl.unavailable!();
    const probe = source.probe();
    expect(probe.ok).toBe(false);
    if (probe.ok) return;
    expect(probe.reason.length).toBeGreaterThan(0);
    if (probe.code !== undefined) expect(probe.code).toMatch(/^[A-Z_]+$/);
    expect(() => source.close?.()).not.toThrow();
  });

  it('reads 0 J at start, then monotonic totals that match the energy drawn', () => {
    const s = impl.working();
    expect(s.source.probe().ok).toBe(true);
    s.source.start();
    expect(s.source.read().energyJ).toBeCloseTo(0, 9);
    let previous = 0;
    for (const ms of [1000, 250, 0, 4000, 1]) {
      s.advance(ms);
      const r = s.source.read();
      expect(Number.isFinite(r.energyJ)).toBe(true);
      expect(r.energyJ).toBeGreaterThanOrEqual(previous);
      expect(Math.abs(r.energyJ - s.truthJ())).toBeLessThanOrEqual(s.toleranceJ);
      if (r.devicesJ) {
        const sum = Object.values(r.devicesJ).reduce((a, b) => a + b, 0);
        expect(Math.abs(sum - r.energyJ)).toBeLessThanOrEqual(1e-6);
      }
      if (r.utilizationPercent !== undefined) expect(r.utilizationPercent).toBeGreaterThanOrEqual(0);
      previous = r.energyJ;
    }
    expect(previous).toBeGreaterThan(0);
  });

  it('counts from zero again at a new start()', () => {
    const s = impl.working();
    s.source.probe();
    s.source.start();
    s.advance(2000);
    expect(s.source.read().energyJ).toBeGreaterThan(0);
    s.source.start();
    expect(s.source.read().energyJ).toBeCloseTo(0, 9);
  });

  it('closes idempotently', () => {
    const s = impl.working();
    s.source.probe();
    s.source.start();
    s.advance(100);
    s.source.read();
    expect(() => {
      s.source.close?.();
      s.source.close?.();
    }).not.toThrow();
  });
});
