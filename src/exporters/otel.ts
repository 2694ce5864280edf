/**
 * `wattprint/otel`: the tracker's energy, power, emissions and per-call energy as OpenTelemetry
 * instruments on a meter the application passes in (wattprint never starts an SDK of its own).
 * Observable instruments read `tracker.snapshot()` when the SDK collects; the per-call histogram is
 * fed by the tracker's `'call'` event. Names and attributes follow the OpenTelemetry hardware
 * semantic conventions (`hw.energy`, `hw.power`, `hw.id`, `hw.type`, `hw.name`) and the GenAI
 * conventions for model attributes. Only types are imported from `@opentelemetry/api`.
 */
import type { Attributes, BatchObservableResult, Histogram, Meter, Observable } from '@opentelemetry/api';
import { WattprintError } from '../errors.js';
import type { CallRecord } from '../inference/types.js';
import { COMPONENTS, type Component } from '../types.js';
import { checkBuckets, checkSource } from './checks.js';
import { createLlmOtel, type LlmEventSource } from './llm.js';
import { CALL_ENERGY_BUCKETS_J, deviceSeries, type DeviceSeries, type MetricsSource } from './source.js';

export type { MetricsSource } from './source.js';
export { CALL_ENERGY_BUCKETS_J } from './source.js';

export interface OtelMetricsOptions {
  /** Explicit bucket bounds (J) advised for `wattprint.call.energy`; default 0.01 J … 10 kJ. */
  readonly callEnergyBucketsJ?: readonly number[];
}

/** What {@link otelMetrics} created. */
export interface OtelMetrics {
  /** Stops observing and listening to the tracker. Idempotent. The instruments stay on the meter. */
  close(): void;
}

/** `hw.type` of each component, from the hardware semantic conventions. */
export const HW_TYPE: Readonly<Record<Component, string>> = { cpu: 'cpu', gpu: 'gpu', ram: 'memory' };

/**
 * Call labels copied onto `wattprint.call.energy` as GenAI attributes: keys already in the
 * `gen_ai.` namespace as they are, and these short names mapped to theirs.
 */
export const GENAI_LABELS: Readonly<Record<string, string>> = {
  model: 'gen_ai.request.model',
  provider: 'gen_ai.provider.name',
  operation: 'gen_ai.operation.name',
};

function deviceAttributes(d: DeviceSeries, project: string): Attributes {
  return {
    'hw.id': `${d.source}:${d.device}`,
    'hw.type': HW_TYPE[d.component],
    'hw.name': d.name,
    'wattprint.source': d.source,
    'wattprint.kind': d.kind,
    'wattprint.scope': d.scope,
    'wattprint.project': project,
  };
}

function callAttributes(r: CallRecord): Attributes {
  const a: Attributes = { 'wattprint.call.name': r.name, 'wattprint.call.outcome': r.outcome };
  for (const [k, v] of Object.entries(r.labels)) {
    if (k.startsWith('gen_ai.')) a[k] = v;
    else if (GENAI_LABELS[k] !== undefined) a[GENAI_LABELS[k]] = v;
  }
  return a;
}

/**
 * Creates wattprint's instruments on `meter` for `tracker`:
 *
 * - `hw.energy` (ObservableCounter, J, cumulative): device energy since start, before PUE, with
 *   `hw.id`, `hw.type` (cpu | gpu | memory), `hw.name`, `wattprint.source`, `wattprint.kind`
 *   (measured | estimated), `wattprint.scope` (machine | process) and `wattprint.project`;
 * - `hw.power` (ObservableGauge, W): mean power over the last sampling interval, same attributes;
 * - `wattprint.emissions` (ObservableCounter, g CO2eq) by `hw.type` and `wattprint.project`;
 * - `wattprint.grid.intensity` (ObservableGauge, g/kWh) by `wattprint.intensity.source`;
 * - `wattprint.calls` (ObservableCounter) by `wattprint.call.name` and `wattprint.call.outcome`;
 * - `wattprint.call.energy` (Histogram, J) per wrapped call, with `wattprint.call.name`,
 *   `wattprint.call.outcome` and GenAI model attributes taken from the call's labels
 *   (`gen_ai.*` as given; `model`, `provider`, `operation` mapped to `gen_ai.request.model`, …);
 * - remote LLM API calls (`wattprint/llm`, the `'llm'` event): `wattprint.llm.requests`,
 *   `wattprint.llm.tokens` and the estimates `wattprint.llm.estimated_energy` (J),
 *   `…estimated_emissions` (g), `…estimated_water` (L), each with `wattprint.bound` min | max.
 *
 * @example
 * import { metrics } from '@opentelemetry/api';
 * import { otelMetrics } from 'wattprint/otel';
 * otelMetrics(tracker, metrics.getMeter('my-service'));
 */
