import { AsyncLocalStorage } from 'node:async_hooks';
import { WattprintError, invalidOption, toError } from '../errors.js';
import type { Measurement, WattprintWarning } from '../types.js';
import { buildReport, type ReportInput, type WattprintReport } from './report.js';
import { PendingCalls } from './pending.js';
import { RemoteTotals, type RemoteRequest } from './remote.js';
import { StatsAccumulator, type FinishedCall } from './stats.js';
import { isAsyncIterable, isNodeStream, trackAsyncIterable, watchNodeStream, type StreamOutcome } from './stream.js';
import type {
  Baseline,
  CallRecord,
  CallStats,
  CallTrackerTuning,
  InferenceHost,
  LabelValue,
  Labels,
  StreamSummary,
  TokenCounts,
  WrapOptions,
} from './types.js';

const OK = 0;
const ERROR = 1;
const ABANDONED = 2;
const TRUNCATED = 3;
const OUTCOMES = ['ok', 'error', 'abandoned', 'truncated'] as const;
const STREAM_OUTCOME: Record<StreamOutcome, number> = { ok: OK, error: ERROR, abandoned: ABANDONED };
const NO_LABELS: Labels = Object.freeze({});

/** Per `wrap()` call: what every call of the wrapped function shares. */
interface Site {
  readonly name: string;
  readonly tokens: WrapOptions['tokens'];
  readonly streamTokens: WrapOptions['streamTokens'];
  readonly stream: boolean;
  stats: StatsAccumulator;
  gen: number;
}

/** Energy a call received from intervals sampled while it was in flight. */
interface Accrued {
  cpuJ: number;
  gpuJ: number;
  ramJ: number;
  energyJ: number;
  emissionsKg: number;
  dynamicJ: number;
}

/**
 * One call in flight, linked into the in-flight list. Short-lived: when the call ends its numbers
 * move to the pending columns, so this object is garbage before the next scavenge.
 */
class CallState {
  prev: CallState | undefined = undefined;
  next: CallState | undefined = undefined;
  ended = false;
  /** Finalised at stop (truncated): a later end is ignored. */
  done = false;
  stream = false;
  chunks = -1;
  inputTokens = NaN;
  outputTokens = NaN;
  acc: Accrued | undefined = undefined;
  /** Estimates of the remote LLM requests made inside the call (`wattprint/llm`). */
  remote: RemoteTotals | undefined = undefined;
  constructor(
    readonly site: Site,
    readonly startMs: number,
    readonly labels: Labels | undefined,
    readonly gen: number,
    /** Started after the baseline was measured, so it gets dynamic energy. */
    readonly dynamic: boolean,
  ) {}
}

const STREAM_BIT = 4;
const DYNAMIC_BIT = 8;

/** Energy bookkeeping of every interval seen since start; the conservation identity holds on it. */
export interface AttributionTotals {
  /** Measurements attributed. */
  readonly intervals: number;
  /** Sum of their lengths. */
  readonly observedS: number;
  /** Sum of their energies (all components, after PUE) and emissions. */
  readonly energyJ: number;
  readonly emissionsKg: number;
  /** Given to calls (finished or still in flight) and to idle: `callsEnergyJ + idleEnergyJ = energyJ`. */
  readonly callsEnergyJ: number;
  readonly callsEmissionsKg: number;
  readonly idleEnergyJ: number;
  readonly idleCpuEnergyJ: number;
  readonly idleGpuEnergyJ: number;
  readonly idleRamEnergyJ: number;
  readonly idleEmissionsKg: number;
  /** Time with at least one call in flight. */
  readonly busyS: number;
  /** Call-seconds: the integral of the in-flight count. */
  readonly callS: number;
  readonly maxInFlight: number;
  readonly inFlight: number;
}

function mutableTotals() {
  return {
    intervals: 0,
    observedS: 0,
    energyJ: 0,
    emissionsKg: 0,
    callsEnergyJ: 0,
    callsEmissionsKg: 0,
    idleEnergyJ: 0,
    idleCpuEnergyJ: 0,
    idleGpuEnergyJ: 0,
    idleRamEnergyJ: 0,
    idleEmissionsKg: 0,
    busyS: 0,
    callS: 0,
  };
}

