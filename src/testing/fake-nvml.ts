import { monotonicMs } from '../clock-guard.js';
import type { NvmlBinding, NvmlError, NvmlProcessSample } from '../native/binding.js';

/** `nvmlReturn_t` values of the statuses the fake produces (names as the addon reports them). */
const NVML_RETURN: Readonly<Record<string, number>> = {
  NVML_ERROR_UNINITIALIZED: 1,
  NVML_ERROR_INVALID_ARGUMENT: 2,
  NVML_ERROR_NOT_SUPPORTED: 3,
  NVML_ERROR_NO_PERMISSION: 4,
  NVML_ERROR_NOT_FOUND: 6,
  NVML_ERROR_DRIVER_NOT_LOADED: 9,
  NVML_ERROR_LIBRARY_NOT_FOUND: 12,
  NVML_ERROR_FUNCTION_NOT_FOUND: 13,
  NVML_ERROR_GPU_IS_LOST: 15,
  NVML_ERROR_LIB_RM_VERSION_MISMATCH: 18,
  NVML_ERROR_IN_USE: 19,
  NVML_ERROR_UNKNOWN: 999,
};

/** The error shape of the addon: `code` is the NVML status name, `nvmlReturn` its number. */
class FakeNvmlError extends Error implements NvmlError {
  readonly nvmlReturn: number;
  constructor(
    readonly code: string,
    fn: string,
  ) {
    super(`${fn}: ${code}`);
    this.name = 'NvmlError';
    this.nvmlReturn = NVML_RETURN[code] ?? 999;
  }
}

/** One GPU of a {@link FakeNvmlBinding}. */
export interface FakeGpuOptions {
  /** Default `'Fake GPU'`. */
  readonly name?: string;
  /** Default `GPU-00000000-0000-0000-0000-00000000000<index>`. */
  readonly uuid?: string;
  /** `NVML_DEVICE_ARCH_*` (4 Pascal, 5 Volta, 9 Hopper...). Default 9. */
  readonly architecture?: number;
  /** Board power drawn, until `setPowerW`. Default 100. */
  readonly powerW?: number;
  /** Enforced power limit. Default 700. */
  readonly powerLimitW?: number;
  /** Whether the total-energy counter exists (false: `NVML_ERROR_NOT_SUPPORTED`, as before Volta or on vGPUs). Default true. */
  readonly energyCounter?: boolean;
  /** Counter value at the fake driver's load, mJ. Default 1 000 000. */
  readonly startEnergyMj?: number;
  /** GPU utilisation reported, percent. Default 50. */
  readonly utilizationPercent?: number;
  /** Per-process SM utilisation; undefined: `NVML_ERROR_NOT_SUPPORTED`. */
  readonly processes?: ReadonlyArray<{ readonly pid: number; readonly smUtil: number }>;
  /** MIG instance UUIDs held by this GPU. */
  readonly migUuids?: readonly string[];
}

/** A GPU of the fake, with its controls. */
export class FakeGpu {
  readonly index: number;
  readonly name: string;
  readonly uuid: string;
  readonly architecture: number;
  readonly powerLimitW: number;
  readonly migUuids: readonly string[];
  energyCounter: boolean;
  utilizationPercent: number;
  processes: ReadonlyArray<{ readonly pid: number; readonly smUtil: number }> | undefined;
  private powerW: number;
  private energyMj: number;
  private sinceMs: number;
  private lost = false;
  private frozenMj: number | undefined;
  private readonly failures = new Map<string, string>();

  /** @internal */
  constructor(
    index: number,
    o: FakeGpuOptions,
    private readonly nowMs: () => number,
  ) {
    this.index = index;
    this.name = o.name ?? 'Fake GPU';
    this.uuid = o.uuid ?? `GPU-00000000-0000-0000-0000-${String(index).padStart(12, '0')}`;
    this.architecture = o.architecture ?? 9;
    this.powerLimitW = o.powerLimitW ?? 700;
    this.migUuids = o.migUuids ?? [];
    this.energyCounter = o.energyCounter ?? true;
    this.utilizationPercent = o.utilizationPercent ?? 50;
    this.processes = o.processes;
    this.powerW = o.powerW ?? 100;
    this.energyMj = o.startEnergyMj ?? 1_000_000;
    this.sinceMs = nowMs();
  }

