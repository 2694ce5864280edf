/**
 * Per-GPU bookkeeping of the NVML source: whole-device energy from the total-energy counter, or
 * from power samples integrated with the trapezoid rule where the counter is missing, and the
 * per-process SM utilisation used to attribute that energy in process mode.
 */
import type { NvmlBinding, NvmlError } from '../native/binding.js';
import { fitsPowerBound, NVML_CEILING_W } from './counter-guard.js';

/** How a GPU's energy is obtained. */
export type GpuEnergyMode = 'counter' | 'power';

/** A per-device failure, kept until the device answers again. */
export interface GpuDeviceError {
  /** NVML status, e.g. `'NVML_ERROR_GPU_IS_LOST'`. */
  readonly code: string;
  readonly message: string;
  /** Source clock (ms) of the first failure of this run of failures. */
  readonly sinceMs: number;
}

/** Counter unchanged this long while the board draws power: treat the counter as broken. */
export const COUNTER_STUCK_MS = 5000;
const COUNTER_STUCK_MIN_POWER_MW = 1000;

type Warn = (code: string, message: string) => void;
/** Reports an implausible counter delta (see counter-guard.ts). */
export type GlitchReport = (what: string, impliedJ: number, intervalMs: number, boundW: number) => void;

export function nvmlCode(err: unknown): string {
  const code = (err as Partial<NvmlError> | undefined)?.code;
  return typeof code === 'string' ? code : 'NVML_ERROR_UNKNOWN';
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** One GPU's whole-device energy since `start()`. */
export class GpuMeter {
  mode: GpuEnergyMode;
  /** Whole-device joules since start(). */
  energyJ = 0;
  error: GpuDeviceError | undefined;
  /** True once a stuck counter made this device fall back to power sampling. */
  switchedToPower = false;
  private reportedJ = 0;
  private lastMj: bigint | undefined;
  private lastReadMs = 0;
  private lastChangeMs = 0;
  private lastPower: { readonly tMs: number; readonly powerW: number } | undefined;

  constructor(
    private readonly nvml: NvmlBinding,
    readonly index: number,
    readonly label: string,
    mode: GpuEnergyMode,
    private readonly warn: Warn,
    /** Most power the board can draw: its enforced limit times a margin. */
    private readonly boundW: number = NVML_CEILING_W,
    private readonly glitch: GlitchReport = () => {},
  ) {
    this.mode = mode;
  }

  start(nowMs: number): void {
    this.energyJ = 0;
    this.reportedJ = 0;
    this.lastMj = undefined;
    this.lastPower = undefined;
    this.lastChangeMs = nowMs;
    this.lastReadMs = nowMs;
    this.sample(nowMs);
  }

  /** Reads the device now; returns the whole-device joules added since the previous take(). */
  take(nowMs: number): number {
    this.sample(nowMs);
    const deltaJ = this.energyJ - this.reportedJ;
    this.reportedJ = this.energyJ;
    return deltaJ;
  }

  /** One reading: counter delta, or one power sample integrated since the previous one. */
  sample(nowMs: number): void {
    try {
      if (this.mode === 'counter') this.sampleCounter(nowMs);
      else this.samplePower(nowMs);
      this.error = undefined;
    } catch (err) {
      if (this.mode === 'power') this.lastPower = undefined; // no guess across a gap
      if (this.error === undefined) {
        this.error = { code: nvmlCode(err), message: message(err), sinceMs: nowMs };
        const kept = this.energyJ.toFixed(3);
        this.warn(this.error.code, `${this.label}: ${this.error.message}; its energy stays at ${kept} J until it answers again`);
      }
    }
  }

  private sampleCounter(nowMs: number): void {
    const mj = this.nvml.nvmlDeviceGetTotalEnergyConsumption(this.index);
    const intervalMs = nowMs - this.lastReadMs;
    this.lastReadMs = nowMs;
    if (this.lastMj === undefined) {
      this.lastMj = mj;
      this.lastChangeMs = nowMs;
      return;
    }
    // The counter never wraps (64-bit mJ): a drop (driver reload, glitch) or a jump beyond the
    // board's power is dropped, and counting resumes from the new value.
    const deltaMj = mj - this.lastMj;
    this.lastMj = mj;
    if (deltaMj < 0n || !fitsPowerBound(Number(deltaMj) / 1000, intervalMs, this.boundW)) {
      this.glitch(this.label, Number(deltaMj) / 1000, intervalMs, this.boundW);
      this.lastChangeMs = nowMs;
      return;
    }
    if (deltaMj > 0n) {
      this.energyJ += Number(deltaMj) / 1000;
      this.lastChangeMs = nowMs;
      return;
    }
    if (nowMs - this.lastChangeMs < COUNTER_STUCK_MS) return;
    // Some vGPUs answer with a frozen counter; never report 0 for a board that draws power.
    const powerMw = this.nvml.nvmlDeviceGetPowerUsage(this.index);
    if (powerMw < COUNTER_STUCK_MIN_POWER_MW) return;
    const gapMs = nowMs - this.lastChangeMs;
    this.energyJ += (powerMw / 1000) * (gapMs / 1000);
    this.mode = 'power';
    this.switchedToPower = true;
    this.lastPower = { tMs: nowMs, powerW: powerMw / 1000 };
    this.warn(
      'NVML_COUNTER_STUCK',
      `${this.label}: the energy counter did not move for ${(gapMs / 1000).toFixed(1)} s while the board drew ${(powerMw / 1000).toFixed(1)} W; ` +
        'switched to power sampling (the stuck span counted at that power)',
    );
  }

  private samplePower(nowMs: number): void {
    const powerW = this.nvml.nvmlDeviceGetPowerUsage(this.index) / 1000;
    const prev = this.lastPower;
    if (prev !== undefined && nowMs > prev.tMs) this.energyJ += ((prev.powerW + powerW) / 2) * ((nowMs - prev.tMs) / 1000);
    if (prev === undefined || nowMs >= prev.tMs) this.lastPower = { tMs: nowMs, powerW };
  }
}

/**
 * Per-process SM utilisation of one GPU, accumulated between two reads
 * (`nvmlDeviceGetProcessUtilization` with the last timestamp seen).
 */
export class ProcessShare {
  /** False once NVML answered NOT_SUPPORTED: the device is then attributed whole. */
  supported = true;
  private lastSeenUs = 0;
  private smByPid = new Map<number, number>();

  constructor(
    private readonly nvml: NvmlBinding,
    readonly index: number,
  ) {}

  /** Drops the samples so far (start of a run). */
  reset(): void {
    this.poll();
    this.smByPid.clear();
  }

  poll(): void {
    if (!this.supported) return;
    try {
      for (const s of this.nvml.nvmlDeviceGetProcessUtilization(this.index, this.lastSeenUs)) {
        this.smByPid.set(s.pid, (this.smByPid.get(s.pid) ?? 0) + s.smUtil);
        if (s.timeStampUs > this.lastSeenUs) this.lastSeenUs = s.timeStampUs;
      }
    } catch (err) {
      if (nvmlCode(err) === 'NVML_ERROR_NOT_SUPPORTED') this.supported = false;
      // Other failures (a lost GPU) surface through the energy read of the same device.
    }
  }

  /**
   * The tracked processes' share (0..1) of the samples since the previous take: their summed SM
   * utilisation over everyone's; when every sample shows 0 % SM, an equal split among the
   * processes NVML saw on the GPU; 0 when no process was seen. Undefined when unsupported.
   */
  take(treePids: ReadonlySet<number>): number | undefined {
    this.poll();
    if (!this.supported) return undefined;
    let total = 0;
    let mine = 0;
    let mineCount = 0;
    for (const [pid, sm] of this.smByPid) {
      total += sm;
      if (treePids.has(pid)) {
        mine += sm;
        mineCount++;
      }
    }
    const seen = this.smByPid.size;
    this.smByPid.clear();
    if (total > 0) return mine / total;
    return seen > 0 ? mineCount / seen : 0;
  }
}