function checkTokens(t: unknown, name: string): { input: number; output: number } | string {
  if (t === undefined || t === null) return { input: NaN, output: NaN };
  if (typeof t !== 'object') return `returned ${typeof t}, expected { inputTokens?, outputTokens? }`;
  const { inputTokens, outputTokens } = t as TokenCounts;
  const ok = (v: unknown) => v === undefined || (typeof v === 'number' && v >= 0 && Number.isFinite(v));
  if (!ok(inputTokens) || !ok(outputTokens))
    return `returned ${JSON.stringify(t)}; token counts must be finite numbers ≥ 0 (call '${name}')`;
  return { input: inputTokens ?? NaN, output: outputTokens ?? NaN };
}

/**
 * Per-call energy attribution for an {@link InferenceHost} (the `EmissionsTracker`): wraps
 * functions, divides each sampling interval's energy among the calls in flight in proportion to
 * their time in it (the rest is idle energy), and keeps bounded-memory statistics. See
 * docs/inference.md and docs/methodology.md ("Per-request attribution").
 */
export class CallTracker {
  /**
   * Resolves with the idle baseline once measured (`baseline` option), or with `undefined` when
   * no baseline is configured, none could be measured, or the tracker stopped first. Never rejects.
   */
  get baselineReady(): Promise<Baseline | undefined> {
    return this.baselinePromise;
  }

  /** The idle baseline, once measured. */
  get baseline(): Baseline | undefined {
    return this.baselineValue;
  }

  private readonly host: InferenceHost;
  private readonly maxPending: number;
  private intervalMs = 100;
  private amortizedKgPerCall = 0;
  private running = false;
  private gen = 0;
  private head: CallState | undefined = undefined;
  private inFlightCount = 0;
  private pending = new PendingCalls<Site, CallState>();
  private spare: PendingCalls<Site, CallState> | undefined = undefined;
  private busySinceMs = 0;
  private busyAccMs = 0;
  private lastSampleMs = 0;
  private startedSinceSample = false;
  private fastOn = false;
  private maxInFlight = 0;
  private totals = mutableTotals();
  private byName = new Map<string, StatsAccumulator>();
  private als: AsyncLocalStorage<Labels> | undefined;
  /** The call whose code is running, across awaits; only once `remoteScope()` was first asked (it costs every promise). */
  private callStore: AsyncLocalStorage<CallState> | undefined;
  private wallOffsetMs = 0;
  private startedAtMs: number | undefined;
  private stoppedAtMs: number | undefined;
  private warnedNotRunning = false;
  private sampling = false;
  private readonly finishedCall: FinishedCall = {
    durationS: 0,
    energyJ: 0,
    cpuEnergyJ: 0,
    gpuEnergyJ: 0,
    ramEnergyJ: 0,
    dynamicEnergyJ: NaN,
    emissionsKg: 0,
    amortizedEmissionsKg: 0,
    inputTokens: NaN,
    outputTokens: NaN,
    error: false,
    truncated: false,
    abandoned: false,
    remote: undefined,
  };

  private baselineState: 'off' | 'measuring' | 'ready' | 'failed' = 'off';
  private baselineStartMs = 0;
  private baselineEndMs = 0;
  private baselineIdle = { ms: 0, energyJ: 0, cpuJ: 0, gpuJ: 0, ramJ: 0 };
  private baselineValue: Baseline | undefined;
  private baselineTimer: ReturnType<typeof setTimeout> | undefined;
  private baselinePromise!: Promise<Baseline | undefined>;
  private resolveBaseline: ((b: Baseline | undefined) => void) | undefined;

  constructor(host: InferenceHost, tuning: CallTrackerTuning = {}) {
    this.host = host;
    this.maxPending = tuning.maxPendingCalls ?? 16384;
    this.newBaselinePromise();
  }

  /**
   * Starts attributing: subscribes to the host's 'measurement' events and, with the `baseline`
   * option, starts measuring idle power. Resets the statistics of a previous run.
   */
  start(): void {
    if (this.running) return;
    const opts = this.host.options;
    this.intervalMs = opts.callSampleIntervalMs ?? 100;
    this.amortizedKgPerCall = opts.amortize ? opts.amortize.trainingEmissionsKg / opts.amortize.expectedRequests : 0;
    this.gen++;
    this.head = undefined;
    this.inFlightCount = 0;
    this.pending = new PendingCalls();
    this.busyAccMs = 0;
    this.startedSinceSample = false;
    this.maxInFlight = 0;
    this.totals = mutableTotals();
    this.byName = new Map();
    const now = this.host._nowMs();
    this.lastSampleMs = now;
    this.startedAtMs = now;
    this.stoppedAtMs = undefined;
    this.wallOffsetMs = Date.now() - now;
    this.host.on('measurement', this.onMeasurement);
    this.running = true;

    if (this.resolveBaseline === undefined) this.newBaselinePromise();
    this.baselineValue = undefined;
    this.baselineIdle = { ms: 0, energyJ: 0, cpuJ: 0, gpuJ: 0, ramJ: 0 };
    if (opts.baseline) {
      this.baselineState = 'measuring';
      this.baselineStartMs = now;
      this.baselineEndMs = now + opts.baseline.durationMs;
      this.armBaselineTimer(opts.baseline.durationMs);
    } else {
      this.baselineState = 'off';
      this.settleBaseline(undefined);
    }
  }

