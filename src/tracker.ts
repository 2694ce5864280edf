import { EventEmitter } from 'eventemitter3';
import { randomUuid } from './builtins.js';
import { WattprintError, toError } from './errors.js';
import { describeHardware, type HardwareInfo } from './hardware.js';
import { onProcessEnd } from './exit-hooks.js';
import { withGuardedClock } from './clock-guard.js';
import { IntervalAccounts, NO_LOAD } from './inference/accounts.js';
import type { Baseline, CallRecord, CallStats, CallTracker, LabelValue, Labels, WrapOptions } from './inference/index.js';
import { inferenceModule, reportModule } from './lazy/index.js';
import type { WattprintReport } from './report/run-report.js';
import { resolveOptions, type EmissionsTrackerOptions, type ResolvedOptions } from './options.js';
import { chooseSources, intensityFor, reportersFor } from './setup.js';
import type { Selection } from './sources/select.js';
import { ReporterFanOut } from './tracker/fan-out.js';
import { buildBoundary, buildData, copyTotals, diffTotals, diffUtil, type Totals, type Util } from './tracker/results.js';
import { Sampler } from './tracker/sampler.js';
import { buildSnapshot } from './tracker/snapshot.js';
import type { Boundary, Component, EmissionsData, Measurement, TrackerSnapshot, WattprintWarning } from './types.js';
import type { LlmCallRecord } from './llm/types.js';
import { RemoteTotals, type RemoteRequest } from './inference/remote.js';

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

