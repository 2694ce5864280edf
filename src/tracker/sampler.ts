import { monotonicMs } from '../clock-guard.js';
import { toError } from '../errors.js';
import { WORLD_AVERAGE_G_PER_KWH } from '../intensity/offline.js';
import type { ResolvedOptions } from '../options.js';
import type { MemInfo } from '../system/meminfo.js';
import { acquireProcView, releaseProcView, type ProcView } from '../system/proc-view.js';
import type { CpuTimes } from '../system/procstat.js';
import type { IntensityChain } from '../intensity/chain.js';
import { COMPONENTS, type Component, type IntensityValue, type Measurement, type PowerSource, type WattprintWarning } from '../types.js';
import { BYTES_PER_GIB, J_PER_KWH } from '../units.js';
import { perComponent, zeroTotals, zeroUtil, type Totals, type Util } from './results.js';
import { emptyLedgers, minPowerWindowMs, recordDevices, recordInterval } from './snapshot.js';

const UTIL_MIN_INTERVAL_MS = 1000;

/** What the sampler needs from the tracker that owns it. */
export interface SamplerHost {
  readonly options: Pick<ResolvedOptions, 'pue' | 'wue' | 'clock' | 'measurePowerSecs' | 'callSampleIntervalMs' | 'procfsRoot'>;
  warn(w: WattprintWarning): void;
  fail(code: string, message: string, cause?: unknown): void;
  /**
   * Each interval, right after it is accounted, with what per-call attribution also needs: each
   * component's idle floor (after PUE) where its source knows it, and the CPU the sample cost.
   */
  onMeasurement(m: Measurement, extra: { idleFloorW: Partial<Record<Component, number>>; trackerCpuS: number }): void;
}

/**
 * Reads the chosen sources on a timer (or on demand), turns cumulative readings into interval
 * deltas, applies PUE and the intensity in force, and keeps the running totals per component.
 */
export class Sampler {
  readonly totals: Totals = zeroTotals();
  readonly util: Util = zeroUtil();
  /** Per component, before PUE, for the snapshot. */
  readonly ledgers = emptyLedgers();
  startMs = 0;
  startedAtWallMs = 0;
  lastSampleMs = 0;
  lastIntensity?: IntensityValue;
  /** Bumped at every sample, so views derived from the totals know when to rebuild. */
  generation = 0;
  private running = false;
  private sampling = false;
  private readonly lastEnergyJ = perComponent(0);
  private readonly deltaJ = perComponent(0);
  private readonly idleFloorW: Record<Component, number | undefined> = { cpu: undefined, gpu: undefined, ram: undefined };
  private lastUtilMs = -Infinity;
  private readonly cpuTimes: CpuTimes = { busyS: 0, totalS: 0 };
  private readonly lastCpuTimes: CpuTimes = { busyS: 0, totalS: 0 };
  private haveLastCpuTimes = false;
  private readonly mem: MemInfo = { totalBytes: 0, availableBytes: 0, usedBytes: 0 };
  /** The procfs files of this sample, shared with the built-in sources that read the same root. */
  private proc?: ProcView;
  private timer?: NodeJS.Timeout;
  /** When the armed timer fires; Infinity when none is pending. */
  private timerDueMs = Infinity;
  private timerDelayMs = 0;
  private fastSampling = false;
  private baseIntervalMs = 0;

  private sources: Readonly<Record<Component, PowerSource | undefined>> = { cpu: undefined, gpu: undefined, ram: undefined };

  constructor(
    private readonly host: SamplerHost,
    /** The intensity chain, which knows its own location. */
    readonly intensity: IntensityChain,
  ) {}

  /** Starts the chosen sources and the intensity provider, takes the baselines and arms the timer. */
  start(sources: Readonly<Record<Component, PowerSource | undefined>>): void {
    const { options: o } = this.host;
    this.sources = sources;
    const now = o.clock();
    this.proc ??= acquireProcView(o.procfsRoot);
    this.proc.begin();
    for (const c of COMPONENTS) {
      const s = this.sources[c];
      if (!s) continue;
      try {
        s.start();
      } catch (e) {
        this.host.fail('SOURCE_START', `${c} source '${s.id}' failed to start: ${toError(e).message}`, e);
      }
    }
    this.startMs = this.lastSampleMs = now;
    this.startedAtWallMs = Date.now();
    for (const c of COMPONENTS) this.ledgers[c].devicesAtMs = this.ledgers[c].windowDevicesAtMs = now;
    this.running = true;
    try {
      // A live value or a found location applies from the moment it arrives: close the interval first.
      this.intensity.start({ beforeChange: () => this.sampleNow(), warn: (w) => this.host.warn(w) });
    } catch (e) {
      this.host.fail('INTENSITY', `intensity provider '${this.intensity.id}' failed to start: ${toError(e).message}`, e);
    }
    this.currentIntensity(); // warns now, not at the first sample, when the location falls back
    this.baseIntervalMs = Math.min(o.measurePowerSecs * 1000, ...COMPONENTS.map((c) => this.sources[c]?.maxReadIntervalMs ?? Infinity));
    this.sampleUtilization(now, true);
    this.proc.end();
    this.generation++;
    this.schedule();
  }

