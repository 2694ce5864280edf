import { invalidOption } from '../errors.js';
import { DATA_SNAPSHOT, HARDWARE, MIXES_JSON } from './data/ecologits.js';
import { dataProvider, lookupLlmModel } from './models.js';
import type { ElectricityMix, LlmCallInput, LlmEstimate, LlmModelInfo, ModelParameters, Range, RangeInput } from './types.js';

/** The formula version every estimate names. */
export const LLM_FORMULAS = 'ecologits-0.11 formulas';
/** `method` of every estimate: formula version and data snapshot. */
export const LLM_METHOD = `${LLM_FORMULAS}, ${DATA_SNAPSHOT}`;

/** A provider's data centres, from EcoLogits' provider defaults. */
export interface ProviderDataCentre {
  readonly zone: string;
  readonly pue: RangeInput;
  readonly wueOnSiteLPerKWh: RangeInput;
}

export const PROVIDER_DATA_CENTRES: Readonly<Record<string, ProviderDataCentre>> = {
  openai: { zone: 'USA', pue: 1.2, wueOnSiteLPerKWh: 0.569 },
  anthropic: { zone: 'USA', pue: { min: 1.09, max: 1.14 }, wueOnSiteLPerKWh: { min: 0.13, max: 0.999 } },
  google_genai: { zone: 'USA', pue: 1.09, wueOnSiteLPerKWh: 0.999 },
  mistralai: { zone: 'SWE', pue: 1.16, wueOnSiteLPerKWh: 0.09 },
  cohere: { zone: 'USA', pue: 1.09, wueOnSiteLPerKWh: 0.999 },
};
/** For a provider without defaults (or none given): the world mix and OpenAI's (Azure's) PUE and WUE. */
const FALLBACK_DATA_CENTRE: ProviderDataCentre = { zone: 'WOR', pue: 1.2, wueOnSiteLPerKWh: 0.569 };

let mixes: Map<string, ElectricityMix> | undefined;
/** The electricity mixes by zone, parsed at first use. */
function mixTable(): Map<string, ElectricityMix> {
  mixes ??= new Map(
    (JSON.parse(MIXES_JSON) as Array<[string, number, number, number, number]>).map(([zone, gwpKgPerKWh, adpeKgSbPerKWh, peMJPerKWh, wueLPerKWh]) => [
      zone,
      { gwpKgPerKWh, adpeKgSbPerKWh, peMJPerKWh, wueLPerKWh },
    ]),
  );
  return mixes;
}

const lo = (v: RangeInput) => (typeof v === 'number' ? v : v.min);
const hi = (v: RangeInput) => (typeof v === 'number' ? v : v.max);
const range = (v: RangeInput): Range => ({ min: lo(v), max: hi(v) });

function checkRange(option: string, v: RangeInput | undefined, min: number, unit: string): void {
  if (v === undefined) return;
  const ok = (n: unknown) => typeof n === 'number' && Number.isFinite(n) && n >= min;
  if (typeof v === 'number' ? !ok(v) : !(v && ok(v.min) && ok(v.max) && v.min <= v.max))
    throw invalidOption(option, `expected a number >= ${min} (${unit}) or { min, max } with min <= max, got ${JSON.stringify(v)}`);
}

function checkInput(input: LlmCallInput): void {
  if (!Number.isFinite(input.outputTokens) || input.outputTokens < 0)
    throw invalidOption('outputTokens', `expected a number of tokens >= 0, got ${input.outputTokens}`);
  if (input.latencyS !== undefined && !(Number.isFinite(input.latencyS) && input.latencyS >= 0))
    throw invalidOption('latencyS', `expected seconds >= 0, got ${input.latencyS}`);
  if (input.parameters !== undefined) {
    // Zero parameters would make every term but the fit's constant vanish: refuse it rather than under-count.
    checkRange('parameters.active', input.parameters.active, Number.MIN_VALUE, 'billions');
    checkRange('parameters.total', input.parameters.total, Number.MIN_VALUE, 'billions');
  } else if (input.model === undefined) throw invalidOption('model', 'give `provider` and `model`, or `parameters: { active, total }` in billions');
  checkRange('pue', input.pue, 1, 'PUE');
  checkRange('wueOnSiteLPerKWh', input.wueOnSiteLPerKWh, 0, 'L/kWh');
  const m = input.electricityMix;
  if (m !== undefined)
    for (const k of ['gwpKgPerKWh', 'adpeKgSbPerKWh', 'peMJPerKWh', 'wueLPerKWh'] as const)
      if (!(Number.isFinite(m[k]) && m[k] >= 0)) throw invalidOption(`electricityMix.${k}`, `expected a number >= 0, got ${m[k]}`);
  const d = input.deployment;
  if (d?.tps !== undefined && !(Number.isFinite(d.tps) && d.tps > 0)) throw invalidOption('deployment.tps', `expected tokens per second > 0, got ${d.tps}`);
  if (d?.ttftS !== undefined && !(Number.isFinite(d.ttftS) && d.ttftS >= 0)) throw invalidOption('deployment.ttftS', `expected seconds >= 0, got ${d.ttftS}`);
}

