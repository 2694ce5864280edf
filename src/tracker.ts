import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'eventemitter3';
import { WattprintError, toError } from './errors.js';
import { describeHardware, type HardwareInfo } from './hardware.js';
import { onProcessEnd } from './exit-hooks.js';
import { withGuardedClock } from './clock-guard.js';
import { CallTracker, type Baseline, type CallRecord, type CallStats, type LabelValue, type Labels, type WrapOptions } from './inference/index.js';
import { buildRunReport, type WattprintReport } from './report/run-report.js';
import { intensityProviderFor, locationOf } from './intensity/for-options.js';
import type { IntensityChain } from './intensity/chain.js';
import { countryName, WORLD_AVERAGE_G_PER_KWH } from './intensity/index.js';
import { resolveOptions, type EmissionsTrackerOptions, type ResolvedOptions } from './options.js';
import { callbackReporter, csvReporter, jsonReporter } from './reporters/index.js';
import { selectSources, type Selection } from './sources/select.js';
import { readMemInfo } from './system/meminfo.js';
import { readSystemCpuTimes, type CpuTimes } from './system/procstat.js';
import {
  COMPONENTS,
  type Boundary,
  type Component,
  type ComponentBoundary,
  type EmissionsData,
  type IntensityValue,
  type Location,
  type Measurement,
  type PowerSource,
  type ReportContext,
  type Reporter,
  type TrackerSnapshot,
  type WattprintWarning,
} from './types.js';
import { buildSnapshot, emptyLedgers, minPowerWindowMs, recordDevices, recordInterval } from './tracker/snapshot.js';
import { VERSION } from './version.js';
import type { LlmCallRecord } from './llm/types.js';
import { RemoteTotals, type RemoteRequest } from './inference/remote.js';
import { J_PER_KWH, BYTES_PER_GIB } from './units.js';

/** Events of {@link EmissionsTracker}. 'error' and 'warning' never throw into your code. */
export interface TrackerEvents {
  /** Every sample: the interval's energy per component (after PUE), power and emissions. */
  measurement: (m: Measurement) => void;
  /** A degraded measurement or an assumption: fallback used, default location, counter reset. */
  warning: (w: WattprintWarning) => void;
  /** A fault the tracker survived: a source that failed to read, a reporter that threw. */
  error: (e: WattprintError) => void;
  /** A wrapped call finished and its energy was attributed. */
  call: (record: CallRecord) => void;
  /** A remote LLM API call ended (instrumented with `wattprint/llm`): tokens, latency and its estimated impacts. */
  llm: (record: LlmCallRecord) => void;
}

const UTIL_MIN_INTERVAL_MS = 1000;

interface Totals {
  energyJ: Record<Component, number>;
  emissionsKg: number;
  waterL: number;
}

const zeroTotals = (): Totals => ({ energyJ: { cpu: 0, gpu: 0, ram: 0 }, emissionsKg: 0, waterL: 0 });
const copyTotals = (t: Totals): Totals => ({ energyJ: { ...t.energyJ }, emissionsKg: t.emissionsKg, waterL: t.waterL });

interface Mean {
  sum: number;
  n: number;
}
const mean = (m: Mean) => (m.n ? m.sum / m.n : 0);

type State = 'idle' | 'running' | 'stopped';

/** `YYYY-MM-DDTHH:MM:SS` in local time, as CodeCarbon writes it. */
function localTimestamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** CodeCarbon's longitude/latitude columns: filled when the location has them (IP geolocation). */
const coordinatesOf = (l: Location) => (l.latitude !== undefined && l.longitude !== undefined ? { latitude: l.latitude, longitude: l.longitude } : {});

/**
 * Tracks the energy and emissions of the host (machine mode) or of a process tree (process mode).
 *
 * @example
 * const tracker = new EmissionsTracker({ projectName: 'demo', countryIsoCode: 'FRA', measurePowerSecs: 1, outputDir: 'out' });
 * tracker.start();
 * await work();
 * const data = await tracker.stop(); // data.emissionsKg, data.energyConsumedKWh, data.boundary, ...
 */
