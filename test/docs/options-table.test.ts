import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { defaultText, envName, kindsOf, OPTION_NAMES, optionDef, plainText, renderOptionsMarkdown } from '../../src/option-table.js';
import { resolveOptions } from '../../src/options.js';
import { ROOT } from '../cli/helpers.js';
import { docSection } from './doc-section.js';

function helpOf(command: string): string {
  let out = '';
  const io = { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (out += s) } };
  const program = buildProgram(io as never, () => undefined);
  try {
    program.parse([command, '--help'], { from: 'user' });
  } catch {
    // --help ends through exitOverride.
  }
  // Commander wraps descriptions; join the lines of each entry back for matching.
  return out.replace(/\n\s{20,}/g, ' ');
}

describe('the options table is the one source of options', () => {
  it('docs/api.md shows the table as generated from src/option-table.ts', () => {
    const { inDoc, generated } = docSection(join(ROOT, 'docs/api.md'), 'options-table', renderOptionsMarkdown());
    expect(inDoc).toBe(generated);
    // Every option has its row, with its variable and default.
    for (const name of OPTION_NAMES) expect(inDoc).toContain(`| \`${name}\` |`);
    expect(inDoc).toContain("| `measurePowerSecs` | 15 | `WATTPRINT_MEASURE_POWER_SECS` | `--measure-power-secs` |");
    expect(inDoc).toMatch(/\| `nvmlLibraryPath` \| `'libnvidia-ml\.so\.1'` \| `WATTPRINT_NVML_LIBRARY_PATH` \(not from `\.\/\.wattprint\.json`\)/);
  });

  it('the CLI help of run lists every flag of the table with the default the library applies', () => {
    const help = helpOf('run');
    const resolved = resolveOptions({ saveToFile: false }, { env: {}, cwd: '/nonexistent-wattprint', home: '/nonexistent-wattprint' });
    for (const name of OPTION_NAMES) {
      const def = optionDef(name);
      if (!def.cli) continue;
      const flag = def.cli.flags.split(' ')[0]!;
      const line = help.split('\n').find((l) => l.trimStart().startsWith(flag));
      expect(line, flag).toBeDefined();
      const shown = defaultText(name);
      if (shown !== undefined && kindsOf(def)[0] !== 'boolean' && !def.cli.noDefault) {
        expect(line).toContain(`(default ${plainText(shown)})`);
        // The default the help shows is the one resolveOptions applies.
        const value = (resolved as unknown as Record<string, unknown>)[name];
        if (typeof value === 'string' || typeof value === 'number') expect(plainText(shown).replace(/^'|'$/g, '')).toBe(name === 'outputDir' ? '.' : String(value));
      }
    }
    expect(help).toContain('--pue <factor>');
    expect(help).toMatch(/--pue <factor>\s+power usage effectiveness.*\(default 1\)/);
  });

  it('the defaults named in the EmissionsTrackerOptions doc comments are the table’s', () => {
    const src = readFileSync(join(ROOT, 'src/options.ts'), 'utf8');
    const body = src.slice(src.indexOf('export interface EmissionsTrackerOptions'), src.indexOf('/** Options after defaults'));
    let checked = 0;
    for (const m of body.matchAll(/\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*(\w+)\?:/g)) {
      const [, comment, name] = m;
      const stated = /Default (.+?)(?:[.;,](?:\s|$)|$)/.exec(comment!.replace(/\s*\n\s*\*\s*/g, ' '));
      if (!stated) continue;
      const table = defaultText(name as never);
      expect(table, `${name} has a default in its doc comment but none in the table`).toBeDefined();
      expect(plainText(stated[1]!), name).toContain(plainText(table!).replace(/, with a warning$/, ''));
      checked++;
    }
    expect(checked).toBeGreaterThan(10);
  });

  it('maps every option to its variable', () => {
    expect(envName('forceCarbonIntensityGPerKWh')).toBe('WATTPRINT_FORCE_CARBON_INTENSITY_G_PER_KWH');
    expect(OPTION_NAMES.filter((n) => optionDef(n).from === 'trusted').sort()).toEqual(['devRoot', 'nvmlLibraryPath', 'procfsRoot', 'sysfsRoot']);
  });
});