interface Point {
  energyKWh: number;
  itKWh: number;
  gpus: number;
  latencyS: number;
  embodiedGwpKg: number;
  embodiedAdpeKgSb: number;
  embodiedPeMJ: number;
}

/** One evaluation of the EcoLogits 0.11 formulas (see docs/llm.md), with every input a number. */
function evaluate(activeB: number, totalB: number, tokens: number, latencyS: number | undefined, pue: number, perTokenS: number | undefined, ttftS: number): Point {
  const { gpu_energy_regression: e, latency_regression: l, batch_size: batch, gpu, server } = HARDWARE;
  const gpuWhPerToken = e.alpha * Math.exp(e.beta * batch) * activeB + e.gamma;
  const gpuKWh = (tokens * gpuWhPerToken) / 1000;
  const tokenS = perTokenS ?? l.alpha * activeB + l.beta * batch + l.gamma;
  const generationS = tokens * tokenS + ttftS;
  const dtS = latencyS === undefined ? generationS : Math.min(generationS, latencyS);
  const memoryGB = (1.2 * totalB * HARDWARE.model_quantization_bits) / 8;
  const gpus = 2 ** Math.ceil(Math.log2(Math.max(1, Math.ceil(memoryGB / gpu.memory_gb))));
  const serverShare = gpus / server.gpu_count;
  const serverKWh = ((dtS / 3600) * server.power_kw * serverShare) / batch;
  const itKWh = serverKWh + gpus * gpuKWh;
  const lifeShare = dtS / (HARDWARE.hardware_lifespan_seconds * batch);
  return {
    energyKWh: pue * itKWh,
    itKWh,
    gpus,
    latencyS: dtS,
    embodiedGwpKg: lifeShare * (serverShare * server.embodied_gwp + gpus * gpu.embodied_gwp),
    embodiedAdpeKgSb: lifeShare * (serverShare * server.embodied_adpe + gpus * gpu.embodied_adpe),
    embodiedPeMJ: lifeShare * (serverShare * server.embodied_pe + gpus * gpu.embodied_pe),
  };
}

function resolveMix(input: LlmCallInput, dc: ProviderDataCentre, warnings: string[]): { zone: string; mix: ElectricityMix } {
  if (input.electricityMix) return { zone: input.zone ?? 'custom', mix: input.electricityMix };
  const zone = (input.zone ?? dc.zone).toUpperCase();
  const table = mixTable();
  const mix = table.get(zone);
  if (mix) return { zone, mix };
  warnings.push(`unknown electricity zone '${input.zone}': the world mix (WOR) is used; zones are ISO 3166-1 alpha-3 codes (${table.size} known)`);
  return { zone: 'WOR', mix: table.get('WOR')! };
}

/**
 * Estimates the energy, emissions, resource depletion, primary energy and water of one remote LLM
 * request with EcoLogits' method (formulas 0.11, data snapshot named in `method`): a GPU energy per
 * output token fitted on open models at batch 64, the server's share while generating, PUE, the
 * grid's impacts, and the hardware's embodied impacts over a 3-year life. Every impact is a
 * scenario range. Throws `WattprintError` 'INVALID_OPTION' for bad input and
 * {@link UnknownLlmModelError} ('LLM_UNKNOWN_MODEL', with close matches) for a model the table
 * lacks; an unknown `zone` falls back to the world mix with a warning.
 *
 * @example
 * const e = estimateLlmCall({ provider: 'openai', model: 'gpt-4o-mini', outputTokens: 1000, latencyS: 10 });
 * e.energyKWh; // { min, max }
 */