  /**
   * Stops attributing. Takes a last sample when calls are pending or in flight; calls still in
   * flight get a record with `outcome: 'truncated'` covering their time up to that sample. Call it
   * after the host's own final sample and before `buildReport()`.
   */
  stop(): void {
    if (!this.running) return;
    if (this.pending.n > 0 || this.inFlightCount > 0) this.sample();
    const endMs = this.lastSampleMs;
    this.stoppedAtMs = endMs;
    const inFlight: CallState[] = [];
    for (let c = this.head; c !== undefined; c = c.next) inFlight.push(c);
    this.head = undefined;
    this.inFlightCount = 0;
    // Only left over when the last sample failed: their last interval's share is unknown.
    this.finalizePending(this.takePending(), 0, 0, 0, 0, 0, 0, 0, 0);
    for (const c of inFlight) {
      c.done = true;
      c.prev = c.next = undefined;
      this.finalizeState(c, Math.max(c.startMs, endMs), TRUNCATED);
    }
    this.running = false;
    this.host.off('measurement', this.onMeasurement);
    if (this.fastOn) {
      this.fastOn = false;
      this.safeSetFast(false);
    }
    if (this.baselineTimer) clearTimeout(this.baselineTimer);
    this.baselineTimer = undefined;
    if (this.baselineState === 'measuring') {
      this.baselineState = 'failed';
      this.warn('BASELINE_INCOMPLETE', 'The tracker stopped before the idle baseline finished; no dynamic energy this run. Give `baseline.durationMs` time to elapse before stop().');
    }
    this.settleBaseline(this.baselineValue);
  }

  /** Whether calls are being measured (between start and stop). */
  get isRunning(): boolean {
    return this.running;
  }

  /**
   * Returns a function with the same signature as `fn` that measures each call: sync functions,
   * async functions (the call ends when the promise settles), and functions returning async
   * iterables or Node.js streams (the call ends when the stream ends, throws or is abandoned).
   * Results, `this` and thrown errors pass through unchanged. Calls made while the tracker is not
   * running are not measured.
   */
  wrap<F extends (...args: never[]) => unknown>(fn: F, options: WrapOptions<Awaited<ReturnType<F>>, Parameters<F>>): F {
    if (typeof fn !== 'function') throw invalidOption('wrap', `expected a function to wrap, got ${fn === null ? 'null' : typeof fn}`);
    const site = this.site(options as unknown as WrapOptions);
    const self = this;
    const wrapped = function (this: unknown, ...args: unknown[]): unknown {
      if (new.target !== undefined) return Reflect.construct(fn as unknown as new (...a: unknown[]) => unknown, args, new.target === wrapped ? fn : new.target);
      if (!self.running) {
        self.notRunning();
        return (fn as unknown as (...a: unknown[]) => unknown).apply(this, args);
      }
      const c = self.begin(site);
      let result: unknown;
      try {
        const store = self.callStore;
        result = store
          ? store.run(c, () => (fn as unknown as (...a: unknown[]) => unknown).apply(this, args))
          : (fn as unknown as (...a: unknown[]) => unknown).apply(this, args);
      } catch (e) {
        self.end(c, ERROR);
        throw e;
      }
      if (result !== null && (typeof result === 'object' || typeof result === 'function')) return self.settle(c, result, args);
      if (site.tokens !== undefined) self.countTokens(c, site.tokens, result, args);
      self.end(c, OK);
      return result;
    };
    Object.defineProperty(wrapped, 'name', { value: fn.name, configurable: true });
    Object.defineProperty(wrapped, 'length', { value: fn.length, configurable: true });
    return wrapped as unknown as F;
  }

