import { COMPONENTS, type ComponentBoundary, type EmissionsData } from '../types.js';
import { formatDurationS, formatEnergyKWh, formatMassKg, formatPowerW, formatShare, sig, table } from './format.js';
import { J_PER_KWH } from '../units.js';

/** Where each component's energy came from, in words: `rapl (measured, whole machine)`. */
export function describeSource(b: ComponentBoundary): string {
  if (b.kind === 'none' || b.source === 'none') return b.note ?? 'not accounted';
  const scope = b.scope === 'process' ? 'process tree' : 'whole machine';
  const devices = b.devices.length > 0 ? `; ${b.devices.join(', ')}` : '';
  return `${b.source} (${b.kind}, ${scope}${devices})` + (b.note ? ` – ${b.note}` : '');
}

/**
 * The lines printed after a run, a monitor row or a final result: energy and mean power per
 * component with the source that measured or estimated it, the total, the emissions and the grid
 * intensity with its source.
 */
export function formatResult(d: EmissionsData): string {
  const energyOf = { cpu: d.cpuEnergyKWh, gpu: d.gpuEnergyKWh, ram: d.ramEnergyKWh };
  const powerOf = { cpu: d.cpuPowerW, gpu: d.gpuPowerW, ram: d.ramPowerW };
  const rows: string[][] = [['', 'energy', 'share', 'mean power', 'source']];
  for (const c of COMPONENTS) {
    rows.push([c, formatEnergyKWh(energyOf[c]), formatShare(energyOf[c], d.energyConsumedKWh), formatPowerW(powerOf[c]), describeSource(d.boundary[c])]);
  }
  const meanW = d.durationS > 0 ? (d.energyConsumedKWh * J_PER_KWH) / d.durationS : 0;
  rows.push(['total', formatEnergyKWh(d.energyConsumedKWh), '', formatPowerW(meanW), d.pue === 1 ? 'PUE 1 (no facility overhead)' : `PUE ${d.pue} applied`]);
  const where = [d.countryName, d.region, d.cloudProvider && `${d.cloudProvider} ${d.cloudRegion}`].filter(Boolean).join(', ');
  const lines = [
    table(rows),
    `  emissions  ${formatMassKg(d.emissionsKg)} CO2eq at ${sig(d.intensityGPerKWh)} g/kWh${where ? ` (${where})` : ''}`,
    `  intensity  ${d.intensitySource}`,
  ];
  if (d.waterConsumedL > 0) lines.push(`  water      ${sig(d.waterConsumedL)} L (WUE ${d.wue} L/kWh)`);
  lines.push(`  duration   ${formatDurationS(d.durationS)}, ${d.trackingMode} mode, run ${d.runId}`);
  return lines.join('\n');
}