export class EmissionsTracker extends EventEmitter<TrackerEvents> {
  /** Options after defaults, environment variables and config files. */
  readonly options: ResolvedOptions;
  /** Unique id of this run, written to every row. */
  readonly runId: string = randomUUID();

  private state: State = 'idle';
  private selection?: Selection;
  private hw?: HardwareInfo;
  private readonly reporters: Reporter[];
  private readonly intensity: IntensityChain;
  private readonly location: Location;
  private startMs = 0;
  private startedAtWallMs = 0;
  private lastSampleMs = 0;
  private lastIntervalS = 0;
  private readonly ledgers = emptyLedgers();
  private snapshotCache?: TrackerSnapshot;
  private readonly lastEnergyJ: Record<Component, number> = { cpu: 0, gpu: 0, ram: 0 };
  private totals: Totals = zeroTotals();
  private lastIntensity?: IntensityValue;
  private readonly tasks = new Map<string, { startMs: number; totals: Totals; util: Record<string, Mean> }>();
  private readonly util: Record<'cpu' | 'gpu' | 'ram' | 'ramUsed' | 'ramInUse', Mean> = {
    cpu: { sum: 0, n: 0 },
    gpu: { sum: 0, n: 0 },
    ram: { sum: 0, n: 0 },
    ramUsed: { sum: 0, n: 0 },
    ramInUse: { sum: 0, n: 0 },
  };
  private lastUtilMs = -Infinity;
  private lastCpuTimes?: CpuTimes;
  private timer?: NodeJS.Timeout;
  private timerDueMs = Infinity;
  private fastSampling = false;
  private baseIntervalMs = 0;
  private sampling = false;
  private finalData?: EmissionsData;
  private stopPromise?: Promise<EmissionsData>;
  private readonly warnedCodes = new Set<string>();
  private removeExitHook?: () => void;
  private readonly calls: CallTracker;
  private readonly remote = new RemoteTotals();

  /**
   * Validates every option (throws {@link WattprintError} naming the option) but touches no
   * hardware: sources are chosen by `start()`.
   */
  constructor(options: EmissionsTrackerOptions = {}) {
    super();
    this.options = withGuardedClock(resolveOptions(options), (w) => this.warn(w));
    const o = this.options;
    this.location = locationOf(o);
    this.intensity = intensityProviderFor(o);
    this.reporters = [
      ...(o.saveToFile ? [csvReporter({ outputDir: o.outputDir, outputFile: o.outputFile, onCsvWrite: o.onCsvWrite, onWarning: (w) => this.warn(w) })] : []),
      ...(o.saveToJson ? [jsonReporter({ outputDir: o.outputDir, onWarning: (w) => this.warn(w) })] : []),
      ...(o.onReport ? [callbackReporter(o.onReport)] : []),
      ...o.reporters,
    ];
    this.calls = new CallTracker(
      {
        nowMs: () => this.options.clock(),
        requestSample: () => void this.sampleNow(),
        setFastSampling: (on) => this.setFastSampling(on),
        emitCall: (r) => this.emitSafely('call', r),
        wantsCalls: () => this.listenerCount('call') > 0,
        warn: (w) => this.warn(w),
        error: (e) => this.fail(e.code, e.message, e.cause),
      },
      o,
    );
  }

  /** Whether `start()` was called and `stop()` not yet. */
  get running(): boolean {
    return this.state === 'running';
  }

