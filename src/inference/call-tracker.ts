import { AsyncLocalStorage } from 'node:async_hooks';
import { WattprintError, invalidOption, toError } from '../errors.js';
import { IntervalAccounts } from './accounts.js';
import { NO_RATES, addShare, newAccrued, resetAccrued, type Accrued, type AttributionTotals, type Rates } from './attribution.js';
import { BaselineMeter } from './baseline.js';
import { CallState, DYNAMIC_BIT, STREAM_BIT, TOKEN_STREAM_BIT, TRUNCATED, type Site } from './call-state.js';
import { PendingCalls, applyToInFlight, gatherLoad } from './pending.js';
import { CallContext, type RemoteRequest } from './remote.js';
import type { AttributionRule, CallHost, CallTrackerConfig, IntervalSample } from './seam.js';
import { CallRecords, newEnding, type CallReportData, type Ending } from './records.js';
export type { CallReportData } from './records.js';
import type { Baseline, CallStats, LabelValue, Labels, WrapOptions } from './types.js';
import { WorkMeter } from './work.js';
import { newSite, wrapFunction, type CallLifecycle } from './wrapping.js';

/**
 * Per-call energy attribution: wraps functions, divides each sampled interval's energy among the
 * calls in flight (rule 'work': by their CPU work, GPU tokens and time held; rule 'time': by their
 * time in it), and keeps bounded-memory statistics. Driven one way: the host pushes each interval
 * into {@link onInterval}; the call tracker reaches the host only through its {@link CallHost}
 * callbacks. See docs/inference.md.
 */
export class CallTracker {
  private readonly host: CallHost;
  private readonly rule: AttributionRule;
  private readonly intervalMs: number;
  private readonly maxPending: number;
  private readonly amortizedKgPerCall: number;
  private readonly baselineMeter: BaselineMeter;
  private readonly meter: WorkMeter<CallState> | undefined;
  private running = false;
  private started = false;
  private head: CallState | undefined = undefined;
  private inFlightCount = 0;
  private pending = new PendingCalls();
  private spare: PendingCalls | undefined = undefined;
  private busySinceMs = 0;
  private busyAccMs = 0;
  private startedSinceSample = false;
  private fastOn = false;
  private maxInFlight = 0;
  private readonly records: CallRecords;
  private labelStore: AsyncLocalStorage<Labels> | undefined;
  private readonly context = new CallContext<CallState>();
  private warnedNotRunning = false;
  private sampling = false;
  private readonly lifecycle: CallLifecycle;
  private readonly ending: Ending = newEnding();
  /**
   * `accounts`: the run's interval bookkeeping so far, when the tracker kept it before this call
   * tracker existed (it loads at the first call or statistic); a started run is taken over as is.
   */
  constructor(
    host: CallHost,
    private readonly config: CallTrackerConfig = {},
    private readonly accounts = new IntervalAccounts(config.attribution ?? 'work'),
  ) {
    this.host = host;
    this.rule = accounts.rule;
    this.intervalMs = config.callSampleIntervalMs ?? 250;
    this.maxPending = config.maxPendingCalls ?? 16384;
    const a = config.amortize;
    this.amortizedKgPerCall = a ? a.trainingEmissionsKg / a.expectedRequests : 0;
    this.records = new CallRecords(this.rule, this.amortizedKgPerCall);
    this.meter = this.rule === 'work' ? new WorkMeter<CallState>(config.workClockMs) : undefined;
    this.baselineMeter = new BaselineMeter({
      nowMs: () => this.host.nowMs(),
      sample: () => this.sample(),
      warn: (code, message) => this.warn(code, message),
      setTimer: (fn, delayMs) => this.outside(() => setTimeout(fn, delayMs)),
    });
    const self = this;
    this.lifecycle = {
      get isRunning() {
        return self.running;
      },
      notRunning: () => this.notRunning(),
      begin: (site) => this.begin(site),
      run: (c, fn, self, args) => this.context.run(c, this.meter, fn, self, args),
      end: (c, outcome) => this.end(c, outcome),
      warn: (code, message) => this.warn(code, message),
    };
    if (accounts.startedAtMs !== undefined) {
      this.started = true;
      this.running = accounts.stoppedAtMs === undefined;
      this.records.wallOffsetMs = accounts.wallOffsetMs;
      this.baselineMeter.start(accounts.startedAtMs, undefined);
      if (!this.running) this.baselineMeter.stop();
    }
  }

