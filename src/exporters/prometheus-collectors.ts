/**
 * The collectors of `wattprint/prometheus`, with the prom-client module passed in so that this
 * module never imports it: the CLI loads prom-client only when `--prometheus` is given.
 */
import type * as promClient from 'prom-client';
import type { Registry } from 'prom-client';
import { WattprintError } from '../errors.js';
import type { CallRecord } from '../inference/types.js';
import { COMPONENTS, type TrackerSnapshot } from '../types.js';
import { checkBuckets, checkSource, oncePerTick } from './checks.js';
import { LLM_PROMETHEUS_NAMES, registerLlmPrometheus, type LlmEventSource } from './llm.js';
import { CALL_ENERGY_BUCKETS_J, deviceSeries, type MetricsSource } from './source.js';

export interface PrometheusMetricsOptions {
  /** The registry to register on; prom-client's default registry when absent. */
  readonly registry?: Registry;
  /** Upper bounds (J) of `wattprint_call_energy_joules`; default {@link CALL_ENERGY_BUCKETS_J} (0.01 J … 10 kJ). */
  readonly callEnergyBucketsJ?: readonly number[];
}

/** What {@link prometheusMetrics} registered. */
export interface PrometheusMetrics {
  readonly registry: Registry;
  /** The metric names registered, e.g. `wattprint_energy_joules_total`. */
  readonly names: readonly string[];
  /** Removes the metrics from the registry and stops listening to the tracker. Idempotent. */
  close(): void;
}

const DEVICE_LABELS = ['component', 'device', 'source', 'kind', 'scope', 'project'] as const;

/** The parts of prom-client the collectors use. */
export type PromClient = Pick<typeof promClient, 'Counter' | 'Gauge' | 'Histogram' | 'register'>;

