import { editDistance } from '../edit-distance.js';
import { WattprintError } from '../errors.js';
import { ALIASES_JSON, MODELS_JSON, WARNINGS } from './data/ecologits.js';
import type { AliasRow, LlmModelInfo, ModelParameters, ModelRow, RangeInput } from './types.js';

/** The names people and SDKs use for a provider, mapped to the data's. */
const PROVIDER_NAMES: Readonly<Record<string, string>> = {
  openai: 'openai',
  'azure-openai': 'openai',
  azure: 'openai',
  anthropic: 'anthropic',
  google: 'google_genai',
  google_genai: 'google_genai',
  'google-genai': 'google_genai',
  gemini: 'google_genai',
  vertex: 'google_genai',
  mistral: 'mistralai',
  mistralai: 'mistralai',
  cohere: 'cohere',
  huggingface: 'huggingface_hub',
  huggingface_hub: 'huggingface_hub',
};

/** The data's provider name for `provider`, or undefined when the table has no such provider. */
export function dataProvider(provider: string): string | undefined {
  return PROVIDER_NAMES[provider.toLowerCase()];
}

let index: Map<string, LlmModelInfo> | undefined;
const key = (provider: string, name: string) => `${provider}\u0000${name}`;

function table(): Map<string, LlmModelInfo> {
  if (index) return index;
  index = new Map((JSON.parse(MODELS_JSON) as ModelRow[]).map((row) => [key(row[0], row[1]), toInfo(row)]));
  for (const [provider, name, target] of JSON.parse(ALIASES_JSON) as AliasRow[]) {
    const row = index.get(key(provider, target));
    if (row) index.set(key(provider, name), row);
  }
  return index;
}

function toInfo(row: ModelRow): LlmModelInfo {
  const p = row[2];
  const parameters: ModelParameters =
    typeof p === 'object' && 'total' in p ? { total: p.total, active: p.active } : { total: p as RangeInput, active: p as RangeInput };
  const tps = row.length > 3 ? row[3] : null;
  const ttft = row.length > 4 ? row[4] : null;
  return Object.freeze({
    provider: row[0],
    name: row[1],
    parameters,
    ...(tps != null ? { tps } : {}),
    ...(ttft != null ? { ttftS: ttft } : {}),
    warnings: ((row.length > 5 && row[5]) || []).map((i) => WARNINGS[i] ?? `warning ${i}`),
  });
}

/** The model's table entry (exact match on provider and name, after aliases), or undefined. */
export function findLlmModel(provider: string, model: string): LlmModelInfo | undefined {
  const p = dataProvider(provider);
  if (!p) return undefined;
  return table().get(key(p, model));
}

/** Known model names close to `model` (same provider when known), best first. */
export function closeLlmModels(provider: string | undefined, model: string, max = 5): string[] {
  const p = provider === undefined ? undefined : dataProvider(provider);
  const wanted = model.toLowerCase();
  const scored: Array<[string, number]> = [];
  for (const name of table().keys()) {
    const [rowProvider, rowName] = name.split('\u0000') as [string, string];
    if (p && rowProvider !== p) continue;
    const lower = rowName.toLowerCase();
    // A dated snapshot of a known model ('gpt-4o-mini-2099-01-01') is the closest match there is; the longest base first.
    const dated = wanted.startsWith(lower) && /^-\d/.test(wanted.slice(lower.length));
    const d = dated ? 1 - lower.length / 1000 : editDistance(wanted, lower);
    if (d <= Math.max(3, wanted.length / 3)) scored.push([p ? rowName : `${rowProvider}/${rowName}`, d]);
  }
  return scored
    .sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]))
    .slice(0, max)
    .map(([n]) => n);
}

/** Thrown by `estimateLlmCall` for a model or provider the table does not have. */
export class UnknownLlmModelError extends WattprintError {
  /** Known names close to the one given, best first (may be empty). */
  readonly suggestions: readonly string[];

  constructor(provider: string | undefined, model: string) {
    const suggestions = closeLlmModels(provider, model);
    const known = provider === undefined || dataProvider(provider) !== undefined;
    const what = known
      ? `unknown model '${model}'${provider ? ` for provider '${provider}'` : ''}`
      : `unknown provider '${provider}' (known: ${[...new Set(Object.keys(PROVIDER_NAMES))].join(', ')})`;
    const hint = suggestions.length ? `; did you mean ${suggestions.map((s) => `'${s}'`).join(', ')}?` : '';
    super('LLM_UNKNOWN_MODEL', `${what}${hint} Pass \`parameters: { active, total }\` (billions) to estimate a model the table lacks.`, {
      option: 'model',
    });
    this.suggestions = suggestions;
  }
}

/** The table entry of `provider`/`model`, or an {@link UnknownLlmModelError} listing close matches. */
export function lookupLlmModel(provider: string | undefined, model: string): LlmModelInfo {
  const found = provider === undefined ? undefined : findLlmModel(provider, model);
  if (!found) throw new UnknownLlmModelError(provider, model);
  return found;
}