  /** Energy drawn since the fake driver loaded, mJ (the counter's true value). */
  get totalEnergyMj(): number {
    this.advance();
    return this.energyMj;
  }

  /** Changes the power from now on. */
  setPowerW(powerW: number): void {
    this.advance();
    this.powerW = powerW;
  }

  /** Every call on this device fails with `NVML_ERROR_GPU_IS_LOST` until `recover()`; it keeps drawing power. */
  lose(): void {
    this.lost = true;
  }

  recover(): void {
    this.lost = false;
  }

  /** The energy counter stops moving (a stuck counter) while the board keeps drawing power. */
  freezeCounter(frozen = true): void {
    this.advance();
    this.frozenMj = frozen ? this.energyMj : undefined;
  }

  /** Makes one NVML function fail on this device with `code` (e.g. `'NVML_ERROR_NO_PERMISSION'`); undefined clears it. */
  fail(fn: keyof NvmlBinding, code: string | undefined): void {
    if (code === undefined) this.failures.delete(fn);
    else this.failures.set(fn, code);
  }

  /** @internal Throws what NVML would for `fn` on this device. */
  check(fn: string): void {
    if (this.lost) throw new FakeNvmlError('NVML_ERROR_GPU_IS_LOST', fn);
    const code = this.failures.get(fn);
    if (code !== undefined) throw new FakeNvmlError(code, fn);
  }

  /** @internal */
  counterMj(): number {
    this.advance();
    return this.frozenMj ?? this.energyMj;
  }

  /** @internal */
  currentPowerW(): number {
    return this.powerW;
  }

  private advance(): void {
    const t = this.nowMs();
    // W × ms = mJ.
    this.energyMj += this.powerW * (t - this.sinceMs);
    this.sinceMs = t;
  }
}

/** Options of {@link FakeNvmlBinding}. */
export interface FakeNvmlOptions {
  readonly gpus: readonly FakeGpuOptions[];
  /** Clock shared with the tracker (its `clock` option), ms. Default: ms since the process started, the tracker's default clock. */
  readonly clock?: { readonly now: () => number } | (() => number);
  /** Make `nvmlInit` fail with this status, e.g. `'NVML_ERROR_DRIVER_NOT_LOADED'` or `'NVML_ERROR_LIBRARY_NOT_FOUND'`. */
  readonly initError?: string;
  /** Default `'550.54.15'`. */
  readonly driverVersion?: string;
}

/**
 * A TypeScript stand-in for the NVML part of wattprint's native addon, for testing NVML policy
 * (GPU selection, counter or power integration, lost devices, init failures) without a GPU or the
 * C library. Pass it as the tracker's `native` option. Errors carry the addon's `code`
 * (`'NVML_ERROR_GPU_IS_LOST'`...) and `nvmlReturn`. Energy counters integrate each GPU's power
 * exactly over the clock; RAPL is not faked (the RAPL sources fall back to reading files).
 *
 * @example
 * const clock = new ManualClock();
 * const nvml = new FakeNvmlBinding({ clock, gpus: [{ name: 'H200', powerW: 300 }, { powerW: 100, energyCounter: false }] });
 * const t = new EmissionsTracker({ native: nvml, clock: clock.now, saveToFile: false });
 * t.start(); clock.advance(1000); nvml.gpu(0).lose(); ...
 */
export class FakeNvmlBinding implements NvmlBinding {
  /** Balance of `nvmlInit` over `nvmlShutdown` calls (0 when every init was released). */
  initCount = 0;
  /** Library paths given to `nvmlInit`, in call order. */
  readonly initPaths: Array<string | undefined> = [];
  private readonly gpus: FakeGpu[];
  private readonly options: FakeNvmlOptions;

  constructor(options: FakeNvmlOptions) {
    this.options = options;
    const c = options.clock;
    const nowMs = c === undefined ? monotonicMs : typeof c === 'function' ? c : c.now;
    this.gpus = options.gpus.map((g, i) => new FakeGpu(i, g, nowMs));
  }

