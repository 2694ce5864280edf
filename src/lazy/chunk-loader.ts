import { createRequire } from 'node:module';
import { WattprintError } from '../errors.js';

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
  try {
    return requireChunk(`./lazy-${name}.cjs`) as LazyChunks[K];
  } catch (err) {
    throw new WattprintError(
      'MISSING_CHUNK',
      `wattprint could not load its ${name} code, dist/lazy-${name}.cjs beside its other files (${(err as Error).message.split('\n')[0]}). ` +
        'When bundling, keep wattprint external (or copy all of its dist/ next to the bundle).',
      { cause: err },
    );
  }
}