export function otelMetrics(tracker: MetricsSource, meter: Meter, options: OtelMetricsOptions = {}): OtelMetrics {
  checkSource('otelMetrics', tracker);
  const m = meter as Partial<Meter> | undefined;
  if (!m || typeof m.createObservableCounter !== 'function' || typeof m.addBatchObservableCallback !== 'function' || typeof m.createHistogram !== 'function')
    throw new WattprintError('INVALID_ARGUMENT', "otelMetrics(tracker, meter): expected an OpenTelemetry Meter, e.g. metrics.getMeter('my-service') from @opentelemetry/api");
  const buckets = checkBuckets('otelMetrics', 'callEnergyBucketsJ', options.callEnergyBucketsJ ?? CALL_ENERGY_BUCKETS_J);

  const energy = meter.createObservableCounter('hw.energy', { description: 'Energy consumed by the component since the tracker started, before PUE', unit: 'J' });
  const power = meter.createObservableGauge('hw.power', { description: 'Mean power of the component over the last sampling interval, before PUE', unit: 'W' });
  const emissions = meter.createObservableCounter('wattprint.emissions', {
    description: 'Operational emissions since the tracker started: energy after PUE times the grid intensity of each interval',
    unit: 'g',
  });
  const intensity = meter.createObservableGauge('wattprint.grid.intensity', { description: 'Grid carbon intensity in force at the last sample', unit: 'g/kWh' });
  const calls = meter.createObservableCounter('wattprint.calls', { description: 'Wrapped calls ended, by outcome', unit: '{call}' });
  const callEnergy: Histogram = meter.createHistogram('wattprint.call.energy', {
    description: "Energy of each wrapped call after PUE (its share of every interval's energy it overlapped)",
    unit: 'J',
    advice: { explicitBucketBoundaries: [...buckets] },
  });

  const observe = (result: BatchObservableResult) => {
    const s = tracker.snapshot();
    for (const d of deviceSeries(s)) {
      const attrs = deviceAttributes(d, s.projectName);
      result.observe(energy, d.energyJ, attrs);
      result.observe(power, d.powerW, attrs);
    }
    for (const c of COMPONENTS) {
      const comp = s.components[c];
      if (comp.kind !== 'none') result.observe(emissions, comp.emissionsG, { 'hw.type': HW_TYPE[c], 'wattprint.project': s.projectName });
    }
    if (s.intensity) result.observe(intensity, s.intensity.gPerKWh, { 'wattprint.intensity.source': s.intensity.source });
    for (const c of s.calls) {
      result.observe(calls, c.ok, { 'wattprint.call.name': c.name, 'wattprint.call.outcome': 'ok' });
      result.observe(calls, c.error, { 'wattprint.call.name': c.name, 'wattprint.call.outcome': 'error' });
      result.observe(calls, c.aborted, { 'wattprint.call.name': c.name, 'wattprint.call.outcome': 'aborted' });
    }
  };
  const observables: Observable[] = [energy, power, emissions, intensity, calls];
  meter.addBatchObservableCallback(observe, observables);
  const onCall = (r: CallRecord) => {
    if (Number.isFinite(r.energyJ) && r.energyJ >= 0) callEnergy.record(r.energyJ, callAttributes(r));
  };
  tracker.on('call', onCall);
  const offLlm = createLlmOtel(meter, tracker as unknown as LlmEventSource);
  let open = true;
  return {
    close() {
      if (!open) return;
      open = false;
      tracker.off('call', onCall);
      offLlm();
      meter.removeBatchObservableCallback(observe, observables);
    },
  };
}