  /**
   * Chooses a source per component, takes the baselines and starts sampling. Synchronous and
   * offline. Throws `STATE` if called twice or after `stop()` (create a new tracker per run).
   */
  start(): void {
    if (this.state !== 'idle')
      throw new WattprintError(
        'STATE',
        this.state === 'running' ? 'EmissionsTracker.start(): already started' : 'EmissionsTracker.start(): this tracker was stopped; create a new EmissionsTracker for a new run',
      );
    const selection = selectSources(this.options, (w) => this.warn(w));
    this.selection = selection;
    this.hw = describeHardware(this.options.procfsRoot, selection.probes.gpu, selection.cpu);
    for (const w of selection.warnings) this.warn(w);
    const now = this.options.clock();
    for (const c of COMPONENTS) {
      const s = selection.sources[c];
      if (!s) continue;
      try {
        s.start();
      } catch (e) {
        this.fail('SOURCE_START', `${c} source '${s.id}' failed to start: ${toError(e).message}`, e);
      }
    }
    this.startMs = this.lastSampleMs = now;
    this.startedAtWallMs = Date.now();
    for (const c of COMPONENTS) this.ledgers[c].devicesAtMs = this.ledgers[c].windowDevicesAtMs = now;
    this.state = 'running';
    this.snapshotCache = undefined;
    try {
      // A live value or a found location applies from the moment it arrives: close the interval first.
      this.intensity.start({ beforeChange: () => this.sampleNow(), warn: (w) => this.warn(w) });
    } catch (e) {
      this.fail('INTENSITY', `intensity provider '${this.intensity.id}' failed to start: ${toError(e).message}`, e);
    }
    this.currentIntensity(); // warns now, not at the first sample, when the location falls back
    this.baseIntervalMs = Math.min(
      this.options.measurePowerSecs * 1000,
      ...COMPONENTS.map((c) => selection.sources[c]?.maxReadIntervalMs ?? Infinity),
    );
    this.sampleUtilization(now, true);
    this.schedule();
    this.installExitHooks();
    this.calls.start();
  }

  /**
   * The cumulative state at the last sample: energy per component and device, emissions, power of
   * the last interval, intensity, and per-handler call counts. Cheap and side-effect free (it never
   * samples; the same object is returned until the next sample), so exporters and status lines may
   * call it as often as they like.
   */
  snapshot(): TrackerSnapshot {
    this.snapshotCache ??= buildSnapshot({
      projectName: this.options.projectName,
      runId: this.runId,
      running: this.state === 'running',
      trackingMode: this.options.trackingMode,
      pue: this.options.pue,
      startedAtMs: this.startedAtWallMs,
      durationMs: this.lastSampleMs - this.startMs,
      lastIntervalS: this.lastIntervalS,
      ledgers: this.ledgers,
      sources: this.selection?.sources ?? {},
      devices: {
        cpu: this.probedDevices('cpu'),
        gpu: this.probedDevices('gpu'),
        ram: this.probedDevices('ram'),
      },
      intensity: this.lastIntensity,
      callNames: this.calls.callNames(),
      callStats: (name) => this.calls.callStats(name),
    });
    return this.snapshotCache;
  }

  private probedDevices(c: Component) {
    const probe = this.selection?.probes[c];
    return probe?.ok ? probe.devices : [];
  }

  /**
   * Samples every source now (instead of waiting for the timer) and emits 'measurement'. Returns the
   * interval, or undefined when the tracker is not running. For live displays that want fresher
   * figures than `measurePowerSecs` gives; the timer keeps its own schedule.
   */
  sample(): Measurement | undefined {
    return this.sampleNow();
  }

  /** Hardware found at `start()` (CPU, RAM, tracked GPUs). */
  hardware(): HardwareInfo {
    if (!this.hw) this.hw = describeHardware(this.options.procfsRoot, undefined);
    return this.hw;
  }

  /** The sources chosen at `start()`, and each candidate's probe. */
  sources(): Selection | undefined {
    return this.selection;
  }

  /** What the results include: per component, the source, measured or estimated, devices, scope, PUE. */
  boundary(): Boundary {
    const pue = this.options.pue;
    const entry = (c: Component): ComponentBoundary => {
      const s = this.selection?.sources[c];
      const probe = this.selection?.probes[c];
      if (!s)
        return { component: c, source: 'none', kind: 'none', devices: [], scope: this.options.trackingMode, pueApplied: false, note: this.noneNote(c) };
      const note = (s as PowerSource & { boundaryNote?: string }).boundaryNote ?? (probe?.ok ? probe.note : undefined);
      return {
        component: c,
        source: s.id,
        kind: s.kind,
        devices: probe?.ok ? probe.devices.map((d) => d.name) : [],
        scope: s.scope ?? this.options.trackingMode,
        pueApplied: pue !== 1,
        ...(note ? { note } : {}),
      };
    };
    return { cpu: entry('cpu'), gpu: entry('gpu'), ram: entry('ram'), pue, emissionsScope: 'operational' };
  }

