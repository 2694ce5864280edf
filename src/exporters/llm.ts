/**
 * Metrics of remote LLM API calls (`wattprint/llm`), fed by the tracker's `'llm'` event. They are
 * estimates, kept apart from the measured series by their names (`…_llm_estimated_…`,
 * `wattprint.llm.estimated_…`) and reported as two bounds of the scenario range (`bound="min"|"max"`).
 */
import type { Counter as OtelCounter, Meter } from '@opentelemetry/api';
import type * as promClient from 'prom-client';
import type { Registry } from 'prom-client';
import type { LlmCallRecord } from '../llm/types.js';
import { J_PER_KWH } from '../units.js';

/**
 * A tracker with the `'llm'` event (EmissionsTracker). The exporters take a `MetricsSource` and
 * listen to `'llm'` on it too: an emitter without that event simply never feeds these metrics.
 */
export interface LlmEventSource {
  on(event: 'llm', listener: (record: LlmCallRecord) => void): unknown;
  off(event: 'llm', listener: (record: LlmCallRecord) => void): unknown;
}

export const LLM_PROMETHEUS_NAMES = [
  'wattprint_llm_requests_total',
  'wattprint_llm_input_tokens_total',
  'wattprint_llm_output_tokens_total',
  'wattprint_llm_estimated_energy_joules_total',
  'wattprint_llm_estimated_emissions_grams_total',
  'wattprint_llm_estimated_water_liters_total',
] as const;

/** Registers the LLM counters; returns the listener to detach. */
export function registerLlmPrometheus(client: Pick<typeof promClient, 'Counter'>, registry: Registry, tracker: LlmEventSource): () => void {
  const { Counter } = client;
  const registers = [registry];
  const model = ['provider', 'model'] as const;
  const requests = new Counter({
    name: 'wattprint_llm_requests_total',
    help: 'Remote LLM API calls ended, by status (ok, error, aborted) and token source (usage, counted-chunks, none).',
    labelNames: [...model, 'status', 'token_source'],
    registers,
  });
  const tokens = (io: 'input' | 'output') =>
    new Counter({ name: `wattprint_llm_${io}_tokens_total`, help: `${io === 'input' ? 'Input' : 'Output'} tokens of remote LLM API calls.`, labelNames: model, registers });
  const [input, output] = [tokens('input'), tokens('output')];
  const estimate = (name: string, what: string) =>
    new Counter({
      name,
      help: `${what} of remote LLM API calls, ESTIMATED with the EcoLogits method (not measured): bound="min" and bound="max" of the scenario range.`,
      labelNames: [...model, 'bound'],
      registers,
    });
  const energy = estimate('wattprint_llm_estimated_energy_joules_total', "Energy at the provider's data centre (PUE included)");
  const emissions = estimate('wattprint_llm_estimated_emissions_grams_total', 'Emissions, grams CO2eq (electricity and hardware manufacturing)');
  const water = estimate('wattprint_llm_estimated_water_liters_total', 'Water consumption');
  const onLlm = (r: LlmCallRecord) => {
    const labels = { provider: r.provider, model: r.model };
    requests.inc({ ...labels, status: r.status, token_source: r.tokenSource });
    if (r.inputTokens > 0) input.inc(labels, r.inputTokens);
    if (r.outputTokens > 0) output.inc(labels, r.outputTokens);
    const e = r.estimate;
    if (!e) return;
    for (const bound of ['min', 'max'] as const) {
      energy.inc({ ...labels, bound }, e.energyKWh[bound] * J_PER_KWH);
      emissions.inc({ ...labels, bound }, e.gwpKg[bound] * 1000);
      water.inc({ ...labels, bound }, e.waterL[bound]);
    }
  };
  tracker.on('llm', onLlm);
  return () => tracker.off('llm', onLlm);
}

/** Creates the LLM counters on `meter`; returns the listener to detach. */
export function createLlmOtel(meter: Meter, tracker: LlmEventSource): () => void {
  const requests = meter.createCounter('wattprint.llm.requests', { description: 'Remote LLM API calls ended', unit: '{request}' });
  const tokens = meter.createCounter('wattprint.llm.tokens', { description: 'Tokens of remote LLM API calls, by gen_ai.token.type (input, output)', unit: '{token}' });
  const estimate = (name: string, description: string, unit: string): OtelCounter =>
    meter.createCounter(name, { description: `${description}, ESTIMATED with the EcoLogits method (not measured), per wattprint.bound (min, max) of the scenario range`, unit });
  const energy = estimate('wattprint.llm.estimated_energy', "Energy of remote LLM API calls at the provider's data centre", 'J');
  const emissions = estimate('wattprint.llm.estimated_emissions', 'Emissions of remote LLM API calls (electricity and hardware manufacturing)', 'g');
  const water = estimate('wattprint.llm.estimated_water', 'Water consumption of remote LLM API calls', 'L');
  const onLlm = (r: LlmCallRecord) => {
    const a = { 'gen_ai.provider.name': r.provider, 'gen_ai.response.model': r.model };
    requests.add(1, { ...a, 'wattprint.llm.status': r.status, 'wattprint.llm.token_source': r.tokenSource });
    if (r.inputTokens > 0) tokens.add(r.inputTokens, { ...a, 'gen_ai.token.type': 'input' });
    if (r.outputTokens > 0) tokens.add(r.outputTokens, { ...a, 'gen_ai.token.type': 'output' });
    const e = r.estimate;
    if (!e) return;
    for (const bound of ['min', 'max'] as const) {
      energy.add(e.energyKWh[bound] * J_PER_KWH, { ...a, 'wattprint.bound': bound });
      emissions.add(e.gwpKg[bound] * 1000, { ...a, 'wattprint.bound': bound });
      water.add(e.waterL[bound], { ...a, 'wattprint.bound': bound });
    }
  };
  tracker.on('llm', onLlm);
  return () => tracker.off('llm', onLlm);
}
