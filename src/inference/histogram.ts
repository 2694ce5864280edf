/**
 * Streaming quantiles in fixed memory: a histogram with logarithmic buckets (the DDSketch
 * mapping). A bucket i holds values in (γ^(i-1), γ^i] with γ = (1+α)/(1-α); answering a value's
 * bucket with 2γ^i/(γ+1) is within relative error α of every value in it. Values are clamped to
 * [MIN_VALUE, MAX_VALUE]; zero and negative values are counted exactly as 0.
 */
export class LogHistogram {
  /** α: bound on the relative error of every quantile within [MIN_VALUE, MAX_VALUE]. */
  static readonly RELATIVE_ERROR = 0.01;
  static readonly MIN_VALUE = 1e-12;
  static readonly MAX_VALUE = 1e12;

  private static readonly GAMMA = (1 + LogHistogram.RELATIVE_ERROR) / (1 - LogHistogram.RELATIVE_ERROR);
  private static readonly LN_GAMMA = Math.log(LogHistogram.GAMMA);
  private static readonly MIN_INDEX = Math.ceil(Math.log(LogHistogram.MIN_VALUE) / LogHistogram.LN_GAMMA);
  private static readonly MAX_INDEX = Math.ceil(Math.log(LogHistogram.MAX_VALUE) / LogHistogram.LN_GAMMA);

  // Allocated on the first positive value: names that never see one cost nothing.
  private counts: Float64Array | undefined;
  private zeros = 0;
  private n = 0;
  private minV = Infinity;
  private maxV = -Infinity;

  get count(): number {
    return this.n;
  }

  add(value: number): void {
    this.n++;
    if (value < this.minV) this.minV = value;
    if (value > this.maxV) this.maxV = value;
    if (!(value > 0)) {
      this.zeros++;
      return;
    }
    const H = LogHistogram;
    let i = Math.ceil(Math.log(value) / H.LN_GAMMA);
    if (i < H.MIN_INDEX) i = H.MIN_INDEX;
    else if (i > H.MAX_INDEX) i = H.MAX_INDEX;
    this.counts ??= new Float64Array(H.MAX_INDEX - H.MIN_INDEX + 1);
    this.counts[i - H.MIN_INDEX]!++;
  }

  /** Adds every value of `other` (same bucket layout). */
  merge(other: LogHistogram): void {
    if (other.n === 0) return;
    this.n += other.n;
    this.zeros += other.zeros;
    if (other.minV < this.minV) this.minV = other.minV;
    if (other.maxV > this.maxV) this.maxV = other.maxV;
    if (other.counts) {
      this.counts ??= new Float64Array(other.counts.length);
      for (let k = 0; k < other.counts.length; k++) this.counts[k]! += other.counts[k]!;
    }
  }

  /**
   * The value of rank ⌊q·(n−1)⌋ (0-based) in sorted order, within relative error α; undefined when
   * empty.
   */
  quantile(q: number): number | undefined {
    if (this.n === 0) return undefined;
    const rank = Math.floor(Math.min(1, Math.max(0, q)) * (this.n - 1));
    if (rank < this.zeros) return this.minV < 0 ? this.minV : 0;
    let seen = this.zeros;
    const H = LogHistogram;
    const counts = this.counts!;
    for (let k = 0; k < counts.length; k++) {
      seen += counts[k]!;
      if (seen > rank) {
        const estimate = (2 * Math.exp((k + H.MIN_INDEX) * H.LN_GAMMA)) / (H.GAMMA + 1);
        // The true value lies in [min, max]; clamping can only move the estimate closer to it.
        return Math.min(this.maxV, Math.max(this.minV > 0 ? this.minV : 0, estimate));
      }
    }
    return this.maxV;
  }
}
