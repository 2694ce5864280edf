/**
 * Code that `import 'wattprint'` and a plain start() / sample / stop never run, loaded on first use
 * (src/lazy/chunk-loader.ts). Nothing else in the start path may import these modules statically,
 * or their code is back in the chunk that every import loads (test/native/lazy-load.test.ts checks).
 */
import { loadChunk, type LazyChunks } from './chunk-loader.js';

function once<K extends keyof LazyChunks>(name: K): () => LazyChunks[K] {
  let loaded: LazyChunks[K] | undefined;
  return () => (loaded ??= loadChunk(name));
}

/** The run report builder (src/report/run-report.ts): at the first report. */
export const reportModule = once('report');
/** The RAPL source's code (src/sources/rapl-source.ts): at a probe that finds powercap or MSR files. */
export const raplModule = once('rapl');
/** The NVML source's code (src/sources/nvml-source.ts): at a probe that finds an NVIDIA device. */
export const nvmlModule = once('nvml');
/** The call tracker (src/inference/call-tracker.ts): at the first wrap, label, call statistic or report. */
export const inferenceModule = once('inference');
const timelineModule = once('timeline');
const liveModule = once('live-intensity');
const reportersModule = once('reporters');

// Public functions of those modules, with their signatures, loading the module at the first call.
type Fn = (...args: unknown[]) => unknown;
const forward = <M, K extends keyof M>(module: () => M, name: K): M[K] =>
  function (this: unknown, ...args: unknown[]) {
    return (module()[name] as Fn).apply(this, args);
  } as M[K];

/** Records a tracker's samples and calls as JSON lines (src/exporters/timeline.ts; docs/api.md). */
export const recordTimeline = forward(timelineModule, 'recordTimeline');
/** Live grid intensity from Electricity Maps (src/intensity/electricity-maps.ts; docs/api.md). */
export const electricityMapsProvider = forward(liveModule, 'electricityMapsProvider');
/** Live grid intensity from the GB Carbon Intensity API (src/intensity/uk-carbon-intensity.ts). */
export const ukCarbonIntensityProvider = forward(liveModule, 'ukCarbonIntensityProvider');
/** Live marginal grid intensity from WattTime (src/intensity/watttime.ts). */
export const wattTimeProvider = forward(liveModule, 'wattTimeProvider');
/** A cloud VM's region from its metadata service (src/intensity/location.ts): runs without a location. */
export const cloudRegionFromMetadata = forward(liveModule, 'cloudRegionFromMetadata');
/** The country of the host's public IP (src/intensity/location.ts): only with `geolocate: true`. */
export const geolocate = forward(liveModule, 'geolocate');

// The file reporters and CSV tools (src/reporters/; docs/api.md): at a tracker's construction when it
// writes files, else at the first call.
export const csvReporter = forward(reportersModule, 'csvReporter');
export const jsonReporter = forward(reportersModule, 'jsonReporter');
export const taskCsvPath = forward(reportersModule, 'taskCsvPath');
export const readCsv = forward(reportersModule, 'readCsv');
export const parseCsv = forward(reportersModule, 'parseCsv');
export const formatCsvLine = forward(reportersModule, 'formatCsvLine');
export const withFileLock = forward(reportersModule, 'withFileLock');
