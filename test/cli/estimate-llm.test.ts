import { describe, expect, it } from 'vitest';
import { estimateLlmCall } from '../../src/llm/index.js';
import { runCli } from './helpers.js';

describe('wattprint estimate --llm', () => {
  it('prints the library estimate as JSON', async () => {
    const r = await runCli(['estimate', '--llm', 'openai/gpt-4o-mini', '--output-tokens', '1000', '--latency', '10', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const got = JSON.parse(r.stdout);
    const want = estimateLlmCall({ provider: 'openai', model: 'gpt-4o-mini', outputTokens: 1000, latencyS: 10 });
    expect(got.energyKWh).toEqual(want.energyKWh);
    expect(got.gwpKg).toEqual(want.gwpKg);
    expect(got.method).toBe(want.method);
    expect(got.inputs).toMatchObject({ provider: 'openai', model: 'gpt-4o-mini', zone: 'USA' });
  });

  it('prints ranges, the method and the caveats as text; --country sets the zone', async () => {
    const r = await runCli(['estimate', '--llm', 'anthropic/claude-sonnet-4-5', '--output-tokens', '500', '--country', 'FRA']);
    expect(r.code).toBe(0);
    const e = estimateLlmCall({ provider: 'anthropic', model: 'claude-sonnet-4-5', outputTokens: 500, zone: 'FRA' });
    const wh = (v: number) => new Intl.NumberFormat('en-US', { maximumSignificantDigits: 3, useGrouping: false }).format(v * 1000);
    expect(r.stdout).toContain(`energy      ${wh(e.energyKWh.min)} – ${wh(e.energyKWh.max)} Wh`);
    expect(r.stdout).toContain('in FRA');
    expect(r.stdout).toMatch(/ecologits-0\.11 formulas/);
    expect(r.stdout).toMatch(/not confidence intervals/);
    expect(r.stdout).toMatch(/warning: claude-sonnet-4-5-20250929: model-arch-not-released/);
  });

  it('an unknown model exits 2 with close matches; bad flags name themselves', async () => {
    const r = await runCli(['estimate', '--llm', 'openai/gpt-4o-mnii', '--output-tokens', '10']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--llm: unknown model 'gpt-4o-mnii'.*did you mean 'gpt-4o-mini'/);
    const noTokens = await runCli(['estimate', '--llm', 'openai/gpt-4o-mini']);
    expect(noTokens.stderr).toMatch(/missing --output-tokens/);
    const badProvider = await runCli(['estimate', '--llm', 'gpt-4o-mini', '--output-tokens', '10']);
    expect(badProvider.stderr).toMatch(/expected <provider>\/<model>/);
    const mixed = await runCli(['estimate', '--llm', 'openai/gpt-4o-mini', '--output-tokens', '10', '--gpu', 'T4']);
    expect(mixed.stderr).toMatch(/--gpu do not apply/);
    const latency = await runCli(['estimate', '--gpu', 'T4', '--hours', '1', '--latency', '3']);
    expect(latency.stderr).toMatch(/need --llm/);
  });
});
