/**
 * Ended calls waiting for the sample that covers their end, stored column-wise. Per-call objects
 * then die young (a loop of short calls ends ~10^5 of them per interval, and objects kept that long
 * would be promoted and make the old-generation GC dominate the wrap overhead).
 */
export class PendingCalls<Site, Span> {
  n = 0;
  private cap = 0;
  site: Array<Site | undefined> = [];
  labels: Array<object | undefined> = [];
  /** The call's state object when it already received energy while in flight, else undefined. */
  span: Array<Span | undefined> = [];
  startMs = new Float64Array(0);
  endMs = new Float64Array(0);
  inputTokens = new Float64Array(0);
  outputTokens = new Float64Array(0);
  /** -1: not a stream, or chunks not observed. */
  chunks = new Float64Array(0);
  /** Bits 0–1 outcome, bit 2 stream, bit 3 eligible for dynamic energy. */
  meta = new Uint8Array(0);

  push(
    site: Site,
    labels: object | undefined,
    span: Span | undefined,
    startMs: number,
    endMs: number,
    inputTokens: number,
    outputTokens: number,
    chunks: number,
    meta: number,
  ): void {
    const i = this.n;
    if (i === this.cap) this.grow();
    this.site[i] = site;
    this.labels[i] = labels;
    this.span[i] = span;
    this.startMs[i] = startMs;
    this.endMs[i] = endMs;
    this.inputTokens[i] = inputTokens;
    this.outputTokens[i] = outputTokens;
    this.chunks[i] = chunks;
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
