// The package entries as published (dist/, built by the global set-up): `wattprint` loads neither
// prom-client nor @opentelemetry/api; `wattprint/prometheus` and `wattprint/otel` resolve through
// package.json's exports in both module systems; `wattprint` is one file, and every other entry
// shares its classes.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const node = (args: string[]) => execFileSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' }).trim();

describe('package entries', () => {
  it("importing 'wattprint' (ESM) resolves no optional peer", () => {
    // A resolve hook that refuses the peers: 'wattprint' must load through it, 'wattprint/prometheus' must not.
    const hook = `export async function resolve(s, c, next) { if (/^(prom-client|@opentelemetry\\/)/.test(s)) throw new Error('optional peer resolved: ' + s); return next(s, c); }`;
    const run = (entry: string) =>
      node([
        '--input-type=module',
        '-e',
        // The ESM entries re-export the CommonJS build, whose require() calls ESM hooks do not see
        // on Node 20: a peer loaded that way shows in require.cache.
        `import { createRequire, register } from 'node:module';
         register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));
         const cache = createRequire(import.meta.url).cache;
         const peer = () => Object.keys(cache).map((k) => /node_modules[/](prom-client|@opentelemetry[/][^/]+)[/]/.exec(k)?.[1]).find(Boolean);
         try { const w = await import('${entry}'); console.log(JSON.stringify(peer() ? 'optional peer resolved: ' + peer() : Object.keys(w).length > 0)); }
         catch (e) { console.log(JSON.stringify(String(e.message))); }`,
      ]);
    expect(JSON.parse(run('wattprint'))).toBe(true);
    expect(JSON.parse(run('wattprint/prometheus'))).toBe('optional peer resolved: prom-client');
  });

  it("requiring 'wattprint' (CJS) loads no optional peer; the exporter entries load theirs", () => {
    const out = node([
      '-e',
      `require('wattprint');
       const before = Object.keys(require.cache).filter((k) => /node_modules\\/(prom-client|@opentelemetry)/.test(k)).length;
       const { prometheusMetrics } = require('wattprint/prometheus');
       const { otelMetrics } = require('wattprint/otel');
       const after = Object.keys(require.cache).filter((k) => /node_modules\\/prom-client/.test(k)).length;
       console.log(JSON.stringify({ before, after: after > 0, fns: [typeof prometheusMetrics, typeof otelMetrics] }));`,
    ]);
    expect(JSON.parse(out)).toEqual({ before: 0, after: true, fns: ['function', 'function'] });
  });

  it('the ESM entries import their peer only where needed', () => {
    const out = node([
      '--input-type=module',
      '-e',
      `const p = await import('wattprint/prometheus'); const o = await import('wattprint/otel');
       console.log(JSON.stringify([typeof p.prometheusMetrics, typeof o.otelMetrics, p.CALL_ENERGY_BUCKETS_J.length]));`,
    ]);
    expect(JSON.parse(out)).toEqual(['function', 'function', 13]);
  });
  it("'wattprint' loads one file of dist/, and the other entries use its classes, not copies", () => {
    const out = node([
      '-e',
      `const dist = require('node:path').join(${JSON.stringify(ROOT)}, 'dist');
       const files = () => Object.keys(require.cache).filter((k) => k.startsWith(dist)).map((k) => k.slice(dist.length + 1)).sort();
       const w = require('wattprint');
       const atImport = files();
       const code = (f) => { try { f(); return 'no error'; } catch (e) { return e instanceof w.WattprintError ? e.code : 'another class: ' + e?.constructor?.name; } };
       const llm = require('wattprint/llm');
       const t = new w.EmissionsTracker({ saveToFile: false, handleSignals: false, countryIsoCode: 'FRA' });
       console.log(JSON.stringify({
         atImport,
         keys: Object.keys(w).filter((k) => k.startsWith('__')),
         llm: code(() => llm.estimateLlmCall({ model: 'gpt-4o', inputTokens: 1 })),
         llmClass: Object.getPrototypeOf(llm.UnknownLlmModelError.prototype) === w.WattprintError.prototype,
         wrap: code(() => t.wrap(42)),
         lazyLoaded: files().includes('lazy-inference.cjs'),
       }));`,
    ]);
    expect(JSON.parse(out)).toEqual({
      atImport: ['index.cjs'],
      keys: [],
      llm: 'INVALID_OPTION',
      llmClass: true,
      wrap: 'INVALID_OPTION',
      lazyLoaded: true,
    });
    const esm = node(['--input-type=module', '-e', `const w = await import('wattprint'); console.log(JSON.stringify(Object.keys(w).filter((k) => k.startsWith('__'))));`]);
    expect(JSON.parse(esm)).toEqual([]);
  });
});
