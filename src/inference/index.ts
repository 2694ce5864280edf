export { CallTracker } from './call-tracker.js';
export type { AttributionTotals } from './call-tracker.js';
export { LogHistogram } from './histogram.js';
export { buildReport, REPORT_SCHEMA_VERSION, ATTRIBUTION_DESCRIPTION } from './report.js';
export type { ReportComponent, ReportInput, WattprintReport } from './report.js';
export { wrapCall } from './wrap-call.js';
export type { CallWrapper } from './wrap-call.js';
export type {
  Baseline,
  CallRecord,
  CallStats,
  CallTrackerTuning,
  InferenceHost,
  InferenceHostOptions,
  LabelValue,
  Labels,
  StreamSummary,
  TokenCounts,
  WrapOptions,
} from './types.js';