type State = 'idle' | 'running' | 'stopped';

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
  private runIdValue?: string;

  private state: State = 'idle';
  private selection?: Selection;
  private readonly sampler: Sampler;
  private hw?: HardwareInfo;
  private readonly fanOut: ReporterFanOut;
  private readonly tasks = new Map<string, { startMs: number; totals: Totals; util: Util }>();
  private finalData?: EmissionsData;
  private stopPromise?: Promise<EmissionsData>;
  private snapshotCache?: { generation: number; state: State; value: TrackerSnapshot };
  private readonly warnedCodes = new Set<string>();
  private removeExitHook?: () => void;
  private readonly accounts: IntervalAccounts;
  private callsValue: CallTracker | undefined;
  private readonly remote = new RemoteTotals();

  /**
   * Validates every option (throws {@link WattprintError} naming the option) but touches no
   * hardware: sources are chosen by `start()`.
   */
  constructor(options: EmissionsTrackerOptions = {}) {
    super();
    this.options = withGuardedClock(resolveOptions(options), (w) => this.warn(w));
    this.fanOut = new ReporterFanOut(
      reportersFor(this.options, (w) => this.warn(w)),
      this.options.onCsvWrite,
      (code, message, cause) => this.fail(code, message, cause),
    );
    this.sampler = new Sampler(
      {
        options: this.options,
        warn: (w) => this.warn(w),
        fail: (code, message, cause) => this.fail(code, message, cause),
        onMeasurement: (m, extra) => {
          // The one-way seam: the interval goes to per-call attribution, then to listeners.
          if (this.callsValue) this.callsValue.onInterval({ ...m, ...extra });
          else if (this.state === 'running') this.accounts.account({ ...m, ...extra }, NO_LOAD, undefined);
          this.emitSafely('measurement', m);
        },
      },
      intensityFor(this.options),
    );
    this.accounts = new IntervalAccounts(this.options.attribution);
    // A baseline is measured from start(): its call tracker cannot wait for a first call.
    if (this.options.baseline !== undefined) this.callsValue = this.makeCalls();
  }

  /**
   * The call tracker (src/inference/, a chunk that loads on first use): made at the first wrap,
   * label, call statistic or report, taking over the interval totals kept since start(), so a
   * process that wraps nothing never compiles it.
   */
  private get calls(): CallTracker {
    return (this.callsValue ??= this.makeCalls());
  }

  private makeCalls(): CallTracker {
    const { CallTracker } = inferenceModule();
    return new CallTracker(
      {
        // The clock itself, not a closure reading it from the options: read twice per wrapped call.
        nowMs: this.options.clock,
        requestSample: () => void this.sample(),
        setFastSampling: (on) => this.sampler.setFastSampling(on),
        emitCall: (r) => this.emitSafely('call', r),
        wantsCalls: () => this.listenerCount('call') > 0,
        warn: (w) => this.warn(w),
        error: (e) => this.fail(e.code, e.message, e.cause),
      },
      this.options,
      this.accounts,
    );
  }

  /** Unique id of this run, written to every row (made on first read). */
  get runId(): string {
    return (this.runIdValue ??= randomUuid());
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
    const selection = chooseSources(this.options, (w) => this.warn(w));
    this.selection = selection;
    // Described on first use (a row, a report): the CPU model waits for it.
    this.hw = undefined;
    for (const w of selection.warnings) this.warn(w);
    this.state = 'running';
    this.sampler.start(selection.sources);
    this.installExitHooks();
    if (this.callsValue) this.callsValue.start();
    else this.accounts.start(this.options.clock());
  }

  /**
   * The cumulative state at the last sample: energy per component and device, emissions, power of
   * the last interval, intensity, and per-handler call counts. Cheap and side-effect free (it never
   * samples; the same object is returned until the next sample), so exporters and status lines may
   * call it as often as they like.
   */
  snapshot(): TrackerSnapshot {
    const generation = this.sampler.generation;
    const cached = this.snapshotCache;
    if (cached && cached.generation === generation && cached.state === this.state) return cached.value;
    const sm = this.sampler;
    const devices = (c: Component) => {
      const probe = this.selection?.probes[c];
      return probe?.ok ? probe.devices : [];
    };
    const value = buildSnapshot({
      projectName: this.options.projectName,
      runId: this.runId,
      running: this.state === 'running',
      trackingMode: this.options.trackingMode,
      pue: this.options.pue,
      startedAtMs: sm.startedAtWallMs,
      durationMs: sm.lastSampleMs - sm.startMs,
      ledgers: sm.ledgers,
      sources: this.selection?.sources ?? {},
      devices: { cpu: devices('cpu'), gpu: devices('gpu'), ram: devices('ram') },
      intensity: sm.lastIntensity,
      callNames: this.callsValue?.callNames() ?? [],
      callStats: (name) => this.calls.callStats(name),
    });
    this.snapshotCache = { generation, state: this.state, value };
    return value;
  }

  /**
   * Samples every source now (instead of waiting for the timer) and emits 'measurement'. Returns the
   * interval, or undefined when the tracker is not running. For live displays that want fresher
   * figures than `measurePowerSecs` gives; the timer keeps its own schedule.
   */
  sample(): Measurement | undefined {
    return this.state === 'running' ? this.sampler.sampleNow() : undefined;
  }

  /** Hardware found at `start()` (CPU, RAM, tracked GPUs). */
  hardware(): HardwareInfo {
    if (!this.hw) this.hw = describeHardware(this.options.procfsRoot, this.selection?.probes.gpu, this.selection?.cpu);
    return this.hw;
  }

  /** The sources chosen at `start()`, and each candidate's probe. */
  sources(): Selection | undefined {
    return this.selection;
  }

  /** What the results include: per component, the source, measured or estimated, devices, scope, PUE. */
  boundary(): Boundary {
    return buildBoundary(this.options, this.selection);
  }

  /**
   * Writes the cumulative totals so far to every reporter and keeps running. Resolves when the
   * reporters are done; reporter failures become 'error' events.
   */
  async flush(): Promise<EmissionsData> {
    this.assertStarted('flush');
    if (this.state === 'stopped') return this.finalData!;
    this.sample();
    const data = this.cumulativeData();
    await Promise.all(this.fanOut.report(data, 'flush'));
    return data;
  }

  /**
   * Takes a last sample, stops sampling, writes the final row to every reporter (and the run
   * report to reporters that take it) and returns the totals. Calling it again returns the same data.
   */
  stop(): Promise<EmissionsData> {
    this.assertStarted('stop');
    if (!this.stopPromise) {
      const { data, done } = this.finish();
      this.stopPromise = done.then(() => data);
    }
    return this.stopPromise;
  }

  /** Marks the start of a named task; `stopTask(name)` returns the task's own totals. */
  startTask(name: string): void {
    this.assertRunning('startTask');
    if (typeof name !== 'string' || name === '') throw new WattprintError('INVALID_OPTION', 'startTask(name): name must be a non-empty string');
    if (this.tasks.has(name)) throw new WattprintError('STATE', `startTask('${name}'): a task with this name is already running`);
    const sm = this.sampler;
    sm.sampleNow();
    this.tasks.set(name, { startMs: sm.lastSampleMs, totals: copyTotals(sm.totals), util: structuredClone(sm.util) });
  }

  /** Ends a task: its energy and emissions since `startTask(name)`, also written to reporters as a task row. */
  async stopTask(name: string): Promise<EmissionsData> {
    this.assertRunning('stopTask');
    const task = this.tasks.get(name);
    if (!task) throw new WattprintError('STATE', `stopTask('${name}'): no running task with this name; call startTask('${name}') first`);
    this.tasks.delete(name);
    const sm = this.sampler;
    sm.sampleNow();
    const data = this.data(sm.lastSampleMs - task.startMs, diffTotals(sm.totals, task.totals), diffUtil(sm.util, task.util), name);
    await Promise.all(this.fanOut.report(data, 'task'));
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
    const inCall = this.calls.llmContext().add;
    return (r) => {
      if (this.state !== 'running') return;
      this.remote.add(r);
      inCall?.(r);
    };
  }

  /** The labels in force here (the enclosing `withLabels`), if any: `wattprint/llm` puts them on its records. */
  currentLabels(): Labels | undefined {
    return this.calls.llmContext().labels;
  }

  /** Aggregates over the wrapped calls so far (all names, or one). */
  callStats(name?: string): CallStats {
    // Calls that ended since the last sample are attributed by a sample; take it so they count.
    this.sample();
    return this.calls.callStats(name);
  }

  /** The run report following the review's reporting checklist (schema: docs/report-schema.json). */
  async report(): Promise<WattprintReport> {
    this.sample();
    return this.runReport();
  }

  /** The run report, built above both the tracker's results and the call tracker's data. */
  private runReport(): WattprintReport {
    return reportModule().buildRunReport({
      results: this.cumulativeData(),
      hardware: this.hardware(),
      boundary: this.boundary(),
      intensity: this.sampler.lastIntensity,
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

  /** @internal Same as {@link sample} (kept for tests). */
  _sampleNow(): Measurement | undefined {
    return this.sample();
  }

  // ---- results -----------------------------------------------------------------------------

  private cumulativeData(): EmissionsData {
    const sm = this.sampler;
    return this.data(sm.lastSampleMs - sm.startMs, sm.totals, sm.util);
  }

  private data(durationMs: number, totals: Totals, util: Util, taskName?: string): EmissionsData {
    const sm = this.sampler;
    return buildData({
      options: this.options,
      runId: this.runId,
      hardware: this.hardware(),
      intensity: sm.lastIntensity ?? sm.currentIntensity(),
      intensityProviderId: sm.intensity.id,
      location: sm.intensity.location().location,
      boundary: this.boundary(),
      durationMs,
      totals,
      util,
      ...(taskName !== undefined ? { taskName } : {}),
      // Remote LLM estimates are a run total: on cumulative rows only.
      ...(taskName === undefined && this.remote.requests > 0 ? { remoteEstimate: this.remote.toJSON() } : {}),
    });
  }

  /**
   * The synchronous part of stopping: last sample, final row handed to every reporter (the built-in
   * ones write synchronously, so this also serves signal and exit handlers), then shutdown.
   */
  private finish(): { data: EmissionsData; done: Promise<void> } {
    const sm = this.sampler;
    if (this.state === 'running') sm.sampleNow();
    this.state = 'stopped';
    sm.halt();
    this.removeExitHook?.();
    this.removeExitHook = undefined;
    if (this.callsValue) this.callsValue.stop();
    else this.accounts.stop();
    const data = this.cumulativeData();
    this.finalData = data;
    const done = this.fanOut.final(data, () => this.runReport());
    sm.close();
    return { data, done };
  }

  // ---- lifecycle helpers -------------------------------------------------------------------

  private installExitHooks(): void {
    if (!this.options.handleSignals) return;
    // Through stop(), so that an app handler that awaits stop() shares this final row (and writes no second).
    this.removeExitHook = onProcessEnd(() => {
      if (this.state === 'running') void this.stop();
    });
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
