// Stands in for src/lazy/chunk-loader.ts when vitest runs the sources (test/vitest.config.ts
// resolve.alias): the same modules, imported statically, since the sources have no dist/lazy-*.cjs.
import * as timeline from '../../src/exporters/timeline.js';
import * as inference from '../../src/inference/call-tracker.js';
import type { LazyChunks } from '../../src/lazy/chunk-loader.js';
import * as liveIntensity from '../../src/lazy/live-intensity.js';
import * as reporters from '../../src/lazy/reporters.js';
import * as report from '../../src/report/run-report.js';
import * as nvml from '../../src/sources/nvml-source.js';
import * as rapl from '../../src/sources/rapl-source.js';

const chunks: LazyChunks = { report, timeline, 'live-intensity': liveIntensity, reporters, rapl, nvml, inference };

export function loadChunk<K extends keyof LazyChunks>(name: K): LazyChunks[K] {
  return chunks[name];
}