  /**
   * Runs `fn` with `labels` merged over the labels in force (innermost wins); every call started
   * inside, synchronously or after any number of awaits, carries them. Returns what `fn` returns.
   */
  withLabels<T>(labels: Record<string, LabelValue>, fn: () => T): T {
    if (typeof labels !== 'object' || labels === null || Array.isArray(labels))
      throw invalidOption('labels', 'withLabels(labels, fn) expects an object such as { model: "llama-3-8b" }');
    for (const [k, v] of Object.entries(labels)) {
      if (!['string', 'number', 'boolean'].includes(typeof v))
        throw invalidOption('labels', `label '${k}' must be a string, number or boolean, got ${v === null ? 'null' : typeof v}`);
    }
    if (typeof fn !== 'function') throw invalidOption('labels', 'withLabels(labels, fn) expects a function as its second argument');
    // Created on first use: an AsyncLocalStorage costs every promise something once enabled.
    this.als ??= new AsyncLocalStorage<Labels>();
    const merged = Object.freeze({ ...this.als.getStore(), ...labels });
    return this.als.run(merged, fn);
  }

  /**
   * For `wattprint/llm`: where to add a remote request that starts now, the wrapped call in whose
   * async context it runs, or undefined outside any. The first call only turns the tracking on.
   * A request that ends after its call ended is not added to the call (it stays in the run's totals).
   */
  remoteScope(): ((r: RemoteRequest) => void) | undefined {
    if (!this.callStore) {
      this.callStore = new AsyncLocalStorage<CallState>();
      return undefined;
    }
    const c = this.callStore.getStore();
    if (c === undefined) return undefined;
    return (r) => {
      if (!c.ended) (c.remote ??= new RemoteTotals()).add(r);
    };
  }

  /** The labels in force here (set by the enclosing `withLabels`), if any. */
  currentLabels(): Labels | undefined {
    return this.als?.getStore();
  }

  /** Statistics of all calls (with idle energy) or of the calls named `name`. */
  callStats(name?: string): CallStats {
    if (name === undefined) {
      // Per-name sketches share one bucket layout, so the all-calls sketch is their sum.
      const all = new StatsAccumulator();
      for (const s of this.byName.values()) all.merge(s);
      return all.toStats(undefined, { energyJ: this.totals.idleEnergyJ, emissionsKg: this.totals.idleEmissionsKg });
    }
    return (this.byName.get(name) ?? new StatsAccumulator()).toStats(name);
  }

  /** Names that have finished calls this run, in first-seen order. */
  callNames(): string[] {
    return [...this.byName.keys()];
  }

  /** The interval bookkeeping (energies, idle, busy time, concurrency) since start. */
  attributionTotals(): AttributionTotals {
    return { ...this.totals, maxInFlight: this.maxInFlight, inFlight: this.inFlightCount };
  }

  /** The run report (docs/report-schema.json): the reporting checklist of the review, filled in. */
  buildReport(): WattprintReport {
    const input: ReportInput = {
      host: this.host,
      totals: this.attributionTotals(),
      overall: this.callStats(),
      byName: this.callNames().map((n) => this.callStats(n)),
      baseline: this.baselineValue,
      baselineConfigured: this.host.options.baseline,
      amortize: this.host.options.amortize,
      startedAtMs: this.startedAtMs,
      stoppedAtMs: this.stoppedAtMs,
      wallOffsetMs: this.wallOffsetMs,
      intervalMs: this.intervalMs,
    };
    return buildReport(input);
  }

  // ---- internals -------------------------------------------------------------------------

  private site(options: WrapOptions): Site {
    if (typeof options !== 'object' || options === null)
      throw invalidOption('name', 'wrap(fn, options) needs options with a name, e.g. { name: "chat" }');
    const { name, tokens, streamTokens, stream } = options;
    if (typeof name !== 'string' || name.trim() === '')
      throw invalidOption('name', `wrap(fn, { name }) needs a non-empty string name, got ${JSON.stringify(name)}`);
    if (tokens !== undefined && typeof tokens !== 'function')
      throw invalidOption('tokens', 'expected a function (result, args) => ({ inputTokens, outputTokens })');
    if (streamTokens !== undefined && streamTokens !== 'chunks' && typeof streamTokens !== 'function')
      throw invalidOption('streamTokens', "expected 'chunks' or a function (summary, args) => ({ inputTokens, outputTokens })");
    if (stream !== undefined && typeof stream !== 'boolean') throw invalidOption('stream', `expected a boolean, got ${typeof stream}`);
    // Stats are bound on the first finished call of each run (see finalize).
    return { name, tokens, streamTokens, stream: stream ?? true, stats: new StatsAccumulator(), gen: -1 };
  }