  /** Stops the timer; later samples are refused. */
  halt(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDueMs = Infinity;
  }

  /** Releases the sources and stops the intensity provider's refresh. */
  close(): void {
    for (const c of COMPONENTS) {
      try {
        this.sources[c]?.close?.();
      } catch (e) {
        this.host.fail('SOURCE_CLOSE', `${c} source failed to close: ${toError(e).message}`, e);
      }
    }
    try {
      this.intensity.stop();
    } catch {
      // Stopping a provider's refresh cannot lose data.
    }
    if (this.proc) releaseProcView(this.proc);
    this.proc = undefined;
  }

  /** While on, samples every `callSampleIntervalMs`. */
  setFastSampling(on: boolean): void {
    if (this.fastSampling === on) return;
    this.fastSampling = on;
    if (this.running) this.schedule();
  }

  /** Takes a sample now; undefined when not running or already inside a sample. */
  sampleNow(): Measurement | undefined {
    if (!this.running || this.sampling) return undefined;
    this.sampling = true;
    this.proc?.begin();
    try {
      return this.takeSample();
    } finally {
      this.proc?.end();
      this.sampling = false;
    }
  }

  /** The intensity in force now; a failing provider keeps the last value (or the world average). */
  currentIntensity(): IntensityValue {
    try {
      const v = this.intensity.getIntensity(undefined, new Date());
      if (!(v.gPerKWh >= 0) || !Number.isFinite(v.gPerKWh)) throw new Error(`invalid gPerKWh ${v.gPerKWh}`);
      if (v !== this.lastIntensity) {
        const warning = (v as IntensityValue & { warning?: string }).warning;
        if (v.isFallback || warning)
          this.host.warn({
            code: 'INTENSITY_FALLBACK',
            option: 'countryIsoCode',
            message: warning ?? `Grid intensity: using ${v.gPerKWh} g/kWh from ${v.source}; set \`countryIsoCode\` (ISO 3166-1 alpha-3, e.g. 'FRA') for your location`,
          });
        this.lastIntensity = v;
      }
      return v;
    } catch (e) {
      this.host.fail('INTENSITY', `intensity provider '${this.intensity.id}' failed: ${toError(e).message}; keeping the last value`, e);
      return this.lastIntensity ?? { gPerKWh: WORLD_AVERAGE_G_PER_KWH, source: 'world average (fallback)', isFallback: true };
    }
  }

  private intervalMs(): number {
    return this.fastSampling ? Math.min(this.baseIntervalMs, this.host.options.callSampleIntervalMs) : this.baseIntervalMs;
  }

