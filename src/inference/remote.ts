import { AsyncLocalStorage } from 'node:async_hooks';
import type { RemoteEstimate } from '../types.js';

/** What a remote request contributes: its output tokens and, when the model was known, its estimate. */
export interface RemoteRequest {
  readonly outputTokens: number;
  readonly estimate: {
    readonly energyKWh: { readonly min: number; readonly max: number };
    readonly gwpKg: { readonly min: number; readonly max: number };
    readonly adpeKgSb: { readonly min: number; readonly max: number };
    readonly peMJ: { readonly min: number; readonly max: number };
    readonly waterL: { readonly min: number; readonly max: number };
  } | null;
}

const KEYS = ['energyKWh', 'gwpKg', 'adpeKgSb', 'peMJ', 'waterL'] as const;

/** A running sum of remote requests' estimates (a wrapped call's, a name's, the run's). */
export class RemoteTotals {
  requests = 0;
  unestimated = 0;
  outputTokens = 0;
  readonly min = { energyKWh: 0, gwpKg: 0, adpeKgSb: 0, peMJ: 0, waterL: 0 };
  readonly max = { energyKWh: 0, gwpKg: 0, adpeKgSb: 0, peMJ: 0, waterL: 0 };

  add(r: RemoteRequest): void {
    this.requests++;
    this.outputTokens += r.outputTokens;
    const e = r.estimate;
    if (!e) {
      this.unestimated++;
      return;
    }
    for (const k of KEYS) {
      this.min[k] += e[k].min;
      this.max[k] += e[k].max;
    }
  }

  merge(o: RemoteTotals): void {
    this.requests += o.requests;
    this.unestimated += o.unestimated;
    this.outputTokens += o.outputTokens;
    for (const k of KEYS) {
      this.min[k] += o.min[k];
      this.max[k] += o.max[k];
    }
  }

  toJSON(): RemoteEstimate {
    const r = (k: (typeof KEYS)[number]) => ({ min: this.min[k], max: this.max[k] });
    return {
      requests: this.requests,
      unestimated: this.unestimated,
      outputTokens: this.outputTokens,
      energyKWh: r('energyKWh'),
      gwpKg: r('gwpKg'),
      adpeKgSb: r('adpeKgSb'),
      peMJ: r('peMJ'),
      waterL: r('waterL'),
    };
  }
}

type Call = { readonly ended: boolean; remote: RemoteTotals | undefined };
type Meter<C> = { run(c: C, fn: (this: unknown, ...a: unknown[]) => unknown, self: unknown, args: unknown[]): unknown; current(): C | undefined };

/**
 * Which wrapped call a remote request (`wattprint/llm`) belongs to: the work meter knows the call
 * running (rule 'work'); without it (rule 'time'), an AsyncLocalStorage turned on at the first ask
 * (it costs every promise something, so only once an LLM client is instrumented).
 */
export class CallContext<C extends Call> {
  private store: AsyncLocalStorage<C> | undefined;

  /** Runs a call's synchronous part under the meter, in the store once on, or plainly. */
  run(c: C, meter: Meter<C> | undefined, fn: (this: unknown, ...a: unknown[]) => unknown, self: unknown, args: unknown[]): unknown {
    if (meter) return meter.run(c, fn, self, args);
    return this.store ? this.store.run(c, () => Reflect.apply(fn, self, args)) : Reflect.apply(fn, self, args);
  }

  /** Where to add a request starting now; a request that ends after its call ended stays in the run's totals only. */
  scope(meter: Meter<C> | undefined): ((r: RemoteRequest) => void) | undefined {
    if (!meter && !this.store) {
      this.store = new AsyncLocalStorage<C>();
      return undefined;
    }
    const c = meter ? meter.current() : this.store!.getStore();
    if (c === undefined) return undefined;
    return (r) => {
      if (!c.ended) (c.remote ??= new RemoteTotals()).add(r);
    };
  }
}
