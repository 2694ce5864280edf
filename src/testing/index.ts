/**
 * Public fakes for your own tests: sources of known power, a reporter that keeps what it receives,
 * and a manual clock. Import from `wattprint/testing`.
 *
 * @example
 * import { EmissionsTracker } from 'wattprint';
 * import { FakePowerSource, InMemoryReporter, ManualClock } from 'wattprint/testing';
 * const clock = new ManualClock();
 * const cpu = new FakePowerSource({ component: 'cpu', powerW: 50, clock });
 * const out = new InMemoryReporter();
 * const t = new EmissionsTracker({ sources: { cpu: [cpu], gpu: [], ram: [] }, reporters: [out], saveToFile: false, clock: clock.now, forceCarbonIntensityGPerKWh: 100 });
 * t.start(); clock.advance(3_600_000); const data = await t.stop(); // data.cpuEnergyKWh === 0.05
 */
import { constantPowerSource, type ConstantPowerSource } from '../sources/constant.js';

export { FakeNvmlBinding, FakeGpu } from './fake-nvml.js';
export type { FakeGpuOptions, FakeNvmlOptions } from './fake-nvml.js';
import type {
  Component,
  DeviceInfo,
  EmissionsData,
  EnergyReading,
  ProbeResult,
  ReportContext,
  Reporter,
  SourceKind,
} from '../types.js';

/** A monotonic clock you move by hand. Pass `clock.now` as the tracker's `clock` option. */
export class ManualClock {
  private ms: number;
  constructor(startMs = 0) {
    this.ms = startMs;
  }
  /** Current time in ms (bound: safe to pass around). */
  readonly now = (): number => this.ms;
  /** Moves the clock forward. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError('ManualClock.advance(ms): ms must be ≥ 0');
    this.ms += ms;
  }
}

export interface FakePowerSourceOptions {
  component: Component;
  /** Power drawn; change it later with `setPowerW`. */
  powerW: number;
  /** Default `'fake'`. */
  id?: string;
  /** Default `'measured'`. */
  kind?: SourceKind;
  /** Clock shared with the tracker. Default: ms since the process started, the tracker's default clock. */
  clock?: ManualClock | (() => number);
  devices?: DeviceInfo[];
  /** Make `probe()` fail with this reason. */
  unavailable?: string;
}

/**
 * A {@link PowerSource} of known power, integrated exactly over the clock. Make it fail with
 * `failReads(n)` or `unavailable` to test degradation paths.
 */
export class FakePowerSource implements ConstantPowerSource {
  readonly id: string;
  readonly component: Component;
  readonly kind: SourceKind;
  private readonly inner: ConstantPowerSource;
  private readonly unavailable?: string;
  private failing = 0;
  /** Number of `read()` calls so far. */
  reads = 0;

  constructor(opts: FakePowerSourceOptions) {
    this.id = opts.id ?? 'fake';
    this.component = opts.component;
    this.kind = opts.kind ?? 'measured';
    this.unavailable = opts.unavailable;
    const clock = opts.clock instanceof ManualClock ? opts.clock.now : opts.clock;
    this.inner = constantPowerSource({
      component: opts.component,
      powerW: opts.powerW,
      id: this.id,
      kind: this.kind,
      ...(clock ? { nowMs: clock } : {}),
      devices: opts.devices ?? [{ id: '0', name: `fake ${opts.component}` }],
    });
  }
  probe(): ProbeResult {
    return this.unavailable ? { ok: false, code: 'NOT_PRESENT', reason: this.unavailable } : this.inner.probe();
  }
  start(): void {
    this.inner.start();
  }
  read(): EnergyReading {
    this.reads++;
    if (this.failing > 0) {
      this.failing--;
      throw new Error(`${this.id}: injected read failure`);
    }
    return this.inner.read();
  }
  setPowerW(powerW: number): void {
    this.inner.setPowerW(powerW);
  }
  /** The next `n` reads throw. */
  failReads(n: number): void {
    this.failing = n;
  }
}

/** A {@link Reporter} that keeps every call in memory. */
export class InMemoryReporter implements Reporter {
  readonly id = 'memory';
  readonly rows: Array<{ data: EmissionsData; context: ReportContext }> = [];
  readonly reports: unknown[] = [];
  report(data: EmissionsData, context: ReportContext): void {
    this.rows.push({ data, context });
  }
  writeReport(report: unknown): void {
    this.reports.push(report);
  }
  /** The data of the last row, if any. */
  get last(): EmissionsData | undefined {
    return this.rows.at(-1)?.data;
  }
}