  private schedule(): void {
    const delayMs = this.intervalMs();
    const dueMs = this.host.options.clock() + delayMs;
    if (this.timerDueMs !== Infinity && dueMs >= this.timerDueMs) return;
    this.timerDueMs = dueMs;
    // The same Timeout re-armed while the interval is unchanged: no new timer object per sample.
    if (this.timer && this.timerDelayMs === delayMs) {
      this.timer.refresh();
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timerDelayMs = delayMs;
    this.timer = setTimeout(this.tick, delayMs);
    this.timer.unref();
  }

  private readonly tick = () => {
    this.timerDueMs = Infinity; // fired: nothing pending until schedule() re-arms it
    if (!this.running) return;
    this.sampleNow();
    this.schedule();
  };

  /** One source's energy since the previous read, before PUE; undefined when unusable. */
  private readDelta(c: Component, s: PowerSource, endMs: number): number | undefined {
    const ledger = this.ledgers[c];
    let energyJ: number;
    try {
      const r = s.read();
      energyJ = r.energyJ;
      if (r.devicesJ) recordDevices(ledger, r.devicesJ, endMs, minPowerWindowMs(this.host.options.measurePowerSecs));
      if (c === 'gpu' && r.utilizationPercent !== undefined) {
        this.util.gpu.sum += r.utilizationPercent;
        this.util.gpu.n++;
      }
    } catch (e) {
      this.host.fail('SOURCE_READ', `${c} source '${s.id}' failed to read: ${toError(e).message}; keeping its last total`, e);
      return undefined;
    }
    const d = energyJ - this.lastEnergyJ[c];
    if (Number.isFinite(energyJ)) this.lastEnergyJ[c] = energyJ;
    if (!Number.isFinite(d) || d < 0) {
      this.host.warn({
        code: 'COUNTER_RESET',
        component: c,
        message: `${c} source '${s.id}' went backwards or returned ${energyJ}; interval ignored and baseline reset`,
      });
      return undefined;
    }
    return d;
  }

  private takeSample(): Measurement {
    const sampleStartMs = monotonicMs();
    const { pue, wue, clock, measurePowerSecs } = this.host.options;
    const endMs = clock();
    const startMs = this.lastSampleMs;
    const minWindowMs = minPowerWindowMs(measurePowerSecs);
    // Reused from sample to sample: the call tracker reads them during onMeasurement and keeps none.
    const deltaJ = this.deltaJ;
    const idleFloorW = this.idleFloorW;
    for (let i = 0; i < COMPONENTS.length; i++) {
      const c = COMPONENTS[i]!;
      const s = this.sources[c];
      deltaJ[c] = 0;
      idleFloorW[c] = s ? (s.idlePowerW !== undefined ? s.idlePowerW * pue : undefined) : 0;
      if (!s) continue;
      const d = this.readDelta(c, s, endMs);
      const ledger = this.ledgers[c];
      ledger.lastDeltaJ = d ?? 0;
      recordInterval(ledger, ledger.lastDeltaJ, endMs - startMs, minWindowMs);
      if (d === undefined) continue;
      deltaJ[c] = d * pue;
      ledger.energyJ += d;
    }
    const intensity = this.currentIntensity();
    const t = this.totals;
    let energyJ = 0;
    for (let i = 0; i < COMPONENTS.length; i++) {
      const c = COMPONENTS[i]!;
      energyJ += deltaJ[c];
      t.energyJ[c] += deltaJ[c];
      this.ledgers[c].emissionsG += (deltaJ[c] / J_PER_KWH) * intensity.gPerKWh;
    }
    const kWh = energyJ / J_PER_KWH;
    const emissionsKg = (kWh * intensity.gPerKWh) / 1000;
    t.emissionsKg += emissionsKg;
    t.waterL += kWh * wue;
    this.lastSampleMs = endMs;
    this.generation++;
    this.sampleUtilization(endMs, false);
    const durationS = (endMs - startMs) / 1000;
    const spanS = durationS > 0 ? durationS : Infinity; // no time: no power
    // Flattened to the public Measurement's columns here, at the edge: a new object per sample,
    // since listeners may keep it.
    const m: Measurement = {
      startMs,
      endMs,
      durationS,
      cpuEnergyJ: deltaJ.cpu,
      gpuEnergyJ: deltaJ.gpu,
      ramEnergyJ: deltaJ.ram,
      energyJ,
      cpuPowerW: deltaJ.cpu / spanS,
      gpuPowerW: deltaJ.gpu / spanS,
      ramPowerW: deltaJ.ram / spanS,
      intensityGPerKWh: intensity.gPerKWh,
      emissionsKg,
    };
    this.host.onMeasurement(m, { idleFloorW, trackerCpuS: (monotonicMs() - sampleStartMs) / 1000 });
    return m;
  }

  /** CPU and RAM utilisation for the CSV columns, at most once a second (they cost a /proc read). */
  private sampleUtilization(nowMs: number, first: boolean): void {
    if (!first && nowMs - this.lastUtilMs < UTIL_MIN_INTERVAL_MS) return;
    this.lastUtilMs = nowMs;
    const proc = this.proc!;
    const times = this.cpuTimes;
    const last = this.lastCpuTimes;
    const ok = proc.cpuTimes(times);
    if (ok && this.haveLastCpuTimes) {
      const dTotal = times.totalS - last.totalS;
      if (dTotal > 0) {
        this.util.cpu.sum += (100 * (times.busyS - last.busyS)) / dTotal;
        this.util.cpu.n++;
      }
    }
    this.haveLastCpuTimes = ok;
    last.busyS = times.busyS;
    last.totalS = times.totalS;
    const mem = this.mem;
    proc.memInfo(mem);
    if (mem.totalBytes > 0) {
      const used = mem.totalBytes - mem.availableBytes;
      this.util.ram.sum += (100 * used) / mem.totalBytes;
      this.util.ram.n++;
      this.util.ramUsed.sum += mem.usedBytes / BYTES_PER_GIB;
      this.util.ramUsed.n++;
      this.util.ramInUse.sum += used / BYTES_PER_GIB;
      this.util.ramInUse.n++;
    }
  }
}
