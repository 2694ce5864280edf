import { WattprintError } from '../errors.js';
import type { IntensityHooks, IntensityProvider, IntensityValue, Location } from '../types.js';
import { LiveRequestError, type FailureCause } from './http.js';

/** Timing of a live provider; every field has a default suited to the provider's data. */
export interface LiveTiming {
  /** How long a fetched value counts as `live`; the next fetch is due then. */
  ttlMs?: number;
  /** Deadline of one fetch (all its requests). Default 5000. */
  timeoutMs?: number;
  /** How long a value past its TTL is still used (as `cached`) while refreshing fails. Default 2 h. */
  maxStaleMs?: number;
  /** Backoff after a failure: doubles from `initialMs` up to `maxMs`. Defaults 30 s and 30 min. */
  retry?: { initialMs?: number; maxMs?: number };
}

/** What a live provider fetches for a location. */
export interface LiveTarget {
  /** Changes when the provider must fetch something else (the location moved). */
  readonly key: string;
}

/** A fetched value; the provider id and freshness are added by {@link liveProvider}. */
export type FetchedIntensity = Omit<IntensityValue, 'provider' | 'freshness'>;

export interface LiveSpec<T extends LiveTarget> extends LiveTiming {
  readonly id: string;
  readonly ttlMs: number;
  /** Token, password: replaced by `***` in every message, whatever its origin. */
  readonly secrets: readonly string[];
  /** What to fetch at this location, or why this provider cannot answer there. */
  target(location: Location): T | string;
  /** One fetch; throws {@link LiveRequestError} (any other throw counts as a malformed answer). */
  fetch(target: T, signal: AbortSignal, timeoutMs: number): Promise<FetchedIntensity>;
  /** What the user can do about a cause, e.g. unauthorized → 'check the token'. */
  readonly fixes?: Partial<Record<FailureCause, string>>;
}

const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_MAX_STALE_MS = 2 * 3600_000;
const DEFAULT_RETRY = { initialMs: 30_000, maxMs: 30 * 60_000 };

/** Validates the timing options of a provider factory, naming the option. */
export function checkTiming(factory: string, t: LiveTiming): void {
  const check = (name: string, v: number | undefined) => {
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v <= 0))
      throw new WattprintError('INVALID_OPTION', `${factory}(): ${name} must be a finite number of milliseconds > 0, got ${String(v)}`, { option: name });
  };
  check('ttlMs', t.ttlMs);
  check('timeoutMs', t.timeoutMs);
  check('maxStaleMs', t.maxStaleMs);
  check('retry.initialMs', t.retry?.initialMs);
  check('retry.maxMs', t.retry?.maxMs);
}

/** Only the timing fields of a factory's options (never the credentials next to them). */
export function timingOf(o: LiveTiming): LiveTiming {
  return { ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}), ...(o.maxStaleMs !== undefined ? { maxStaleMs: o.maxStaleMs } : {}), ...(o.retry ? { retry: o.retry } : {}) };
}

/** Replaces every secret in `text` by `***`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join('***');
  return out;
}

/**
 * The machinery shared by the live providers: fetch in the background (never in `getIntensity`),
 * keep the last value for `ttlMs` as `live` and then up to `maxStaleMs` as `cached`, back off on
 * failures, warn once per cause, and tell the tracker just before the answer changes.
 * Before `start()` (e.g. in `detect()`) it answers nothing and touches no network.
 */
