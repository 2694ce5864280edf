import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PromClient } from '../exporters/prometheus-collectors.js';
import { registerPrometheusMetrics } from '../exporters/prometheus-collectors.js';
import type { MetricsSource } from '../exporters/source.js';
import { CliError, EXIT } from './exit.js';

/** A running `/metrics` endpoint. */
export interface MetricsServer {
  /** `http://host:port/metrics`, with the port actually bound (for `--prometheus 0`). */
  readonly url: string;
  close(): Promise<void>;
}

async function loadPromClient(): Promise<PromClient & Pick<typeof import('prom-client'), 'Registry'>> {
  try {
    const mod = (await import('prom-client')) as typeof import('prom-client') & { default?: typeof import('prom-client') };
    return mod.Registry ? mod : mod.default!;
  } catch (e) {
    throw new CliError(`--prometheus needs the prom-client package, which is not installed (${(e as Error).message}); install it with: npm install prom-client`, EXIT.USAGE);
  }
}

/**
 * Serves the tracker's metrics in the Prometheus text format at `/metrics` on `host:port`, from a
 * registry of its own (prom-client's, with wattprint's collectors only). Other paths answer 404,
 * other methods than GET and HEAD 405. Fails with a usage error when the address cannot be bound.
 */
export async function serveMetrics(tracker: MetricsSource, host: string, port: number): Promise<MetricsServer> {
  const client = await loadPromClient();
  const registry = new client.Registry();
  const metrics = registerPrometheusMetrics(client, tracker, { registry });
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('wattprint: metrics are at /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('wattprint: GET /metrics\n');
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(req.method === 'HEAD' ? undefined : body),
      (e: unknown) => res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`wattprint: ${(e as Error).message}\n`),
    );
  });
  // Scrapers keep connections alive; never let one hold the process open at exit.
  server.keepAliveTimeout = 5000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    metrics.close();
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'EADDRINUSE' ? 'the port is in use' : err.code === 'EACCES' ? 'permission denied (ports below 1024 need privileges)' : err.message;
    throw new CliError(`cannot serve --prometheus on ${host}:${port}: ${why}; pick another --prometheus port or --host`, EXIT.USAGE);
  }
  const addr = server.address() as AddressInfo;
  const shownHost = addr.family === 'IPv6' || addr.address.includes(':') ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${shownHost}:${addr.port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        metrics.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