/** {@link prometheusMetrics} of `wattprint/prometheus`, with the prom-client module passed in. */
export function registerPrometheusMetrics(client: PromClient, tracker: MetricsSource, options: PrometheusMetricsOptions = {}): PrometheusMetrics {
  const { Counter, Gauge, Histogram } = client;
  checkSource('prometheusMetrics', tracker);
  const registry = options.registry ?? client.register;
  if (typeof registry?.registerMetric !== 'function' || typeof registry.getSingleMetric !== 'function')
    throw new WattprintError('INVALID_OPTION', 'Invalid option `registry` of prometheusMetrics: expected a prom-client Registry (new Registry())', {
      option: 'registry',
    });
  const buckets = checkBuckets('prometheusMetrics', 'callEnergyBucketsJ', options.callEnergyBucketsJ ?? CALL_ENERGY_BUCKETS_J);
  const snap = oncePerTick((): TrackerSnapshot => tracker.snapshot());
  const devices = () => {
    const s = snap();
    return deviceSeries(s).map((d) => [{ component: d.component, device: d.device, source: d.source, kind: d.kind, scope: d.scope, project: s.projectName }, d] as const);
  };

  const names = [
    'wattprint_energy_joules_total',
    'wattprint_power_watts',
    'wattprint_emissions_grams_total',
    'wattprint_grid_intensity_grams_per_kwh',
    'wattprint_pue',
    'wattprint_last_sample_timestamp_seconds',
    'wattprint_call_energy_joules',
    'wattprint_calls_total',
    'wattprint_call_input_tokens_total',
    'wattprint_call_output_tokens_total',
    ...LLM_PROMETHEUS_NAMES,
  ];
  const taken = names.filter((n) => registry.getSingleMetric(n) !== undefined);
  if (taken.length > 0)
    throw new WattprintError(
      'METRICS_REGISTERED',
      `prometheusMetrics: the registry already has ${taken.join(', ')}; call close() on the previous prometheusMetrics() or pass another { registry }`,
    );

  const registers = [registry];
  new Counter({
    name: 'wattprint_energy_joules_total',
    help: 'Energy of each device since the tracker started, before PUE (kind: measured or estimated).',
    labelNames: DEVICE_LABELS,
    registers,
    collect() {
      this.reset();
      for (const [labels, d] of devices()) this.inc(labels, d.energyJ);
    },
  });
  new Gauge({
    name: 'wattprint_power_watts',
    help: 'Mean power of each device over the last sampling interval, before PUE.',
    labelNames: DEVICE_LABELS,
    registers,
    collect() {
      this.reset();
      for (const [labels, d] of devices()) this.set(labels, d.powerW);
    },
  });
  new Counter({
    name: 'wattprint_emissions_grams_total',
    help: 'Operational emissions since the tracker started, grams CO2eq: energy after PUE times the grid intensity of each interval.',
    labelNames: ['component', 'project'],
    registers,
    collect() {
      const s = snap();
      this.reset();
      for (const c of COMPONENTS) if (s.components[c].kind !== 'none') this.inc({ component: c, project: s.projectName }, s.components[c].emissionsG);
    },
  });
  new Gauge({
    name: 'wattprint_grid_intensity_grams_per_kwh',
    help: 'Grid carbon intensity in force at the last sample, grams CO2eq per kWh.',
    labelNames: ['source'],
    registers,
    collect() {
      const s = snap();
      this.reset();
      if (s.intensity) this.set({ source: s.intensity.source }, s.intensity.gPerKWh);
    },
  });
  new Gauge({
    name: 'wattprint_pue',
    help: 'Power usage effectiveness applied to emissions (1: facility overhead not included).',
    registers,
    collect() {
      this.set(snap().pue);
    },
  });
  new Gauge({
    name: 'wattprint_last_sample_timestamp_seconds',
    help: 'Wall-clock time of the last sample, seconds since the epoch (0 before the first).',
    labelNames: ['project'],
    registers,
    collect() {
      const s = snap();
      this.reset();
      this.set({ project: s.projectName }, s.lastSampleAtMs / 1000);
    },
  });
  const callEnergy = new Histogram({
    name: 'wattprint_call_energy_joules',
    help: "Energy of each wrapped call, after PUE (its share of every interval's energy it overlapped).",
    labelNames: ['name'],
    buckets: [...buckets],
    registers,
  });
  new Counter({
    name: 'wattprint_calls_total',
    help: 'Wrapped calls ended, by outcome (ok, error, aborted).',
    labelNames: ['name', 'outcome'],
    registers,
    collect() {
      this.reset();
      for (const c of snap().calls) {
        this.inc({ name: c.name, outcome: 'ok' }, c.ok);
        this.inc({ name: c.name, outcome: 'error' }, c.error);
        this.inc({ name: c.name, outcome: 'aborted' }, c.aborted);
      }
    },
  });
  for (const [metric, key] of [
    ['wattprint_call_input_tokens_total', 'inputTokens'],
    ['wattprint_call_output_tokens_total', 'outputTokens'],
  ] as const) {
    new Counter({
      name: metric,
      help: `${key === 'inputTokens' ? 'Input (prompt)' : 'Output (generated)'} tokens of the wrapped calls, where counted.`,
      labelNames: ['name'],
      registers,
      collect() {
        this.reset();
        for (const c of snap().calls) if (c[key] > 0) this.inc({ name: c.name }, c[key]);
      },
    });
  }

  const onCall = (r: CallRecord) => {
    if (Number.isFinite(r.energyJ) && r.energyJ >= 0) callEnergy.observe({ name: r.name }, r.energyJ);
  };
  tracker.on('call', onCall);
  const offLlm = registerLlmPrometheus(client, registry, tracker as unknown as LlmEventSource);
  let open = true;
  return {
    registry,
    names,
    close() {
      if (!open) return;
      open = false;
      tracker.off('call', onCall);
      offLlm();
      for (const n of names) registry.removeSingleMetric(n);
    },
  };
}
