import { readFileSync } from 'node:fs';
import Ajv from 'ajv';
import { EventEmitter } from 'eventemitter3';
import type { HardwareInfo } from '../../src/hardware.js';
import { CallTracker } from '../../src/inference/index.js';
import type { CallRecord, CallTrackerConfig, IntervalSample } from '../../src/inference/index.js';
import { buildRunReport, type RunReportInput, type WattprintReport } from '../../src/report/run-report.js';
import type { Boundary, Component, EmissionsData, IntensityValue, Measurement, WattprintWarning } from '../../src/types.js';

export type FakeHostOptions = CallTrackerConfig & {
  measurePowerSecs: number;
  pue: number;
  wue: number;
  task?: string;
  modality?: string;
  batchSize?: number;
};

/**
 * A stand-in for EmissionsTracker driving a CallTracker through its seam: a clock the test moves,
 * constant per-component powers the test sets, and a sampler that integrates them exactly and
 * pushes each interval into `calls.onInterval`. Attribution defaults to 'time' here (the tests of
 * the time rule's maths); pass `attribution: 'work'` for the work rule.
 */
export class FakeHost extends EventEmitter {
  t = 1000;
  cpuW = 20;
  gpuW = 70;
  ramW = 10;
  pue = 1;
  intensityGPerKWh = 400;
  running = false;
  lastMs = 0;
  fast = false;
  fastToggles: boolean[] = [];
  measurements: Measurement[] = [];
  records: CallRecord[] = [];
  warnings: WattprintWarning[] = [];
  errors: unknown[] = [];
  /** Idle floor per component pushed with each interval (W, before PUE); undefined: unknown. */
  idleFloorW: Partial<Record<Component, number>> | undefined = undefined;
  /** Tracker CPU seconds pushed with the next interval. */
  trackerCpuS = 0;
  /** CPU work the next interval covers (s), overriding the process's own CPU time. */
  cpuBusyS: number | undefined = undefined;
  readonly options: FakeHostOptions;
  readonly calls: CallTracker;

  constructor(opts: Partial<FakeHostOptions> = {}, tuning: Pick<CallTrackerConfig, 'maxPendingCalls'> = {}) {
    super();
    this.options = { callSampleIntervalMs: 100, measurePowerSecs: 15, pue: 1, wue: 0, attribution: 'time', ...opts, ...tuning };
    this.pue = this.options.pue;
    this.calls = new CallTracker(
      {
        nowMs: () => this.nowMs(),
        requestSample: () => void this.sampleNow(),
        setFastSampling: (on) => this.setFastSampling(on),
        emitCall: (r) => this.emit('call', r),
        wantsCalls: () => this.listenerCount('call') > 0,
        warn: (w) => this.emit('warning', w),
        error: (e) => this.emit('error', e),
      },
      this.options,
    );
    this.on('call', (r: CallRecord) => this.records.push(r));
    this.on('warning', (w: WattprintWarning) => this.warnings.push(w));
    this.on('error', (e: unknown) => this.errors.push(e));
  }

  get powerW(): number {
    return this.cpuW + this.gpuW + this.ramW;
  }

  setPower(cpuW: number, gpuW: number, ramW: number): void {
    this.cpuW = cpuW;
    this.gpuW = gpuW;
    this.ramW = ramW;
  }

  start(): this {
    this.running = true;
    this.lastMs = this.t;
    this.calls.start();
    return this;
  }

  stop(): void {
    this.sampleNow();
    this.calls.stop();
    this.running = false;
  }

  advance(ms: number): void {
    this.t += ms;
  }

  /** Moves the clock and samples, as the host's timer would. */
  tick(ms: number): Measurement | undefined {
    this.t += ms;
    return this.sampleNow();
  }

  nowMs(): number {
    return this.t;
  }

  sampleNow(): Measurement | undefined {
    if (!this.running) return undefined;
    const startMs = this.lastMs;
    const endMs = this.t;
    const s = (endMs - startMs) / 1000;
    const cpu = this.cpuW * s * this.pue;
    const gpu = this.gpuW * s * this.pue;
    const ram = this.ramW * s * this.pue;
    const energyJ = cpu + gpu + ram;
    const m: Measurement = {
      startMs,
      endMs,
      durationS: s,
      cpuEnergyJ: cpu,
      gpuEnergyJ: gpu,
      ramEnergyJ: ram,
      energyJ,
      cpuPowerW: s > 0 ? cpu / s : 0,
      gpuPowerW: s > 0 ? gpu / s : 0,
      ramPowerW: s > 0 ? ram / s : 0,
      intensityGPerKWh: this.intensityGPerKWh,
      emissionsKg: (energyJ / 3.6e6) * this.intensityGPerKWh / 1000,
    };
    this.lastMs = endMs;
    this.measurements.push(m);
    const floor = this.idleFloorW;
    const sample: IntervalSample = {
      ...m,
      ...(floor ? { idleFloorW: Object.fromEntries(Object.entries(floor).map(([c, w]) => [c, w * this.pue])) } : {}),
      trackerCpuS: this.trackerCpuS,
      ...(this.cpuBusyS !== undefined ? { cpuBusyS: this.cpuBusyS } : {}),
    };
    this.calls.onInterval(sample);
    this.emit('measurement', m);
    return m;
  }

