import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { estimateLlmCall, UnknownLlmModelError, LLM_METHOD, findLlmModel } from '../../src/llm/index.js';
import { WattprintError } from '../../src/errors.js';

interface Case {
  inputs: { active: number; total: number; outputTokens: number; requestLatency: number; mix: { gwp: number; adpe: number; pe: number; wue: number }; pue: number; wue: number; tps?: number; ttft?: number };
  expected_ecologits_0_11_2_formulas: Record<string, { min: number; max: number } | [number, number]>;
}
const cases = JSON.parse(readFileSync(new URL('../fixtures/llm/ecologits-conformance.json', import.meta.url), 'utf8')) as Record<string, Case>;

const rel = (got: number, want: number) => Math.abs(got - want) / Math.abs(want);

describe('estimateLlmCall: EcoLogits 0.11.2 conformance', () => {
  it('has the three cases', () => expect(Object.keys(cases)).toHaveLength(3));
  for (const [name, c] of Object.entries(cases)) {
    it(name, () => {
      const i = c.inputs;
      const e = estimateLlmCall({
        parameters: { active: i.active, total: i.total },
        outputTokens: i.outputTokens,
        latencyS: i.requestLatency,
        pue: i.pue,
        wueOnSiteLPerKWh: i.wue,
        electricityMix: { gwpKgPerKWh: i.mix.gwp, adpeKgSbPerKWh: i.mix.adpe, peMJPerKWh: i.mix.pe, wueLPerKWh: i.mix.wue },
        ...(i.tps !== undefined ? { deployment: { tps: i.tps, ttftS: i.ttft } } : {}),
      });
      const x = c.expected_ecologits_0_11_2_formulas;
      const pairs: Array<[string, { min: number; max: number }]> = [
        ['energy_kWh', e.energyKWh],
        ['gwp_kg', e.gwpKg],
        ['gwp_usage_kg', e.usage.gwpKg],
        ['gwp_embodied_kg', e.embodied.gwpKg],
        ['adpe_kgSb', e.adpeKgSb],
        ['pe_MJ', e.peMJ],
        ['wcf_L', e.waterL],
      ];
      for (const [k, got] of pairs) {
        const want = x[k] as { min: number; max: number };
        expect(rel(got.min, want.min), `${k}.min ${got.min} vs ${want.min}`).toBeLessThan(1e-9);
        expect(rel(got.max, want.max), `${k}.max`).toBeLessThan(1e-9);
      }
      const [gMin, gMax] = x.gpus as [number, number];
      expect([e.gpus.min, e.gpus.max]).toEqual([gMin, gMax]);
      const [lMin, lMax] = x.genLatency_s as [number, number];
      expect(rel(e.generationLatencyS.min, lMin)).toBeLessThan(1e-9);
      expect(rel(e.generationLatencyS.max, lMax)).toBeLessThan(1e-9);
      expect(e.method).toBe(LLM_METHOD);
      expect(e.method).toMatch(/^ecologits-0\.11 formulas, ecologits data 2026-03-13/);
    });
  }
});

describe('estimateLlmCall: ranges', () => {
  it('evaluates every lower bound together and every upper bound together', () => {
    const lowOnly = estimateLlmCall({ parameters: { active: 44, total: 440 }, outputTokens: 500, pue: 1.09, wueOnSiteLPerKWh: 0.13, zone: 'USA' });
    const highOnly = estimateLlmCall({ parameters: { active: 132, total: 440 }, outputTokens: 500, pue: 1.14, wueOnSiteLPerKWh: 0.999, zone: 'USA' });
    const both = estimateLlmCall({
      parameters: { active: { min: 44, max: 132 }, total: 440 },
      outputTokens: 500,
      pue: { min: 1.09, max: 1.14 },
      wueOnSiteLPerKWh: { min: 0.13, max: 0.999 },
      zone: 'USA',
    });
    for (const k of ['energyKWh', 'gwpKg', 'adpeKgSb', 'peMJ', 'waterL'] as const) {
      expect(both[k].min).toBeCloseTo(lowOnly[k].min, 15);
      expect(both[k].max).toBeCloseTo(highOnly[k].max, 15);
      expect(both[k].max).toBeGreaterThan(both[k].min);
    }
    expect(both.inputs.pue).toEqual({ min: 1.09, max: 1.14 });
  });

  it('a dense model with point inputs gives min === max', () => {
    const e = estimateLlmCall({ provider: 'mistral', model: 'mistral-large-2411', outputTokens: 100 });
    expect(e.energyKWh.min).toBe(e.energyKWh.max);
    expect(e.energyKWh.min).toBeGreaterThan(0);
  });

  it('MoE total parameters set the GPU count; active parameters set the energy per token', () => {
    // 440 B total at 16 bits × 1.2 = 1056 GB -> 14 GPUs of 80 GB -> 16 (a power of two).
    const e = estimateLlmCall({ parameters: { active: 50, total: 440 }, outputTokens: 1, zone: 'USA', pue: 1, wueOnSiteLPerKWh: 0 });
    expect(e.gpus).toEqual({ min: 16, max: 16 });
    const gpuWh = 1.1665273170451914e-6 * Math.exp(-0.011205921025579175 * 64) * 50 + 4.052928146734005e-5;
    const tokenS = 6.785088094353663e-4 * 50 + 3.119310311688259e-4 * 64 + 1.9473717579473387e-2;
    const serverKWh = ((tokenS / 3600) * 1.2 * (16 / 8)) / 64;
    expect(rel(e.energyKWh.min, serverKWh + (16 * gpuWh) / 1000)).toBeLessThan(1e-12);
  });

  it('latency caps the generation time, never extends it', () => {
    const free = estimateLlmCall({ parameters: { active: 70, total: 70 }, outputTokens: 1000, zone: 'USA' });
    const capped = estimateLlmCall({ parameters: { active: 70, total: 70 }, outputTokens: 1000, zone: 'USA', latencyS: 5 });
    const long = estimateLlmCall({ parameters: { active: 70, total: 70 }, outputTokens: 1000, zone: 'USA', latencyS: 1e6 });
    expect(capped.generationLatencyS.max).toBe(5);
    expect(free.generationLatencyS.max).toBeGreaterThan(5);
    expect(long.generationLatencyS).toEqual(free.generationLatencyS);
    expect(capped.energyKWh.max).toBeLessThan(free.energyKWh.max);
  });

  it('zero output tokens cost only the server share of the time given', () => {
    const e = estimateLlmCall({ parameters: { active: 8, total: 8 }, outputTokens: 0, zone: 'USA', latencyS: 2, pue: 1 });
    expect(e.generationLatencyS.max).toBe(0);
    expect(e.energyKWh.max).toBe(0);
  });
});

