import type { RemoteTotals } from './remote.js';
import type { StatsAccumulator } from './stats.js';
import type { Accrued } from './attribution.js';
import type { Labels, WrapOptions } from './types.js';
import type { WorkOwner } from './work.js';

export const OK = 0;
export const ERROR = 1;
export const ABANDONED = 2;
export const TRUNCATED = 3;
export const OUTCOMES = ['ok', 'error', 'abandoned', 'truncated'] as const;

/** Bits of `PendingCalls.meta` above the outcome (bits 0–1). */
export const STREAM_BIT = 4;
export const DYNAMIC_BIT = 8;
export const TOKEN_STREAM_BIT = 16;

/** Per `wrap()` call: what every call of the wrapped function shares. */
export interface Site {
  readonly name: string;
  readonly tokens: WrapOptions['tokens'];
  readonly streamTokens: WrapOptions['streamTokens'];
  readonly stream: boolean;
  /** This name's statistics, bound at the first finished call. */
  stats: StatsAccumulator | undefined;
}

/**
 * One call in flight, linked into the in-flight list. Short-lived: when the call ends its numbers
 * move to the pending columns, so this object is garbage before the next scavenge.
 */
export class CallState implements WorkOwner {
  prev: CallState | undefined = undefined;
  next: CallState | undefined = undefined;
  ended = false;
  /** Finalised at stop (truncated): a later end is ignored. */
  done = false;
  stream = false;
  /** An async-iterable stream whose chunks (tokens) are counted as they arrive. */
  tokenStream = false;
  chunks = -1;
  /** Chunks pulled since the last interval. */
  newChunks = 0;
  workMs = 0;
  inputTokens = NaN;
  outputTokens = NaN;
  acc: Accrued | undefined = undefined;
  /** Estimates of the remote LLM requests made inside the call (`wattprint/llm`). */
  remote: RemoteTotals | undefined = undefined;
  constructor(
    readonly site: Site,
    readonly startMs: number,
    readonly labels: Labels | undefined,
    /** Eligible for dynamic energy (rule 'time': started after the baseline was measured). */
    readonly dynamic: boolean,
  ) {}
}
