import { WattprintError } from '../errors.js';
import { estimateLlmCall } from '../llm/estimate.js';
import { dataProvider } from '../llm/models.js';
import type { LlmEstimate, Range } from '../llm/types.js';
import { CliError, EXIT } from './exit.js';
import { sig } from './format.js';
import type { CliIO } from './io.js';

export interface EstimateLlmFlags {
  llm: string;
  outputTokens?: number;
  latency?: number;
  country?: string;
  pue?: number;
  json?: boolean;
}

/** 'openai/gpt-4o-mini' -> provider and model; a Hugging Face name keeps its own slash ('huggingface_hub/meta-llama/…'). */
function splitModel(spec: string): { provider: string; model: string } {
  const i = spec.indexOf('/');
  if (i <= 0 || i === spec.length - 1 || dataProvider(spec.slice(0, i)) === undefined)
    throw new CliError(`invalid value for --llm: expected <provider>/<model> with provider openai, anthropic, google, mistral, cohere or huggingface_hub, e.g. openai/gpt-4o-mini; got '${spec}'`);
  return { provider: spec.slice(0, i), model: spec.slice(i + 1) };
}

export function estimateLlm(flags: EstimateLlmFlags): LlmEstimate {
  const { provider, model } = splitModel(flags.llm);
  if (flags.outputTokens === undefined) throw new CliError('missing --output-tokens <n>, the tokens the model generated (reasoning included)');
  try {
    return estimateLlmCall({
      provider,
      model,
      outputTokens: flags.outputTokens,
      ...(flags.latency !== undefined ? { latencyS: flags.latency } : {}),
      ...(flags.country !== undefined ? { zone: flags.country } : {}),
      ...(flags.pue !== undefined ? { pue: flags.pue } : {}),
    });
  } catch (e) {
    if (!(e instanceof WattprintError)) throw e;
    const flag = { outputTokens: '--output-tokens', latencyS: '--latency', pue: '--pue', model: '--llm' }[e.option ?? ''] ?? '--llm';
    throw new CliError(`${flag}: ${e.message.replace(/ Pass `parameters.*$/, '')}`);
  }
}

const range = (r: Range, scale: number, unit: string) =>
  r.min === r.max ? `${sig(r.min * scale)} ${unit}` : `${sig(r.min * scale)} – ${sig(r.max * scale)} ${unit}`;

export function formatLlmEstimate(e: LlmEstimate): string {
  const p = e.inputs.parameters;
  const params = (v: number | Range) => (typeof v === 'number' ? `${sig(v)}` : `${sig(v.min)}–${sig(v.max)}`);
  return [
    `wattprint estimate --llm (remote API call, estimated, not measured; ${e.method})`,
    `  model       ${e.inputs.provider}/${e.inputs.model}: ${params(p.active)} B active / ${params(p.total)} B total parameters, ${e.inputs.outputTokens} output tokens`,
    `  energy      ${range(e.energyKWh, 1000, 'Wh')} at the data centre (PUE ${range(e.inputs.pue, 1, '').trim()}, ${range(e.gpus, 1, 'GPU(s)')}, ${range(e.generationLatencyS, 1, 's')} of generation)`,
    `  emissions   ${range(e.gwpKg, 1000, 'gCO2eq')} (electricity ${range(e.usage.gwpKg, 1000, 'g')} in ${e.inputs.zone}, hardware manufacturing ${range(e.embodied.gwpKg, 1000, 'g')})`,
    `  water       ${range(e.waterL, 1000, 'mL')}`,
    `  primary     ${range(e.peMJ, 1000, 'kJ')}`,
    `  ADPe        ${e.adpeKgSb.min.toExponential(2)}${e.adpeKgSb.max === e.adpeKgSb.min ? '' : ` – ${e.adpeKgSb.max.toExponential(2)}`} kgSbeq`,
    'ranges are scenarios (every uncertain input at its lower, then its upper bound), not confidence intervals; see docs/llm.md',
    ...e.warnings.map((w) => `warning: ${w}`),
  ].join('\n');
}

export function estimateLlmCommand(flags: EstimateLlmFlags, io: CliIO): number {
  const e = estimateLlm(flags);
  io.stdout.write(flags.json ? `${JSON.stringify(e, null, 2)}\n` : `${formatLlmEstimate(e)}\n`);
  return EXIT.OK;
}