  private noneNote(c: Component): string {
    const tried = this.selection?.candidates.filter((x) => x.component === c) ?? [];
    const reasons = tried.map((t) => (t.probe.ok ? `${t.id}: ok` : `${t.id}: ${t.probe.reason}`));
    return reasons.length ? `not accounted (${reasons.join('; ')})` : 'not accounted';
  }

  /**
   * Writes the cumulative totals so far to every reporter and keeps running. Resolves when the
   * reporters are done; reporter failures become 'error' events.
   */
  async flush(): Promise<EmissionsData> {
    this.assertStarted('flush');
    if (this.state === 'stopped') return this.finalData!;
    this.sampleNow();
    const data = this.cumulativeData();
    await Promise.all(this.callReporters(data, 'flush'));
    return data;
  }

  /**
   * Takes a last sample, stops sampling, writes the final row to every reporter (and the run
   * report to reporters that take it) and returns the totals. Calling it again returns the same data.
   */
  stop(): Promise<EmissionsData> {
    this.assertStarted('stop');
    if (!this.stopPromise) {
      const { data, pending } = this.finish();
      this.stopPromise = Promise.all(pending).then(() => data);
    }
    return this.stopPromise;
  }

  /** Marks the start of a named task; `stopTask(name)` returns the task's own totals. */
  startTask(name: string): void {
    this.assertRunning('startTask');
    if (typeof name !== 'string' || name === '') throw new WattprintError('INVALID_OPTION', 'startTask(name): name must be a non-empty string');
    if (this.tasks.has(name)) throw new WattprintError('STATE', `startTask('${name}'): a task with this name is already running`);
    this.sampleNow();
    this.tasks.set(name, { startMs: this.lastSampleMs, totals: copyTotals(this.totals), util: structuredClone(this.util) });
  }

  /** Ends a task: its energy and emissions since `startTask(name)`, also written to reporters as a task row. */
  async stopTask(name: string): Promise<EmissionsData> {
    this.assertRunning('stopTask');
    const task = this.tasks.get(name);
    if (!task) throw new WattprintError('STATE', `stopTask('${name}'): no running task with this name; call startTask('${name}') first`);
    this.tasks.delete(name);
    this.sampleNow();
    const data = this.buildData(this.lastSampleMs - task.startMs, this.diff(this.totals, task.totals), name, this.diffUtil(task.util));
    await Promise.all(this.callReporters(data, 'task'));
    return data;
  }

  /**
   * Wraps a handler so that each call yields a {@link CallRecord} ('call' event) with its share of
   * the energy measured while it ran. Same signature; sync, async and async-iterable results.
   */
  wrap<A extends any[], R, T = unknown>(fn: (this: T, ...args: A) => R, options: WrapOptions<Awaited<R>, A>): (this: T, ...args: A) => R {
    return this.calls.wrap(fn, options);
  }

  /** Runs `fn` with labels that every call record inside it (across awaits) carries. */
  withLabels<T>(labels: Record<string, LabelValue>, fn: () => T): T {
    return this.calls.withLabels(labels, fn);
  }

  /**
   * For `wattprint/llm` (its `LlmEventTarget`): called as a remote LLM request starts; the returned
   * function adds the request's estimate to the run's `remoteEstimate` and to the wrapped call in
   * whose async context it started, if any. The first call turns that call tracking on.
   */
  remoteCallScope(): (request: RemoteRequest) => void {
    const inCall = this.calls.remoteScope();
    return (r) => {
      if (this.state !== 'running') return;
      this.remote.add(r);
      inCall?.(r);
    };
  }

  /** The labels in force here (the enclosing `withLabels`), if any: `wattprint/llm` puts them on its records. */
  currentLabels(): Labels | undefined {
    return this.calls.currentLabels();
  }

  /** Aggregates over the wrapped calls so far (all names, or one). */
  callStats(name?: string): CallStats {
    // Calls that ended since the last sample are attributed by a sample; take it so they count.
    if (this.state === 'running') this.sampleNow();
    return this.calls.callStats(name);
  }

  /** The run report following the review's reporting checklist (schema: docs/report-schema.json). */
  async report(): Promise<WattprintReport> {
    if (this.state === 'running') this.sampleNow();
    return this.runReport();
  }