  setFastSampling(on: boolean): void {
    this.fast = on;
    this.fastToggles.push(on);
  }

  intensity(): IntensityValue {
    return { gPerKWh: this.intensityGPerKWh, source: 'test:fixed', year: 2024 };
  }

  /** The run report, built as the tracker builds it: plain data from both sides. */
  report(): WattprintReport {
    const input: RunReportInput = {
      results: this.snapshot(),
      hardware: this.hardware(),
      boundary: this.boundary(),
      intensity: this.intensity(),
      options: this.options,
      calls: this.calls.reportData(),
    };
    return buildRunReport(input);
  }

  snapshot(): EmissionsData {
    const sum = (k: 'cpuEnergyJ' | 'gpuEnergyJ' | 'ramEnergyJ' | 'energyJ' | 'emissionsKg') =>
      this.measurements.reduce((a, m) => a + m[k], 0);
    const durationS = this.measurements.reduce((a, m) => a + m.durationS, 0);
    return {
      timestamp: '2025-01-01T00:00:00',
      projectName: 'p',
      runId: '00000000-0000-4000-8000-000000000000',
      experimentId: 'e',
      experimentName: 'base',
      durationS,
      emissionsKg: sum('emissionsKg'),
      emissionsRateKgPerS: durationS > 0 ? sum('emissionsKg') / durationS : 0,
      cpuPowerW: this.cpuW,
      gpuPowerW: this.gpuW,
      ramPowerW: this.ramW,
      cpuEnergyKWh: sum('cpuEnergyJ') / 3.6e6,
      gpuEnergyKWh: sum('gpuEnergyJ') / 3.6e6,
      ramEnergyKWh: sum('ramEnergyJ') / 3.6e6,
      energyConsumedKWh: sum('energyJ') / 3.6e6,
      waterConsumedL: 0,
      countryName: 'France',
      countryIsoCode: 'FRA',
      region: '',
      cloudProvider: '',
      cloudRegion: '',
      os: 'Linux-test',
      nodeVersion: process.version,
      trackerVersion: 'wattprint test',
      cpuCount: 8,
      cpuModel: 'Test CPU',
      gpuCount: 2,
      gpuModel: '2 x Test GPU',
      ramTotalSizeGB: 32,
      trackingMode: 'machine',
      cpuUtilizationPercent: 0,
      gpuUtilizationPercent: 0,
      ramUtilizationPercent: 0,
      ramUsedGB: 0,
      onCloud: 'N',
      pue: this.pue,
      wue: this.options.wue,
      intensityGPerKWh: this.intensityGPerKWh,
      intensitySource: 'test:fixed',
      boundary: this.boundary(),
    };
  }

  hardware(): HardwareInfo {
    return {
      cpuModel: 'Test CPU',
      cpuCount: 8,
      cpuSockets: 1,
      cpuPhysicalCores: 4,
      arch: 'x64',
      os: 'Linux-test',
      ramTotalGiB: 32,
      gpus: [
        { id: '0', name: 'Test GPU' },
        { id: '1', name: 'Test GPU' },
      ],
      gpuCount: 2,
      gpuModel: '2 x Test GPU',
    };
  }

  boundary(): Boundary {
    const pueApplied = this.pue > 1;
    return {
      cpu: { component: 'cpu', source: 'rapl', kind: 'measured', devices: ['package-0'], scope: 'machine', pueApplied },
      gpu: { component: 'gpu', source: 'nvml', kind: 'measured', devices: ['Test GPU', 'Test GPU'], scope: 'machine', pueApplied },
      ram: { component: 'ram', source: 'ram-dimm', kind: 'estimated', devices: ['4 DIMMs'], scope: 'machine', pueApplied },
      pue: this.pue,
      emissionsScope: 'operational',
    };
  }
}

/** A promise the test settles, with the clock set by the test before settling. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export const KG_PER_J_AT = (gPerKWh: number) => gPerKWh / 3.6e9;

/** Relative closeness. */
export function rel(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-300);
}

const schema = JSON.parse(readFileSync(new URL('../../docs/report-schema.json', import.meta.url), 'utf8'));

/** A validator of docs/report-schema.json. */
export function reportValidator() {
  const ajv = new Ajv({ allErrors: true, strict: true });
  ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
  return ajv.compile(schema);
}