describe('estimateLlmCall: table, zones, errors', () => {
  it('uses the table and the provider defaults (Anthropic: PUE and WUE ranges)', () => {
    const e = estimateLlmCall({ provider: 'anthropic', model: 'claude-sonnet-4-5', outputTokens: 400, latencyS: 12 });
    expect(e.inputs.model).toBe('claude-sonnet-4-5-20250929');
    expect(e.inputs.pue).toEqual({ min: 1.09, max: 1.14 });
    expect(e.inputs.zone).toBe('USA');
    expect(e.warnings.join(' ')).toMatch(/model-arch-not-released/);
    expect(e.energyKWh.max / e.energyKWh.min).toBeGreaterThan(1.5);
  });

  it('Mistral defaults to Sweden; a zone override changes only the grid', () => {
    const swe = estimateLlmCall({ provider: 'mistral', model: 'mistral-large-2411', outputTokens: 400 });
    const fra = estimateLlmCall({ provider: 'mistral', model: 'mistral-large-2411', outputTokens: 400, zone: 'fra' });
    expect(swe.inputs.zone).toBe('SWE');
    expect(fra.inputs.zone).toBe('FRA');
    expect(fra.energyKWh).toEqual(swe.energyKWh);
    expect(fra.usage.gwpKg.min).not.toBe(swe.usage.gwpKg.min);
  });

  it('an unknown zone falls back to the world mix with a warning', () => {
    const e = estimateLlmCall({ provider: 'openai', model: 'gpt-4o-mini', outputTokens: 100, zone: 'XYZ' });
    const w = estimateLlmCall({ provider: 'openai', model: 'gpt-4o-mini', outputTokens: 100, zone: 'WOR' });
    expect(e.inputs.zone).toBe('WOR');
    expect(e.warnings.some((s) => s.includes("unknown electricity zone 'XYZ'"))).toBe(true);
    expect(e.gwpKg).toEqual(w.gwpKg);
  });

  it('an unknown model is a named error with close matches', () => {
    let err: unknown;
    try {
      estimateLlmCall({ provider: 'openai', model: 'gpt-4o-mnii', outputTokens: 10 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnknownLlmModelError);
    expect(err).toBeInstanceOf(WattprintError);
    const u = err as UnknownLlmModelError;
    expect(u.code).toBe('LLM_UNKNOWN_MODEL');
    expect(u.suggestions).toContain('gpt-4o-mini');
    expect(u.message).toMatch(/did you mean 'gpt-4o-mini'/);
    expect(() => estimateLlmCall({ provider: 'acme', model: 'x', outputTokens: 1 })).toThrow(/unknown provider 'acme'/);
  });

  it('a dated snapshot not in the table suggests its base model', () => {
    expect(() => estimateLlmCall({ provider: 'openai', model: 'gpt-4o-mini-2031-01-01', outputTokens: 1 })).toThrow(/did you mean 'gpt-4o-mini'/);
    expect(findLlmModel('openai', 'gpt-4o-mini-2024-07-18')?.name).toBe('gpt-4o-mini-2024-07-18');
  });

  it('rejects bad input naming the option', () => {
    const bad = [
      [{ parameters: { active: 1, total: 1 }, outputTokens: -1 }, 'outputTokens'],
      [{ parameters: { active: 0, total: 1 }, outputTokens: 1 }, 'parameters.active'],
      [{ parameters: { active: 1, total: { min: 5, max: 2 } }, outputTokens: 1 }, 'parameters.total'],
      [{ parameters: { active: 1, total: 1 }, outputTokens: 1, pue: 0.5 }, 'pue'],
      [{ parameters: { active: 1, total: 1 }, outputTokens: 1, deployment: { tps: 0 } }, 'deployment.tps'],
      [{ outputTokens: 1 }, 'model'],
    ] as const;
    for (const [input, option] of bad) {
      expect(() => estimateLlmCall(input as never), option).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', option }));
    }
  });
});
