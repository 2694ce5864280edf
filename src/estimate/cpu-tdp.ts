import { WattprintError } from '../errors.js';
import { readCpuInfo, type CpuInfo } from '../system/cpuinfo.js';
import { readSystemCpuTimes, type CpuTimes } from '../system/procstat.js';
import { processTreeCpuS } from '../system/proctree.js';
import type { DeviceInfo, EnergyReading, PowerSource, ProbeResult, SourceContext } from '../types.js';
import { lookupCpuTdp, type CpuTdpMatch } from './cpu-tdp-table.js';

export { lookupCpuTdp, type CpuTdpMatch } from './cpu-tdp-table.js';

/** TDP assumed per logical thread when the model is not in the table (CodeCarbon `DEFAULT_POWER_PER_CORE`). */
export const DEFAULT_W_PER_THREAD = 4;
/** Share of TDP drawn at idle in the load model: P = TDP × (IDLE_SHARE + (1 − IDLE_SHARE) × load³). */
export const IDLE_SHARE = 0.1;
/** Load assumed when no CPU times can be read (CodeCarbon's constant mode, 50 % of TDP). */
const CONSTANT_LOAD_SHARE = 0.5;

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

/**
 * The CPU fallback: power estimated from a TDP and the CPU load, integrated between reads.
 *
 * - machine mode: P = TDP × (0.1 + 0.9 × load³), load = Δbusy / Δtotal of /proc/stat between reads;
 * - process mode: P = TDP × min(1, Δ tree CPU s / (Δwall s × threads));
 * - TDP: `opts.tdpW` (forceCpuPowerW), else the table TDP × sockets, else 4 W × threads.
 *
 * Each read covers the interval since the previous read (the first one since `start()`), with the
 * power of that interval. Probing always succeeds: this is the last CPU fallback.
 */
export function cpuTdpSource(ctx: SourceContext, opts: { tdpW?: number; cpu?: CpuInfo } = {}): PowerSource {
  const cpu = opts.cpu ?? readCpuInfo(ctx.procfsRoot);
  const basis = cpuTdp(cpu, opts.tdpW);
  const processMode = ctx.trackingMode === 'process';
  const device: DeviceInfo = { id: '0', name: cpu.model, details: basis.details };
  const formula = processMode
    ? 'P = TDP × tracked CPU-time share'
    : 'P = TDP × (0.1 + 0.9 × load³)';

  let started = false;
  let lastMs = 0;
  let lastTimes: CpuTimes | undefined;
  let lastTreeS: number | undefined;
  let totalJ = 0;
  let lastUtilization = 0;

  /** Power share of TDP over the interval ending now, and the utilisation in [0, 1]. */
  function intervalShare(wallS: number): { share: number; utilization: number } {
    if (processMode) {
      const nowS = processTreeCpuS(ctx.pid, ctx.procfsRoot);
      const prev = lastTreeS;
      if (nowS !== undefined) lastTreeS = nowS;
      if (nowS === undefined || prev === undefined) return { share: 0, utilization: 0 };
      const share = Math.min(1, Math.max(0, nowS - prev) / (wallS * cpu.threads));
      return { share, utilization: share };
    }
    const now = readSystemCpuTimes(ctx.procfsRoot);
    const prev = lastTimes;
    if (now !== undefined) lastTimes = now;
    if (now === undefined || prev === undefined) return { share: CONSTANT_LOAD_SHARE, utilization: lastUtilization };
    const totalS = now.totalS - prev.totalS;
    const load = totalS > 0 ? Math.min(1, Math.max(0, (now.busyS - prev.busyS) / totalS)) : lastUtilization;
    return { share: IDLE_SHARE + (1 - IDLE_SHARE) * load ** 3, utilization: load };
  }

  return {
    id: 'cpu-tdp',
    component: 'cpu',
    kind: 'estimated',
    scope: ctx.trackingMode,
    // The model's power at zero load: machine mode's floor; process mode has none.
    idlePowerW: processMode ? 0 : basis.tdpW * IDLE_SHARE,
    probe(): ProbeResult {
      return { ok: true, devices: [device], note: `estimated: ${basis.note}; ${formula}` };
    },
    start() {
      started = true;
      totalJ = 0;
      lastUtilization = 0;
      lastMs = ctx.nowMs();
      if (processMode) lastTreeS = processTreeCpuS(ctx.pid, ctx.procfsRoot);
      else lastTimes = readSystemCpuTimes(ctx.procfsRoot);
    },
    read(): EnergyReading {
      if (!started) throw new WattprintError('STATE', 'cpu-tdp source: read() called before start()');
      const nowMs = ctx.nowMs();
      const wallS = (nowMs - lastMs) / 1000;
      if (wallS > 0) {
        const { share, utilization } = intervalShare(wallS);
        totalJ += basis.tdpW * share * wallS;
        lastUtilization = utilization;
        lastMs = nowMs;
      }
      return { energyJ: totalJ, devicesJ: { [device.id]: totalJ }, utilizationPercent: lastUtilization * 100 };
    },
  };
}
