export { CallTracker } from './call-tracker.js';
export type { CallReportData } from './call-tracker.js';
export type { AttributionTotals } from './attribution.js';
export type { AttributionRule, CallHost, CallTrackerConfig, IntervalSample } from './seam.js';
export { LogHistogram } from './histogram.js';
export type {
  Baseline,
  CallRecord,
  CallStats,
  LabelValue,
  Labels,
  StreamSummary,
  TokenCounts,
  WrapFunction,
  WrapOptions,
} from './types.js';