  private runReport(): WattprintReport {
    return buildRunReport({
      results: this.cumulativeData(),
      hardware: this.hardware(),
      boundary: this.boundary(),
      intensity: this.lastIntensity,
      options: this.options,
      calls: this.calls.reportData(),
    });
  }

  /**
   * With the `baseline` option: resolves with the idle power measured during the first
   * `baseline.durationMs` after `start()` (undefined if none was configured, calls covered the whole
   * window, or the tracker stopped first). Never rejects.
   */
  get baselineReady(): Promise<Baseline | undefined> {
    return this.calls.baselineReady;
  }

  /** @internal Takes a sample now; undefined when not running. */
  _sampleNow(): Measurement | undefined {
    return this.sampleNow();
  }

  /** While on, samples every `callSampleIntervalMs` (the call tracker turns it on during calls). */
  private setFastSampling(on: boolean): void {
    if (this.fastSampling === on) return;
    this.fastSampling = on;
    if (this.state === 'running') this.schedule();
  }

  // ---- sampling ----------------------------------------------------------------------------

  private intervalMs(): number {
    return this.fastSampling ? Math.min(this.baseIntervalMs, this.options.callSampleIntervalMs) : this.baseIntervalMs;
  }

  private schedule(): void {
    const delayMs = this.intervalMs();
    const dueMs = this.options.clock() + delayMs;
    if (this.timer && dueMs >= this.timerDueMs) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerDueMs = dueMs;
    this.timer = setTimeout(this.tick, delayMs);
    this.timer.unref();
  }

  private readonly tick = () => {
    this.timer = undefined;
    this.timerDueMs = Infinity;
    if (this.state !== 'running') return;
    this.sampleNow();
    this.schedule();
  };

  private sampleNow(): Measurement | undefined {
    if (this.state !== 'running' || this.sampling) return undefined;
    this.sampling = true;
    try {
      return this.takeSample();
    } finally {
      this.sampling = false;
    }
  }

  private takeSample(): Measurement {
    const sampleStartMs = performance.now();
    const sel = this.selection!;
    const idleFloorW: Partial<Record<Component, number>> = {};
    const pue = this.options.pue;
    const endMs = this.options.clock();
    const startMs = this.lastSampleMs;
    const deltaJ: Record<Component, number> = { cpu: 0, gpu: 0, ram: 0 };
    for (const c of COMPONENTS) {
      const s = sel.sources[c];
      if (!s) {
        idleFloorW[c] = 0;
        continue;
      }
      const ledger = this.ledgers[c];
      ledger.lastDeltaJ = 0;
      let energyJ: number;
      try {
        const r = s.read();
        energyJ = r.energyJ;
        if (r.devicesJ) recordDevices(ledger, r.devicesJ, endMs, minPowerWindowMs(this.options.measurePowerSecs));
        if (c === 'gpu' && r.utilizationPercent !== undefined) {
          this.util.gpu.sum += r.utilizationPercent;
          this.util.gpu.n++;
        }
      } catch (e) {
        this.fail('SOURCE_READ', `${c} source '${s.id}' failed to read: ${toError(e).message}; keeping its last total`, e);
        continue;
      }
      const d = energyJ - this.lastEnergyJ[c];
      if (!Number.isFinite(d) || d < 0) {
        this.warn({
          code: 'COUNTER_RESET',
          component: c,
          message: `${c} source '${s.id}' went backwards or returned ${energyJ}; interval ignored and baseline reset`,
        });
      } else {
        deltaJ[c] = d * pue;
        ledger.lastDeltaJ = d;
        ledger.energyJ += d;
      }
      if (Number.isFinite(energyJ)) this.lastEnergyJ[c] = energyJ;
      if (s.idlePowerW !== undefined) idleFloorW[c] = s.idlePowerW * pue;
    }
    for (const c of COMPONENTS) if (sel.sources[c]) recordInterval(this.ledgers[c], this.ledgers[c].lastDeltaJ, endMs - startMs, minPowerWindowMs(this.options.measurePowerSecs));
    const intensity = this.currentIntensity();
    const energyJ = deltaJ.cpu + deltaJ.gpu + deltaJ.ram;
    const kWh = energyJ / J_PER_KWH;
    const emissionsKg = (kWh * intensity.gPerKWh) / 1000;
    const t = this.totals;
    t.energyJ.cpu += deltaJ.cpu;
    t.energyJ.gpu += deltaJ.gpu;
    t.energyJ.ram += deltaJ.ram;
    t.emissionsKg += emissionsKg;
    t.waterL += kWh * this.options.wue;
    for (const c of COMPONENTS) this.ledgers[c].emissionsG += (deltaJ[c] / J_PER_KWH) * intensity.gPerKWh;
    this.lastSampleMs = endMs;
    this.lastIntervalS = (endMs - startMs) / 1000;
    this.snapshotCache = undefined;
    this.sampleUtilization(endMs, false);
    const durationS = (endMs - startMs) / 1000;
    const powerW = (j: number) => (durationS > 0 ? j / durationS : 0);
    const m: Measurement = {
      startMs,
      endMs,
      durationS,
      cpuEnergyJ: deltaJ.cpu,
      gpuEnergyJ: deltaJ.gpu,
      ramEnergyJ: deltaJ.ram,
      energyJ,
      cpuPowerW: powerW(deltaJ.cpu),
      gpuPowerW: powerW(deltaJ.gpu),
      ramPowerW: powerW(deltaJ.ram),
      intensityGPerKWh: intensity.gPerKWh,
      emissionsKg,
    };
    this.calls.onInterval({ ...m, idleFloorW, trackerCpuS: (performance.now() - sampleStartMs) / 1000 });
    this.emitSafely('measurement', m);
    return m;
  }

