import { invalidOption, WattprintError } from '../errors.js';
import type { Labels } from '../inference/types.js';
import type { WattprintWarning } from '../types.js';
import { estimateLlmCall } from './estimate.js';
import { activeSpan, annotateSpan, type SpanLike } from './otel.js';
import type { LlmCallInput, LlmCallRecord, LlmEstimate, LlmTokenSource, RangeInput } from './types.js';

/**
 * Where records go: an `EmissionsTracker` (its `'llm'` event, and its `'warning'` event for unknown
 * models), or anything with the same `emit`.
 */
export interface LlmEventTarget {
  emit(event: 'llm', record: LlmCallRecord): unknown;
  emit(event: 'warning', warning: WattprintWarning): unknown;
  /**
   * Called when a request starts; returns where to add its record in the wrapped call
   * (`tracker.wrap`) in progress, if any. `EmissionsTracker` implements it.
   */
  remoteCallScope?(): ((record: LlmCallRecord) => void) | undefined;
  /** The labels in force where a request starts (`withLabels`); records carry them under the instrumentation's own. */
  currentLabels?(): Labels | undefined;
}

/** Options of `instrumentOpenAI`, `instrumentAnthropic` and `wattprintMiddleware`. */
export interface LlmInstrumentOptions {
  /** The tracker whose `'llm'` event receives each record. */
  readonly tracker?: LlmEventTarget;
  /** Also (or instead) called with each record. A throw is caught and reported as a tracker 'warning'. */
  readonly onRecord?: (record: LlmCallRecord) => void;
  /** Labels put on every record, e.g. `{ feature: 'chat' }`. */
  readonly labels?: Labels;
  /** Electricity zone of the provider's data centres, overriding the provider default (ISO alpha-3). */
  readonly zone?: string;
  /** PUE overriding the provider default. */
  readonly pue?: RangeInput;
  /** On-site water use (L/kWh) overriding the provider default. */
  readonly wueOnSiteLPerKWh?: RangeInput;
}

/** @internal The checked options plus per-instrumentation state. */
export interface LlmSink {
  readonly options: LlmInstrumentOptions;
  readonly labels: Labels;
  /** Models already reported unknown (one warning each). */
  readonly unknown: Map<string, WattprintError>;
}

export function createSink(options: LlmInstrumentOptions | undefined, fn: string): LlmSink {
  if (!options || (options.tracker === undefined && options.onRecord === undefined))
    throw invalidOption('tracker', `${fn}(…, { tracker }) needs \`tracker\` (an EmissionsTracker) or \`onRecord\` (a function)`);
  if (options.tracker !== undefined && typeof options.tracker.emit !== 'function')
    throw invalidOption('tracker', `${fn}: \`tracker\` must be an EmissionsTracker (an object with emit())`);
  if (options.onRecord !== undefined && typeof options.onRecord !== 'function') throw invalidOption('onRecord', `${fn}: \`onRecord\` must be a function`);
  if (options.labels !== undefined && (typeof options.labels !== 'object' || options.labels === null))
    throw invalidOption('labels', `${fn}: \`labels\` must be an object such as { feature: 'chat' }`);
  // Turns on the tracker's tracking of the wrapped call in progress, so requests made in one are added to it.
  options.tracker?.remoteCallScope?.();
  return { options, labels: Object.freeze({ ...options.labels }), unknown: new Map() };
}

const errorInfo = (e: unknown): LlmCallRecord['error'] => {
  const name = e instanceof Error ? e.constructor.name || e.name : typeof e;
  // The provider SDKs' `status`, the AI SDK's `statusCode`.
  const status = (e as { status?: unknown } | null)?.status ?? (e as { statusCode?: unknown } | null)?.statusCode;
  return { name, ...(typeof status === 'number' ? { httpStatus: status } : {}) };
};

/** Abort errors of the SDKs, fetch and streams, by name: the SDKs' classes are not imported here. */
const isAbort = (e: unknown) => e instanceof Error && /abort/i.test(`${e.name} ${e.constructor.name}`);

/**
 * One remote call in flight. The instrumentation feeds it usage or chunks and ends it once; the
 * first end wins (a stream's error after a finish is not a second record).
 */
export class LlmCall {
  private readonly startNs = process.hrtime.bigint();
  private readonly startedAtMs = Date.now();
  private readonly span: SpanLike | undefined = activeSpan();
  private readonly scope: ((record: LlmCallRecord) => void) | undefined;
  private readonly labels: Labels;
  private done = false;
  private inputTokens: number | undefined;
  private outputTokens: number | undefined;
  private chunks = 0;
  responseModel: string | undefined;

  constructor(
    private readonly sink: LlmSink,
    readonly provider: string,
    private readonly requestModel: string,
    readonly stream: boolean,
  ) {
    const tracker = sink.options.tracker;
    this.scope = tracker?.remoteCallScope?.();
    const ambient = tracker?.currentLabels?.();
    this.labels = ambient ? { ...ambient, ...sink.labels } : sink.labels;
  }

