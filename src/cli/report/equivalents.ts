/**
 * Everyday equivalents of a result, with the factors' sources. Car distance follows emissions (it
 * compares CO2eq); phone charges follow energy (they compare electricity, whatever the grid).
 */

/** g CO2eq per km of the average US gasoline passenger vehicle: 4.03 × 10⁻⁴ t CO2e per mile. */
export const CAR_G_PER_KM = 403 / 1.609344;
/** kWh per full smartphone charge: 8.22 × 10⁻⁶ t CO2 per charge ÷ 7.09 × 10⁻⁴ t CO2 per kWh. */
export const PHONE_CHARGE_KWH = 8.22e-6 / 7.09e-4;

export const EQUIVALENT_SOURCES: readonly string[] = [
  'Car: 4.03 × 10⁻⁴ t CO2e per mile (250 g per km) driven by the average gasoline passenger vehicle, US EPA Greenhouse Gas Equivalencies Calculator – Calculations and References (https://www.epa.gov/energy/greenhouse-gas-equivalencies-calculator-calculations-and-references).',
  'Phone charge: 0.0116 kWh, from the same page (8.22 × 10⁻⁶ t CO2 per smartphone charged at 7.09 × 10⁻⁴ t CO2 per kWh).',
];

export interface Equivalents {
  /** Kilometres by an average gasoline car with the same emissions. */
  readonly carKm: number;
  /** Full smartphone charges with the same energy. */
  readonly phoneCharges: number;
}

export function equivalents(energyKWh: number, emissionsKg: number): Equivalents {
  return { carKm: (emissionsKg * 1000) / CAR_G_PER_KM, phoneCharges: energyKWh / PHONE_CHARGE_KWH };
}
