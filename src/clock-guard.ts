import type { WattprintWarning } from './types.js';

// ms since the process started: the monotonic clock and origin of `performance.now()` (to ~0.3 ms),
// read without the global `performance`, whose first access in Node 20 loads perf_hooks (11
// modules: ~0.8 ms and ~70 KB of heap at the first start()). About 55 ns a read against 47 ns.
const hrMs = (): number => {
  const t = process.hrtime();
  return t[0] * 1e3 + t[1] / 1e6;
};
const originMs = hrMs() - process.uptime() * 1e3;

/**
 * The default `clock`: monotonic ms since the process started, finite, never guarded. Wrapped calls
 * read it twice each.
 */
export const monotonicMs = (): number => hrMs() - originMs;

/**
 * Wraps the tracker clock so that a custom `clock` returning NaN, ±Infinity, throwing or going
 * backwards can neither freeze the totals nor yield zero or negative durations: at the first bad
 * value the tracker warns (`CLOCK_INVALID`, option `clock`) and continues from the last good value
 * on the default clock (`monotonicMs`).
 */
export function guardClock(clock: () => number, warn: (w: WattprintWarning) => void): () => number {
  // The default clock needs no guard, and every wrapped call reads the clock twice.
  if (clock === monotonicMs) return clock;
  let lastMs: number | undefined;
  let lastRealMs = 0;
  let replaced = false;
  return () => {
    const realMs = monotonicMs();
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
          'it must return finite, non-decreasing milliseconds. Continuing on the process monotonic clock from the last good value.',
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
