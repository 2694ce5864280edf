import { invalidOption, toError } from '../errors.js';
import { ABANDONED, ERROR, OK, type CallState, type Site } from './call-state.js';
import { isAsyncIterable, isNodeStream, trackAsyncIterable, watchNodeStream, type StreamOutcome } from './stream.js';
import type { StreamSummary, TokenCounts, WrapOptions } from './types.js';

const STREAM_OUTCOME: Record<StreamOutcome, number> = { ok: OK, error: ERROR, abandoned: ABANDONED };

/** What a wrapped function needs from the call tracker. */
export interface CallLifecycle {
  readonly isRunning: boolean;
  notRunning(): void;
  begin(site: Site): CallState;
  /** Calls `fn` on `self` with `args` (the call's synchronous part) in the call's async context. */
  run(c: CallState, fn: AnyFunction, self: unknown, args: unknown[]): unknown;
  end(c: CallState, outcome: number): void;
  warn(code: string, message: string): void;
}

export type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;

/** Validates `wrap()` options into the site shared by every call of the wrapped function. */
export function newSite(options: WrapOptions): Site {
  if (typeof options !== 'object' || options === null)
    throw invalidOption('name', 'wrap(fn, options) needs options with a name, e.g. { name: "chat" }');
  const { name, tokens, streamTokens, stream } = options;
  if (typeof name !== 'string' || name.trim() === '')
    throw invalidOption('name', `wrap(fn, { name }) needs a non-empty string name, got ${JSON.stringify(name)}`);
  if (tokens !== undefined && typeof tokens !== 'function')
    throw invalidOption('tokens', 'expected a function (result, args) => ({ inputTokens, outputTokens })');
  if (streamTokens !== undefined && streamTokens !== 'chunks' && typeof streamTokens !== 'function')
    throw invalidOption('streamTokens', "expected 'chunks' or a function (summary, args) => ({ inputTokens, outputTokens })");
  if (stream !== undefined && typeof stream !== 'boolean') throw invalidOption('stream', `expected a boolean, got ${typeof stream}`);
  // Stats are bound on the first finished call (see CallRecords.finish).
  return { name, tokens, streamTokens, stream: stream ?? true, stats: undefined };
}

/**
 * A function with `fn`'s signature that measures each call. `this` is passed through, so a wrapper
 * stored as a method (`obj.m = tracker.wrap(obj.m, ...)`) calls `fn` on the object it is called on.
 */
export function wrapFunction(fn: AnyFunction, site: Site, calls: CallLifecycle): AnyFunction {
  const wrapped = function (this: unknown, ...args: unknown[]): unknown {
    if (new.target !== undefined) return Reflect.construct(fn as unknown as new (...a: unknown[]) => unknown, args, new.target === wrapped ? fn : new.target);
    if (!calls.isRunning) {
      calls.notRunning();
      return fn.apply(this, args);
    }
    const c = calls.begin(site);
    let result: unknown;
    try {
      result = calls.run(c, fn, this, args);
    } catch (e) {
      calls.end(c, ERROR);
      throw e;
    }
    if (result !== null && (typeof result === 'object' || typeof result === 'function')) return settle(calls, c, result, args);
    if (site.tokens !== undefined) countTokens(calls, c, site.tokens, result, args);
    calls.end(c, OK);
    return result;
  };
  Object.defineProperty(wrapped, 'name', { value: fn.name, configurable: true });
  Object.defineProperty(wrapped, 'length', { value: fn.length, configurable: true });
  return wrapped;
}

function settle(calls: CallLifecycle, c: CallState, result: object, args: unknown[]): unknown {
  const site = c.site;
  if (typeof (result as { then?: unknown }).then === 'function') {
    return Promise.resolve(result as PromiseLike<unknown>).then(
      (value) => {
        if (site.stream && value !== null && typeof value === 'object' && isAsyncIterable(value)) return trackStream(calls, c, value, args);
        if (site.tokens !== undefined) countTokens(calls, c, site.tokens, value, args);
        calls.end(c, OK);
        return value;
      },
      (e: unknown) => {
        calls.end(c, ERROR);
        throw e;
      },
    );
  }
  if (site.stream && isAsyncIterable(result)) return trackStream(calls, c, result, args);
  if (site.tokens !== undefined) countTokens(calls, c, site.tokens, result, args);
  calls.end(c, OK);
  return result;
}

function trackStream(calls: CallLifecycle, c: CallState, stream: object, args: unknown[]): object {
  c.stream = true;
  const done = (outcome: StreamOutcome, chunks: number | undefined, lastChunk: unknown) => {
    if (chunks !== undefined) c.chunks = chunks;
    const st = c.site.streamTokens;
    if (st === 'chunks') {
      if (chunks !== undefined) c.outputTokens = chunks;
    } else if (st !== undefined) {
      const summary: StreamSummary = { chunks, lastChunk, outcome };
      countTokens(calls, c, st, summary, args);
    }
    calls.end(c, STREAM_OUTCOME[outcome]);
  };
  if (isNodeStream(stream)) {
    watchNodeStream(stream, done);
    return stream;
  }
  // Chunks arrive over time: the GPU's energy of each interval is shared by the chunks produced in it.
  c.tokenStream = true;
  return trackAsyncIterable(stream, done, () => {
    c.newChunks++;
  });
}

function checkTokens(t: unknown, name: string): { input: number; output: number } | string {
  if (t === undefined || t === null) return { input: NaN, output: NaN };
  if (typeof t !== 'object') return `returned ${typeof t}, expected { inputTokens?, outputTokens? }`;
  const { inputTokens, outputTokens } = t as TokenCounts;
  const ok = (v: unknown) => v === undefined || (typeof v === 'number' && v >= 0 && Number.isFinite(v));
  if (!ok(inputTokens) || !ok(outputTokens))
    return `returned ${JSON.stringify(t)}; token counts must be finite numbers ≥ 0 (call '${name}')`;
  return { input: inputTokens ?? NaN, output: outputTokens ?? NaN };
}

function countTokens(calls: CallLifecycle, c: CallState, fn: (r: any, a: any) => TokenCounts | undefined, value: unknown, args: unknown[]): void {
  let t: unknown;
  try {
    t = fn(value, args);
  } catch (e) {
    calls.warn('TOKENS_CALLBACK', `The tokens callback of '${c.site.name}' threw: ${toError(e).message}; the record has no token counts.`);
    return;
  }
  const checked = checkTokens(t, c.site.name);
  if (typeof checked === 'string') {
    calls.warn('TOKENS_CALLBACK', `The tokens callback of '${c.site.name}' ${checked}; the record has no token counts.`);
    return;
  }
  c.inputTokens = checked.input;
  c.outputTokens = checked.output;
}
