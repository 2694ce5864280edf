import { createRequire } from 'node:module';

/** The groups of code that load on first use, each an entry of the build (package.json "tsup".entry `lazy-<name>`). */
export interface LazyChunks {
  report: typeof import('../report/run-report.js');
  timeline: typeof import('../exporters/timeline.js');
  'live-intensity': typeof import('./live-intensity.js');
  reporters: typeof import('./reporters.js');
}

// dist/lazy-<name>.cjs, beside the chunk this module is bundled into (every chunk sits in dist/).
// The tests run the sources, where vitest resolves this module to test/build/chunk-loader-source.ts
// (Node 20 cannot require() TypeScript); the built package is tested by test/native/lazy-load.test.ts.
const requireChunk = createRequire(import.meta.url);

export function loadChunk<K extends keyof LazyChunks>(name: K): LazyChunks[K] {
  return requireChunk(`./lazy-${name}.cjs`) as LazyChunks[K];
}
