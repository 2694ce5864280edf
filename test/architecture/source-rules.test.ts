// Layout rules of the developer guide that a reviewer would otherwise check by hand: no hand-written
// file in src/ over 450 lines, and no import cycle in src/ (type imports included).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importCycles, importsOf, SRC, tsFiles } from './source-graph.js';

const MAX_LINES = 450;

const lines = (file: string) => readFileSync(join(SRC, file), 'utf8').split('\n').length;

describe('src/ layout', () => {
  it(`has no hand-written .ts file over ${MAX_LINES} lines (data files are .json, not counted)`, () => {
    expect(tsFiles().filter((f) => lines(f) > MAX_LINES)).toEqual([]);
  });

  it('has no import cycle, type imports included', () => {
    const graph = new Map(tsFiles().map((f) => [f, importsOf(f)]));
    expect(importCycles(graph).map((c) => c.join(' '))).toEqual([]);
  });

  it('reads every form of import, and finds a cycle when there is one', () => {
    const text = [
      "import { a } from './a.js';",
      "import type { B } from '../b.js';",
      "export * from './c.js';",
      "export { d } from './d/index.js';",
      "import './side.js';",
      "const e = await import('./e.js');",
      "import { f } from 'node:fs';",
    ].join('\n');
    expect(importsOf('x/file.ts', text).sort()).toEqual(['b.ts', 'x/a.ts', 'x/c.ts', 'x/d/index.ts', 'x/e.ts', 'x/side.ts']);
    const g = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ]);
    expect(importCycles(g)).toEqual([['a.ts', 'b.ts', 'c.ts']]);
    expect(importCycles(new Map([['a.ts', ['b.ts']], ['b.ts', []]]))).toEqual([]);
  });
});
