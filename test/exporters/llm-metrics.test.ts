import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { otelMetrics } from '../../src/exporters/otel.js';
import { prometheusMetrics } from '../../src/exporters/prometheus.js';
import { estimateLlmCall, type LlmCallRecord } from '../../src/llm/index.js';
import { FakeSource } from './fake-source.js';

function record(over: Partial<LlmCallRecord> = {}): LlmCallRecord {
  return {
    provider: 'openai',
    model: 'gpt-4o-mini',
    inputTokens: 10,
    outputTokens: 300,
    latencyS: 4,
    estimate: estimateLlmCall({ provider: 'openai', model: 'gpt-4o-mini', outputTokens: 300, latencyS: 4 }),
    labels: {},
    status: 'ok',
    stream: false,
    tokenSource: 'usage',
    startedAtMs: 0,
    ...over,
  };
}

describe("LLM estimates in the exporters (the tracker's 'llm' event)", () => {
  it('Prometheus: requests, tokens and estimated energy/emissions/water per bound, apart from measured energy', async () => {
    const source = new FakeSource();
    const registry = new Registry();
    const m = prometheusMetrics(source, { registry });
    const r = record();
    source.emit('llm', r);
    source.emit('llm', record({ status: 'aborted', tokenSource: 'counted-chunks', estimate: null, outputTokens: 0, inputTokens: 0 }));
    const text = await registry.metrics();
    const get = (line: string) => Number(text.split('\n').find((l) => l.startsWith(`${line} `))?.split(' ').pop());
    const l = 'provider="openai",model="gpt-4o-mini"';
    expect(get(`wattprint_llm_requests_total{${l},status="ok",token_source="usage"}`)).toBe(1);
    expect(get(`wattprint_llm_requests_total{${l},status="aborted",token_source="counted-chunks"}`)).toBe(1);
    expect(get(`wattprint_llm_output_tokens_total{${l}}`)).toBe(300);
    expect(get(`wattprint_llm_estimated_energy_joules_total{${l},bound="min"}`)).toBeCloseTo(r.estimate!.energyKWh.min * 3.6e6, 9);
    expect(get(`wattprint_llm_estimated_energy_joules_total{${l},bound="max"}`)).toBeCloseTo(r.estimate!.energyKWh.max * 3.6e6, 9);
    expect(get(`wattprint_llm_estimated_emissions_grams_total{${l},bound="max"}`)).toBeCloseTo(r.estimate!.gwpKg.max * 1000, 12);
    expect(get(`wattprint_llm_estimated_water_liters_total{${l},bound="min"}`)).toBeCloseTo(r.estimate!.waterL.min, 12);
    expect(text).toMatch(/# HELP wattprint_llm_estimated_energy_joules_total .*ESTIMATED/);
    // Measured energy is not touched by remote estimates.
    expect(text).not.toMatch(/wattprint_energy_joules_total\{[^}]*openai/);
    m.close();
    source.emit('llm', r);
    expect(await registry.metrics()).not.toContain('wattprint_llm_');
  });

  it('OpenTelemetry: wattprint.llm.* counters with GenAI attributes and wattprint.bound', async () => {
    const source = new FakeSource();
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    const provider = new MeterProvider({ readers: [reader] });
    const handle = otelMetrics(source, provider.getMeter('t'));
    const r = record();
    source.emit('llm', r);
    source.emit('llm', r);
    await reader.forceFlush();
    const metrics = new Map(exporter.getMetrics().flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics.map((md) => [md.descriptor.name, md] as const))));
    const energy = metrics.get('wattprint.llm.estimated_energy')!;
    expect(energy.descriptor.unit).toBe('J');
    const max = energy.dataPoints.find((p) => p.attributes['wattprint.bound'] === 'max')!;
    expect(max.attributes['gen_ai.provider.name']).toBe('openai');
    expect(max.value).toBeCloseTo(2 * r.estimate!.energyKWh.max * 3.6e6, 9);
    const tokens = metrics.get('wattprint.llm.tokens')!.dataPoints.find((p) => p.attributes['gen_ai.token.type'] === 'output')!;
    expect(tokens.value).toBe(600);
    expect(metrics.get('wattprint.llm.requests')!.dataPoints[0]!.value).toBe(2);
    handle.close();
    await provider.shutdown();
  });
});
