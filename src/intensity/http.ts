import type { ClientRequest, IncomingHttpHeaders } from 'node:http';
import { nodeHttp } from '../builtins.js';
import { WattprintError } from '../errors.js';

/** Why a live request failed; each cause is warned about once per provider. */
export type FailureCause =
  | 'unauthorized'
  | 'rate-limited'
  | 'server-error'
  | 'http-error'
  | 'malformed'
  | 'redirect-loop'
  | 'timeout'
  | 'unreachable';

/** A failed live request. Its message never holds a header, a body or a query string. */
export class LiveRequestError extends Error {
  constructor(
    readonly failure: FailureCause,
    message: string,
    readonly status?: number,
    /** From a 429's Retry-After header. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'LiveRequestError';
  }
}

export interface JsonRequest {
  method?: 'GET' | 'PUT' | 'POST';
  headers?: Record<string, string>;
  /** Whole-request deadline, connection to last byte. */
  timeoutMs: number;
  /** Redirects followed on the same origin; more is a loop. Default 3. */
  maxRedirects?: number;
  /** Answer as text instead of JSON (instance metadata). */
  text?: boolean;
  signal?: AbortSignal;
}

const MAX_BODY_BYTES = 1 << 20;

/** A JSON object (not null, not an array). */
export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A provider's `baseUrl` option as a URL; a clear error naming the factory otherwise. */
export function baseUrlOf(factory: string, baseUrl: string | undefined, fallback: string): URL {
  try {
    const u = new URL(baseUrl ?? fallback);
    if (u.protocol === 'http:' || u.protocol === 'https:') return u;
  } catch {
    // reported below
  }
  throw new WattprintError('INVALID_OPTION', `${factory}(): baseUrl must be an http(s) URL such as '${fallback}'`, { option: 'baseUrl' });
}

/** `path` under `base` (a base with a path prefix keeps it), with the query set. */
export function apiUrl(base: URL, path: string, query: Record<string, string | number> = {}): URL {
  const u = new URL(path, base.href.endsWith('/') ? base : `${base.href}/`);
  for (const [k, v] of Object.entries(query)) u.searchParams.set(k, String(v));
  return u;
}

/** `scheme://host:port/path` without the query, which may carry a location or a key. */
export function describeUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

function retryAfterMs(headers: IncomingHttpHeaders): number | undefined {
  const raw = headers['retry-after'];
  if (typeof raw !== 'string') return undefined;
  const s = Number(raw);
  if (Number.isFinite(s) && s >= 0) return s * 1000;
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function classify(status: number, where: string, headers: IncomingHttpHeaders): LiveRequestError {
  if (status === 401 || status === 403) return new LiveRequestError('unauthorized', `HTTP ${status} from ${where}`, status);
  if (status === 429) return new LiveRequestError('rate-limited', `HTTP 429 from ${where}`, status, retryAfterMs(headers));
  if (status >= 500) return new LiveRequestError('server-error', `HTTP ${status} from ${where}`, status);
  return new LiveRequestError('http-error', `HTTP ${status} from ${where}`, status);
}

/**
 * One HTTP(S) request with a hard deadline, answering parsed JSON (or text). Sockets are unref'd
 * and never kept alive, so a pending request never holds the host process open. Redirects are
 * followed only within the same origin (credentials never go elsewhere), at most `maxRedirects`.
 */
export function requestJson(url: URL, opts: JsonRequest): Promise<unknown> {
  const maxRedirects = opts.maxRedirects ?? 3;
  return new Promise((resolve, reject) => {
    let settled = false;
    let current: ClientRequest | undefined;
    const done = (err: LiveRequestError | undefined, value?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      opts.signal?.removeEventListener('abort', onAbort);
      current?.destroy();
      if (err) reject(err);
      else resolve(value);
    };
    const deadline = setTimeout(
      () => done(new LiveRequestError('timeout', `no answer from ${describeUrl(url)} within ${opts.timeoutMs} ms`)),
      opts.timeoutMs,
    );
    deadline.unref();
    const onAbort = () => done(new LiveRequestError('timeout', `request to ${describeUrl(url)} cancelled`));
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    const send = (target: URL, redirectsLeft: number) => {
      const where = describeUrl(target);
      const requestFn = nodeHttp(target.protocol).request;
      const req = requestFn(target, { method: opts.method ?? 'GET', headers: { accept: 'application/json', ...opts.headers }, agent: false });
      current = req;
      req.on('socket', (s) => s.unref());
      req.on('error', (e: NodeJS.ErrnoException) => done(new LiveRequestError('unreachable', `${where}: ${e.code ?? 'connection failed'}`)));
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400 && res.headers.location) {
          res.resume();
          const next = new URL(res.headers.location, target);
          if (next.origin !== target.origin)
            return done(new LiveRequestError('redirect-loop', `${where} redirected to another origin (${next.origin}); not followed`, status));
          if (redirectsLeft <= 0)
            return done(new LiveRequestError('redirect-loop', `${where}: more than ${maxRedirects} redirects`, status));
          return send(next, redirectsLeft - 1);
        }
        if (status < 200 || status >= 300) {
          res.resume();
          return done(classify(status, where, res.headers));
        }
        const chunks: Buffer[] = [];
        let bytes = 0;
        res.on('data', (c: Buffer) => {
          bytes += c.length;
          if (bytes > MAX_BODY_BYTES) done(new LiveRequestError('malformed', `${where}: answer larger than ${MAX_BODY_BYTES} bytes`));
          else chunks.push(c);
        });
        res.on('error', () => done(new LiveRequestError('unreachable', `${where}: connection lost`)));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          if (opts.text) return done(undefined, body.trim());
          try {
            done(undefined, JSON.parse(body));
          } catch {
            done(new LiveRequestError('malformed', `${where}: the answer is not JSON`));
          }
        });
      });
      req.end();
    };
    send(url, maxRedirects);
  });
}
