import { cpuTdp, DEFAULT_W_PER_THREAD } from '../estimate/cpu-tdp.js';
import { gridIntensity } from '../intensity/index.js';
import type { Location } from '../types.js';
import { CliError, EXIT } from './exit.js';
import { formatEnergyKWh, formatMassKg, sig, table } from './format.js';
import { describeGpuSource, GPU_ROWS, lookupGpu, type GpuRow } from './gpu-table.js';
import type { CliIO } from './io.js';

export interface EstimateFlags {
  gpu?: string;
  gpus?: number;
  hours?: number;
  cpu?: string;
  cpuThreads?: number;
  cpuPowerW?: number;
  country?: string;
  region?: string;
  cloud?: string;
  pue?: number;
  intensity?: number;
  json?: boolean;
}

/** The result of `wattprint estimate`, also printed with `--json`. */
export interface EstimateResult {
  readonly hours: number;
  readonly gpu?: { readonly name: string; readonly count: number; readonly tdpW: number; readonly source: string; readonly row: GpuRow };
  readonly cpu?: { readonly powerW: number; readonly basis: string; readonly model?: string; readonly matchedName?: string; readonly threads?: number };
  readonly pue: number;
  /** IT power before PUE, W. */
  readonly powerW: number;
  readonly energyKWh: number;
  readonly intensity: { readonly gPerKWh: number; readonly source: string; readonly year?: number; readonly place?: string; readonly isFallback?: boolean; readonly warning?: string };
  readonly emissionsKg: number;
  readonly assumptions: readonly string[];
}

const positive = (flag: string, v: number | undefined, integer = false) => {
  if (v === undefined) return;
  if (!Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v)))
    throw new CliError(`invalid value for ${flag}: expected a ${integer ? 'positive integer' : 'number > 0'}, got ${v}`);
};

/**
 * Model-based estimate in the manner of ML CO2 Impact and Green Algorithms:
 * energy (kWh) = hours × (GPUs × GPU TDP + CPU power) × PUE / 1000, and emissions = energy × grid
 * intensity. Every device is assumed to draw its full rated power for the whole time, so the
 * figure is an upper bound of the operational footprint.
 */