  /**
   * Resolves with the idle baseline once measured (`baseline` option), or with `undefined` when
   * no baseline is configured, none could be measured, or the tracker stopped first. Never rejects.
   */
  get baselineReady(): Promise<Baseline | undefined> {
    return this.baselineMeter.ready;
  }

  /** The idle baseline, once measured. */
  get baseline(): Baseline | undefined {
    return this.baselineMeter.baseline;
  }

  /** Whether calls are being measured (between start and stop). */
  get isRunning(): boolean {
    return this.running;
  }

  /**
   * Starts attributing (and, with the `baseline` option, measuring idle power). Once: like the
   * tracker that drives it, a call tracker measures one run.
   */
  start(): void {
    if (this.started) return;
    this.started = true;
    const now = this.host.nowMs();
    this.accounts.start(now);
    this.records.wallOffsetMs = this.accounts.wallOffsetMs;
    this.running = true;
    this.baselineMeter.start(now, this.config.baseline?.durationMs);
  }

  /**
   * Stops attributing. Takes a last sample when calls are pending or in flight; calls still in
   * flight get a record with `outcome: 'truncated'` covering their time up to that sample. Call it
   * after the host's own final sample.
   */
  stop(): void {
    if (!this.running) return;
    if (this.pending.n > 0 || this.inFlightCount > 0) this.sample();
    const endMs = this.accounts.lastSampleMs;
    this.accounts.stop();
    const inFlight: CallState[] = [];
    for (let c = this.head; c !== undefined; c = c.next) inFlight.push(c);
    this.head = undefined;
    this.inFlightCount = 0;
    // Only left over when the last sample failed: their last interval's share is unknown.
    this.finalizePending(this.takePending(), 0, 0, NO_RATES);
    for (const c of inFlight) {
      c.done = true;
      c.prev = c.next = undefined;
      const acc = c.acc ?? newAccrued();
      acc.workMs += c.workMs;
      this.finish(this.fill(c, Math.max(c.startMs, endMs), TRUNCATED, acc));
    }
    this.running = false;
    this.meter?.disable();
    if (this.fastOn) {
      this.fastOn = false;
      this.safeSetFast(false);
    }
    this.baselineMeter.stop();
  }

  /**
   * Returns a function with the same signature as `fn` that measures each call: sync functions,
   * async functions (the call ends when the promise settles), and functions returning async
   * iterables or Node.js streams (the call ends when the stream ends, throws or is abandoned).
   * Results, `this` and thrown errors pass through unchanged. Calls made while the tracker is not
   * running are not measured.
   */
  wrap<A extends any[], R, T = unknown>(fn: (this: T, ...args: A) => R, options: WrapOptions<Awaited<R>, A>): (this: T, ...args: A) => R {
    if (typeof fn !== 'function') throw invalidOption('wrap', `expected a function to wrap, got ${fn === null ? 'null' : typeof fn}`);
    const site = newSite(options as unknown as WrapOptions);
    return wrapFunction(fn as (this: unknown, ...a: unknown[]) => unknown, site, this.lifecycle) as unknown as (this: T, ...args: A) => R;
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
    this.labelStore ??= new AsyncLocalStorage<Labels>();
    const merged = Object.freeze({ ...this.labelStore.getStore(), ...labels });
    return this.labelStore.run(merged, fn);
  }

  /** For `wattprint/llm`: the labels in force here, and where to add a request (the wrapped call running here). */
  llmContext(): { labels: Labels | undefined; add: ((r: RemoteRequest) => void) | undefined } {
    return { labels: this.labelStore?.getStore(), add: this.context.scope(this.meter) };
  }
  /** Statistics of all calls (with idle and unattributed energy) or of the calls named `name`. */
  callStats(name?: string): CallStats {
    if (name !== undefined) return this.records.stats(name);
    const t = this.accounts.totals;
    return this.records.stats(undefined, {
      idleEnergyJ: t.idleEnergyJ,
      idleEmissionsKg: t.idleEmissionsKg,
      ...(this.rule === 'work' ? { unattributedEnergyJ: t.unattributedEnergyJ, unattributedEmissionsKg: t.unattributedEmissionsKg } : {}),
    });
  }

