import { nodeV8 } from '../builtins.js';
import { monotonicMs } from '../clock-guard.js';

/** Something that accumulates main-thread time: a call in flight. */
export interface WorkOwner {
  /** Main-thread ms run in its own async context since the last interval drained it. */
  workMs: number;
}


const NO_ARGS: unknown[] = [];

/**
 * Timed reactions per second above which only a random 1/K of them are timed (K a power of 2).
 * Each timed segment reads the clock twice (~0.1–0.2 µs each on a loaded server): 5,000 a second
 * cost 0.1–0.2 % of a core, and still give each 250 ms interval ~1,250 timed segments to share by.
 */
const TIMED_PER_S = 5_000;
const MAX_STRIDE = 256;
/**
 * Reactions between two checks of their rate within an interval: a tracker started under load
 * (or a burst after a quiet interval) would otherwise time every reaction until the interval ends.
 */
const CHECK_EVERY = 1024;

/**
 * The keys that tag promises with their owner: one per meter enabled at the same time, so two
 * trackers never read each other's calls, and reused by the meters that come later. A key new to
 * each tracker would give promises a new hidden class per tracker and turn V8's property caches in
 * the hooks megamorphic for the rest of the process (+0.35–0.4 µs a call with a fresh tracker per
 * batch of calls, test/bench/wrap-ab.mjs). A promise tagged under an earlier meter whose reaction
 * runs under a later one with the same key runs as that earlier call, which no interval counts:
 * its time stays unattributed, as it would untagged.
 */
const ownerKeys: symbol[] = [];
const keyInUse: boolean[] = [];

function takeOwnerKey(): number {
  let i = keyInUse.indexOf(false);
  if (i < 0) {
    i = ownerKeys.length;
    ownerKeys.push(Symbol(`wattprint.call.${i}`));
    keyInUse.push(false);
  }
  keyInUse[i] = true;
  return i;
}

/**
 * Measures the main-thread time each call spends running its own code, across awaits, with V8's
 * promise hooks (`v8.promiseHooks`: called by V8 itself, without the async_hooks machinery, whose
 * cost per promise is several times higher in Node 20).
 *
 * - Ownership: a promise created while a call's code runs belongs to that call (`init`); the
 *   synchronous part of a call is run by {@link run}.
 * - Time: a promise reaction (the code after an `await`, a `then` callback) runs between `before`
 *   and `after`; its wall time goes to the owner of its promise. Under heavy load only a random 1
 *   in K reactions (and synchronous parts) is timed and counted K times (K adapts each interval
 *   so that at most ~5,000 reactions a second read the clock), which keeps the sum unbiased.
 *
 * Not seen: callbacks of timers, sockets and event emitters that are not promise reactions (their
 * time is unowned, reported as unattributed), work on other threads, and time the process was
 * preempted or paused for GC while a call's code ran (counted as that call's).
 */
export class WorkMeter<O extends WorkOwner> {
  /** Per meter enabled at once: two trackers in one process must not read each other's calls. */
  private owner: symbol | undefined = undefined;
  private ownerKey = -1;
  private stops: Array<() => void> = [];
  private cur: O | undefined = undefined;
  /** The owner whose reaction is being timed, since `t0`. */
  private timing: O | undefined = undefined;
  private t0 = 0;
  private stride = 1;
  private weight = 1;
  private seed = 0x2545f491;
  private reactions = 0;
  private nextCheck = CHECK_EVERY;
  /** Wall clock at the start of the current interval (the rate check's; `nowMs` may be a CPU clock). */
  private intervalStartMs = 0;

  /** `nowMs`: the clock segments are timed with (tests pass a CPU-time clock). */
  constructor(private readonly nowMs: () => number = monotonicMs) {}

  get enabled(): boolean {
    return this.stops.length > 0;
  }

  enable(): void {
    if (this.enabled) return;
    this.restartCount();
    this.ownerKey = takeOwnerKey();
    this.owner = ownerKeys[this.ownerKey];
    const { promiseHooks } = nodeV8();
    this.stops = [promiseHooks.onInit(this.init), promiseHooks.onBefore(this.before), promiseHooks.onAfter(this.after)] as Array<() => void>;
  }

  disable(): void {
    for (const stop of this.stops) stop();
    this.stops = [];
    this.cur = this.timing = undefined;
    if (this.ownerKey >= 0) keyInUse[this.ownerKey] = false;
    this.ownerKey = -1;
  }

