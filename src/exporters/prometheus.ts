/**
 * `wattprint/prometheus`: the tracker's energy, power, emissions and per-call energy as Prometheus
 * metrics on a prom-client registry. Counters and gauges are read from `tracker.snapshot()` when the
 * registry is scraped (no timer, no extra sampling); the per-call histogram is fed by the tracker's
 * `'call'` event. See docs/fleet.md for deployment and PromQL.
 */
import * as promClient from 'prom-client';
import { registerPrometheusMetrics, type PrometheusMetrics, type PrometheusMetricsOptions } from './prometheus-collectors.js';
import type { MetricsSource } from './source.js';

export type { MetricsSource } from './source.js';
export { CALL_ENERGY_BUCKETS_J, deviceSeries, type DeviceSeries } from './source.js';
export type { PrometheusMetrics, PrometheusMetricsOptions } from './prometheus-collectors.js';

/**
 * Registers wattprint's collectors for `tracker` on a prom-client registry:
 *
 * - `wattprint_energy_joules_total{component,device,source,kind,scope,project}`: device energy since
 *   start, before PUE (`kind`: measured | estimated; `scope`: machine | process);
 * - `wattprint_power_watts{…same}`: mean power over the last sampling interval, before PUE;
 * - `wattprint_emissions_grams_total{component,project}`: after PUE, × each interval's intensity;
 * - `wattprint_grid_intensity_grams_per_kwh{source}`, `wattprint_pue`, `wattprint_last_sample_timestamp_seconds`;
 * - `wattprint_call_energy_joules{name}` (histogram, energy after PUE of each wrapped call),
 *   `wattprint_calls_total{name,outcome}` (ok | error | aborted) and, where counted,
 *   `wattprint_call_input_tokens_total{name}`, `wattprint_call_output_tokens_total{name}`.
 *
 * Throws a `WattprintError` (`METRICS_REGISTERED`) when the registry already holds these names.
 *
 * @example
 * import { prometheusMetrics } from 'wattprint/prometheus';
 * const metrics = prometheusMetrics(tracker); // prom-client's default registry
 * app.get('/metrics', async (_req, res) => res.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
 */
export function prometheusMetrics(tracker: MetricsSource, options: PrometheusMetricsOptions = {}): PrometheusMetrics {
  return registerPrometheusMetrics(promClient, tracker, options);
}
