import type { CpuInfo } from '../system/cpuinfo.js';
import { lookupCpuTdp, type CpuTdpMatch } from './cpu-tdp-table.js';

export { lookupCpuTdp, type CpuTdpMatch } from './cpu-tdp-table.js';

/** TDP assumed per logical thread when the model is not in the table (CodeCarbon `DEFAULT_POWER_PER_CORE`). */
export const DEFAULT_W_PER_THREAD = 4;
/** Share of TDP drawn at idle in the load model: P = TDP × (IDLE_SHARE + (1 − IDLE_SHARE) × load³). */
export const IDLE_SHARE = 0.1;

/** The TDP the CPU estimate uses, and how it was decided (see {@link cpuTdp}). */
export interface CpuTdpBasis {
  /** Watts for the whole machine (all sockets). */
  tdpW: number;
  /** `'forced'`: given (forceCpuPowerW); `'table'`: CodeCarbon's table × sockets; `'per-thread'`: 4 W × threads. */
  source: 'forced' | 'table' | 'per-thread';
  /** The table row, for `'table'`. */
  match?: CpuTdpMatch;
  details: Record<string, string | number | boolean>;
  note: string;
}

/**
 * CodeCarbon's TDP rule, the one place it lives: a forced power wins; else the table row's TDP ×
 * sockets (a 0 W row counts as unknown, as CodeCarbon's `if power:`); else
 * {@link DEFAULT_W_PER_THREAD} × logical threads.
 *
 * @example
 * cpuTdp({ model: 'AMD EPYC 7763 64-Core Processor', threads: 128, sockets: 1 }).tdpW // 280
 */
export function cpuTdp(cpu: Pick<CpuInfo, 'model' | 'threads' | 'sockets'>, forcedW?: number): CpuTdpBasis {
  const common = { model: cpu.model, threads: cpu.threads, sockets: cpu.sockets };
  if (forcedW !== undefined) {
    return {
      tdpW: forcedW,
      source: 'forced',
      details: { ...common, tdpW: forcedW, tdpSource: 'forceCpuPowerW' },
      note: `TDP ${forcedW} W set by forceCpuPowerW`,
    };
  }
  const hit = lookupCpuTdp(cpu.model);
  if (hit && hit.tdpW > 0) {
    const tdpW = hit.tdpW * cpu.sockets;
    return {
      tdpW,
      source: 'table',
      match: hit,
      details: { ...common, tdpW, tdpPerSocketW: hit.tdpW, tdpSource: 'table', matchedRow: hit.name, match: hit.match },
      note: `TDP ${hit.tdpW} W × ${cpu.sockets} socket(s) from CodeCarbon's table row "${hit.name}" (${hit.match} match)`,
    };
  }
  const tdpW = DEFAULT_W_PER_THREAD * cpu.threads;
  return {
    tdpW,
    source: 'per-thread',
    details: { ...common, tdpW, tdpSource: `default ${DEFAULT_W_PER_THREAD} W/thread` },
    note: `CPU model "${cpu.model}" not in the TDP table: ${DEFAULT_W_PER_THREAD} W × ${cpu.threads} threads = ${tdpW} W`,
  };
}
