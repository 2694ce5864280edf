/// <reference path="../global-setup.ts" />
// A real Prometheus server (Debian's `prometheus`, installed by test/setup.sh) scrapes
// `wattprint monitor --prometheus` running on a fake RAPL tree whose counters the test moves at a
// known power; a query through Prometheus's HTTP API must find that power.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { buildSystem, EU, type FakeSystem, type FakeZone } from '../fixtures/powercap/tree.js';
import { runCli, startCli, tempDir, waitFor } from './helpers.js';

const PROMETHEUS = 'prometheus';
const hasPrometheus = spawnSync(PROMETHEUS, ['--version'], { stdio: 'ignore' }).status === 0;
const addon = inject('nativeAddon');

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** Instant query; the numeric values of the result vector. */
async function query(base: string, promql: string): Promise<number[]> {
  const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = (await res.json()) as { status: string; data: { result: Array<{ value: [number, string] }> } };
  expect(body.status).toBe('success');
  return body.data.result.map((r) => Number(r.value[1]));
}

describe.skipIf(!hasPrometheus)('wattprint monitor --prometheus scraped by a real Prometheus', () => {
  it('Prometheus reads the injected package and DRAM power within 5 %', { timeout: 90_000 }, async () => {
    expect(addon.path, addon.error).toBeTruthy();
    const sys: FakeSystem = buildSystem({
      rapl: [{ name: 'package-0', children: [{ name: 'dram', euNj: EU.serverDram }] }],
      cpu: { vendor: 'GenuineIntel', family: 6, model: 85 },
    });
    cleanups.push(() => sys.cleanup());
    const pkg = sys.zone('intel-rapl:0');
    const dram = sys.zone('intel-rapl:0:0');
    // Counters follow wall time at a fixed power, refreshed every 10 ms. Each file is replaced by a
    // rename, as sysfs never shows a half-written value (a truncate-then-write would, to the reader).
    const PKG_W = 42;
    const DRAM_W = 7.5;
    const t0 = performance.now();
    const added = { pkg: 0n, dram: 0n };
    const advance = (zone: FakeZone, counts: bigint) => {
      zone.raw = (zone.raw + counts) % 2n ** 32n;
      const tmp = join(dirname(zone.energyFile), '.energy_uj.tmp');
      writeFileSync(tmp, `${zone.shownUj}\n`);
      renameSync(tmp, zone.energyFile);
    };
    const move = () => {
      const s = (performance.now() - t0) / 1000;
      const pkgTotal = BigInt(Math.round((PKG_W * s * 1e9) / EU.core));
      const dramTotal = BigInt(Math.round((DRAM_W * s * 1e9) / EU.serverDram));
      advance(pkg, pkgTotal - added.pkg);
      advance(dram, dramTotal - added.dram);
      added.pkg = pkgTotal;
      added.dram = dramTotal;
    };
    const mover = setInterval(move, 10);
    cleanups.push(() => clearInterval(mover));

    const out = tempDir();
    const monitor = startCli(
      ['monitor', '--prometheus', '0', '--interval', '2', '--measure-power-secs', '1', '--output-dir', out, '--force-carbon-intensity', '100',
        '--sysfs-root', sys.sysfsRoot, '--procfs-root', sys.procfsRoot, '--dev-root', sys.devRoot],
      { timeoutMs: 85_000 },
    );
    cleanups.push(() => stopChild(monitor.child));
    await waitFor(monitor.stderr, '/metrics\n', 20_000);
    expect(monitor.stderr()).not.toMatch(/rapl unavailable/);
    const url = /serving Prometheus metrics at (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(monitor.stderr())![1]!;
    const target = new URL(url).host;

    const promPort = await freePort();
    const dir = tempDir('wattprint-prom-');
    const config = join(dir, 'prometheus.yml');
    writeFileSync(
      config,
      `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: wattprint\n    static_configs:\n      - targets: ['${target}']\n`,
    );
    const prom = spawn(
      PROMETHEUS,
      [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let promLog = '';
    prom.stderr!.on('data', (d: Buffer) => (promLog += d.toString()));
    cleanups.push(() => stopChild(prom));
    const base = `http://127.0.0.1:${promPort}`;

    // Wait for a few scrapes of sampled power (the first samples may straddle the start).
    const deadline = Date.now() + 60_000;
    let samples: number[] = [];
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1000));
      try {
        samples = await query(base, 'count_over_time(wattprint_power_watts{component="cpu",kind="measured"}[1m])');
      } catch {
        continue; // not ready yet
      }
      if ((samples[0] ?? 0) >= 20) break;
    }
    expect(samples[0] ?? 0, `Prometheus log:\n${promLog}\nmonitor stderr:\n${monitor.stderr()}`).toBeGreaterThanOrEqual(20);

    // One sampling interval on a loaded machine can catch the test's counter updates late; over
    // 15 s the energy is the same, so both ways Prometheus users read power must land within 5 %.
    const within5 = (got: number | undefined, want: number, what: string) =>
      expect(Math.abs(got! / want - 1), `${what}: ${got} W for ${want} W injected`).toBeLessThan(0.05);
    const cpuW = await query(base, 'avg_over_time(sum(wattprint_power_watts{component="cpu",source="rapl",scope="machine"})[15s:1s])');
    within5(cpuW[0], PKG_W, 'package power gauge');
    const ramW = await query(base, 'avg_over_time(sum(wattprint_power_watts{component="ram",kind="measured"})[15s:1s])');
    within5(ramW[0], DRAM_W, 'DRAM power gauge');
    // Power from the energy counter: rate() over the scraped totals.
    const rate = await query(base, 'sum(rate(wattprint_energy_joules_total{component="cpu"}[15s]))');
    within5(rate[0], PKG_W, 'rate of the package energy counter');
    const up = await query(base, 'up{job="wattprint"}');
    expect(up).toEqual([1]);

    // The monitor keeps writing its CSV meanwhile, and stops cleanly.
    await stopChild(monitor.child);
    const r = await monitor.done;
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/stopped \(SIGTERM\)/);
  });
});