  private currentIntensity(): IntensityValue {
    try {
      const v = this.intensity.getIntensity(this.location, new Date());
      if (!(v.gPerKWh >= 0) || !Number.isFinite(v.gPerKWh)) throw new Error(`invalid gPerKWh ${v.gPerKWh}`);
      if (v !== this.lastIntensity) {
        const warning = (v as IntensityValue & { warning?: string }).warning;
        if (v.isFallback || warning)
          this.warn({
            code: 'INTENSITY_FALLBACK',
            option: 'countryIsoCode',
            message: warning ?? `Grid intensity: using ${v.gPerKWh} g/kWh from ${v.source}; set \`countryIsoCode\` (ISO 3166-1 alpha-3, e.g. 'FRA') for your location`,
          });
        this.lastIntensity = v;
      }
      return v;
    } catch (e) {
      this.fail('INTENSITY', `intensity provider '${this.intensity.id}' failed: ${toError(e).message}; keeping the last value`, e);
      return this.lastIntensity ?? { gPerKWh: WORLD_AVERAGE_G_PER_KWH, source: 'world average (fallback)', isFallback: true };
    }
  }

  /** CPU and RAM utilisation for the CSV columns, at most once a second (they cost a /proc read). */
  private sampleUtilization(nowMs: number, first: boolean): void {
    if (!first && nowMs - this.lastUtilMs < UTIL_MIN_INTERVAL_MS) return;
    this.lastUtilMs = nowMs;
    const root = this.options.procfsRoot;
    const times = readSystemCpuTimes(root);
    if (times && this.lastCpuTimes) {
      const dTotal = times.totalS - this.lastCpuTimes.totalS;
      if (dTotal > 0) {
        this.util.cpu.sum += (100 * (times.busyS - this.lastCpuTimes.busyS)) / dTotal;
        this.util.cpu.n++;
      }
    }
    this.lastCpuTimes = times;
    const mem = readMemInfo(root);
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

  // ---- results -----------------------------------------------------------------------------

  private cumulativeData(): EmissionsData {
    return this.buildData(this.lastSampleMs - this.startMs, this.totals, undefined, this.util);
  }

  private diff(a: Totals, b: Totals): Totals {
    return {
      energyJ: { cpu: a.energyJ.cpu - b.energyJ.cpu, gpu: a.energyJ.gpu - b.energyJ.gpu, ram: a.energyJ.ram - b.energyJ.ram },
      emissionsKg: a.emissionsKg - b.emissionsKg,
      waterL: a.waterL - b.waterL,
    };
  }

  private diffUtil(before: Record<string, Mean>): Record<string, Mean> {
    const out: Record<string, Mean> = {};
    for (const [k, v] of Object.entries(this.util)) out[k] = { sum: v.sum - before[k]!.sum, n: v.n - before[k]!.n };
    return out;
  }

  private buildData(durationMs: number, t: Totals, taskName: string | undefined, util: Record<string, Mean>): EmissionsData {
    const o = this.options;
    const hw = this.hardware();
    const intensity = this.lastIntensity ?? this.currentIntensity();
    const durationS = Math.max(0, durationMs / 1000);
    const kWh = (j: number) => j / J_PER_KWH;
    const powerW = (j: number) => (durationS > 0 ? j / durationS : 0);
    const totalJ = t.energyJ.cpu + t.energyJ.gpu + t.energyJ.ram;
    return {
      timestamp: localTimestamp(),
      projectName: o.projectName,
      runId: this.runId,
      experimentId: o.experimentId,
      experimentName: o.experimentName,
      ...(taskName !== undefined ? { taskName } : {}),
      durationS,
      emissionsKg: t.emissionsKg,
      emissionsRateKgPerS: durationS > 0 ? t.emissionsKg / durationS : 0,
      cpuPowerW: powerW(t.energyJ.cpu),
      gpuPowerW: powerW(t.energyJ.gpu),
      ramPowerW: powerW(t.energyJ.ram),
      cpuEnergyKWh: kWh(t.energyJ.cpu),
      gpuEnergyKWh: kWh(t.energyJ.gpu),
      ramEnergyKWh: kWh(t.energyJ.ram),
      energyConsumedKWh: kWh(totalJ),
      waterConsumedL: t.waterL,
      // A provider without location fields (a forced intensity): the names CodeCarbon writes for the options.
      countryName: intensity.countryName ?? (o.countryIsoCode ? countryName(o.countryIsoCode) : undefined) ?? '',
      countryIsoCode: intensity.countryIsoCode ?? o.countryIsoCode ?? '',
      region: intensity.region ?? o.region?.toLowerCase() ?? '',
      cloudProvider: intensity.cloudProvider ?? o.cloudProvider ?? '',
      cloudRegion: intensity.cloudRegion ?? o.cloudRegion ?? '',
      os: hw.os,
      nodeVersion: process.versions.node,
      trackerVersion: `wattprint ${VERSION}`,
      cpuCount: hw.cpuCount,
      cpuModel: hw.cpuModel,
      gpuCount: hw.gpuCount,
      gpuModel: hw.gpuModel,
      ...coordinatesOf(this.intensity.location().location),
      ramTotalSizeGB: hw.ramTotalGiB,
      trackingMode: o.trackingMode,
      cpuUtilizationPercent: mean(util.cpu!),
      gpuUtilizationPercent: mean(util.gpu!),
      ramUtilizationPercent: mean(util.ram!),
      ramUsedGB: mean(util.ramUsed!),
      ramInUseGB: mean(util.ramInUse!),
      onCloud: intensity.cloudProvider || o.cloudProvider ? 'Y' : 'N',
      pue: o.pue,
      wue: o.wue,
      intensityGPerKWh: intensity.gPerKWh,
      intensitySource: intensity.source,
      intensityProvider: intensity.provider ?? this.intensity.id,
      intensityZone: intensity.zone ?? '',
      ...(intensity.freshness ? { intensityFreshness: intensity.freshness } : {}),
      ...(intensity.year !== undefined ? { intensityYear: intensity.year } : {}),
      boundary: this.boundary(),
      ...(taskName === undefined && this.remote.requests > 0 ? { remoteEstimate: this.remote.toJSON() } : {}),
    };
  }

  /** Calls every reporter; a throw or rejection becomes an 'error' event and never stops the others. */
  private callReporters(data: EmissionsData, phase: ReportContext['phase']): Promise<void>[] {
    const ctx: ReportContext = { phase, onCsvWrite: this.options.onCsvWrite };
    return this.reporters.map((r) => this.guard(r, 'report', () => r.report(data, ctx)));
  }

  private guard(r: Reporter, what: string, call: () => unknown): Promise<void> {
    const onErr = (e: unknown) =>
      this.fail('REPORTER', `reporter '${r.id ?? 'anonymous'}' failed in ${what}(): ${toError(e).message}`, e);
    try {
      const out = call();
      if (out && typeof (out as Promise<void>).then === 'function') return (out as Promise<void>).then(() => undefined, onErr);
    } catch (e) {
      onErr(e);
    }
    return Promise.resolve();
  }

  /**
   * The synchronous part of stopping: last sample, final row handed to every reporter (the built-in
   * ones write synchronously, so this also serves signal and exit handlers), then shutdown.
   */
  private finish(): { data: EmissionsData; pending: Promise<void>[] } {
    if (this.state === 'running') this.sampleNow();
    this.state = 'stopped';
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.removeExitHooks();
    this.calls.stop();
    const data = this.cumulativeData();
    this.finalData = data;
    this.snapshotCache = undefined;
    const pending = this.callReporters(data, 'stop');
    const withReport = this.reporters.filter((r) => typeof r.writeReport === 'function');
    if (withReport.length) {
      let report: unknown;
      try {
        report = this.runReport();
      } catch (e) {
        this.fail('REPORT', `building the run report failed: ${toError(e).message}`, e);
      }
      if (report !== undefined) for (const r of withReport) pending.push(this.guard(r, 'writeReport', () => r.writeReport!(report)));
    }
    for (const r of this.reporters) {
      if (r.flush) pending.push(this.guard(r, 'flush', () => r.flush!()));
    }
    const shutdown = Promise.all(pending).then(() =>
      Promise.all(this.reporters.filter((r) => r.shutdown).map((r) => this.guard(r, 'shutdown', () => r.shutdown!()))),
    );
    for (const c of COMPONENTS) {
      try {
        this.selection?.sources[c]?.close?.();
      } catch (e) {
        this.fail('SOURCE_CLOSE', `${c} source failed to close: ${toError(e).message}`, e);
      }
    }
    try {
      this.intensity.stop?.();
    } catch {
      // Stopping a provider's refresh cannot lose data.
    }
    return { data, pending: [shutdown.then(() => undefined)] };
  }

  // ---- lifecycle helpers -------------------------------------------------------------------

  private installExitHooks(): void {
    if (!this.options.handleSignals) return;
    // Through stop(), so that an app handler that awaits stop() shares this final row.
    this.removeExitHook = onProcessEnd(() => {
      if (this.state === 'running') void this.stop();
    });
  }

  private removeExitHooks(): void {
    this.removeExitHook?.();
    this.removeExitHook = undefined;
  }

  private assertStarted(method: string): void {
    if (this.state === 'idle') throw new WattprintError('STATE', `EmissionsTracker.${method}(): call start() first`);
  }

  private assertRunning(method: string): void {
    if (this.state !== 'running')
      throw new WattprintError('STATE', `EmissionsTracker.${method}(): the tracker is ${this.state === 'idle' ? 'not started; call start() first' : 'stopped'}`);
  }

  private emitSafely<E extends keyof TrackerEvents>(event: E, ...args: Parameters<TrackerEvents[E]>): void {
    try {
      (this.emit as (e: string, ...a: unknown[]) => boolean)(event, ...args);
    } catch (e) {
      // A throwing listener must not break sampling; report it once as an error event.
      if (event !== 'error') this.fail('LISTENER', `a '${event}' listener threw: ${toError(e).message}`, e);
    }
  }

  /** @internal Emits a warning; without listeners, prints it once per code via process.emitWarning. */
  warn(w: WattprintWarning): void {
    if (this.listenerCount('warning') > 0) this.emitSafely('warning', w);
    else if (!this.warnedCodes.has(w.code + (w.component ?? ''))) {
      this.warnedCodes.add(w.code + (w.component ?? ''));
      process.emitWarning(w.message, { type: 'WattprintWarning', code: `WATTPRINT_${w.code}` });
    }
  }

  private fail(code: string, message: string, cause?: unknown): void {
    const err = new WattprintError(code, message, { cause });
    if (this.listenerCount('error') > 0) this.emitSafely('error', err);
    else if (!this.warnedCodes.has(`error:${code}`)) {
      this.warnedCodes.add(`error:${code}`);
      process.emitWarning(message, { type: 'WattprintError', code: `WATTPRINT_${code}` });
    }
  }
}
