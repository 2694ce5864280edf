import type { Labels } from '../inference/types.js';

/**
 * A scenario range: `min` is the impact with every uncertain input (active and total parameters, PUE,
 * on-site WUE) at its lower bound, `max` with every one at its upper bound. It is not a confidence
 * interval, and the true value may lie outside it. `min === max` when no input is uncertain.
 */
export interface Range {
  readonly min: number;
  readonly max: number;
}

/** A number, or a `{ min, max }` range of it. */
export type RangeInput = number | Range;

/** The impacts of one kWh of a grid's electricity (EcoLogits' electricity_mixes.csv). */
export interface ElectricityMix {
  /** kgCO2eq per kWh. */
  readonly gwpKgPerKWh: number;
  /** Abiotic resource depletion (elements), kgSbeq per kWh. */
  readonly adpeKgSbPerKWh: number;
  /** Primary energy, MJ per kWh. */
  readonly peMJPerKWh: number;
  /** Off-site water consumed to generate the electricity, L per kWh. */
  readonly wueLPerKWh: number;
}

/** Model parameters in billions: dense models have `active === total`. */
export interface ModelParameters {
  readonly active: RangeInput;
  readonly total: RangeInput;
}

/** @internal One row of the generated model table: [provider, name, parameters, tps, ttft, warnings (indices)]. */
export type ModelRow =
  | readonly [string, string, RangeInput | { readonly total: RangeInput; readonly active: RangeInput }]
  | readonly [string, string, RangeInput | { readonly total: RangeInput; readonly active: RangeInput }, number | null, number | null, (readonly number[])?];

/** @internal [provider, name, entry name]. */
export type AliasRow = readonly [string, string, string];

/** A model found in the table. */
export interface LlmModelInfo {
  /** Provider as named in the data: openai, anthropic, google_genai, mistralai, cohere, huggingface_hub. */
  readonly provider: string;
  readonly name: string;
  readonly parameters: ModelParameters;
  /** Output tokens per second measured by OpenRouter, when known. */
  readonly tps?: number;
  /** Time to first token, s, when known. */
  readonly ttftS?: number;
  /** The data's caveats, e.g. 'model-arch-not-released' (parameters are an estimate). */
  readonly warnings: readonly string[];
}

/** Input of {@link estimateLlmCall}. */
export interface LlmCallInput {
  /** openai, anthropic, google (or google_genai), mistral (or mistralai), cohere, huggingface_hub. */
  readonly provider?: string;
  /** The model name as the API takes it, e.g. 'gpt-4o-mini'. Needs `provider`, unless `parameters` is given. */
  readonly model?: string;
  /** Billions of parameters; overrides the model table. */
  readonly parameters?: ModelParameters;
  /** Output (generated) tokens, including reasoning tokens. */
  readonly outputTokens: number;
  /** The client's wall time of the request, s. It includes network and queueing, so it only caps the generation time. */
  readonly latencyS?: number;
  /** Data-centre PUE; default: the provider's. */
  readonly pue?: RangeInput;
  /** On-site water use, L/kWh; default: the provider's. */
  readonly wueOnSiteLPerKWh?: RangeInput;
  /** ISO 3166-1 alpha-3 country of the data centre's electricity (WOR: world); default: the provider's. */
  readonly zone?: string;
  /** The electricity's impacts; overrides `zone`. */
  readonly electricityMix?: ElectricityMix;
  /** Tokens per second and time to first token, overriding the table's deployment data. */
  readonly deployment?: { readonly tps?: number; readonly ttftS?: number };
}

/** Impacts of the electricity used (energy, water and the grid's emissions). */
export interface LlmUsageImpacts {
  readonly energyKWh: Range;
  readonly gwpKg: Range;
  readonly adpeKgSb: Range;
  readonly peMJ: Range;
  readonly waterL: Range;
}

/** The request's share of the manufacturing of the servers and GPUs. */
export interface LlmEmbodiedImpacts {
  readonly gwpKg: Range;
  readonly adpeKgSb: Range;
  readonly peMJ: Range;
}

/**
 * The estimated impacts of one remote LLM request (EcoLogits' method). Every figure is a scenario
 * {@link Range}. `gwpKg`, `adpeKgSb` and `peMJ` are usage + embodied; `energyKWh` and `waterL` are
 * usage only. Nothing here is measured.
 */
export interface LlmEstimate {
  /** Energy at the provider's data centre (PUE included), kWh. */
  readonly energyKWh: Range;
  /** Global warming potential, kgCO2eq (usage + embodied). */
  readonly gwpKg: Range;
  /** Abiotic depletion potential (elements), kgSbeq (usage + embodied). */
  readonly adpeKgSb: Range;
  /** Primary energy, MJ (usage + embodied). */
  readonly peMJ: Range;
  /** Water consumption footprint, L (on-site cooling and off-site electricity). */
  readonly waterL: Range;
  readonly usage: LlmUsageImpacts;
  readonly embodied: LlmEmbodiedImpacts;
  /** GPUs the model is assumed to occupy (80 GB each, a power of two). */
  readonly gpus: Range;
  /** The generation time used, s (capped by the request latency when given). */
  readonly generationLatencyS: Range;
  /** The formula version and data snapshot, e.g. 'ecologits-0.11 formulas, ecologits data 2026-03-13 (5be90dadc86e)'. */
  readonly method: string;
  /** Where the inputs came from. */
  readonly inputs: {
    readonly provider?: string;
    readonly model?: string;
    readonly parameters: ModelParameters;
    readonly outputTokens: number;
    readonly zone: string;
    readonly pue: Range;
    readonly wueOnSiteLPerKWh: Range;
  };
  /** Caveats: the data's model warnings, a world-mix fallback, an unknown provider's defaults. */
  readonly warnings: readonly string[];
}

/** How a record's token counts were obtained. */
export type LlmTokenSource = 'usage' | 'counted-chunks' | 'none';

/** One remote LLM call seen by the instrumentation: the tracker's `'llm'` event. */
export interface LlmCallRecord {
  /** openai, anthropic, ... (as the instrumentation names it; the estimate's table name is in `estimate.inputs`). */
  readonly provider: string;
  /** The model the response named, else the one requested. */
  readonly model: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** Client wall time from the call to its last byte (or its failure), s. */
  readonly latencyS: number;
  /** The estimate; `null` when the model is unknown (see `estimateError`) or nothing was generated. */
  readonly estimate: LlmEstimate | null;
  readonly labels: Labels;
  /** 'ok', 'error' (HTTP or network error, the estimate covers the tokens seen), or 'aborted' (AbortController or the consumer stopped the stream). */
  readonly status: 'ok' | 'error' | 'aborted';
  readonly stream: boolean;
  /** 'usage' when the API reported the counts, 'counted-chunks' when they are streamed chunks counted by wattprint, 'none' when neither was seen. */
  readonly tokenSource: LlmTokenSource;
  /** Epoch ms at the call. */
  readonly startedAtMs: number;
  /** For status 'error' or 'aborted': the error's class name and HTTP status (never its message, which may quote credentials). */
  readonly error?: { readonly name: string; readonly httpStatus?: number };
  /** Why `estimate` is null, e.g. `{ code: 'LLM_UNKNOWN_MODEL', message }`. */
  readonly estimateError?: { readonly code: string; readonly message: string };
}
