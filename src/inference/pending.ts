import { addShare, newAccrued, type IntervalLoad, type Rates } from './attribution.js';
import { TOKEN_STREAM_BIT, type CallState, type Site } from './call-state.js';

/**
 * Ended calls waiting for the sample that covers their end, stored column-wise. Per-call objects
 * then die young (a loop of short calls ends ~10^5 of them per interval, and objects kept that long
 * would be promoted and make the old-generation GC dominate the wrap overhead).
 */
export class PendingCalls {
  n = 0;
  private cap = 0;
  site: Array<Site | undefined> = [];
  labels: Array<object | undefined> = [];
  /** The call's state object when it already received energy while in flight, else undefined. */
  span: Array<CallState | undefined> = [];
  startMs = new Float64Array(0);
  endMs = new Float64Array(0);
  inputTokens = new Float64Array(0);
  outputTokens = new Float64Array(0);
  /** -1: not a stream, or chunks not observed. */
  chunks = new Float64Array(0);
  /** CPU work (ms) and chunks since the last interval, not yet attributed. */
  workMs = new Float64Array(0);
  newChunks = new Float64Array(0);
  /** Bits 0–1 outcome, then STREAM_BIT, DYNAMIC_BIT, TOKEN_STREAM_BIT (call-state.ts). */
  meta = new Uint8Array(0);

  push(c: CallState, endMs: number, meta: number): void {
    const i = this.n;
    if (i === this.cap) this.grow();
    this.site[i] = c.site;
    this.labels[i] = c.labels;
    this.span[i] = c.acc === undefined && c.remote === undefined ? undefined : c;
    this.startMs[i] = c.startMs;
    this.endMs[i] = endMs;
    this.inputTokens[i] = c.inputTokens;
    this.outputTokens[i] = c.outputTokens;
    this.chunks[i] = c.chunks;
    this.workMs[i] = c.workMs;
    this.newChunks[i] = c.newChunks;
    this.meta[i] = meta;
    this.n = i + 1;
  }

  /** Empties the buffer, dropping references so labels and states can be collected. */
  clear(): void {
    for (let i = 0; i < this.n; i++) {
      this.site[i] = undefined;
      this.labels[i] = undefined;
      this.span[i] = undefined;
    }
    this.n = 0;
  }

  private grow(): void {
    const cap = Math.max(256, this.cap * 2);
    const f64 = (old: Float64Array) => {
      const a = new Float64Array(cap);
      a.set(old);
      return a;
    };
    this.startMs = f64(this.startMs);
    this.endMs = f64(this.endMs);
    this.inputTokens = f64(this.inputTokens);
    this.outputTokens = f64(this.outputTokens);
    this.chunks = f64(this.chunks);
    this.workMs = f64(this.workMs);
    this.newChunks = f64(this.newChunks);
    const meta = new Uint8Array(cap);
    meta.set(this.meta);
    this.meta = meta;
    for (let i = this.cap; i < cap; i++) {
      this.site.push(undefined);
      this.labels.push(undefined);
      this.span.push(undefined);
    }
    this.cap = cap;
  }
}

/** Sums over the calls that overlapped [start, end]: the ended (pending) ones and those in flight. */
export function gatherLoad(P: PendingCalls, head: CallState | undefined, start: number, end: number, busyMs: number): IntervalLoad {
  const load: IntervalLoad = { busyMs, callMs: 0, workMs: 0, tokenCallMs: 0, tokens: 0 };
  for (let i = 0; i < P.n; i++) {
    let t = Math.min(P.endMs[i]!, end) - Math.max(P.startMs[i]!, start);
    if (!(t > 0)) t = 0;
    load.callMs += t;
    load.workMs += P.workMs[i]!;
    if ((P.meta[i]! & TOKEN_STREAM_BIT) !== 0) {
      load.tokenCallMs += t;
      load.tokens += P.newChunks[i]!;
    }
  }
  for (let c = head; c !== undefined; c = c.next) {
    let t = end - Math.max(c.startMs, start);
    if (!(t > 0)) t = 0;
    load.callMs += t;
    load.workMs += c.workMs;
    if (c.tokenStream) {
      load.tokenCallMs += t;
      load.tokens += c.newChunks;
    }
  }
  return load;
}

/** Gives each call in flight its share of the interval and resets its per-interval counters. */
export function applyToInFlight(head: CallState | undefined, start: number, end: number, rates: Rates): void {
  for (let c = head; c !== undefined; c = c.next) {
    const t = end - Math.max(c.startMs, start);
    if (t > 0 || c.workMs > 0) {
      addShare((c.acc ??= newAccrued()), rates, Math.max(t, 0), c.workMs, c.newChunks, c.tokenStream);
      c.workMs = 0;
      c.newChunks = 0;
    }
  }
}
