export { estimateLlmCall, sumLlmEstimates, LLM_METHOD, LLM_FORMULAS, PROVIDER_DATA_CENTRES } from './estimate.js';
export type { LlmEstimateTotals, ProviderDataCentre } from './estimate.js';
export { findLlmModel, closeLlmModels, UnknownLlmModelError } from './models.js';
export type * from './types.js';
