import { KEEP_DIST_FIX, WattprintError } from '../errors.js';
import { requireHere as requireChunk } from '../require-here.js';

/** The groups of code that load on first use, each an entry of the build (test/build/tsup.config.mjs, `lazy-<name>`). */
export interface LazyChunks {
  report: typeof import('../report/run-report.js');
  timeline: typeof import('../exporters/timeline.js');
  'live-intensity': typeof import('./live-intensity.js');
  reporters: typeof import('./reporters.js');
  rapl: typeof import('../sources/rapl-source.js');
  nvml: typeof import('../sources/nvml-source.js');
  inference: typeof import('../inference/call-tracker.js');
}

// Set to true by the package build (test/build/tsup.config.mjs), which ships each group as
// dist/lazy-<name>.cjs beside the chunk this module is bundled into (every chunk sits in dist/).
declare const __WATTPRINT_DIST__: boolean;

/**
 * One group of code, required on first use. In the package build the `require()`s of the sources
 * below are dead code, which the bundler drops; a bundle of the sources made by other means (the
 * tests' esbuild bundles of the CLI) has no chunk files and takes those instead. Vitest, which runs
 * the sources as ES modules, resolves this module to test/build/chunk-loader-source.ts.
 */
export function loadChunk<K extends keyof LazyChunks>(name: K): LazyChunks[K] {
  if (typeof __WATTPRINT_DIST__ === 'undefined') {
    const modules: { [N in keyof LazyChunks]: () => LazyChunks[N] } = {
      report: () => require('../report/run-report.js'),
      timeline: () => require('../exporters/timeline.js'),
      'live-intensity': () => require('./live-intensity.js'),
      reporters: () => require('./reporters.js'),
      rapl: () => require('../sources/rapl-source.js'),
      nvml: () => require('../sources/nvml-source.js'),
      inference: () => require('../inference/call-tracker.js'),
    };
    return modules[name]();
  }
  try {
    return requireChunk(`./lazy-${name}.cjs`) as LazyChunks[K];
  } catch (err) {
    throw new WattprintError(
      'MISSING_CHUNK',
      `wattprint could not load its ${name} code, dist/lazy-${name}.cjs beside its other files (${(err as Error).message.split('\n')[0]}). ${KEEP_DIST_FIX}`,
      { cause: err },
    );
  }
}
