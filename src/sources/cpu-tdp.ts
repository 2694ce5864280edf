import { WattprintError } from '../errors.js';
import { cpuTdp, IDLE_SHARE } from '../estimate/cpu-tdp.js';
import { readCpuInfo, type CpuInfo } from '../system/cpuinfo.js';
import { readSystemCpuTimes, type CpuTimes } from '../system/procstat.js';
import { processTreeCpuS } from '../system/proctree.js';
import type { DeviceInfo, EnergyReading, PowerSource, ProbeResult, SourceContext } from '../types.js';

/** Load assumed when no CPU times can be read (CodeCarbon's constant mode, 50 % of TDP). */
const CONSTANT_LOAD_SHARE = 0.5;

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