  private statsFor(name: string): StatsAccumulator {
    let s = this.byName.get(name);
    if (!s) {
      s = new StatsAccumulator();
      this.byName.set(name, s);
    }
    return s;
  }

  private begin(site: Site): CallState {
    const now = this.host._nowMs();
    const c = new CallState(site, now, this.als?.getStore(), this.gen, this.baselineState === 'ready');
    const head = this.head;
    if (head === undefined) this.busySinceMs = now;
    else {
      c.next = head;
      head.prev = c;
    }
    this.head = c;
    if (++this.inFlightCount > this.maxInFlight) this.maxInFlight = this.inFlightCount;
    this.startedSinceSample = true;
    if (!this.fastOn) {
      this.fastOn = true;
      this.safeSetFast(true);
    }
    return c;
  }

  private end(c: CallState, outcome: number): void {
    if (c.ended) return;
    c.ended = true;
    if (c.done || c.gen !== this.gen) return; // truncated at stop, or from an earlier run
    const now = this.host._nowMs();
    const { prev, next } = c;
    if (prev === undefined) this.head = next;
    else prev.next = next;
    if (next !== undefined) next.prev = prev;
    c.prev = c.next = undefined;
    if (--this.inFlightCount === 0) this.busyAccMs += now - Math.max(this.busySinceMs, this.lastSampleMs);
    const meta = outcome | (c.stream ? STREAM_BIT : 0) | (c.dynamic ? DYNAMIC_BIT : 0);
    const pending = this.pending;
    pending.push(c.site, c.labels, c.acc === undefined && c.remote === undefined ? undefined : c, c.startMs, now, c.inputTokens, c.outputTokens, c.chunks, meta);
    // A loop of sync calls never yields to the host's timer: sample from here so pending calls
    // stay within one interval's worth (or maxPendingCalls).
    if (now - this.lastSampleMs >= this.intervalMs || pending.n >= this.maxPending) this.sample();
  }

  private settle(c: CallState, result: object, args: unknown[]): unknown {
    const site = c.site;
    if (typeof (result as { then?: unknown }).then === 'function') {
      return Promise.resolve(result as PromiseLike<unknown>).then(
        (value) => {
          if (site.stream && value !== null && typeof value === 'object' && isAsyncIterable(value)) return this.trackStream(c, value, args);
          if (site.tokens !== undefined) this.countTokens(c, site.tokens, value, args);
          this.end(c, OK);
          return value;
        },
        (e: unknown) => {
          this.end(c, ERROR);
          throw e;
        },
      );
    }
    if (site.stream && isAsyncIterable(result)) return this.trackStream(c, result, args);
    if (site.tokens !== undefined) this.countTokens(c, site.tokens, result, args);
    this.end(c, OK);
    return result;
  }

  private trackStream(c: CallState, stream: object, args: unknown[]): object {
    c.stream = true;
    const done = (outcome: StreamOutcome, chunks: number | undefined, lastChunk: unknown) => {
      if (chunks !== undefined) c.chunks = chunks;
      const st = c.site.streamTokens;
      if (st === 'chunks') {
        if (chunks !== undefined) c.outputTokens = chunks;
      } else if (st !== undefined) {
        const summary: StreamSummary = { chunks, lastChunk, outcome };
        this.countTokens(c, st, summary, args);
      }
      this.end(c, STREAM_OUTCOME[outcome]);
    };
    if (isNodeStream(stream)) {
      watchNodeStream(stream, done);
      return stream;
    }
    return trackAsyncIterable(stream, done);
  }

  private countTokens(c: CallState, fn: (r: any, a: any) => TokenCounts | undefined, value: unknown, args: unknown[]): void {
    let t: unknown;
    try {
      t = fn(value, args);
    } catch (e) {
      this.warn('TOKENS_CALLBACK', `The tokens callback of '${c.site.name}' threw: ${toError(e).message}; the record has no token counts.`);
      return;
    }
    const checked = checkTokens(t, c.site.name);
    if (typeof checked === 'string') {
      this.warn('TOKENS_CALLBACK', `The tokens callback of '${c.site.name}' ${checked}; the record has no token counts.`);
      return;
    }
    c.inputTokens = checked.input;
    c.outputTokens = checked.output;
  }