  /**
   * Calls `fn` on `self` with `args` (a call's synchronous part) as `owner`; the promises it
   * creates belong to it. Takes the function and its arguments rather than a closure: one
   * allocation less on every wrapped call.
   */
  run(owner: O, fn: (this: unknown, ...a: unknown[]) => unknown, self: unknown, args: unknown[]): unknown {
    return this.as(owner, fn, self, args, this.sampled());
  }

  /** The owner whose code is running now (a synchronous part or a reaction of its promises), if any. */
  current(): O | undefined {
    return this.cur;
  }

  /** Runs `fn` owned by nobody (the tracker's own sampling), not timed. */
  outside<T>(fn: () => T): T {
    return this.as(undefined, fn, undefined, NO_ARGS, false) as T;
  }

  /** Charges a reaction being timed up to now, so owners' `workMs` are current. */
  flush(): void {
    const o = this.timing;
    if (o === undefined) return;
    const t = this.nowMs();
    o.workMs += this.weight * (t - this.t0);
    this.t0 = t;
  }

  /** Called once per interval of `lengthMs`: adapts how many reactions are timed. */
  onInterval(lengthMs: number): void {
    if (lengthMs > 0) {
      const perS = (this.reactions * 1000) / lengthMs;
      let k = 1;
      while (k < MAX_STRIDE && perS / k > TIMED_PER_S) k *= 2;
      this.stride = k;
    }
    this.restartCount();
  }

  private restartCount(): void {
    this.reactions = 0;
    this.nextCheck = CHECK_EVERY;
    this.intervalStartMs = monotonicMs();
  }

  /**
   * Within an interval, raises the stride when reactions come more than twice as fast as the last
   * interval's stride allows (it only rises here; {@link onInterval} sets it from the whole
   * interval). Each reaction is still timed with probability 1/K and counted K times, K as it was
   * then, so the sum stays unbiased.
   */
  private checkRate(): void {
    this.nextCheck += CHECK_EVERY;
    const elapsedMs = monotonicMs() - this.intervalStartMs;
    if (!(elapsedMs > 0)) return;
    const perS = (this.reactions * 1000) / elapsedMs;
    while (this.stride < MAX_STRIDE && perS / this.stride > 2 * TIMED_PER_S) this.stride *= 2;
  }

  /** Whether to time the next reaction or synchronous part: 1 in `stride`, at random. */
  private sampled(): boolean {
    if (++this.reactions >= this.nextCheck) this.checkRate();
    if (this.stride === 1) return true;
    // xorshift32: random, so that periodic patterns (calls taking turns) cannot alias.
    let x = this.seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.seed = x;
    return (x & (this.stride - 1)) === 0;
  }

  private as(owner: O | undefined, fn: (this: unknown, ...a: unknown[]) => unknown, self: unknown, args: unknown[], timed: boolean): unknown {
    const prev = this.cur;
    const outer = this.timing;
    const outerWeight = this.weight;
    const clock = outer !== undefined || timed;
    const weight = this.stride;
    const t = clock ? this.nowMs() : 0;
    if (outer !== undefined) outer.workMs += outerWeight * (t - this.t0);
    this.cur = owner;
    this.timing = undefined;
    try {
      return Reflect.apply(fn, self, args);
    } finally {
      const t2 = clock ? this.nowMs() : 0;
      if (timed) owner!.workMs += weight * (t2 - t);
      this.cur = prev;
      this.timing = outer;
      this.weight = outerWeight;
      this.t0 = t2;
    }
  }

  private readonly init = (promise: Promise<unknown>): void => {
    if (this.cur !== undefined) (promise as unknown as Record<symbol, O>)[this.owner!] = this.cur;
  };

  private readonly before = (promise: Promise<unknown>): void => {
    const o = (promise as unknown as Record<symbol, O | undefined>)[this.owner!];
    this.cur = o;
    if (o === undefined || !this.sampled()) return;
    this.weight = this.stride;
    this.timing = o;
    this.t0 = this.nowMs();
  };

  private readonly after = (): void => {
    const o = this.timing;
    if (o !== undefined) {
      o.workMs += this.weight * (this.nowMs() - this.t0);
      this.timing = undefined;
    }
    this.cur = undefined;
  };
}
