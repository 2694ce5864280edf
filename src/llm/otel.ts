import { requireHere } from '../require-here.js';
import type { LlmCallRecord } from './types.js';

/** The part of an OpenTelemetry span this module uses. */
export interface SpanLike {
  isRecording(): boolean;
  setAttributes(attributes: Record<string, string | number | boolean>): unknown;
}

interface OtelApi {
  trace: { getActiveSpan(): SpanLike | undefined };
}

let api: OtelApi | null | undefined;

/** @opentelemetry/api if the application has it (an optional peer), loaded once. */
function otel(): OtelApi | null {
  if (api !== undefined) return api;
  try {
    api = requireHere('@opentelemetry/api') as OtelApi;
  } catch {
    api = null;
  }
  return api;
}

/** The recording span active where the request starts, if OpenTelemetry is in use. */
export function activeSpan(): SpanLike | undefined {
  const span = otel()?.trace.getActiveSpan();
  return span?.isRecording() ? span : undefined;
}

interface SpanTotals {
  requests: number;
  outputTokens: number;
  energyMin: number;
  energyMax: number;
  gwpMin: number;
  gwpMax: number;
  waterMin: number;
  waterMax: number;
}
const totals = new WeakMap<SpanLike, SpanTotals>();

/**
 * Adds `wattprint.llm.*` attributes to the span: the sum over every request made under it (a span
 * around a handler that calls the API twice shows both), the last request's method and token source.
 */
export function annotateSpan(span: SpanLike, r: LlmCallRecord): void {
  const t = totals.get(span) ?? { requests: 0, outputTokens: 0, energyMin: 0, energyMax: 0, gwpMin: 0, gwpMax: 0, waterMin: 0, waterMax: 0 };
  totals.set(span, t);
  t.requests++;
  t.outputTokens += r.outputTokens;
  const e = r.estimate;
  if (e) {
    t.energyMin += e.energyKWh.min;
    t.energyMax += e.energyKWh.max;
    t.gwpMin += e.gwpKg.min;
    t.gwpMax += e.gwpKg.max;
    t.waterMin += e.waterL.min;
    t.waterMax += e.waterL.max;
  }
  const attributes: Record<string, string | number | boolean> = {
    'wattprint.llm.requests': t.requests,
    'wattprint.llm.provider': r.provider,
    'wattprint.llm.model': r.model,
    'wattprint.llm.output_tokens': t.outputTokens,
    'wattprint.llm.token_source': r.tokenSource,
    'wattprint.llm.status': r.status,
    'wattprint.llm.estimated': true,
    'wattprint.llm.energy_kwh.min': t.energyMin,
    'wattprint.llm.energy_kwh.max': t.energyMax,
    'wattprint.llm.gwp_kg.min': t.gwpMin,
    'wattprint.llm.gwp_kg.max': t.gwpMax,
    'wattprint.llm.water_l.min': t.waterMin,
    'wattprint.llm.water_l.max': t.waterMax,
  };
  if (e) attributes['wattprint.llm.method'] = e.method;
  span.setAttributes(attributes);
}
