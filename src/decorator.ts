import type { WrapOptions } from './inference/index.js';
import type { EmissionsTrackerOptions } from './options.js';
import { EmissionsTracker } from './tracker.js';

/**
 * Options of {@link trackEmissions}. `R` is the decorated method's awaited result, what `tokens`
 * receives: give it as `trackEmissions<Completion>({ ... })` (a decorator's options are evaluated
 * before TypeScript sees the method), and the decorator then only accepts methods returning `R` or a
 * promise of it.
 */
export interface TrackEmissionsOptions<R = any> extends EmissionsTrackerOptions {
  /**
   * Attribute each call to this running tracker (a {@link CallRecord} per call, shared-energy
   * attribution under concurrency) instead of running a tracker of its own per call.
   */
  tracker?: EmissionsTracker;
  /** Call name for records (with `tracker`). Default: the method or function name. */
  name?: string;
  /** Token counts of a result (with `tracker`). */
  tokens?: WrapOptions<R>['tokens'];
}

type AnyFn = (this: any, ...args: any[]) => unknown;
/** A function whose (awaited) result is `R`. */
type FnOf<R> = (this: any, ...args: any[]) => R | PromiseLike<R>;

/**
 * The decorator-or-wrapper returned by {@link trackEmissions}. One value works as a TC39 standard
 * method decorator, a legacy (`experimentalDecorators`) method decorator and a plain function wrapper.
 */
export interface EmissionsDecorator<R = any> {
  /** Plain wrapper: `trackEmissions(opts)(fn)`. */
  <F extends FnOf<R>>(fn: F): F;
  /** TC39 standard method decorator. */
  <F extends FnOf<R>>(value: F, context: ClassMethodDecoratorContext): F;
  /** Legacy (`experimentalDecorators`) method decorator. */
  (target: object, propertyKey: string | symbol, descriptor: PropertyDescriptor): PropertyDescriptor;
}

const isThenable = (v: unknown): v is PromiseLike<unknown> =>
  v !== null && (typeof v === 'object' || typeof v === 'function') && typeof (v as PromiseLike<unknown>).then === 'function';

/** Runs `fn` inside a fresh tracker; the result, the thrown error and `this` are the function's own. */
function perCallWrapper<F extends AnyFn>(fn: F, given: EmissionsTrackerOptions, fallbackName: string): F {
  // Validate once, at decoration time, so bad options fail where they are written.
  const probe = new EmissionsTracker({ ...given, handleSignals: false });
  // Without a project name anywhere (options, env, config files), rows are named after the function.
  const options = probe.options.origins.projectName === 'default' ? { ...given, projectName: fallbackName } : given;
  const wrapped = function (this: unknown, ...args: never[]) {
    const tracker = new EmissionsTracker(options);
    tracker.start();
    let result: unknown;
    try {
      result = fn.apply(this, args);
    } catch (err) {
      // A sync throw: record what ran, then rethrow the very same error.
      void tracker.stop().catch(() => {});
      throw err;
    }
    if (!isThenable(result)) {
      void tracker.stop().catch(() => {});
      return result;
    }
    return Promise.resolve(result).then(
      async (value) => {
        await tracker.stop().catch(() => {});
        return value;
      },
      async (err: unknown) => {
        await tracker.stop().catch(() => {});
        throw err;
      },
    );
  };
  return rename(wrapped, fn) as unknown as F;
}

function rename(wrapped: object, fn: { name: string; length: number }): object {
  Object.defineProperty(wrapped, 'name', { value: fn.name, configurable: true });
  Object.defineProperty(wrapped, 'length', { value: fn.length, configurable: true });
  return wrapped;
}

/**
 * Tracks the emissions of a function or method.
 *
 * Without `tracker`, every call runs in its own tracker (started before, stopped after; the row
 * is written like any run). With `tracker`, every call becomes a {@link CallRecord} of that
 * running tracker, like `tracker.wrap()`.
 *
 * @example
 * class Model {
 *   @trackEmissions({ projectName: 'train', countryIsoCode: 'FRA' })
 *   async train() { ... }
 *   @trackEmissions({ tracker, name: 'generate' })
 *   async generate(prompt: string) { ... }
 * }
 * const tracked = trackEmissions({ projectName: 'job' })(async () => work());
 */
export function trackEmissions<R = any>(options: TrackEmissionsOptions<R> = {}): EmissionsDecorator<R> {
  const { tracker, name, tokens, ...trackerOptions } = options;
  if (tracker !== undefined && !(tracker instanceof EmissionsTracker))
    throw new TypeError('trackEmissions({ tracker }): `tracker` must be an EmissionsTracker');
  const wrap = (fn: AnyFn, fallbackName: string): AnyFn =>
    tracker
      ? tracker.wrap(fn, { name: name ?? fallbackName, ...(tokens ? { tokens: tokens as WrapOptions['tokens'] } : {}) })
      : perCallWrapper(fn, name ? { ...trackerOptions, projectName: name } : trackerOptions, fallbackName);

  function decorator(this: unknown, a: unknown, b?: unknown, c?: unknown): unknown {
    if (typeof a === 'function' && b === undefined) return wrap(a as AnyFn, (a as AnyFn).name || 'anonymous');
    if (typeof a === 'function' && typeof b === 'object' && b !== null && 'kind' in b) {
      const ctx = b as ClassMethodDecoratorContext;
      if (ctx.kind !== 'method') throw new TypeError(`@trackEmissions can decorate methods, not ${ctx.kind}s`);
      return wrap(a as AnyFn, String(ctx.name));
    }
    if (typeof c === 'object' && c !== null && typeof (c as PropertyDescriptor).value === 'function') {
      const desc = c as PropertyDescriptor;
      return { ...desc, value: wrap(desc.value as AnyFn, String(b)) };
    }
    throw new TypeError('trackEmissions(options) returns a method decorator or a function wrapper: use @trackEmissions(...) on a method or trackEmissions(...)(fn)');
  }
  return decorator as EmissionsDecorator<R>;
}
