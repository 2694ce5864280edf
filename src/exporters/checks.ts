import { WattprintError } from '../errors.js';
import type { MetricsSource } from './source.js';

/** Throws unless `tracker` looks like a {@link MetricsSource}; `fn` names the caller in the message. */
export function checkSource(fn: string, tracker: unknown): asserts tracker is MetricsSource {
  const t = tracker as Partial<MetricsSource> | null | undefined;
  if (!t || typeof t.snapshot !== 'function' || typeof t.on !== 'function' || typeof t.off !== 'function')
    throw new WattprintError(
      'INVALID_ARGUMENT',
      `${fn}(tracker): expected an EmissionsTracker (an object with snapshot(), on() and off()), got ${t === null ? 'null' : typeof t}`,
    );
}

/** Checks histogram bucket bounds: finite, > 0 and strictly increasing. */
export function checkBuckets(fn: string, option: string, buckets: readonly number[]): readonly number[] {
  const ok = Array.isArray(buckets) && buckets.length > 0 && buckets.every((b, i) => Number.isFinite(b) && b > 0 && (i === 0 || b > buckets[i - 1]!));
  if (!ok)
    throw new WattprintError('INVALID_OPTION', `Invalid option \`${option}\` of ${fn}: expected bucket bounds in joules, finite, > 0 and increasing, e.g. [0.1, 1, 10]`, {
      option,
    });
  return buckets;
}

/**
 * Calls `read` at most once per synchronous burst: a scrape runs every collector in the same tick,
 * so they share one snapshot instead of taking one each.
 */
export function oncePerTick<T>(read: () => T): () => T {
  let cached: { value: T } | undefined;
  return () => {
    if (cached) return cached.value;
    cached = { value: read() };
    queueMicrotask(() => (cached = undefined));
    return cached.value;
  };
}
