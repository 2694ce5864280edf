import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCsv } from '../../src/reporters/index.js';
import { runCli, startCli, tempDir, waitFor } from './helpers.js';

describe('wattprint monitor', () => {
  it('writes a cumulative machine-mode row every --interval and a final row', async () => {
    const out = tempDir();
    const r = await runCli(['monitor', '--interval', '0.4', '--duration', '1.5', '--output-dir', out, '--country-iso-code', 'SWE']);
    expect(r.code).toBe(0);
    const rows = readCsv(join(out, 'emissions.csv'));
    // Three timer rows (0.4, 0.8, 1.2 s) and the final one; a loaded machine may delay a timer, never add one.
    expect(rows.length).toBeGreaterThanOrEqual(3);
    expect(rows.length).toBeLessThanOrEqual(4);
    expect(new Set(rows.map((x) => x.run_id)).size).toBe(1);
    for (const row of rows) {
      expect(row.tracking_mode).toBe('machine');
      expect(row.country_iso_code).toBe('SWE');
    }
    const durations = rows.map((x) => Number(x.duration));
    for (let i = 1; i < durations.length; i++) expect(durations[i]).toBeGreaterThan(durations[i - 1]!);
    expect(durations.at(-1)).toBeGreaterThanOrEqual(1.45);
    const energies = rows.map((x) => Number(x.energy_consumed));
    for (let i = 1; i < energies.length; i++) expect(energies[i]).toBeGreaterThan(energies[i - 1]!);
    // One stdout line per row, with the mean power since the previous row.
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(rows.length);
    const last = rows.at(-1)!;
    const prev = rows.at(-2)!;
    const ramW = ((Number(last.ram_energy) - Number(prev.ram_energy)) * 3.6e6) / (Number(last.duration) - Number(prev.duration));
    expect(lines.at(-1)).toContain(`ram ${Number(ramW.toPrecision(3))} W`);
    expect(r.stderr).toMatch(/stopped \(after --duration 1\.5 s\)/);
  });

  it('stops on SIGINT, writes the final row and exits 0', async () => {
    const out = tempDir();
    const run = startCli(['monitor', '--interval', '0.3', '--output-dir', out]);
    await waitFor(run.stdout, '\n');
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/stopped \(SIGINT\)/);
    const rows = readCsv(join(out, 'emissions.csv'));
    expect(rows.length).toBe(r.stdout.trim().split('\n').length);
    expect(rows.length).toBeGreaterThanOrEqual(2);
  });

  it('rejects a bad --interval with one line and exit 2', async () => {
    const r = await runCli(['monitor', '--interval', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("wattprint: option '--interval <s>' argument '0' is invalid. expected a number > 0.\n");
  });
});