  /** Token counts the API reported. Either may be missing; a later report replaces an earlier one. */
  usage(inputTokens: unknown, outputTokens: unknown): void {
    if (typeof inputTokens === 'number' && Number.isFinite(inputTokens)) this.inputTokens = inputTokens;
    if (typeof outputTokens === 'number' && Number.isFinite(outputTokens)) this.outputTokens = outputTokens;
  }

  /** A streamed chunk carrying generated content (counted as one token when no usage arrives). */
  chunk(): void {
    this.chunks++;
  }

  ok(): void {
    this.end('ok');
  }

  fail(e: unknown): void {
    this.end(isAbort(e) ? 'aborted' : 'error', errorInfo(e));
  }

  /** The request's AbortSignal fired (an SDK that ends its stream quietly on abort). */
  aborted(): void {
    this.end('aborted', { name: 'AbortError' });
  }

  /** The consumer stopped reading the stream early (`break`, `cancel()`). */
  abandoned(): void {
    this.end('aborted', { name: 'StreamAbandoned' });
  }

  private end(status: LlmCallRecord['status'], error?: LlmCallRecord['error']): void {
    if (this.done) return;
    this.done = true;
    try {
      this.emit(this.build(status, error));
    } catch (e) {
      // Never into the host's call: a bug here costs a record, not their request.
      this.warn({ code: 'LLM_RECORD', message: `wattprint could not record an LLM call: ${(e as Error).message}` });
    }
  }

  private build(status: LlmCallRecord['status'], error: LlmCallRecord['error']): LlmCallRecord {
    const latencyS = Number(process.hrtime.bigint() - this.startNs) / 1e9;
    const usage = this.outputTokens !== undefined;
    const tokenSource: LlmTokenSource = usage ? 'usage' : this.chunks > 0 ? 'counted-chunks' : 'none';
    const outputTokens = this.outputTokens ?? this.chunks;
    const model = this.responseModel ?? this.requestModel;
    const { estimate, estimateError } = this.estimate(outputTokens, latencyS);
    // Built by assignment, not spread: this runs on every request (see estimateInputs).
    const record: { -readonly [K in keyof LlmCallRecord]: LlmCallRecord[K] } = {
      provider: this.provider,
      model,
      inputTokens: this.inputTokens ?? 0,
      outputTokens,
      latencyS,
      estimate,
      labels: this.labels,
      status,
      stream: this.stream,
      tokenSource,
      startedAtMs: this.startedAtMs,
    };
    if (error) record.error = error;
    if (estimateError) record.estimateError = estimateError;
    return record;
  }

  private estimate(outputTokens: number, latencyS: number): { estimate: LlmEstimate | null; estimateError?: LlmCallRecord['estimateError'] } {
    const { zone, pue, wueOnSiteLPerKWh } = this.sink.options;
    const input: { -readonly [K in keyof LlmCallInput]: LlmCallInput[K] } = { provider: this.provider, model: this.requestModel, outputTokens, latencyS };
    if (zone !== undefined) input.zone = zone;
    if (pue !== undefined) input.pue = pue;
    if (wueOnSiteLPerKWh !== undefined) input.wueOnSiteLPerKWh = wueOnSiteLPerKWh;
    // The response names a dated snapshot ('gpt-4o-mini-2024-07-18') that the table may lack where it has the request's name.
    const names = this.responseModel && this.responseModel !== this.requestModel ? [this.responseModel, this.requestModel] : [this.requestModel];
    let last: WattprintError | undefined;
    for (const model of names) {
      const cached = this.sink.unknown.get(model);
      if (cached) {
        last = cached;
        continue;
      }
      try {
        input.model = model;
        return { estimate: estimateLlmCall(input) };
      } catch (e) {
        if (!(e instanceof WattprintError) || e.code !== 'LLM_UNKNOWN_MODEL') throw e;
        this.sink.unknown.set(model, e);
        last = e;
        if (model === names[names.length - 1]) this.warn({ code: 'LLM_UNKNOWN_MODEL', message: `${e.message} Its calls are recorded without an estimate.`, option: 'model' });
      }
    }
    return { estimate: null, estimateError: { code: last!.code, message: last!.message } };
  }

  private emit(record: LlmCallRecord): void {
    const { tracker, onRecord } = this.sink.options;
    for (const [what, fn] of [['span', () => this.span && annotateSpan(this.span, record)], ['wrapped call', () => this.scope?.(record)]] as const) {
      try {
        fn();
      } catch (e) {
        this.warn({ code: 'LLM_RECORD', message: `wattprint could not add an LLM call to its ${what}: ${(e as Error).message}` });
      }
    }
    if (onRecord) {
      try {
        onRecord(record);
      } catch (e) {
        this.warn({ code: 'LLM_ON_RECORD', message: `onRecord threw: ${(e as Error).message}`, option: 'onRecord' });
      }
    }
    if (tracker) {
      try {
        tracker.emit('llm', record);
      } catch (e) {
        this.warn({ code: 'LLM_LISTENER', message: `an 'llm' listener threw: ${(e as Error).message}` });
      }
    }
  }

  private warn(w: WattprintWarning): void {
    try {
      this.sink.options.tracker?.emit('warning', w);
    } catch {
      // A throwing 'warning' listener is the host's problem, not the request's.
    }
  }
}