describe('wattprint monitor --prometheus, the endpoint itself', () => {
  it('serves /metrics with the text format, 404 elsewhere, 405 for other methods, and writes its CSV and timeline', async () => {
    const out = tempDir();
    const timeline = join(out, 'timeline.jsonl');
    const run = startCli(['monitor', '--prometheus', '0', '--interval', '0.5', '--measure-power-secs', '0.2', '--duration', '3', '--output-dir', out, '--no-native', '--force-carbon-intensity', '100', '--timeline', timeline]);
    cleanups.push(() => stopChild(run.child));
    await waitFor(run.stderr, '/metrics\n');
    const url = /serving Prometheus metrics at (\S+)/.exec(run.stderr())![1]!;
    await new Promise((r) => setTimeout(r, 700));
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const body = await res.text();
    expect(body).toMatch(/^wattprint_energy_joules_total\{component="cpu",device="[^"]+",source="cpu-tdp",kind="estimated",scope="machine",project="wattprint"\} [\d.e+-]+$/m);
    expect(body).toMatch(/^wattprint_grid_intensity_grams_per_kwh\{source="[^"]*"\} 100$/m);
    expect((await fetch(url.replace('/metrics', '/'))).status).toBe(404);
    expect((await fetch(url, { method: 'POST' })).status).toBe(405);
    const head = await fetch(url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const r = await run.done;
    expect(r.code).toBe(0);
    const rows = readFileSync(join(out, 'emissions.csv'), 'utf8').trim().split('\n');
    expect(rows.length).toBeGreaterThanOrEqual(3);
    const samples = readFileSync(timeline, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; kinds: Record<string, string>; t_s: number });
    expect(samples.length).toBeGreaterThanOrEqual(5);
    expect(samples[0]!.kinds.cpu).toBe('estimated');
    expect(samples.at(-1)!.t_s).toBeGreaterThanOrEqual(2.9);
    // The endpoint is closed with the monitor.
    await expect(fetch(url)).rejects.toThrow();
  });

  it('a port in use, a bad port or --host alone are usage errors (exit 2, one line)', async () => {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => srv.close(() => r())));
    const port = (srv.address() as { port: number }).port;
    const busy = await runCli(['monitor', '--prometheus', String(port), '--duration', '1', '--output-dir', tempDir(), '--no-native']);
    expect(busy.code).toBe(2);
    expect(busy.stderr).toBe(`wattprint: cannot serve --prometheus on 127.0.0.1:${port}: the port is in use; pick another --prometheus port or --host\n`);
    const bad = await runCli(['monitor', '--prometheus', '70000']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--prometheus <port>.*expected a TCP port, 0 to 65535/);
    const host = await runCli(['monitor', '--host', '0.0.0.0', '--duration', '1', '--no-native', '--output-dir', tempDir()]);
    expect(host.code).toBe(2);
    expect(host.stderr).toBe('wattprint: --host needs --prometheus <port>, e.g. --prometheus 9464 --host 0.0.0.0\n');
  });
});
