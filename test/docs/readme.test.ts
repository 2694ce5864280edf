// The README's Quick start, run as written by a new user: `import ... from 'wattprint'` (the built
// package), in a fresh folder where `out/` does not exist yet.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

/** The first fenced code block after `heading` in README.md. */
function snippetAfter(heading: string): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const from = readme.indexOf(heading);
  expect(from).toBeGreaterThanOrEqual(0);
  const m = /```ts\n([\s\S]*?)```/.exec(readme.slice(from));
  return m![1]!;
}

describe('README', () => {
  it('Quick start runs as written and creates its output folder', () => {
    const snippet = snippetAfter('## Quick start');
    expect(snippet).toContain("outputDir: 'out'");
    const dir = mkdtempSync(join(tmpdir(), 'wattprint-readme-'));
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(ROOT, join(dir, 'node_modules', 'wattprint'), 'dir');
    // The snippet's only free name is the user's own work.
    writeFileSync(join(dir, 'quick-start.mjs'), `const doWork = () => new Promise((r) => setTimeout(r, 1100));\n${snippet}`);
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('WATTPRINT_')));
    const out = execFileSync(process.execPath, ['quick-start.mjs'], { cwd: dir, env, encoding: 'utf8' });
    const [kWh, kg, kind] = out.trim().split(' ');
    expect(Number(kWh)).toBeGreaterThan(0);
    expect(Number(kg)).toBeGreaterThan(0);
    expect(['measured', 'estimated']).toContain(kind);
    const csv = readFileSync(join(dir, 'out', 'emissions.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(2);
    expect(csv[0]).toMatch(/^timestamp,project_name,run_id/);
    expect(csv[1]).toContain(',demo,');
    expect(existsSync(join(dir, 'out'))).toBe(true);
  });
});
