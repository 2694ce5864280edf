// Every name the docs call or import is something a user can reach: an export of 'wattprint' or
// 'wattprint/testing', a method of a public class or extension interface, or a name from
// outside wattprint (listed below). A renamed or unexported API fails here, not in a user's editor.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as api from '../../src/index.js';
import * as testing from '../../src/testing/index.js';
// @ts-expect-error: a plain ES module without types.
import builds from '../build/tsup.config.mjs';

const ROOT = join(import.meta.dirname, '..', '..');
const DOCS = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
/** Names of Node.js, NVML, JavaScript or the examples' own code that the docs mention. */
const FOREIGN = new Set(['dlopen', 'return', 'min', 'String', 'Intel', 'getReader', 'open', 'fn', 'tokens', 'doWork', 'work', 'epoch', 'Date', 'cpus', 'totalmem', 'platform', 'rate', 'exit', 'terminate', 'bind', 'stat', 'require', 'cpuUsage', 'hrtime', 'getHeapSpaceStatistics']);

function methodsOf(...protos: object[]): string[] {
  return protos.flatMap((p) => Object.getOwnPropertyNames(p));
}

/** Members declared in the public interfaces and options (`name(`, `name?(`, `name?:` at the start of a line). */
function interfaceMembers(): string[] {
  const files = ['src/types.ts', 'src/native/binding.ts', 'src/native/rapl-binding.ts', 'src/options.ts', 'src/reporters/file-lock.ts'];
  return files.flatMap((f) => [...readFileSync(join(ROOT, f), 'utf8').matchAll(/^\s+(\w+)(?:\??\(|\?:)/gm)].map((m) => m[1]!));
}

/** Every name the package's entry points export (the build's entries and type entries), types included. */
function entryExports(): string[] {
  const files = builds.flatMap((b) => [...Object.values(b.entry), ...Object.values(b.dts ? b.dts.entry : {})]);
  const entries = [...new Set(files)].filter((f) => !f.startsWith('src/cli/'));
  return entries.flatMap((f) => {
    const text = readFileSync(join(ROOT, f), 'utf8');
    const lists = [...text.matchAll(/export (?:type )?\{([^}]+)\}/g)].flatMap((m) => m[1]!.split(',').map((n) => n.trim().split(/\s+as\s+/).at(-1)!));
    const decls = [...text.matchAll(/export (?:async )?(?:function\*?|const|let|class|interface|type|enum) (\w+)/g)].map((m) => m[1]!);
    return [...lists, ...decls];
  });
}

/** Own and inherited methods (EventEmitter's `on`, `off`...) of a class. */
function methodsWithInherited(proto: object | null): string[] {
  const out: string[] = [];
  for (let p = proto; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) out.push(...Object.getOwnPropertyNames(p));
  return out;
}

describe('names used in the docs', () => {
  it('are exported, public members, or from outside wattprint', () => {
    const known = new Set<string>([
      ...Object.keys(api),
      ...Object.keys(testing),
      ...methodsOf(api.EmissionsTracker.prototype, testing.FakeNvmlBinding.prototype, testing.FakeGpu.prototype, testing.FakePowerSource.prototype),
      ...Object.keys(new testing.ManualClock()),
      ...methodsOf(testing.ManualClock.prototype, testing.InMemoryReporter.prototype),
      ...interfaceMembers(),
      ...entryExports(),
      ...methodsWithInherited(api.EmissionsTracker.prototype),
      ...FOREIGN,
    ]);
    const used = new Map<string, string>();
    for (const doc of DOCS) {
      const text = readFileSync(join(ROOT, doc), 'utf8');
      for (const m of text.matchAll(/`(?:[\w.]+\.)?(\w+)\(/g)) used.set(m[1]!, doc);
      for (const m of text.matchAll(/import \{([^}]+)\} from 'wattprint(?:\/testing)?'/g)) {
        for (const name of m[1]!.split(',').map((s) => s.trim().replace(/^type\s+/, ''))) if (name) used.set(name, doc);
      }
    }
    const missing = [...used].filter(([name]) => !known.has(name)).map(([name, doc]) => `${name} (${doc})`);
    expect(missing).toEqual([]);
  });
});
