/**
 * One unit per table column or chart axis: chosen from the column's largest value with the same
 * thresholds as the terminal's single-value formatting, then applied to every cell.
 */
import { sig } from '../format.js';
import { J_PER_KWH } from '../../units.js';

export interface Unit {
  readonly label: string;
  /** Value in this unit = value in the base unit (kWh or kg) × `per`. */
  readonly per: number;
}

/** J, Wh, kWh or MWh for energies given in kWh. */
export function energyUnit(maxKWh: number): Unit {
  const j = Math.abs(maxKWh) * J_PER_KWH;
  if (j < 100) return { label: 'J', per: J_PER_KWH };
  if (j < J_PER_KWH) return { label: 'Wh', per: 1000 };
  if (j < 3.6e9) return { label: 'kWh', per: 1 };
  return { label: 'MWh', per: 1e-3 };
}

/** mg, g, kg or t for masses of CO2eq given in kg. */
export function massUnit(maxKg: number): Unit {
  const g = Math.abs(maxKg) * 1000;
  if (g < 1) return { label: 'mg', per: 1e6 };
  if (g < 1000) return { label: 'g', per: 1000 };
  if (g < 1e6) return { label: 'kg', per: 1 };
  return { label: 't', per: 1e-3 };
}

/** `value` (in the base unit) as a number of `unit`, without the unit: the column header carries it. */
export const inUnit = (value: number, unit: Unit): string => sig(value * unit.per);
