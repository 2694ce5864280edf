export { EmissionsTracker } from './tracker.js';
export type { TrackerEvents } from './tracker.js';
export { trackEmissions } from './decorator.js';
export type { EmissionsDecorator, TrackEmissionsOptions } from './decorator.js';
export { detect } from './detect.js';
export type { DetectResult, DetectedSource } from './detect.js';
export { resolveOptions, envName, CONFIG_FILE_NAME } from './options.js';
export type { EmissionsTrackerOptions, ResolvedOptions } from './options.js';
export { WattprintError, type OptionOrigin } from './errors.js';
export { lookupCpuTdp, cpuTdp, type CpuTdpBasis } from './estimate/cpu-tdp.js';
export { ramPowerW, estimateDimmCount } from './estimate/ram.js';
// Not through the intensity/ barrel: a static path to the live providers would put their code in
// the chunk every import loads (they load on first use, src/lazy/index.ts).
export { gridIntensity, offlineIntensityProvider } from './intensity/offline.js';
export { fixedIntensityProvider } from './intensity/fixed.js';
export { emberIntensityProvider } from './intensity/ember.js';
export { createIntensityChain } from './intensity/chain.js';
export { timeZoneCountry, cloudPlace } from './intensity/places.js';
export type {
  ElectricityMapsOptions,
  UkCarbonIntensityOptions,
  WattTimeOptions,
  FixedIntensityOptions,
  LiveTiming,
  IntensityChain,
  IntensityChainContext,
  IntensityChainOptions,
  CloudPlace,
} from './intensity/index.js';
export { CSV_COLUMNS, TASK_CSV_COLUMNS, toCsvRow, toJsonRecord } from './reporters/columns.js';
export { callbackReporter } from './reporters/callback.js';
// Loaded on first use (src/lazy/index.ts): not through the reporters/ barrel, which would load them.
export { csvReporter, jsonReporter, readCsv, parseCsv, formatCsvLine, withFileLock, taskCsvPath } from './lazy/index.js';
export type { CsvReporterOptions, JsonReporterOptions, FileLockOptions, HeldLock } from './reporters/index.js';
export { constantPowerSource } from './sources/constant.js';
export type { ConstantPowerSource, ConstantPowerSourceOptions } from './sources/constant.js';
export { defaultSources, sourceContext } from './setup.js';
export type { SourceChains } from './sources/select.js';
export { raplCpuSource, raplRamSource } from './sources/rapl.js';
export type { RaplSource, RaplSourceOptions } from './sources/rapl.js';
export { nvmlSource } from './sources/nvml.js';
export type { NvmlSource, NvmlSourceOptions } from './sources/nvml.js';
export { cpuTdpSource } from './sources/cpu-tdp.js';
export { ramModelSource } from './sources/ram-dimm.js';
export { loadNative } from './native/load.js';
export type { NativeBinding, NativeLoadResult, NvmlBinding, NvmlError, NvmlProcessSample } from './native/load.js';
export type { HardwareInfo } from './hardware.js';
export type { Selection, Candidate } from './sources/select.js';
export type {
  Baseline,
  CallRecord,
  CallStats,
  LabelValue,
  Labels,
  StreamSummary,
  TokenCounts,
  WrapOptions,
  AttributionRule,
  AttributionTotals,
} from './inference/index.js';
export type { WattprintReport } from './report/run-report.js';
export { recordTimeline, electricityMapsProvider, ukCarbonIntensityProvider, wattTimeProvider } from './lazy/index.js';
export type { Timeline, TimelineOptions, TimelineSample, TimelineCalls, TimelineLine, TimelineSource } from './exporters/timeline.js';
export type { MetricsSource } from './exporters/source.js';
export { VERSION } from './version.js';
export { COMPONENTS } from './types.js';
export type {
  Boundary,
  Component,
  ComponentBoundary,
  DeviceInfo,
  EmissionsData,
  EnergyReading,
  IntensityFreshness,
  IntensityHooks,
  IntensityProvider,
  IntensityValue,
  LocationSource,
  Location,
  Measurement,
  PowerSource,
  ProbeResult,
  ReportContext,
  Reporter,
  SourceContext,
  SourceKind,
  TrackingMode,
  TrackerSnapshot,
  ComponentSnapshot,
  DeviceSnapshot,
  CallsSnapshot,
  WattprintWarning,
} from './types.js';
