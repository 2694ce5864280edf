import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers.js';

interface Candidate {
  id: string;
  chosen: boolean;
  ok: boolean;
  reason?: string;
  fix?: string;
}

describe('wattprint detect', () => {
  it('--json gives the hardware, the chosen source per component and every other candidate with its reason', async () => {
    const r = await runCli(['detect', '--json']);
    expect(r.code).toBe(0);
    const d = JSON.parse(r.stdout);
    expect(d.hardware.cpuCount).toBeGreaterThan(0);
    expect(typeof d.hardware.cpuModel).toBe('string');
    for (const c of ['cpu', 'gpu', 'ram']) {
      const comp = d.components[c] as { chosen?: Candidate; candidates: Candidate[] };
      expect(comp.candidates.length).toBeGreaterThan(0);
      expect(comp.candidates.filter((x) => x.chosen)).toHaveLength(comp.chosen ? 1 : 0);
      for (const x of comp.candidates.filter((y) => !y.ok)) expect(x.reason).toBeTruthy();
    }
    // The CPU always has a source: the TDP model is the last fallback.
    expect(d.components.cpu.chosen.id).toBeTruthy();
    expect(d.intensity.gPerKWh).toBeGreaterThan(0);
  });

  it('honours the tracker flags: --no-native, --force-cpu-power-w, --country-iso-code', async () => {
    const r = await runCli(['detect', '--json', '--no-native', '--force-cpu-power-w', '123', '--country-iso-code', 'FRA']);
    expect(r.code).toBe(0);
    const d = JSON.parse(r.stdout);
    expect(d.native.loaded).toBe(false);
    expect(d.components.cpu.chosen.id).toBe('cpu-tdp');
    expect(d.components.cpu.chosen.note).toContain('123');
    expect(d.intensity.countryIsoCode ?? d.intensity.countryName).toBeTruthy();
  });

  it('prints the same in words: chosen sources, reasons and fixes', async () => {
    const json = JSON.parse((await runCli(['detect', '--json'])).stdout);
    const r = await runCli(['detect']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^hardware\n {2}cpu {6}/);
    for (const c of ['cpu', 'gpu', 'ram']) {
      const comp = json.components[c];
      expect(r.stdout).toContain(`  ${c}: ${comp.chosen ? `${comp.chosen.id} (${comp.chosen.kind})` : 'not accounted'}`);
      for (const x of comp.candidates as Candidate[]) {
        if (!x.ok) expect(r.stdout).toContain(x.reason!);
        if (x.fix) expect(r.stdout).toContain(`fix: ${x.fix}`);
      }
    }
  });

  it('reports an invalid config file value as a usage error naming the file', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, '.wattprint.json'), JSON.stringify({ pue: 0 }));
    const r = await runCli(['detect'], { cwd });
    // detect ignores PUE-free checks? No: every option is validated.
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('.wattprint.json');
  });
});
