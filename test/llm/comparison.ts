// The comparison table of docs/llm.md, computed by the library. `npx vitest run --config test/vitest.config.ts
// test/llm/comparison.test.ts` checks that the doc matches; with UPDATE_DOCS=1 it rewrites the table.
import { estimateLlmCall, type LlmCallInput, type Range } from '../../src/llm/index.js';

/** Output tokens assumed where a publication gives none: Mistral's LCA unit (a 400-token answer). */
export const ASSUMED_OUTPUT_TOKENS = 400;

interface Row {
  readonly published: string;
  readonly source: string;
  readonly input: LlmCallInput;
}

export const ROWS: readonly Row[] = [
  {
    published: 'median Gemini Apps text prompt: **0.24 Wh**, 0.03 gCO2eq (market-based), 0.26 mL (on-site water only)',
    source: 'Google, Aug 2025, arXiv:2508.15734',
    input: { provider: 'google', model: 'gemini-2.5-flash', outputTokens: ASSUMED_OUTPUT_TOKENS },
  },
  {
    published: '(same)',
    source: '',
    input: { provider: 'google', model: 'gemini-2.5-pro', outputTokens: ASSUMED_OUTPUT_TOKENS },
  },
  {
    published: 'average ChatGPT query: **0.34 Wh**',
    source: 'OpenAI (S. Altman), June 2025',
    input: { provider: 'openai', model: 'gpt-4o', outputTokens: ASSUMED_OUTPUT_TOKENS },
  },
  {
    published: 'Le Chat 400-token answer, Mistral Large 2: **1.14 gCO2eq, 45 mL, 0.16 mgSbeq** (full LCA)',
    source: 'Mistral AI with Carbone 4 and ADEME, July 2025',
    input: { provider: 'mistral', model: 'mistral-large-2411', outputTokens: ASSUMED_OUTPUT_TOKENS },
  },
];

const sig = (n: number) => new Intl.NumberFormat('en-US', { maximumSignificantDigits: 2, useGrouping: false }).format(n);
const range = (r: Range, scale: number) => {
  const [a, b] = [sig(r.min * scale), sig(r.max * scale)];
  return a === b ? a : `${a}–${b}`;
};

/** GPU energy per output token of the fit at batch 64 for an 8 B model, J (ML.ENERGY measures 0.12–0.20 J for Llama 3.1 8B on H100). */
export function fitJPerToken(activeB: number): number {
  const e = estimateLlmCall({ parameters: { active: activeB, total: activeB }, outputTokens: 1000, zone: 'USA', pue: 1, latencyS: 0 });
  // latencyS 0 removes the server share: what is left is the GPU term, 1 GPU for 8 B.
  return (e.energyKWh.min * 3.6e6) / 1000;
}

export function comparisonTable(): string {
  const head = [
    `| published figure | source | wattprint scenario (${ASSUMED_OUTPUT_TOKENS} output tokens, no latency cap, provider defaults) | energy (Wh) | gCO2eq | water (mL) | mgSbeq |`,
    '|---|---|---|---|---|---|---|',
  ];
  const rows = ROWS.map(({ published, source, input }) => {
    const e = estimateLlmCall(input);
    return `| ${published} | ${source} | ${input.provider}/${input.model} (${e.inputs.zone}) | ${range(e.energyKWh, 1000)} | ${range(e.gwpKg, 1000)} | ${range(e.waterL, 1000)} | ${range(e.adpeKgSb, 1e6)} |`;
  });
  const fit = `| Llama 3.1 8B on H100 at batch 64: **0.12–0.20 J** GPU energy per output token | ML.ENERGY leaderboard | the GPU fit f_E(8 B) × 3600 | ${sig(fitJPerToken(8))} J per token | | | |`;
  return [...head, ...rows, fit].join('\n');
}