  private readonly onMeasurement = (m: Measurement): void => {
    if (!this.running) return;
    const start = m.startMs;
    const end = m.endMs;
    const lengthMs = end - start;
    let busyMs = this.busyAccMs;
    if (this.inFlightCount > 0) busyMs += end - Math.max(this.busySinceMs, start);
    this.busyAccMs = 0;
    busyMs = Math.min(Math.max(busyMs, 0), Math.max(lengthMs, 0));

    const P = this.pending;
    let sumMs = 0;
    for (let i = 0; i < P.n; i++) {
      const t = Math.min(P.endMs[i]!, end) - Math.max(P.startMs[i]!, start);
      if (t > 0) sumMs += t;
    }
    for (let c = this.head; c !== undefined; c = c.next) {
      const t = end - Math.max(c.startMs, start);
      if (t > 0) sumMs += t;
    }

    // Share of the interval's energy that goes to calls: the fraction of it with ≥ 1 call in flight.
    const f = sumMs > 0 && lengthMs > 0 ? busyMs / lengthMs : 0;
    const g = 1 - f;
    const tot = this.totals;
    tot.intervals++;
    tot.observedS += Math.max(lengthMs, 0) / 1000;
    tot.energyJ += m.energyJ;
    tot.emissionsKg += m.emissionsKg;
    tot.busyS += busyMs / 1000;
    tot.callS += sumMs / 1000;
    tot.idleEnergyJ += m.energyJ * g;
    tot.idleCpuEnergyJ += m.cpuEnergyJ * g;
    tot.idleGpuEnergyJ += m.gpuEnergyJ * g;
    tot.idleRamEnergyJ += m.ramEnergyJ * g;
    tot.idleEmissionsKg += m.emissionsKg * g;
    tot.callsEnergyJ += m.energyJ * f;
    tot.callsEmissionsKg += m.emissionsKg * f;

    // Rates per call-millisecond of this interval.
    let eRate = 0;
    let cpuRate = 0;
    let gpuRate = 0;
    let ramRate = 0;
    let emRate = 0;
    let dynRate = 0;
    if (f > 0) {
      const k = f / sumMs;
      eRate = m.energyJ * k;
      cpuRate = m.cpuEnergyJ * k;
      gpuRate = m.gpuEnergyJ * k;
      ramRate = m.ramEnergyJ * k;
      emRate = m.emissionsKg * k;
      if (this.baselineState === 'ready') {
        dynRate = Math.max(0, m.energyJ * f - (this.baselineValue!.powerW * busyMs) / 1000) / sumMs;
      }
      for (let c = this.head; c !== undefined; c = c.next) {
        const t = end - Math.max(c.startMs, start);
        if (t > 0) {
          const a = (c.acc ??= { cpuJ: 0, gpuJ: 0, ramJ: 0, energyJ: 0, emissionsKg: 0, dynamicJ: 0 });
          a.energyJ += eRate * t;
          a.cpuJ += cpuRate * t;
          a.gpuJ += gpuRate * t;
          a.ramJ += ramRate * t;
          a.emissionsKg += emRate * t;
          a.dynamicJ += dynRate * t;
        }
      }
    }

    if (this.baselineState === 'measuring') {
      const b = this.baselineIdle;
      b.ms += Math.max(lengthMs - busyMs, 0);
      b.energyJ += m.energyJ * g;
      b.cpuJ += m.cpuEnergyJ * g;
      b.gpuJ += m.gpuEnergyJ * g;
      b.ramJ += m.ramEnergyJ * g;
      if (end >= this.baselineEndMs) this.completeBaseline(end);
    }

    this.lastSampleMs = end;
    if (this.fastOn && this.inFlightCount === 0 && !this.startedSinceSample) {
      this.fastOn = false;
      this.safeSetFast(false);
    }
    this.startedSinceSample = false;

    // Swap first: 'call' listeners may run wrapped functions that end and push new pending calls,
    // and must not re-enter the host's sampler from inside this sample.
    const wasSampling = this.sampling;
    this.sampling = true;
    try {
      this.finalizePending(this.takePending(), start, end, eRate, cpuRate, gpuRate, ramRate, emRate, dynRate);
    } finally {
      this.sampling = wasSampling;
    }
  };

  private takePending(): PendingCalls<Site, CallState> {
    const P = this.pending;
    this.pending = this.spare ?? new PendingCalls();
    this.spare = undefined;
    return P;
  }

