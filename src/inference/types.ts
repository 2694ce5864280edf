import type { RemoteEstimate } from '../types.js';

/** A label value attached to calls with `withLabels`. */
export type LabelValue = string | number | boolean;

/** Labels in force for a call: the merge of every enclosing `withLabels`, innermost wins. */
export type Labels = Readonly<Record<string, LabelValue>>;

/** Token counts of one call, as returned by the `tokens` / `streamTokens` callbacks. */
export interface TokenCounts {
  /** Prompt (input) tokens. */
  readonly inputTokens?: number;
  /** Generated (output) tokens; `energyPerOutputTokenJ` divides by this. */
  readonly outputTokens?: number;
}

/** What a stream's `streamTokens` callback receives, once, when the stream ends. */
export interface StreamSummary {
  /**
   * Chunks (values) the consumer pulled from the stream. `undefined` for Node.js streams, which
   * are observed with `stream.finished` without consuming their data.
   */
  readonly chunks: number | undefined;
  /** The last chunk pulled, e.g. an OpenAI chunk carrying `usage` when `stream_options.include_usage` is set. */
  readonly lastChunk: unknown;
  /** `'ok'`: ran to its end; `'error'`: threw; `'abandoned'`: the consumer stopped early (`break`, `return()`). */
  readonly outcome: 'ok' | 'error' | 'abandoned';
}

/**
 * Options of `tracker.wrap(fn, options)`. `R` is the wrapped function's awaited return value (what
 * `tokens` receives), `A` its parameter list.
 *
 * @example
 * const complete = tracker.wrap(llm.complete.bind(llm), {
 *   name: 'complete',
 *   tokens: (res) => ({ inputTokens: res.usage.prompt_tokens, outputTokens: res.usage.completion_tokens }),
 * });
 * @example
 * // A token stream: one output token per chunk, as EcoLogits counts streams.
 * const stream = tracker.wrap(llm.stream.bind(llm), { name: 'stream', streamTokens: 'chunks' });
 */
export interface WrapOptions<R = any, A extends readonly unknown[] = any[]> {
  /** Call name: records and `callStats(name)` are grouped by it. */
  readonly name: string;
  /**
   * Token counts of a call that returned (or resolved to) a value that is not a stream. Called once
   * with the result and the call's arguments; must not throw (a throw becomes a 'warning' event and
   * the record carries no tokens).
   */
  readonly tokens?: (result: R, args: A) => TokenCounts | undefined;
  /**
   * Token counts of a stream result, called once when the stream ends, throws or is abandoned.
   * `'chunks'` counts one output token per chunk pulled. Nothing of the stream is buffered.
   */
  readonly streamTokens?: 'chunks' | ((summary: StreamSummary, args: A) => TokenCounts | undefined);
  /**
   * Treat async-iterable results (and promises resolving to one) as streams whose call lasts until
   * the stream ends. Default true. Set false when the result is consumed some other way than
   * async iteration (a web stream read with `getReader()`), so the call ends when it is returned.
   */
  readonly stream?: boolean;
}

/**
 * One wrapped call, emitted as the tracker's `'call'` event once the sampling interval covering
 * its end has been attributed (at most `callSampleIntervalMs` after it ends).
 */
export interface CallRecord {
  readonly name: string;
  /** Wall-clock start, ms since the Unix epoch: `new Date(record.startEpochMs)`. */
  readonly startEpochMs: number;
  /** Start and end on the tracker clock (monotonic ms). */
  readonly startMs: number;
  readonly endMs: number;
  readonly durationS: number;
  /** The call's share of the energy of every interval it overlapped, all components, after PUE. */
  readonly energyJ: number;
  readonly cpuEnergyJ: number;
  readonly gpuEnergyJ: number;
  readonly ramEnergyJ: number;
  /**
   * Energy above the idle floor (see docs/inference.md, "Attribution rules"). Rule 'work': present
   * when every component's idle floor was known in the call's intervals (a measured `baseline`,
   * or the floor of an estimated source such as the CPU load model; energy counters without a
   * baseline have none). Rule 'time': present when a `baseline` was measured before the call started.
   */
  readonly dynamicEnergyJ?: number;
  /** The attribution rule that divided the energy (`attribution` option). */
  readonly attribution: 'work' | 'time';
  /**
   * Rule 'work': main-thread CPU seconds spent running the call's own code (its async context,
   * across awaits). Its CPU energy above the idle floor is in proportion to this.
   */
  readonly cpuWorkS?: number;
  /**
   * How the GPU's energy was shared: `'tokens'` by stream chunks produced in each interval (an
   * async-iterable result), `'time'` by time in flight.
   */
  readonly gpuShare: 'tokens' | 'time';
  /** Operational emissions: the call's energy in each interval × that interval's grid intensity. */
  readonly emissionsKg: number;
  /** Its share of training emissions (`amortize`), 0 without it. Not included in `emissionsKg`. */
  readonly amortizedEmissionsKg: number;
  /** `emissionsKg + amortizedEmissionsKg`. */
  readonly totalEmissionsKg: number;
  readonly inputTokens?: number;
  readonly outputTokens?: number;
  /** `energyJ / outputTokens`, when output tokens were counted and > 0. */
  readonly energyPerOutputTokenJ?: number;
  /** Labels in force when the call started. */
  readonly labels: Labels;
  /** True when the function threw, its promise rejected or its stream threw. */
  readonly error: boolean;
  /**
   * `'ok'`, `'error'`, `'abandoned'` (a stream the consumer stopped early) or `'truncated'` (still
   * in flight when the tracker stopped: energy counted up to the stop).
   */
  readonly outcome: 'ok' | 'error' | 'abandoned' | 'truncated';
  /** True when the result was a stream and the call lasted until it ended. */
  readonly stream: boolean;
  /** Chunks pulled from a stream result, where observed. */
  readonly chunks?: number;
  /**
   * Remote LLM API requests made inside the call (instrumented with `wattprint/llm`): their
   * ESTIMATED impacts summed as scenario ranges. Not part of `energyJ`/`emissionsKg`, which are
   * measured here; absent when the call made none.
   */
  readonly remoteEstimate?: RemoteEstimate;
}