  /** Names that have finished calls this run, in first-seen order. */
  callNames(): string[] {
    return this.records.names();
  }

  /** The interval bookkeeping (energies, idle, unattributed, busy time, concurrency) since start. */
  attributionTotals(): AttributionTotals {
    return { ...this.accounts.totals, rule: this.rule, maxInFlight: this.maxInFlight, inFlight: this.inFlightCount };
  }

  /** Everything the run report takes from the call side. */
  reportData(): CallReportData {
    return {
      rule: this.rule,
      totals: this.attributionTotals(),
      overall: this.callStats(),
      byName: this.callNames().map((n) => this.callStats(n)),
      baseline: this.baselineMeter.baseline,
      baselineDurationMs: this.config.baseline?.durationMs,
      amortize: this.config.amortize,
      startedAtMs: this.accounts.startedAtMs,
      stoppedAtMs: this.accounts.stoppedAtMs,
      wallOffsetMs: this.accounts.wallOffsetMs,
      callSampleIntervalMs: this.intervalMs,
      idleFloor: this.accounts.floorSource,
    };
  }

  /**
   * The host's side of the seam: attributes one sampled interval to the calls that overlapped it
   * and finalises the calls that ended in it. The host calls it after each sample, synchronously.
   */
  onInterval(s: IntervalSample): void {
    if (!this.running) return;
    const start = s.startMs;
    const end = s.endMs;
    let busyMs = this.busyAccMs;
    if (this.inFlightCount > 0) busyMs += end - Math.max(this.busySinceMs, start);
    this.busyAccMs = 0;
    this.meter?.flush();
    this.meter?.onInterval(end - start);

    const load = gatherLoad(this.pending, this.head, start, end, busyMs);

    const rates = this.accounts.account(s, load, this.baselineMeter.baseline);

    applyToInFlight(this.head, start, end, rates);
    const lengthMs = end - start;
    const idleShare = load.callMs > 0 && lengthMs > 0 ? 1 - Math.min(Math.max(busyMs, 0), lengthMs) / lengthMs : 1;
    this.baselineMeter.onInterval(s, lengthMs - Math.min(Math.max(busyMs, 0), Math.max(lengthMs, 0)), idleShare);

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
      this.finalizePending(this.takePending(), start, end, rates);
    } finally {
      this.sampling = wasSampling;
    }
  }

  // ---- internals -------------------------------------------------------------------------

  private begin(site: Site): CallState {
    const now = this.host.nowMs();
    const dynamic = this.rule === 'work' || this.baselineMeter.isReady;
    // Promise hooks cost every promise of the process something: on at the first call, so a
    // tracker that wraps nothing never pays for them.
    if (this.meter !== undefined && !this.meter.enabled) this.meter.enable();
    const c = new CallState(site, now, this.labelStore?.getStore(), dynamic);
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
    if (c.done) return; // truncated at stop
    const now = this.host.nowMs();
    const { prev, next } = c;
    if (prev === undefined) this.head = next;
    else prev.next = next;
    if (next !== undefined) next.prev = prev;
    c.prev = c.next = undefined;
    if (--this.inFlightCount === 0) this.busyAccMs += now - Math.max(this.busySinceMs, this.accounts.lastSampleMs);
    this.meter?.flush();
    const meta = outcome | (c.stream ? STREAM_BIT : 0) | (c.dynamic ? DYNAMIC_BIT : 0) | (c.tokenStream ? TOKEN_STREAM_BIT : 0);
    const pending = this.pending;
    pending.push(c, now, meta);
    // A loop of sync calls never yields to the host's timer: sample from here so pending calls
    // stay within one interval's worth (or maxPendingCalls).
    if (now - this.accounts.lastSampleMs >= this.intervalMs || pending.n >= this.maxPending) this.sample();
  }

  private takePending(): PendingCalls {
    const P = this.pending;
    this.pending = this.spare ?? new PendingCalls();
    this.spare = undefined;
    return P;
  }

  /** Final records of the pending calls: what they accrued in flight plus their share of [start, end]. */
  private finalizePending(P: PendingCalls, start: number, end: number, rates: Rates): void {
    const scratch = newAccrued();
    try {
      for (let i = 0; i < P.n; i++) {
        const startMs = P.startMs[i]!;
        const endMs = P.endMs[i]!;
        let t = Math.min(endMs, end) - Math.max(startMs, start);
        if (!(t > 0)) t = 0;
        const meta = P.meta[i]!;
        const acc = P.span[i]?.acc ?? resetAccrued(scratch);
        addShare(acc, rates, t, P.workMs[i]!, P.newChunks[i]!, (meta & TOKEN_STREAM_BIT) !== 0);
        const e = this.ending;
        e.site = P.site[i]!;
        e.labels = P.labels[i] as Labels | undefined;
        e.startMs = startMs;
        e.endMs = endMs;
        e.outcome = meta & 3;
        e.meta = meta;
        e.chunks = P.chunks[i]!;
        e.inputTokens = P.inputTokens[i]!;
        e.outputTokens = P.outputTokens[i]!;
        e.acc = acc;
        e.remote = P.span[i]?.remote;
        this.finish(e);
      }
    } finally {
      P.clear();
      this.spare ??= P;
    }
  }

  private fill(c: CallState, endMs: number, outcome: number, acc: Accrued): Ending {
    const e = this.ending;
    e.site = c.site;
    e.labels = c.labels;
    e.startMs = c.startMs;
    e.endMs = endMs;
    e.outcome = outcome;
    e.meta = outcome | (c.stream ? STREAM_BIT : 0) | (c.dynamic ? DYNAMIC_BIT : 0) | (c.tokenStream ? TOKEN_STREAM_BIT : 0);
    e.chunks = c.chunks;
    e.inputTokens = c.inputTokens;
    e.outputTokens = c.outputTokens;
    e.acc = acc;
    e.remote = c.remote;
    return e;
  }

  private finish(e: Ending): void {
    const record = this.records.finish(e, this.host.wantsCalls === undefined || this.host.wantsCalls());
    if (record === undefined) return;
    try {
      this.host.emitCall(record);
    } catch (err) {
      this.safeError(new WattprintError('LISTENER', `A 'call' listener threw: ${toError(err).message}`, { cause: err }));
    }
  }

  /** Runs `fn` outside any call's context: what it costs and the timers it arms belong to no call. */
  private outside<T>(fn: () => T): T {
    return this.meter ? this.meter.outside(fn) : fn();
  }

  private sample(): void {
    // A 'call' listener that runs wrapped calls must not re-enter the host's sampler.
    if (this.sampling) return;
    this.sampling = true;
    try {
      this.outside(() => this.host.requestSample());
    } catch (e) {
      this.safeError(new WattprintError('SOURCE_READ', `Sampling for call attribution failed: ${toError(e).message}`, { cause: e }));
    } finally {
      this.sampling = false;
    }
  }

  private safeSetFast(on: boolean): void {
    try {
      this.outside(() => this.host.setFastSampling(on));
    } catch (e) {
      this.safeError(new WattprintError('STATE', `Switching call sampling ${on ? 'on' : 'off'} failed: ${toError(e).message}`, { cause: e }));
    }
  }

  private safeError(e: WattprintError): void {
    try {
      this.host.error(e);
    } catch {
      // An 'error' listener that throws too: nothing sane left to tell.
    }
  }

  private warn(code: string, message: string): void {
    try {
      this.host.warn({ code, message });
    } catch (e) {
      this.safeError(new WattprintError('LISTENER', `A 'warning' listener threw: ${toError(e).message}`, { cause: e }));
    }
  }

  private notRunning(): void {
    if (this.warnedNotRunning) return;
    this.warnedNotRunning = true;
    this.warn('CALL_NOT_TRACKED', 'A wrapped function ran while the tracker was not running; such calls are not measured. Call tracker.start() first.');
  }
}