  /** Final records of the pending calls: what they accrued in flight plus their share of [start, end]. */
  private finalizePending(
    P: PendingCalls<Site, CallState>,
    start: number,
    end: number,
    eRate: number,
    cpuRate: number,
    gpuRate: number,
    ramRate: number,
    emRate: number,
    dynRate: number,
  ): void {
    const emit = this.wantsRecords();
    try {
      for (let i = 0; i < P.n; i++) {
        const startMs = P.startMs[i]!;
        const endMs = P.endMs[i]!;
        let t = Math.min(endMs, end) - Math.max(startMs, start);
        if (!(t > 0)) t = 0;
        const a = P.span[i]?.acc;
        const meta = P.meta[i]!;
        this.finalize(
          P.site[i]!,
          P.labels[i] as Labels | undefined,
          startMs,
          endMs,
          meta & 3,
          (meta & STREAM_BIT) !== 0,
          P.chunks[i]!,
          P.inputTokens[i]!,
          P.outputTokens[i]!,
          (a?.cpuJ ?? 0) + cpuRate * t,
          (a?.gpuJ ?? 0) + gpuRate * t,
          (a?.ramJ ?? 0) + ramRate * t,
          (a?.energyJ ?? 0) + eRate * t,
          (a?.emissionsKg ?? 0) + emRate * t,
          (meta & DYNAMIC_BIT) !== 0 ? (a?.dynamicJ ?? 0) + dynRate * t : NaN,
          P.span[i]?.remote,
          emit,
        );
      }
    } finally {
      P.clear();
      this.spare ??= P;
    }
  }

  private finalizeState(c: CallState, endMs: number, outcome: number): void {
    const a = c.acc;
    this.finalize(
      c.site,
      c.labels,
      c.startMs,
      endMs,
      outcome,
      c.stream,
      c.chunks,
      c.inputTokens,
      c.outputTokens,
      a?.cpuJ ?? 0,
      a?.gpuJ ?? 0,
      a?.ramJ ?? 0,
      a?.energyJ ?? 0,
      a?.emissionsKg ?? 0,
      c.dynamic ? (a?.dynamicJ ?? 0) : NaN,
      c.remote,
      this.wantsRecords(),
    );
  }

  /** Records are built only when someone listens to 'call'; statistics are kept either way. */
  private wantsRecords(): boolean {
    return this.host.listenerCount === undefined || this.host.listenerCount('call') > 0;
  }

  private finalize(
    site: Site,
    labels: Labels | undefined,
    startMs: number,
    endMs: number,
    outcome: number,
    stream: boolean,
    chunks: number,
    inputTokens: number,
    outputTokens: number,
    cpuJ: number,
    gpuJ: number,
    ramJ: number,
    energyJ: number,
    emissionsKg: number,
    dynamicJ: number,
    remote: RemoteTotals | undefined,
    emit: boolean,
  ): void {
    const durationS = Math.max(endMs - startMs, 0) / 1000;
    const f = this.finishedCall;
    f.durationS = durationS;
    f.energyJ = energyJ;
    f.cpuEnergyJ = cpuJ;
    f.gpuEnergyJ = gpuJ;
    f.ramEnergyJ = ramJ;
    f.dynamicEnergyJ = dynamicJ;
    f.emissionsKg = emissionsKg;
    f.amortizedEmissionsKg = this.amortizedKgPerCall;
    f.inputTokens = inputTokens;
    f.outputTokens = outputTokens;
    f.error = outcome === ERROR;
    f.truncated = outcome === TRUNCATED;
    f.abandoned = outcome === ABANDONED;
    f.remote = remote;
    // Bind the site to this run's stats (new sites, and sites wrapped before a restart).
    if (site.gen !== this.gen) {
      site.stats = this.statsFor(site.name);
      site.gen = this.gen;
    }
    site.stats.add(f);
    if (!emit) return;
    const r: Record<string, unknown> = {
      name: site.name,
      startEpochMs: this.wallOffsetMs + startMs,
      startMs,
      endMs,
      durationS,
      energyJ,
      cpuEnergyJ: cpuJ,
      gpuEnergyJ: gpuJ,
      ramEnergyJ: ramJ,
    };
    if (dynamicJ === dynamicJ) r.dynamicEnergyJ = dynamicJ;
    r.emissionsKg = emissionsKg;
    r.amortizedEmissionsKg = this.amortizedKgPerCall;
    r.totalEmissionsKg = emissionsKg + this.amortizedKgPerCall;
    if (inputTokens === inputTokens) r.inputTokens = inputTokens;
    if (outputTokens === outputTokens) {
      r.outputTokens = outputTokens;
      if (outputTokens > 0) r.energyPerOutputTokenJ = energyJ / outputTokens;
    }
    r.labels = labels ?? NO_LABELS;
    r.error = outcome === ERROR;
    r.outcome = OUTCOMES[outcome];
    r.stream = stream;
    if (chunks >= 0) r.chunks = chunks;
    if (remote) r.remoteEstimate = remote.toJSON();
    this.emitSafely('call', r as unknown as CallRecord);
  }

