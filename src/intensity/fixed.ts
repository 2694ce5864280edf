import { WattprintError } from '../errors.js';
import type { IntensityProvider, IntensityValue } from '../types.js';

/** Options of {@link fixedIntensityProvider}. */
export interface FixedIntensityOptions {
  /** What the value is, for the outputs. Default `'fixed value (user-provided)'`. */
  source?: string;
  /** Zone the value stands for, for the outputs. */
  zone?: string;
  /** Data year, where known. */
  year?: number;
}

/**
 * A constant grid intensity (gCO2eq/kWh), e.g. a supplier's contractual factor. Answers everywhere,
 * so links after it in a chain are never reached. `forceCarbonIntensityGPerKWh` uses it.
 */
export function fixedIntensityProvider(gPerKWh: number, options: FixedIntensityOptions = {}): IntensityProvider {
  if (typeof gPerKWh !== 'number' || !Number.isFinite(gPerKWh) || gPerKWh < 0)
    throw new WattprintError('INVALID_OPTION', `fixedIntensityProvider(): gPerKWh must be a finite number ≥ 0, got ${String(gPerKWh)}`, { option: 'gPerKWh' });
  const value: IntensityValue = {
    gPerKWh,
    source: options.source ?? 'fixed value (user-provided)',
    provider: 'fixed',
    freshness: 'offline',
    ...(options.zone ? { zone: options.zone } : {}),
    ...(options.year !== undefined ? { year: options.year } : {}),
  };
  return { id: 'fixed', getIntensity: () => value };
}
