import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { otelMetrics } from '../../src/exporters/otel.js';
import { FakeSource, machineSnapshot } from './fake-source.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A MeterProvider whose only reader exports to memory on forceFlush (its timer never fires in a test). */
function inMemory() {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ readers: [reader] });
  cleanups.push(() => provider.shutdown());
  const collect = async (): Promise<Map<string, MetricData>> => {
    exporter.reset();
    await reader.forceFlush();
    const out = new Map<string, MetricData>();
    for (const rm of exporter.getMetrics()) for (const sm of rm.scopeMetrics) for (const md of sm.metrics) out.set(md.descriptor.name, md);
    return out;
  };
  return { meter: provider.getMeter('wattprint-test'), collect };
}

const point = (md: MetricData | undefined, attrs: Record<string, string>) =>
  md?.dataPoints.find((p) => Object.entries(attrs).every(([k, v]) => p.attributes[k] === v));

describe('otelMetrics', () => {
  it('observes hw.energy, hw.power and wattprint.emissions from the snapshot at collect time, with hardware attributes', async () => {
    const source = new FakeSource();
    const { meter, collect } = inMemory();
    const handle = otelMetrics(source, meter);
    cleanups.push(() => handle.close());
    let m = await collect();
    const energy = m.get('hw.energy')!;
    expect(energy.descriptor.unit).toBe('J');
    expect(energy.dataPointType).toBe(DataPointType.SUM);
    expect(energy.aggregationTemporality).toBe(AggregationTemporality.CUMULATIVE);
    expect((energy as { isMonotonic?: boolean }).isMonotonic).toBe(true);
    expect(energy.dataPoints).toHaveLength(3);
    const p0 = point(energy, { 'hw.id': 'rapl:package-0' })!;
    expect(p0.value).toBe(1800);
    expect(p0.attributes).toEqual({
      'hw.id': 'rapl:package-0',
      'hw.type': 'cpu',
      'hw.name': 'package-0',
      'wattprint.source': 'rapl',
      'wattprint.kind': 'measured',
      'wattprint.scope': 'machine',
      'wattprint.project': 'fleet-test',
    });
    const ram = point(energy, { 'hw.type': 'memory' })!;
    expect(ram.value).toBe(600);
    expect(ram.attributes['wattprint.kind']).toBe('estimated');
    const power = m.get('hw.power')!;
    expect(power.descriptor.unit).toBe('W');
    expect(power.dataPointType).toBe(DataPointType.GAUGE);
    expect(point(power, { 'hw.id': 'rapl:package-1' })!.value).toBe(20);
    expect(point(m.get('wattprint.emissions'), { 'hw.type': 'cpu' })!.value).toBe(0.4);
    expect(point(m.get('wattprint.emissions'), { 'hw.type': 'memory' })!.value).toBe(0.08);
    expect(m.get('wattprint.emissions')!.dataPoints).toHaveLength(2);
    expect(point(m.get('wattprint.grid.intensity'), { 'wattprint.intensity.source': 'test-grid' })!.value).toBe(400);
    expect(point(m.get('wattprint.calls'), { 'wattprint.call.name': 'complete', 'wattprint.call.outcome': 'aborted' })!.value).toBe(2);
    expect(source.reads).toBe(1);

    // Cumulative values follow the snapshot at the next collection.
    const next = machineSnapshot();
    source.current = { ...next, components: { ...next.components, ram: { ...next.components.ram, energyJ: 900, powerW: 12 } } };
    m = await collect();
    expect(point(m.get('hw.energy'), { 'hw.type': 'memory' })!.value).toBe(900);
    expect(point(m.get('hw.power'), { 'hw.type': 'memory' })!.value).toBe(12);

    // close() stops observing: nothing is read any more.
    handle.close();
    const reads = source.reads;
    m = await collect();
    expect(source.reads).toBe(reads);
    expect(source.listenerCount('call')).toBe(0);
  });

  it("records each 'call' event into wattprint.call.energy with 0.01 J … 10 kJ buckets and GenAI attributes", async () => {
    const source = new FakeSource();
    const { meter, collect } = inMemory();
    const handle = otelMetrics(source, meter);
    cleanups.push(() => handle.close());
    source.emitCall('complete', 0.05, { labels: { model: 'llama-3-8b', provider: 'vllm', tenant: 'a' } });
    source.emitCall('complete', 50, { labels: { model: 'llama-3-8b', provider: 'vllm', tenant: 'a' } });
    source.emitCall('complete', 2, { labels: { 'gen_ai.request.model': 'gpt-x' } });
    const m = await collect();
    const h = m.get('wattprint.call.energy')!;
    expect(h.descriptor.unit).toBe('J');
    expect(h.dataPointType).toBe(DataPointType.HISTOGRAM);
    const llama = point(h, { 'gen_ai.request.model': 'llama-3-8b' })!;
    expect(llama.attributes).toEqual({
      'wattprint.call.name': 'complete',
      'wattprint.call.outcome': 'ok',
      'gen_ai.request.model': 'llama-3-8b',
      'gen_ai.provider.name': 'vllm',
    });
    const v = llama.value as { count: number; sum: number; buckets: { boundaries: number[]; counts: number[] } };
    expect(v.count).toBe(2);
    expect(v.sum).toBeCloseTo(50.05, 9);
    expect(v.buckets.boundaries).toEqual([0.01, 0.0316, 0.1, 0.316, 1, 3.16, 10, 31.6, 100, 316, 1000, 3160, 10000]);
    // 0.05 J in (0.0316, 0.1], 50 J in (31.6, 100].
    expect(v.buckets.counts[2]).toBe(1);
    expect(v.buckets.counts[8]).toBe(1);
    expect(v.buckets.counts.reduce((a, b) => a + b, 0)).toBe(2);
    expect((point(h, { 'gen_ai.request.model': 'gpt-x' })!.value as { count: number }).count).toBe(1);
  });

  it('fails at construction on a bad meter, tracker or buckets', () => {
    const source = new FakeSource();
    const { meter } = inMemory();
    expect(() => otelMetrics(source, {} as never)).toThrow(/expected an OpenTelemetry Meter/);
    expect(() => otelMetrics(null as never, meter)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => otelMetrics(source, meter, { callEnergyBucketsJ: [0, 1] })).toThrow(/`callEnergyBucketsJ`/);
  });

  it('reaches an OTLP/HTTP receiver through the JSON exporter, values intact', async () => {
    const received: unknown[] = [];
    const server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        expect(req.url).toBe('/v1/metrics');
        expect(req.headers['content-type']).toMatch(/application\/json/);
        received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const port = (server.address() as AddressInfo).port;

    const exporter = new OTLPMetricExporter({ url: `http://127.0.0.1:${port}/v1/metrics` });
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    const provider = new MeterProvider({ readers: [reader] });
    cleanups.push(() => provider.shutdown());
    const source = new FakeSource();
    const handle = otelMetrics(source, provider.getMeter('wattprint-otlp'));
    cleanups.push(() => handle.close());
    source.emitCall('complete', 3, { labels: { model: 'm1' } });
    await reader.forceFlush();

    expect(received).toHaveLength(1);
    type Attr = { key: string; value: { stringValue?: string } };
    type Point = { attributes: Attr[]; asDouble?: number; asInt?: string | number; count?: string | number; sum?: number };
    type Metric = { name: string; unit: string; sum?: { dataPoints: Point[]; isMonotonic: boolean }; gauge?: { dataPoints: Point[] }; histogram?: { dataPoints: Point[] } };
    const body = received[0] as { resourceMetrics: Array<{ scopeMetrics: Array<{ scope: { name: string }; metrics: Metric[] }> }> };
    const scope = body.resourceMetrics[0]!.scopeMetrics.find((s) => s.scope.name === 'wattprint-otlp')!;
    const byName = new Map(scope.metrics.map((x) => [x.name, x]));
    const attr = (p: Point, k: string) => p.attributes.find((a) => a.key === k)?.value.stringValue;
    const energy = byName.get('hw.energy')!;
    expect(energy.unit).toBe('J');
    expect(energy.sum!.isMonotonic).toBe(true);
    const pkg1 = energy.sum!.dataPoints.find((p) => attr(p, 'hw.id') === 'rapl:package-1')!;
    expect(pkg1.asDouble).toBe(1200);
    expect(attr(pkg1, 'hw.type')).toBe('cpu');
    const ramPower = byName.get('hw.power')!.gauge!.dataPoints.find((p) => attr(p, 'hw.type') === 'memory')!;
    expect(ramPower.asDouble).toBe(10);
    expect(attr(ramPower, 'wattprint.kind')).toBe('estimated');
    const call = byName.get('wattprint.call.energy')!.histogram!.dataPoints[0]!;
    expect(Number(call.count)).toBe(1);
    expect(call.sum).toBe(3);
    expect(attr(call, 'gen_ai.request.model')).toBe('m1');
  });
});