export function estimateLlmCall(input: LlmCallInput): LlmEstimate {
  checkInput(input);
  const warnings: string[] = [];
  let model: LlmModelInfo | undefined;
  if (input.parameters === undefined) {
    model = lookupLlmModel(input.provider, input.model!);
    warnings.push(...model.warnings.map((w) => `${model!.name}: ${w}`));
  }
  const parameters = input.parameters ?? model!.parameters;
  const provider = input.provider === undefined ? undefined : (dataProvider(input.provider) ?? input.provider);
  let dc = provider === undefined ? undefined : PROVIDER_DATA_CENTRES[provider];
  if (!dc) {
    dc = FALLBACK_DATA_CENTRE;
    if (input.zone === undefined && input.electricityMix === undefined)
      warnings.push(`no data-centre defaults for provider '${input.provider ?? '(none)'}': the world electricity mix, PUE 1.2 and WUE 0.569 L/kWh are used (set zone, pue, wueOnSiteLPerKWh)`);
  }
  const { zone, mix } = resolveMix(input, dc, warnings);
  const pue = input.pue ?? dc.pue;
  const wue = input.wueOnSiteLPerKWh ?? dc.wueOnSiteLPerKWh;
  // Guard the data: a zero or negative tps must not divide by zero; the regression is used instead.
  const tps = input.deployment?.tps ?? model?.tps;
  const perTokenS = tps !== undefined && tps > 0 ? 1 / tps : undefined;
  const ttftS = perTokenS === undefined ? 0 : (input.deployment?.ttftS ?? model?.ttftS ?? 0);
  const at = (pick: (v: RangeInput) => number) =>
    evaluate(pick(parameters.active), pick(parameters.total), input.outputTokens, input.latencyS, pick(pue), perTokenS, ttftS);
  const a = at(lo);
  const b = at(hi);
  const wueA = lo(wue);
  const wueB = hi(wue);
  const r = (x: number, y: number): Range => ({ min: Math.min(x, y), max: Math.max(x, y) });
  const usage = {
    energyKWh: r(a.energyKWh, b.energyKWh),
    gwpKg: r(a.energyKWh * mix.gwpKgPerKWh, b.energyKWh * mix.gwpKgPerKWh),
    adpeKgSb: r(a.energyKWh * mix.adpeKgSbPerKWh, b.energyKWh * mix.adpeKgSbPerKWh),
    peMJ: r(a.energyKWh * mix.peMJPerKWh, b.energyKWh * mix.peMJPerKWh),
    waterL: r(a.itKWh * (wueA + lo(pue) * mix.wueLPerKWh), b.itKWh * (wueB + hi(pue) * mix.wueLPerKWh)),
  };
  const embodied = {
    gwpKg: r(a.embodiedGwpKg, b.embodiedGwpKg),
    adpeKgSb: r(a.embodiedAdpeKgSb, b.embodiedAdpeKgSb),
    peMJ: r(a.embodiedPeMJ, b.embodiedPeMJ),
  };
  const sum = (x: Range, y: Range): Range => ({ min: x.min + y.min, max: x.max + y.max });
  return {
    energyKWh: usage.energyKWh,
    gwpKg: sum(usage.gwpKg, embodied.gwpKg),
    adpeKgSb: sum(usage.adpeKgSb, embodied.adpeKgSb),
    peMJ: sum(usage.peMJ, embodied.peMJ),
    waterL: usage.waterL,
    usage,
    embodied,
    gpus: r(a.gpus, b.gpus),
    generationLatencyS: r(a.latencyS, b.latencyS),
    method: LLM_METHOD,
    inputs: estimateInputs(provider, model?.name ?? input.model, parameters, input.outputTokens, zone, range(pue), range(wue)),
    warnings,
  };
}

// Object spread of a conditional literal costs microseconds on Node 20; this runs once per instrumented request.
function estimateInputs(provider: string | undefined, model: string | undefined, parameters: ModelParameters, outputTokens: number, zone: string, pue: Range, wue: Range): LlmEstimate['inputs'] {
  const inputs: { -readonly [K in keyof LlmEstimate['inputs']]: LlmEstimate['inputs'][K] } = { parameters, outputTokens, zone, pue, wueOnSiteLPerKWh: wue };
  if (provider !== undefined) inputs.provider = provider;
  if (model !== undefined) inputs.model = model;
  return inputs;
}

/** Adds estimates (a call's several LLM requests): min to min, max to max. */
export function sumLlmEstimates(estimates: readonly LlmEstimate[]): LlmEstimateTotals {
  const z = (): { min: number; max: number } => ({ min: 0, max: 0 });
  const t = { energyKWh: z(), gwpKg: z(), adpeKgSb: z(), peMJ: z(), waterL: z(), requests: estimates.length };
  for (const e of estimates)
    for (const k of ['energyKWh', 'gwpKg', 'adpeKgSb', 'peMJ', 'waterL'] as const) {
      t[k].min += e[k].min;
      t[k].max += e[k].max;
    }
  return t;
}

/** The sum of several estimates' totals. */
export interface LlmEstimateTotals {
  readonly energyKWh: Range;
  readonly gwpKg: Range;
  readonly adpeKgSb: Range;
  readonly peMJ: Range;
  readonly waterL: Range;
  /** Requests summed. */
  readonly requests: number;
}
