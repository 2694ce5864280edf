import type { IntervalSample } from './seam.js';
import type { Baseline } from './types.js';

type State = 'off' | 'measuring' | 'ready' | 'failed';

/** What the baseline needs from the call tracker: a clock, a sample on demand, warnings. */
export interface BaselineHost {
  nowMs(): number;
  sample(): void;
  warn(code: string, message: string): void;
  /** Arms a timer outside any call's async context. */
  setTimer(fn: () => void, delayMs: number): ReturnType<typeof setTimeout>;
}

/**
 * The idle baseline (`baseline: { durationMs }`): idle power averaged over the idle part of the
 * first `durationMs` after start. off → measuring → ready | failed; `ready` resolves with the value,
 * everything else with undefined, and it never rejects.
 */
export class BaselineMeter {
  private state: State = 'off';
  private startMs = 0;
  private endMs = 0;
  private idle = { ms: 0, energyJ: 0, cpuJ: 0, gpuJ: 0, ramJ: 0 };
  private value: Baseline | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private promise!: Promise<Baseline | undefined>;
  private resolve: ((b: Baseline | undefined) => void) | undefined;

  constructor(private readonly host: BaselineHost) {
    this.newPromise();
  }

  get ready(): Promise<Baseline | undefined> {
    return this.promise;
  }

  get baseline(): Baseline | undefined {
    return this.value;
  }

  get isReady(): boolean {
    return this.state === 'ready';
  }

  start(nowMs: number, durationMs: number | undefined): void {
    if (this.resolve === undefined) this.newPromise();
    this.value = undefined;
    this.idle = { ms: 0, energyJ: 0, cpuJ: 0, gpuJ: 0, ramJ: 0 };
    if (durationMs !== undefined) {
      this.state = 'measuring';
      this.startMs = nowMs;
      this.endMs = nowMs + durationMs;
      this.arm(durationMs);
    } else {
      this.state = 'off';
      this.settle(undefined);
    }
  }

  /** Adds the idle part (fraction `idleShare` of the interval, `idleMs` long) of an interval. */
  onInterval(s: IntervalSample, idleMs: number, idleShare: number): void {
    if (this.state !== 'measuring') return;
    const b = this.idle;
    b.ms += Math.max(idleMs, 0);
    b.energyJ += s.energyJ * idleShare;
    b.cpuJ += s.cpuEnergyJ * idleShare;
    b.gpuJ += s.gpuEnergyJ * idleShare;
    b.ramJ += s.ramEnergyJ * idleShare;
    if (s.endMs >= this.endMs) this.complete(s.endMs);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.state === 'measuring') {
      this.state = 'failed';
      this.host.warn('BASELINE_INCOMPLETE', 'The tracker stopped before the idle baseline finished; no dynamic energy this run. Give `baseline.durationMs` time to elapse before stop().');
    }
    this.settle(this.value);
  }

  private newPromise(): void {
    this.promise = new Promise((resolve) => {
      this.resolve = resolve;
    });
  }

  private settle(b: Baseline | undefined): void {
    const resolve = this.resolve;
    this.resolve = undefined;
    resolve?.(b);
  }

  private arm(delayMs: number): void {
    // Ref'd on purpose: `await tracker.baselineReady` must keep the process alive until it settles.
    this.timer = this.host.setTimer(() => {
      this.timer = undefined;
      if (this.state !== 'measuring') return;
      const remaining = this.endMs - this.host.nowMs();
      // Timers and the tracker clock may disagree by a millisecond (or, with an injected clock, a lot).
      if (remaining > 0) this.arm(Math.max(1, Math.ceil(remaining)));
      else this.host.sample();
    }, delayMs);
  }

  private complete(endMs: number): void {
    const b = this.idle;
    const windowMs = endMs - this.startMs;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!(b.ms > 0)) {
      this.state = 'failed';
      this.host.warn('BASELINE_NO_IDLE', `Calls were in flight during the whole ${Math.round(windowMs)} ms baseline window, so idle power is unknown and records carry no dynamic energy. Start the tracker before serving traffic.`);
      this.settle(undefined);
      return;
    }
    if (b.ms < 0.5 * windowMs) {
      this.host.warn('BASELINE_BUSY', `Only ${Math.round((100 * b.ms) / windowMs)}% of the ${Math.round(windowMs)} ms baseline window was idle; the idle power is averaged over that part only.`);
    }
    const s = b.ms / 1000;
    this.value = Object.freeze({
      startMs: this.startMs,
      endMs,
      idleDurationS: s,
      powerW: b.energyJ / s,
      cpuPowerW: b.cpuJ / s,
      gpuPowerW: b.gpuJ / s,
      ramPowerW: b.ramJ / s,
    });
    this.state = 'ready';
    this.settle(this.value);
  }
}
