import { nodeStream } from '../builtins.js';

export type StreamOutcome = 'ok' | 'error' | 'abandoned';
export type StreamDone = (outcome: StreamOutcome, chunks: number | undefined, lastChunk: unknown) => void;

/** A Node.js stream (Readable, Duplex, ...): observable with `stream.finished`, no wrapping needed. */
export function isNodeStream(value: object): boolean {
  const v = value as { pipe?: unknown; on?: unknown };
  return typeof v.pipe === 'function' && typeof v.on === 'function';
}

export function isAsyncIterable(value: object): value is AsyncIterable<unknown> {
  return typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function';
}

/**
 * Calls `done` once when a Node.js stream ends, errors or is destroyed early. The stream itself is
 * returned to the caller untouched; its data is not read here.
 */
export function watchNodeStream(stream: object, done: StreamDone): void {
  nodeStream().finished(stream as NodeJS.ReadableStream, (err) => {
    if (!err) done('ok', undefined, undefined);
    else done((err as { code?: string }).code === 'ERR_STREAM_PREMATURE_CLOSE' ? 'abandoned' : 'error', undefined, undefined);
  });
}

/**
 * A view of an async iterable whose iteration is observed: `done` is called once, when any
 * iterator obtained from it completes, throws, or is closed early with `return()` (a `break` out of
 * `for await`), and `onChunk` once per value pulled. Every other property reads through to the original (methods bound to it, so
 * classes with private fields keep working), and `instanceof` still holds.
 */
export function trackAsyncIterable<T extends object>(target: T, done: StreamDone, onChunk?: () => void): T {
  let finishedOnce = false;
  let chunks = 0;
  let lastChunk: unknown;
  const finish = (outcome: StreamOutcome) => {
    if (finishedOnce) return;
    finishedOnce = true;
    done(outcome, chunks, lastChunk);
  };
  const fail = (e: unknown): never => {
    finish('error');
    throw e;
  };

  const observe = (it: AsyncIterator<unknown>): AsyncIterableIterator<unknown> => {
    const wrapped: AsyncIterableIterator<unknown> = {
      next(...args: [] | [unknown]) {
        let p;
        try {
          p = it.next(...args);
        } catch (e) {
          return Promise.reject(fail(e));
        }
        return Promise.resolve(p).then((r) => {
          if (r.done) finish('ok');
          else {
            chunks++;
            lastChunk = r.value;
            onChunk?.();
          }
          return r;
        }, fail);
      },
      return(value?: unknown) {
        if (typeof it.return !== 'function') {
          finish('abandoned');
          return Promise.resolve({ done: true, value } as IteratorResult<unknown>);
        }
        let p;
        try {
          p = it.return(value);
        } catch (e) {
          return Promise.reject(fail(e));
        }
        // The generator's finally blocks run inside return(): the call lasts until they finish.
        return Promise.resolve(p).then((r) => {
          finish('abandoned');
          return r;
        }, fail);
      },
      throw(err?: unknown) {
        if (typeof it.throw !== 'function') {
          finish('error');
          return Promise.reject(err);
        }
        let p;
        try {
          p = it.throw(err);
        } catch (e) {
          return Promise.reject(fail(e));
        }
        return Promise.resolve(p).then((r) => {
          if (r.done) finish('error');
          else {
            chunks++;
            lastChunk = r.value;
            onChunk?.();
          }
          return r;
        }, fail);
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
    return wrapped;
  };

  // An async generator object is its own iterator: next/return/throw on the view and a for-await
  // over it must share one observed iterator.
  const source = target as unknown as AsyncIterable<unknown> & Partial<AsyncIterator<unknown>>;
  const isOwnIterator = typeof source.next === 'function';
  let own: AsyncIterableIterator<unknown> | undefined;
  const ownIterator = () => (own ??= observe(source as AsyncIterator<unknown>));

  return new Proxy(target, {
    get(t, prop) {
      if (prop === Symbol.asyncIterator) {
        return isOwnIterator ? () => ownIterator() : () => observe(source[Symbol.asyncIterator]());
      }
      if (isOwnIterator && (prop === 'next' || prop === 'return' || prop === 'throw')) {
        const it = ownIterator();
        return it[prop]!.bind(it);
      }
      const value = Reflect.get(t, prop, t);
      if (typeof value !== 'function' || prop === 'constructor') return value;
      const desc = Reflect.getOwnPropertyDescriptor(t, prop);
      // Proxy invariant: a non-configurable, read-only own property must read back identical.
      if (desc && !desc.configurable && !desc.writable) return value;
      return (value as (...a: unknown[]) => unknown).bind(t);
    },
  });
}