  private sample(): void {
    // A 'call' listener that runs wrapped calls must not re-enter the host's sampler.
    if (this.sampling) return;
    this.sampling = true;
    try {
      this.host._sampleNow();
    } catch (e) {
      this.emitSafely('error', new WattprintError('SOURCE_READ', `Sampling for call attribution failed: ${toError(e).message}`, { cause: e }));
    } finally {
      this.sampling = false;
    }
  }

  private safeSetFast(on: boolean): void {
    try {
      this.host._setFastSampling(on);
    } catch (e) {
      this.emitSafely('error', new WattprintError('STATE', `Switching call sampling ${on ? 'on' : 'off'} failed: ${toError(e).message}`, { cause: e }));
    }
  }

  private emitSafely(event: 'call' | 'warning' | 'error', payload: unknown): void {
    try {
      if (event === 'warning' && this.host.warn) this.host.warn(payload as WattprintWarning);
      else if (event === 'error' && this.host._error) this.host._error(payload as WattprintError);
      else this.host.emit(event, payload);
    } catch (e) {
      if (event === 'error') return;
      try {
        this.host.emit('error', new WattprintError('LISTENER', `A '${event}' listener threw: ${toError(e).message}`, { cause: e }));
      } catch {
        // An 'error' listener that throws too: nothing sane left to tell.
      }
    }
  }

  private warn(code: string, message: string): void {
    const w: WattprintWarning = { code, message };
    this.emitSafely('warning', w);
  }

  private notRunning(): void {
    if (this.warnedNotRunning) return;
    this.warnedNotRunning = true;
    this.warn('CALL_NOT_TRACKED', 'A wrapped function ran while the tracker was not running; such calls are not measured. Call tracker.start() first.');
  }

  private newBaselinePromise(): void {
    this.baselinePromise = new Promise((resolve) => {
      this.resolveBaseline = resolve;
    });
  }

  private settleBaseline(b: Baseline | undefined): void {
    const resolve = this.resolveBaseline;
    this.resolveBaseline = undefined;
    resolve?.(b);
  }

  private armBaselineTimer(delayMs: number): void {
    // Ref'd on purpose: `await tracker.baselineReady` must keep the process alive until it settles.
    this.baselineTimer = setTimeout(() => {
      this.baselineTimer = undefined;
      if (!this.running || this.baselineState !== 'measuring') return;
      const remaining = this.baselineEndMs - this.host._nowMs();
      // Timers and the tracker clock may disagree by a millisecond (or, with an injected clock, a lot).
      if (remaining > 0) this.armBaselineTimer(Math.max(1, Math.ceil(remaining)));
      else this.sample();
    }, delayMs);
  }

  private completeBaseline(endMs: number): void {
    const b = this.baselineIdle;
    const windowMs = endMs - this.baselineStartMs;
    if (this.baselineTimer) clearTimeout(this.baselineTimer);
    this.baselineTimer = undefined;
    if (!(b.ms > 0)) {
      this.baselineState = 'failed';
      this.warn('BASELINE_NO_IDLE', `Calls were in flight during the whole ${Math.round(windowMs)} ms baseline window, so idle power is unknown and records carry no dynamic energy. Start the tracker before serving traffic.`);
      this.settleBaseline(undefined);
      return;
    }
    if (b.ms < 0.5 * windowMs) {
      this.warn('BASELINE_BUSY', `Only ${Math.round((100 * b.ms) / windowMs)}% of the ${Math.round(windowMs)} ms baseline window was idle; the idle power is averaged over that part only.`);
    }
    const s = b.ms / 1000;
    this.baselineValue = Object.freeze({
      startMs: this.baselineStartMs,
      endMs,
      idleDurationS: s,
      powerW: b.energyJ / s,
      cpuPowerW: b.cpuJ / s,
      gpuPowerW: b.gpuJ / s,
      ramPowerW: b.ramJ / s,
    });
    this.baselineState = 'ready';
    this.settleBaseline(this.baselineValue);
  }
}
