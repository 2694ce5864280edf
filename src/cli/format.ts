/** Human-readable numbers for terminal output. Files keep full precision; only the display rounds. */
import { J_PER_KWH } from '../units.js';

const sigFormat = new Map<number, Intl.NumberFormat>();

/** `n` with `digits` significant digits, no exponent, no grouping: 0.000123, 12.3, 12300. */
export function sig(n: number, digits = 3): string {
  if (!Number.isFinite(n)) return String(n);
  if (n === 0) return '0';
  let f = sigFormat.get(digits);
  if (!f) {
    f = new Intl.NumberFormat('en-US', { maximumSignificantDigits: digits, useGrouping: false });
    sigFormat.set(digits, f);
  }
  return f.format(n);
}

/** Energy given in kWh, shown in J, Wh, kWh or MWh, whichever reads best. */
export function formatEnergyKWh(kWh: number): string {
  const j = kWh * J_PER_KWH;
  const a = Math.abs(j);
  if (a < 100) return `${sig(j)} J`;
  if (a < J_PER_KWH) return `${sig(j / 3600)} Wh`;
  if (a < 3.6e9) return `${sig(kWh)} kWh`;
  return `${sig(kWh / 1000)} MWh`;
}

/** A mass of CO2eq given in kg, shown in mg, g, kg or t. */
export function formatMassKg(kg: number): string {
  const g = kg * 1000;
  const a = Math.abs(g);
  if (a === 0) return '0 g';
  if (a < 1) return `${sig(g * 1000)} mg`;
  if (a < 1000) return `${sig(g)} g`;
  if (a < 1e6) return `${sig(kg)} kg`;
  return `${sig(kg / 1000)} t`;
}

export function formatPowerW(w: number): string {
  return Math.abs(w) >= 1000 ? `${sig(w / 1000)} kW` : `${sig(w)} W`;
}

/** Seconds as `1.52 s`, `2 min 03 s` or `1 h 02 min`. */
export function formatDurationS(s: number): string {
  if (!Number.isFinite(s)) return `${s} s`;
  if (s < 60) return `${sig(s)} s`;
  const total = Math.round(s);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  if (h === 0) return `${m} min ${String(sec).padStart(2, '0')} s`;
  return `${h} h ${String(m).padStart(2, '0')} min`;
}

/** Share of a total as `42 %`; `–` when the total is zero. */
export function formatShare(part: number, total: number): string {
  return total > 0 ? `${sig((part / total) * 100, 2)} %` : '–';
}

/** Pads columns of a small table to the widest cell (left-aligned, two spaces apart). */
export function table(rows: readonly (readonly string[])[], indent = '  '): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows
    .map((row) => indent + row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd())
    .join('\n');
}
