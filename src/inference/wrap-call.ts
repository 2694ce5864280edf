import { invalidOption } from '../errors.js';
import type { WrapOptions } from './types.js';

/** Anything with `wrap(fn, options)`: an `EmissionsTracker` or a `CallTracker`. */
export interface CallWrapper {
  wrap<F extends (...args: never[]) => unknown>(fn: F, options: WrapOptions<Awaited<ReturnType<F>>, Parameters<F>>): F;
}

/**
 * `wrap` for decorators: `tracker` may be given lazily as a function, resolved at the first call
 * (a decorator is evaluated when its class is defined, often before the tracker exists), and
 * re-resolved if it later returns another tracker.
 */
export function wrapCall<F extends (...args: never[]) => unknown>(
  tracker: CallWrapper | (() => CallWrapper),
  fn: F,
  options: WrapOptions<Awaited<ReturnType<F>>, Parameters<F>>,
): F {
  if (typeof fn !== 'function') throw invalidOption('wrap', `expected a function to wrap, got ${typeof fn}`);
  if (typeof tracker !== 'function') {
    if (!tracker || typeof tracker.wrap !== 'function')
      throw invalidOption('tracker', 'expected an EmissionsTracker (or a function returning one)');
    return tracker.wrap(fn, options);
  }
  let resolved: CallWrapper | undefined;
  let wrapped: F | undefined;
  const lazy = function (this: unknown, ...args: unknown[]): unknown {
    const t = tracker();
    if (!t || typeof t.wrap !== 'function')
      throw invalidOption('tracker', 'the tracker function must return an EmissionsTracker');
    if (t !== resolved || wrapped === undefined) {
      resolved = t;
      wrapped = t.wrap(fn, options);
    }
    return (wrapped as unknown as (...a: unknown[]) => unknown).apply(this, args);
  };
  Object.defineProperty(lazy, 'name', { value: fn.name, configurable: true });
  Object.defineProperty(lazy, 'length', { value: fn.length, configurable: true });
  return lazy as unknown as F;
}
