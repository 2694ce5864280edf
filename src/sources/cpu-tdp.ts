import { WattprintError } from '../errors.js';
import { cpuTdp, IDLE_SHARE, type CpuTdpBasis } from '../estimate/cpu-tdp.js';
import { readCpuInfo, type CpuInfo } from '../system/cpuinfo.js';
import { acquireProcView, releaseProcView, type ProcView } from '../system/proc-view.js';
import type { CpuTimes } from '../system/procstat.js';
import type { DeviceInfo, EnergyReading, PowerSource, ProbeResult, SourceContext } from '../types.js';

/** Load assumed when no CPU times can be read (CodeCarbon's constant mode, 50 % of TDP). */
const CONSTANT_LOAD_SHARE = 0.5;
/**
 * Machine mode polls the load at least this often, whatever the sampling interval: power is cubic
 * in the load, so one load averaged over a 15 s interval under a fluctuating load underestimates.
 */
const LOAD_POLL_MS = 1000;
/** The poll timer's slack: a sampler at 1 s, which re-arms right after its read, reads first. */
const LOAD_POLL_SLACK_MS = 10;

/**
 * The CPU fallback: power estimated from a TDP and the CPU load, integrated between reads.
 *
 * - machine mode: P = TDP × (0.1 + 0.9 × load³), load = Δbusy / Δtotal of /proc/stat between reads;
 * - process mode: P = TDP × min(1, Δ tree CPU s / (Δwall s × threads));
 * - TDP: `opts.tdpW` (forceCpuPowerW), else the table TDP × sockets, else 4 W × threads.
 *
 * Each read covers the interval since the previous read (the first one since `start()`), with the
 * power of that interval; in machine mode an unref'd timer also integrates every `LOAD_POLL_MS`
 * between reads (pushed back by every read, so sampling at 1 s or faster adds no wake-up).
 * Probing always succeeds: this is the last CPU fallback.
 */
export function cpuTdpSource(ctx: SourceContext, opts: { tdpW?: number; cpu?: CpuInfo } = {}): PowerSource {
  const cpu = opts.cpu ?? readCpuInfo(ctx.procfsRoot);
  // The table lookup (1–3 ms the first time in a process) waits for the first thing that needs the
  // TDP: a read, the boundary's note or the device details, all after start() has returned.
  let tdp: CpuTdpBasis | undefined;
  const basis = (): CpuTdpBasis => (tdp ??= cpuTdp(cpu, opts.tdpW));
  const processMode = ctx.trackingMode === 'process';
  const device: DeviceInfo = {
    id: '0',
    // A getter, like the details: `cpu` may read /proc/cpuinfo on first use (lazyCpuInfo).
    get name() {
      return cpu.model;
    },
    get details() {
      return basis().details;
    },
  };
  const formula = processMode
    ? 'P = TDP × tracked CPU-time share'
    : 'P = TDP × (0.1 + 0.9 × load³)';

  let started = false;
  let lastMs = 0;
  let view: ProcView | undefined;
  const nowTimes: CpuTimes = { busyS: 0, totalS: 0 };
  const lastTimes: CpuTimes = { busyS: 0, totalS: 0 };
  let haveLastTimes = false;
  let lastTreeS: number | undefined;
  let totalJ = 0;
  let lastUtilization = 0;
  let poll: NodeJS.Timeout | undefined;
  // What intervalShare() found, kept here rather than returned in a new object at every sample.
  let share = 0;
  let utilization = 0;

  /** Sets the power share of TDP over the interval ending now, and the utilisation in [0, 1]. */
  function intervalShare(wallS: number): void {
    if (processMode) {
      const nowS = view!.treeCpuS(ctx.pid);
      const prev = lastTreeS;
      if (nowS !== undefined) lastTreeS = nowS;
      share = nowS === undefined || prev === undefined ? 0 : Math.min(1, Math.max(0, nowS - prev) / (wallS * cpu.threads));
      utilization = share;
      return;
    }
    const ok = view!.cpuTimes(nowTimes);
    const hadPrev = haveLastTimes;
    const totalS = nowTimes.totalS - lastTimes.totalS;
    const busyS = nowTimes.busyS - lastTimes.busyS;
    if (ok) {
      lastTimes.busyS = nowTimes.busyS;
      lastTimes.totalS = nowTimes.totalS;
      haveLastTimes = true;
    }
    if (!ok || !hadPrev) {
      share = CONSTANT_LOAD_SHARE;
      utilization = lastUtilization;
      return;
    }
    const load = totalS > 0 ? Math.min(1, Math.max(0, busyS / totalS)) : lastUtilization;
    share = IDLE_SHARE + (1 - IDLE_SHARE) * load ** 3;
    utilization = load;
  }

  /** Integrates the power of the interval since the last integration, ending now. */
  function integrate(): void {
    const nowMs = ctx.nowMs();
    const wallS = (nowMs - lastMs) / 1000;
    if (wallS > 0) {
      intervalShare(wallS);
      totalJ += basis().tdpW * share * wallS;
      lastUtilization = utilization;
      lastMs = nowMs;
    }
    poll?.refresh();
  }

  function stopPolling(): void {
    if (poll) clearTimeout(poll);
    poll = undefined;
  }

  return {
    id: 'cpu-tdp',
    component: 'cpu',
    kind: 'estimated',
    scope: ctx.trackingMode,
    // The model's power at zero load: machine mode's floor; process mode has none.
    get idlePowerW() {
      return processMode ? 0 : basis().tdpW * IDLE_SHARE;
    },
    probe(): ProbeResult {
      return {
        ok: true,
        devices: [device],
        get note() {
          return `estimated: ${basis().note}; ${formula}`;
        },
      };
    },
    start() {
      started = true;
      totalJ = 0;
      lastUtilization = 0;
      lastMs = ctx.nowMs();
      stopPolling();
      view ??= acquireProcView(ctx.procfsRoot);
      if (processMode) lastTreeS = view.treeCpuS(ctx.pid);
      else {
        // Process mode's share is linear in CPU time, so its interval average is already exact.
        haveLastTimes = view.cpuTimes(lastTimes);
        poll = setTimeout(integrate, LOAD_POLL_MS + LOAD_POLL_SLACK_MS);
        poll.unref();
      }
    },
    read(): EnergyReading {
      if (!started) throw new WattprintError('STATE', 'cpu-tdp source: read() called before start()');
      integrate();
      return { energyJ: totalJ, devicesJ: { [device.id]: totalJ }, utilizationPercent: lastUtilization * 100 };
    },
    close() {
      started = false;
      stopPolling();
      if (view) releaseProcView(view);
      view = undefined;
    },
  };
}
