import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { IntensityHooks, WattprintWarning } from '../../src/types.js';

/** One request a fake API received. */
export interface Seen {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  readonly atMs: number;
}

export type Handler = (req: Seen, res: ServerResponse) => void | Promise<void>;

/** A local HTTP server on 127.0.0.1 (never the network) recording every request. */
export interface FakeApi {
  readonly url: string;
  readonly seen: Seen[];
  handler: Handler;
  close(): Promise<void>;
}

export async function fakeApi(handler: Handler): Promise<FakeApi> {
  const seen: Seen[] = [];
  const api = { seen, handler } as FakeApi & { handler: Handler };
  const server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const s: Seen = { method: req.method ?? 'GET', path: u.pathname, query: u.searchParams, headers: req.headers, atMs: Date.now() };
    seen.push(s);
    req.resume();
    req.on('end', () => void api.handler(s, res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  Object.assign(api, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  });
  return api;
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

export function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain' });
  res.end(body);
}

/** Polls `cond` every 5 ms until it holds, or fails after `timeoutMs`. */
export async function until(cond: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Hooks that record what a provider reports. */
export function recordingHooks(): IntensityHooks & { warnings: WattprintWarning[]; changes: number } {
  const h = {
    warnings: [] as WattprintWarning[],
    changes: 0,
    beforeChange() {
      h.changes++;
    },
    warn(w: WattprintWarning) {
      h.warnings.push(w);
    },
  };
  return h;
}

// Real response shapes (trimmed to the fields the providers read, plus typical neighbours).

/** Electricity Maps v3 `GET /v3/carbon-intensity/latest`. */
export const emLatest = (zone: string, carbonIntensity: number, emissionFactorType = 'lifecycle') => ({
  zone,
  carbonIntensity,
  datetime: '2026-12-04T15:00:00.000Z',
  updatedAt: '2026-12-04T15:42:11.312Z',
  createdAt: '2026-12-01T15:45:02.124Z',
  emissionFactorType,
  isEstimated: true,
  estimationMethod: 'TIME_SLICER_AVERAGE',
  temporalGranularity: 'hourly',
});

/** carbonintensity.org.uk `GET /intensity`. */
export const ukNational = (forecast: number, actual: number | null) => ({
  data: [{ from: '2026-12-04T15:00Z', to: '2026-12-04T15:30Z', intensity: { forecast, actual, index: 'moderate' } }],
});

/** carbonintensity.org.uk `GET /regional/regionid/{id}` and `/regional/postcode/{outward}`. */
export const ukRegional = (regionid: number, shortname: string, forecast: number, postcode?: string) => ({
  data: [
    {
      regionid,
      dnoregion: 'UKPN London',
      shortname,
      ...(postcode ? { postcode } : {}),
      data: [
        {
          from: '2026-12-04T15:00Z',
          to: '2026-12-04T15:30Z',
          intensity: { forecast, index: 'moderate' },
          generationmix: [
            { fuel: 'gas', perc: 41.2 },
            { fuel: 'wind', perc: 30.1 },
          ],
        },
      ],
    },
  ],
});

/** WattTime v3 `GET /v3/forecast` (and `/v3/historical`, same envelope). */
export const wtData = (values: number[], units = 'lbs_co2_per_mwh', region = 'CAISO_NORTH') => ({
  data: values.map((value, i) => ({ point_time: `2026-12-04T15:${String(i * 5).padStart(2, '0')}:00+00:00`, value })),
  meta: {
    data_point_period_seconds: 300,
    region,
    warnings: [],
    signal_type: 'co2_moer',
    model: { date: '2026-03-01' },
    units,
    generated_at_period_seconds: 300,
    generated_at: '2026-12-04T15:00:00+00:00',
  },
});
