import { Registry, register as defaultRegistry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { prometheusMetrics, type PrometheusMetrics } from '../../src/exporters/prometheus.js';
import { FakeSource, machineSnapshot } from './fake-source.js';

/** `name{labels} value` lines of the text exposition, as a map. */
async function scrape(registry: Registry): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const line of (await registry.metrics()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

const open: PrometheusMetrics[] = [];
afterEach(() => {
  for (const m of open.splice(0)) m.close();
});

describe('prometheusMetrics', () => {
  it('exposes per-device energy and power, emissions, intensity and PUE read from the snapshot at scrape time', async () => {
    const source = new FakeSource();
    const registry = new Registry();
    open.push(prometheusMetrics(source, { registry }));
    const m = await scrape(registry);
    const cpu0 = 'component="cpu",device="package-0",source="rapl",kind="measured",scope="machine",project="fleet-test"';
    const cpu1 = 'component="cpu",device="package-1",source="rapl",kind="measured",scope="machine",project="fleet-test"';
    const ram = 'component="ram",device="dimms",source="ram-dimm",kind="estimated",scope="machine",project="fleet-test"';
    expect(m.get(`wattprint_energy_joules_total{${cpu0}}`)).toBe(1800);
    expect(m.get(`wattprint_energy_joules_total{${cpu1}}`)).toBe(1200);
    // RAM has no per-device energy: one series for the component, named after its only device.
    expect(m.get(`wattprint_energy_joules_total{${ram}}`)).toBe(600);
    expect(m.get(`wattprint_power_watts{${cpu0}}`)).toBe(30);
    expect(m.get(`wattprint_power_watts{${ram}}`)).toBe(10);
    // No series for a component that is not accounted (the GPU here), and none twice.
    expect([...m.keys()].filter((k) => k.startsWith('wattprint_energy_joules_total'))).toHaveLength(3);
    expect([...m.keys()].some((k) => k.includes('component="gpu"'))).toBe(false);
    expect(m.get('wattprint_emissions_grams_total{component="cpu",project="fleet-test"}')).toBe(0.4);
    expect(m.get('wattprint_emissions_grams_total{component="ram",project="fleet-test"}')).toBe(0.08);
    expect(m.get('wattprint_grid_intensity_grams_per_kwh{source="test-grid"}')).toBe(400);
    expect(m.get('wattprint_pue')).toBe(1.2);
    expect(m.get('wattprint_last_sample_timestamp_seconds{project="fleet-test"}')).toBe(1_700_000_060);
    expect(m.get('wattprint_calls_total{name="complete",outcome="ok"}')).toBe(5);
    expect(m.get('wattprint_calls_total{name="complete",outcome="error"}')).toBe(1);
    expect(m.get('wattprint_calls_total{name="complete",outcome="aborted"}')).toBe(2);
    expect(m.get('wattprint_call_output_tokens_total{name="complete"}')).toBe(40);
    expect(m.get('wattprint_call_input_tokens_total{name="complete"}')).toBe(100);
    // The whole scrape read one snapshot, not one per collector.
    expect(source.reads).toBe(1);
    const text = await registry.metrics();
    expect(text).toContain('# TYPE wattprint_energy_joules_total counter');
    expect(text).toContain('# TYPE wattprint_power_watts gauge');
    expect(text).toContain('# TYPE wattprint_call_energy_joules histogram');
  });

  it('follows the snapshot between scrapes, counters never go back to a stale value', async () => {
    const source = new FakeSource();
    const registry = new Registry();
    open.push(prometheusMetrics(source, { registry }));
    await scrape(registry);
    const next = machineSnapshot();
    source.current = {
      ...next,
      components: {
        ...next.components,
        cpu: { ...next.components.cpu, energyJ: 4000, devices: [{ id: 'package-0', name: 'package-0', energyJ: 2500, powerW: 70 }, { id: 'package-1', name: 'package-1', energyJ: 1500, powerW: 30 }] },
      },
      intensity: { gPerKWh: 55, source: 'other-grid' },
    };
    const m = await scrape(registry);
    expect(m.get('wattprint_energy_joules_total{component="cpu",device="package-0",source="rapl",kind="measured",scope="machine",project="fleet-test"}')).toBe(2500);
    expect(m.get('wattprint_power_watts{component="cpu",device="package-0",source="rapl",kind="measured",scope="machine",project="fleet-test"}')).toBe(70);
    // The intensity source changed: the old series is gone, not left behind.
    expect(m.get('wattprint_grid_intensity_grams_per_kwh{source="other-grid"}')).toBe(55);
    expect(m.has('wattprint_grid_intensity_grams_per_kwh{source="test-grid"}')).toBe(false);
    expect(source.reads).toBe(2);
  });

  it('one series per component when its devices carry no energy of their own', async () => {
    const base = machineSnapshot();
    const source = new FakeSource({
      ...base,
      components: { ...base.components, cpu: { ...base.components.cpu, devices: [{ id: 'package-0', name: 'p0' }, { id: 'package-1', name: 'p1' }] } },
    });
    const registry = new Registry();
    open.push(prometheusMetrics(source, { registry }));
    const m = await scrape(registry);
    expect(m.get('wattprint_energy_joules_total{component="cpu",device="all",source="rapl",kind="measured",scope="machine",project="fleet-test"}')).toBe(3000);
    expect(m.get('wattprint_power_watts{component="cpu",device="all",source="rapl",kind="measured",scope="machine",project="fleet-test"}')).toBe(50);
  });

  it("puts each 'call' event's energy into the histogram buckets (0.01 J to 10 kJ)", async () => {
    const source = new FakeSource();
    const registry = new Registry();
    open.push(prometheusMetrics(source, { registry }));
    source.emitCall('complete', 0.05);
    source.emitCall('complete', 50);
    source.emitCall('complete', 20000);
    source.emitCall('embed', 0.005);
    const m = await scrape(registry);
    const b = (name: string, le: string) => m.get(`wattprint_call_energy_joules_bucket{le="${le}",name="${name}"}`);
    expect(b('complete', '0.01')).toBe(0);
    expect(b('complete', '0.0316')).toBe(0);
    expect(b('complete', '0.1')).toBe(1);
    expect(b('complete', '31.6')).toBe(1);
    expect(b('complete', '100')).toBe(2);
    expect(b('complete', '10000')).toBe(2);
    expect(b('complete', '+Inf')).toBe(3);
    expect(b('embed', '0.01')).toBe(1);
    expect(m.get('wattprint_call_energy_joules_sum{name="complete"}')).toBeCloseTo(20050.05, 6);
    expect(m.get('wattprint_call_energy_joules_count{name="complete"}')).toBe(3);
  });

  it('custom buckets; bad buckets and bad arguments fail at construction with a named option', () => {
    const source = new FakeSource();
    expect(() => prometheusMetrics(source, { registry: new Registry(), callEnergyBucketsJ: [1, 0.5] })).toThrow(/`callEnergyBucketsJ`.*increasing/);
    expect(() => prometheusMetrics(source, { registry: new Registry(), callEnergyBucketsJ: [] })).toThrow(/callEnergyBucketsJ/);
    expect(() => prometheusMetrics({} as never)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => prometheusMetrics(source, { registry: {} as never })).toThrow(/`registry`.*new Registry\(\)/);
    const registry = new Registry();
    open.push(prometheusMetrics(source, { registry, callEnergyBucketsJ: [1, 10] }));
    expect(registry.getSingleMetric('wattprint_call_energy_joules')).toBeDefined();
  });

  it('refuses to register twice on one registry until close(), which also stops listening', async () => {
    const source = new FakeSource();
    const registry = new Registry();
    const first = prometheusMetrics(source, { registry });
    expect(source.listenerCount('call')).toBe(1);
    expect(() => prometheusMetrics(source, { registry })).toThrow(expect.objectContaining({ code: 'METRICS_REGISTERED' }));
    first.close();
    first.close();
    expect(source.listenerCount('call')).toBe(0);
    expect(await registry.metrics()).toBe('\n');
    open.push(prometheusMetrics(source, { registry }));
  });

  it("uses prom-client's default registry when none is given", async () => {
    const source = new FakeSource();
    const m = prometheusMetrics(source);
    open.push(m);
    expect(m.registry).toBe(defaultRegistry);
    expect(await defaultRegistry.getSingleMetricAsString('wattprint_pue')).toContain('wattprint_pue 1.2');
  });
});
