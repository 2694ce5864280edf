import type { WattprintWarning } from './types.js';

let perf: typeof performance | undefined;
/**
 * The default `clock`: monotonic, finite, never guarded. Wrapped calls read it twice each: the
 * global `performance` is a lazy accessor in Node 20, and keeping the object saves ~70 ns a read
 * (measured in process with the handler of test/bench/async-handler.mjs).
 */
export const monotonicMs = (): number => (perf ??= performance).now();

/**
 * Wraps the tracker clock so that a custom `clock` returning NaN, ±Infinity, throwing or going
 * backwards can neither freeze the totals nor yield zero or negative durations: at the first bad
 * value the tracker warns (`CLOCK_INVALID`, option `clock`) and continues from the last good value
 * on `performance.now()`, which is monotonic.
 */
export function guardClock(clock: () => number, warn: (w: WattprintWarning) => void): () => number {
  // The default clock needs no guard, and every wrapped call reads the clock twice.
  if (clock === monotonicMs) return clock;
  let lastMs: number | undefined;
  let lastRealMs = 0;
  let replaced = false;
  return () => {
    const realMs = performance.now();
    if (!replaced) {
      let v: number;
      try {
        v = clock();
      } catch {
        v = Number.NaN;
      }
      if (typeof v === 'number' && Number.isFinite(v) && (lastMs === undefined || v >= lastMs)) {
        lastMs = v;
        lastRealMs = realMs;
        return v;
      }
      replaced = true;
      warn({
        code: 'CLOCK_INVALID',
        option: 'clock',
        message:
          `the \`clock\` option returned ${String(v)}${lastMs !== undefined && Number.isFinite(v) ? ` after ${lastMs} (it went backwards)` : ''}; ` +
          'it must return finite, non-decreasing milliseconds. Continuing on performance.now() from the last good value.',
      });
    }
    const v = (lastMs ?? realMs) + (lastMs === undefined ? 0 : realMs - lastRealMs);
    lastMs = v;
    lastRealMs = realMs;
    return v;
  };
}

/** `options` with its `clock` guarded by {@link guardClock}. */
export function withGuardedClock<O extends { readonly clock: () => number }>(options: O, warn: (w: WattprintWarning) => void): O {
  return { ...options, clock: guardClock(options.clock, warn) };
}