  /** The GPU at NVML index `index`, to change its power or make it fail. */
  gpu(index: number): FakeGpu {
    const g = this.gpus[index];
    if (!g) throw new RangeError(`FakeNvmlBinding.gpu(${index}): there are ${this.gpus.length} GPUs`);
    return g;
  }

  nvmlInit(libraryPath?: string): string {
    this.initPaths.push(libraryPath);
    if (this.options.initError) throw new FakeNvmlError(this.options.initError, 'nvmlInit');
    this.initCount++;
    return libraryPath ?? 'libnvidia-ml.so.1';
  }

  nvmlShutdown(): void {
    if (this.initCount === 0) throw new FakeNvmlError('NVML_ERROR_UNINITIALIZED', 'nvmlShutdown');
    this.initCount--;
  }

  nvmlDeviceGetCount(): number {
    this.initialised('nvmlDeviceGetCount');
    return this.gpus.length;
  }

  nvmlSystemGetDriverVersion(): string {
    this.initialised('nvmlSystemGetDriverVersion');
    return this.options.driverVersion ?? '550.54.15';
  }

  nvmlDeviceGetName(index: number): string {
    return this.device(index, 'nvmlDeviceGetName').name;
  }

  nvmlDeviceGetUuid(index: number): string {
    return this.device(index, 'nvmlDeviceGetUuid').uuid;
  }

  nvmlDeviceGetArchitecture(index: number): number {
    return this.device(index, 'nvmlDeviceGetArchitecture').architecture;
  }

  nvmlDeviceGetTotalEnergyConsumption(index: number): bigint {
    const g = this.device(index, 'nvmlDeviceGetTotalEnergyConsumption');
    if (!g.energyCounter) throw new FakeNvmlError('NVML_ERROR_NOT_SUPPORTED', 'nvmlDeviceGetTotalEnergyConsumption');
    return BigInt(Math.round(g.counterMj()));
  }

  nvmlDeviceGetPowerUsage(index: number): number {
    return Math.round(this.device(index, 'nvmlDeviceGetPowerUsage').currentPowerW() * 1000);
  }

  nvmlDeviceGetEnforcedPowerLimit(index: number): number {
    return Math.round(this.device(index, 'nvmlDeviceGetEnforcedPowerLimit').powerLimitW * 1000);
  }

  nvmlDeviceGetUtilizationRates(index: number): { gpu: number; memory: number } {
    const g = this.device(index, 'nvmlDeviceGetUtilizationRates');
    return { gpu: g.utilizationPercent, memory: 0 };
  }

  nvmlDeviceGetProcessUtilization(index: number, lastSeenTimeStampUs: number): NvmlProcessSample[] {
    const g = this.device(index, 'nvmlDeviceGetProcessUtilization');
    if (g.processes === undefined) throw new FakeNvmlError('NVML_ERROR_NOT_SUPPORTED', 'nvmlDeviceGetProcessUtilization');
    const timeStampUs = Math.max(lastSeenTimeStampUs + 1, Math.round(Date.now() * 1000));
    return g.processes.map((p) => ({ pid: p.pid, smUtil: p.smUtil, memUtil: 0, timeStampUs }));
  }

  nvmlDeviceResolveUuid(uuid: string): { index: number; mig: boolean } {
    this.initialised('nvmlDeviceResolveUuid');
    for (const g of this.gpus) {
      if (g.uuid === uuid) return { index: g.index, mig: false };
      if (g.migUuids.includes(uuid)) return { index: g.index, mig: true };
    }
    throw new FakeNvmlError('NVML_ERROR_NOT_FOUND', 'nvmlDeviceResolveUuid');
  }

  private initialised(fn: string): void {
    if (this.initCount === 0) throw new FakeNvmlError('NVML_ERROR_UNINITIALIZED', fn);
  }

  private device(index: number, fn: string): FakeGpu {
    this.initialised(fn);
    const g = this.gpus[index];
    if (!g) throw new FakeNvmlError('NVML_ERROR_INVALID_ARGUMENT', fn);
    g.check(fn);
    return g;
  }
}