export function liveProvider<T extends LiveTarget>(spec: LiveSpec<T>): IntensityProvider {
  const timeoutMs = spec.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxStaleMs = Math.max(spec.maxStaleMs ?? DEFAULT_MAX_STALE_MS, spec.ttlMs);
  const initialMs = spec.retry?.initialMs ?? DEFAULT_RETRY.initialMs;
  const maxMs = Math.max(initialMs, spec.retry?.maxMs ?? DEFAULT_RETRY.maxMs);
  const warned = new Set<string>();
  let hooks: IntensityHooks | undefined;
  let started = false;
  let target: T | undefined;
  let live: IntensityValue | undefined;
  let cached: IntensityValue | undefined;
  let fetchedAtMs = 0;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  let expiry: NodeJS.Timeout | undefined;
  let inflight: AbortController | undefined;
  let askedFor: Location | undefined;
  let askedTarget: T | string | undefined;

  const warnOnce = (cause: string, message: string) => {
    if (warned.has(cause)) return;
    warned.add(cause);
    hooks?.warn({ code: `INTENSITY_${cause.toUpperCase().replace(/-/g, '_')}`, option: 'intensityProvider', message: redact(message, spec.secrets) });
  };

  const schedule = (delayMs: number) => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(refresh, delayMs);
    timer.unref();
  };

  /** Past `maxStaleMs` the value is dropped, at a known instant, so the tracker samples before the next link takes over. */
  const expireLater = () => {
    if (expiry) clearTimeout(expiry);
    expiry = setTimeout(() => {
      expiry = undefined;
      hooks?.beforeChange();
      live = cached = undefined;
    }, maxStaleMs);
    expiry.unref();
  };

  const cancel = () => {
    if (timer) clearTimeout(timer);
    if (expiry) clearTimeout(expiry);
    timer = expiry = undefined;
    inflight?.abort();
    inflight = undefined;
  };

  function refresh(): void {
    timer = undefined;
    if (!started || !target) return;
    const ac = new AbortController();
    inflight = ac;
    const asked = target;
    spec.fetch(asked, ac.signal, timeoutMs).then(
      (v) => {
        if (inflight !== ac) return;
        inflight = undefined;
        failures = 0;
        if (!(typeof v.gPerKWh === 'number' && Number.isFinite(v.gPerKWh) && v.gPerKWh >= 0))
          return failed(new LiveRequestError('malformed', `the answer has no valid intensity (got ${String(v.gPerKWh)})`));
        const previous = current(Date.now());
        if (!previous || previous.gPerKWh !== v.gPerKWh || previous.zone !== v.zone) hooks?.beforeChange();
        live = { ...v, provider: spec.id, freshness: 'live' };
        cached = { ...live, freshness: 'cached' };
        fetchedAtMs = Date.now();
        expireLater();
        schedule(spec.ttlMs);
      },
      (e: unknown) => {
        if (inflight !== ac) return;
        inflight = undefined;
        failed(e instanceof LiveRequestError ? e : new LiveRequestError('malformed', `unexpected answer (${(e as Error)?.message ?? String(e)})`));
      },
    );
  }

  function failed(e: LiveRequestError): void {
    failures++;
    let delayMs = Math.min(maxMs, initialMs * 2 ** (failures - 1));
    if (e.failure === 'unauthorized') delayMs = maxMs;
    if (e.retryAfterMs !== undefined) delayMs = Math.min(Math.max(delayMs, e.retryAfterMs), 24 * 3600_000);
    const fix = spec.fixes?.[e.failure];
    const meanwhile = live
      ? `its last value is kept (cached) for up to ${Math.round(maxStaleMs / 60_000)} min after it was fetched, then the next provider of the chain answers`
      : 'the next provider of the chain answers until it recovers';
    warnOnce(e.failure, `intensity provider '${spec.id}': ${e.message}${fix ? ` (${fix})` : ''}; ${meanwhile} (next try in ${Math.round(delayMs / 1000)} s, backing off)`);
    schedule(delayMs);
  }

  function current(nowMs: number): IntensityValue | undefined {
    return live && nowMs - fetchedAtMs <= spec.ttlMs ? live : cached;
  }

  return {
    id: spec.id,
    start(h?: IntensityHooks) {
      hooks = h;
      started = true;
    },
    stop() {
      started = false;
      cancel();
    },
    getIntensity(location: Location): IntensityValue | undefined {
      if (!started) return undefined;
      // The chain passes the same location object until it moves: no target rebuilt per sample.
      if (location !== askedFor) [askedFor, askedTarget] = [location, spec.target(location)];
      const t = askedTarget!;
      if (typeof t === 'string') {
        warnOnce('unsupported-location', `intensity provider '${spec.id}' cannot answer here: ${t}; the next provider of the chain answers`);
        return undefined;
      }
      if (t.key !== target?.key) {
        cancel();
        target = t;
        live = cached = undefined;
        failures = 0;
        schedule(0);
        return undefined;
      }
      return current(Date.now());
    },
  };
}