export function estimate(flags: EstimateFlags): EstimateResult {
  if (flags.hours === undefined) throw new CliError('missing --hours <h>, the duration of the job in hours');
  positive('--hours', flags.hours);
  positive('--gpus', flags.gpus, true);
  positive('--cpu-threads', flags.cpuThreads, true);
  positive('--cpu-power-w', flags.cpuPowerW);
  if (flags.pue !== undefined && (!Number.isFinite(flags.pue) || flags.pue < 1 || flags.pue > 5))
    throw new CliError(`invalid value for --pue: expected a PUE between 1 and 5 (1 = no facility overhead), got ${flags.pue}`);
  if (flags.intensity !== undefined && !(flags.intensity >= 0)) throw new CliError(`invalid value for --intensity: expected gCO2eq/kWh >= 0, got ${flags.intensity}`);
  if (flags.gpu === undefined && flags.cpu === undefined && flags.cpuThreads === undefined && flags.cpuPowerW === undefined)
    throw new CliError('nothing to estimate: give --gpu <model> and/or --cpu <model> / --cpu-threads <n>');
  if (flags.gpus !== undefined && flags.gpu === undefined) throw new CliError('--gpus needs --gpu <model>');
  if (flags.cloud !== undefined && flags.cloud !== 'gcp' && flags.country === undefined)
    throw new CliError(`--cloud ${flags.cloud} has no per-region data offline; add --country <iso3> for its grid`);
  if (flags.cloud === 'gcp' && flags.region === undefined) throw new CliError("--cloud gcp needs --region, e.g. 'europe-west1'");

  const assumptions: string[] = [];
  let gpu: EstimateResult['gpu'];
  if (flags.gpu !== undefined) {
    const found = lookupGpu(flags.gpu);
    if (!found.row) {
      const hint = found.suggestions.length > 0 ? `; did you mean ${found.suggestions.map((s) => `'${s}'`).join(', ')}?` : '';
      throw new CliError(`unknown GPU '${flags.gpu}'${hint} (wattprint estimate --list-gpus lists the ${GPU_ROWS.length} known models)`);
    }
    const count = flags.gpus ?? 1;
    gpu = { name: found.row.name, count, tdpW: found.row.tdpW, source: describeGpuSource(found.row), row: found.row };
    assumptions.push(
      `GPU: ${count} × ${found.row.name} at ${found.row.tdpW} W each (${describeGpuSource(found.row)}); every GPU draws its full board power for the whole time, as ML CO2 Impact assumes`,
    );
    if (found.row.note) assumptions.push(`GPU note: ${found.row.note}`);
  }

  let cpu: EstimateResult['cpu'];
  if (flags.cpuPowerW !== undefined) {
    cpu = { powerW: flags.cpuPowerW, basis: 'given with --cpu-power-w', ...(flags.cpu ? { model: flags.cpu } : {}) };
    assumptions.push(`CPU: ${flags.cpuPowerW} W (given with --cpu-power-w)`);
  } else if (flags.cpu !== undefined || flags.cpuThreads !== undefined) {
    // The library's rule (table TDP, else 4 W per thread), for one socket: the flags name one CPU model.
    const basis = cpuTdp({ model: flags.cpu ?? '', threads: flags.cpuThreads ?? 0, sockets: 1 });
    const model = flags.cpu !== undefined ? { model: flags.cpu } : {};
    if (basis.source === 'table') {
      const match = basis.match!;
      cpu = { powerW: basis.tdpW, basis: `TDP of '${match.name}' in CodeCarbon's cpu_power.csv (${match.match} match)`, ...model, matchedName: match.name };
      assumptions.push(
        `CPU: ${basis.tdpW} W, the TDP of '${match.name}' (CodeCarbon cpu_power.csv, ${match.match} match); the whole package at full load, as CodeCarbon's load model gives at 100 % load` +
          (flags.cpuThreads !== undefined ? `; --cpu-threads ${flags.cpuThreads} is not used for a known model (the table has no thread counts)` : ''),
      );
    } else if (flags.cpuThreads === undefined) {
      throw new CliError(`unknown CPU model '${flags.cpu}' (not in CodeCarbon's cpu_power.csv); add --cpu-threads <n> for ${DEFAULT_W_PER_THREAD} W per thread, or --cpu-power-w <W>`);
    } else {
      const rule = `${DEFAULT_W_PER_THREAD} W per thread × ${flags.cpuThreads} threads`;
      cpu = { powerW: basis.tdpW, basis: flags.cpu !== undefined ? `${rule} (model not in the table)` : rule, ...model, threads: flags.cpuThreads };
      assumptions.push(
        flags.cpu !== undefined
          ? `CPU: '${flags.cpu}' is not in CodeCarbon's cpu_power.csv; ${rule} = ${basis.tdpW} W (CodeCarbon's fallback)`
          : `CPU: ${rule} = ${basis.tdpW} W (CodeCarbon's fallback for an unknown model)`,
      );
    }
  } else {
    assumptions.push('CPU: not included (add --cpu <model> or --cpu-threads <n>)');
  }
  assumptions.push('RAM, storage and network: not included');

  const pue = flags.pue ?? 1;
  assumptions.push(flags.pue === undefined ? 'PUE: 1, facility overhead not included (add --pue, e.g. 1.1 for a hyperscale cloud)' : `PUE: ${pue}`);

  let intensity: EstimateResult['intensity'];
  if (flags.intensity !== undefined) {
    intensity = { gPerKWh: flags.intensity, source: 'given with --intensity' };
  } else {
    const loc: Record<string, string> = {};
    if (flags.country !== undefined) loc.countryIsoCode = flags.country.toUpperCase();
    if (flags.cloud !== undefined) {
      loc.cloudProvider = flags.cloud;
      if (flags.region !== undefined) loc.cloudRegion = flags.region;
    } else if (flags.region !== undefined) loc.region = flags.region;
    const v = gridIntensity(loc as Location);
    const place = [v.countryName, v.region || v.city].filter(Boolean).join(', ');
    intensity = {
      gPerKWh: v.gPerKWh,
      source: v.source,
      ...(v.year !== undefined ? { year: v.year } : {}),
      ...(place ? { place } : {}),
      ...(v.isFallback ? { isFallback: true } : {}),
      ...(v.warning ? { warning: v.warning } : {}),
    };
  }
  assumptions.push(
    `grid intensity: ${sig(intensity.gPerKWh)} gCO2eq/kWh${intensity.place ? ` for ${intensity.place}` : ''} (${intensity.source}${intensity.year !== undefined ? `, ${intensity.year}` : ''})` +
      (intensity.isFallback ? '; world average: add --country <iso3>' : ''),
  );

  const powerW = (gpu ? gpu.count * gpu.tdpW : 0) + (cpu?.powerW ?? 0);
  const energyKWh = (flags.hours * powerW * pue) / 1000;
  const emissionsKg = (energyKWh * intensity.gPerKWh) / 1000;
  return { hours: flags.hours, ...(gpu ? { gpu } : {}), ...(cpu ? { cpu } : {}), pue, powerW, energyKWh, intensity, emissionsKg, assumptions };
}

export function formatEstimate(r: EstimateResult): string {
  const terms = [r.gpu ? `${r.gpu.count} × ${r.gpu.tdpW} W` : undefined, r.cpu ? `${sig(r.cpu.powerW)} W` : undefined].filter(Boolean).join(' + ');
  return [
    'wattprint estimate (model-based, like ML CO2 Impact and Green Algorithms)',
    `  energy     ${formatEnergyKWh(r.energyKWh)} = ${sig(r.hours)} h × (${terms}) × PUE ${r.pue} / 1000 = ${sig(r.energyKWh, 4)} kWh`,
    `  emissions  ${formatMassKg(r.emissionsKg)} CO2eq = ${sig(r.energyKWh, 4)} kWh × ${sig(r.intensity.gPerKWh)} g/kWh`,
    'assumptions',
    ...r.assumptions.map((a) => `  - ${a}`),
    // The world-average fallback is already stated with the flag to fix it; other warnings are new information.
    ...(r.intensity.warning && !r.intensity.isFallback ? [`warning: ${r.intensity.warning}`] : []),
  ].join('\n');
}

export function formatGpuList(): string {
  const rows = [['GPU', 'W', 'segment', 'source'], ...GPU_ROWS.map((g) => [g.name, String(g.tdpW), g.segment, describeGpuSource(g)])];
  return table(rows, '');
}

export function estimateCommand(flags: EstimateFlags, io: CliIO): number {
  const r = estimate(flags);
  if (flags.json) {
    const { gpu, ...rest } = r;
    const out = { ...rest, ...(gpu ? { gpu: { name: gpu.name, count: gpu.count, tdpW: gpu.tdpW, source: gpu.row.source } } : {}) };
    io.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } else io.stdout.write(`${formatEstimate(r)}\n`);
  return EXIT.OK;
}
