import type { ResolvedOptions } from '../options.js';
import { createIntensityChain, type IntensityChain, type IntensityChainContext } from './chain.js';

export { locationOf } from './chain.js';

/** The intensity chain the tracker's options ask for (see {@link createIntensityChain}). */
export function intensityProviderFor(o: ResolvedOptions, context?: IntensityChainContext): IntensityChain {
  return createIntensityChain(o, context);
}