/** Aggregates of calls, all of them or one name: `tracker.callStats(name?)`. */
export interface CallStats {
  /** The call name, absent for all calls together. */
  readonly name?: string;
  readonly count: number;
  /** Calls with `error: true`. */
  readonly errors: number;
  /** Calls still in flight at stop. */
  readonly truncated: number;
  /** Stream calls abandoned by their consumer. */
  readonly abandoned: number;
  readonly durationS: number;
  readonly meanDurationS?: number;
  readonly p50DurationS?: number;
  readonly p95DurationS?: number;
  readonly energyJ: number;
  readonly cpuEnergyJ: number;
  readonly gpuEnergyJ: number;
  readonly ramEnergyJ: number;
  /** Sum over the calls that carry `dynamicEnergyJ` (started after the baseline), and their count. */
  readonly dynamicEnergyJ?: number;
  readonly callsWithDynamicEnergy: number;
  readonly emissionsKg: number;
  readonly amortizedEmissionsKg: number;
  readonly totalEmissionsKg: number;
  readonly meanEnergyJ?: number;
  /** Quantiles of energy per call; relative error ≤ `quantileRelativeError`. */
  readonly p50EnergyJ?: number;
  readonly p95EnergyJ?: number;
  readonly meanEmissionsKg?: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** Calls whose `tokens`/`streamTokens` gave an output count. */
  readonly callsWithOutputTokens: number;
  /** Energy of the calls with output counts / their output tokens. */
  readonly energyPerOutputTokenJ?: number;
  /** `count / (energyJ in kWh)`. */
  readonly requestsPerKWh?: number;
  /** Bound on the relative error of the p50/p95 values (log-bucketed histogram). */
  readonly quantileRelativeError: number;
  /** Main-thread CPU seconds measured in the calls' own contexts (rule 'work'). */
  readonly cpuWorkS: number;
  /** All calls only: the idle floor while no call was in flight (rule 'time': all energy then). */
  readonly idleEnergyJ?: number;
  readonly idleEmissionsKg?: number;
  /** All calls only, rule 'work': dynamic energy no call's work explains (see `AttributionTotals`). */
  readonly unattributedEnergyJ?: number;
  readonly unattributedEmissionsKg?: number;
  /** Sum of the calls' `remoteEstimate`s (estimated remote LLM requests, apart from the measured energy); absent when none made any. */
  readonly remoteEstimate?: RemoteEstimate;
}

/** The idle baseline measured after start with `baseline: { durationMs }`. */
export interface Baseline {
  /** Tracker-clock window of the measurement. */
  readonly startMs: number;
  readonly endMs: number;
  /** Idle time the power was averaged over (the window less any time calls were in flight). */
  readonly idleDurationS: number;
  /** Idle power, all components after PUE, and per component. */
  readonly powerW: number;
  readonly cpuPowerW: number;
  readonly gpuPowerW: number;
  readonly ramPowerW: number;
}

/**
 * The signature of `tracker.wrap`: parameters and result are inferred from `fn` (so an unannotated
 * handler's `tokens(result)` is typed by what the handler returns), and `this` passes through.
 */
export type WrapFunction = <A extends any[], R, T = unknown>(
  fn: (this: T, ...args: A) => R,
  options: WrapOptions<Awaited<R>, A>,
) => (this: T, ...args: A) => R;
