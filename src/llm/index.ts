export { estimateLlmCall, sumLlmEstimates, LLM_METHOD, LLM_FORMULAS, PROVIDER_DATA_CENTRES } from './estimate.js';
export type { LlmEstimateTotals, ProviderDataCentre } from './estimate.js';
export { findLlmModel, closeLlmModels, UnknownLlmModelError } from './models.js';
export type * from './types.js';
export { instrumentOpenAI } from './openai.js';
export { instrumentAnthropic } from './anthropic.js';
export type { LlmInstrumentOptions, LlmEventTarget } from './record.js';
export { wattprintMiddleware } from './ai-sdk.js';
export type { WattprintLanguageModelMiddleware } from './ai-sdk.js';
