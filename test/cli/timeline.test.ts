import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers.js';

describe('wattprint run --timeline', () => {
  it('writes a line per sample that `wattprint report` draws with the run', async () => {
    const out = tempDir();
    const timeline = join(out, 'timeline.jsonl');
    const r = await runCli(['run', '--quiet', '--timeline', timeline, '--measure-power-secs', '0.2', '--no-native', '--output-dir', out, '--', process.execPath, '-e', 'setTimeout(() => {}, 1200)']);
    expect(r.code, r.stderr).toBe(0);
    const lines = readFileSync(timeline, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; run_id: string; t0_s: number; t_s: number; cpu_energy_j: number });
    expect(lines.length).toBeGreaterThanOrEqual(5);
    expect(lines.every((l) => l.type === 'sample')).toBe(true);
    // Consecutive intervals, from the start of the run.
    expect(lines[0]!.t0_s).toBe(0);
    for (let i = 1; i < lines.length; i++) expect(lines[i]!.t0_s).toBeCloseTo(lines[i - 1]!.t_s, 9);
    const csv = join(out, 'emissions.csv');
    const report = await runCli(['report', csv, timeline]);
    expect(report.code, report.stderr).toBe(0);
    expect(report.stdout).toContain(`(csv + timeline, 1 row, ${lines.length} samples, 1 run in 1 project)`);
    expect(report.stdout).toContain(`  ${lines[0]!.run_id.slice(0, 8)}…`);
  });
});
