import { WattprintError } from '../errors.js';
import { estimateDimmCount, ramPowerW, wattsPerDimm } from '../estimate/ram.js';
import { machineArch } from '../system/cpuinfo.js';
import { acquireProcView, releaseProcView, type ProcView } from '../system/proc-view.js';
import type { DeviceInfo, EnergyReading, PowerSource, SourceContext } from '../types.js';
import { BYTES_PER_GIB } from '../units.js';

/**
 * The RAM fallback: the DIMM model applied to the machine's total memory (machine mode) or to the
 * tracked process tree's resident memory at each read (process mode), integrated between reads.
 */
export function ramModelSource(ctx: SourceContext, opts: { arch?: string } = {}): PowerSource {
  const arch = opts.arch ?? machineArch();
  const processMode = ctx.trackingMode === 'process';
  // The machine's memory, read on first need (a read, the boundary's note, the device): after
  // start() has returned.
  let total: { gib: number; machineW: number; details: DeviceInfo['details'] } | undefined;
  const machine = () => {
    if (total) return total;
    // Through the shared view: in the first sample, the sampler's own meminfo read serves both.
    const shared = acquireProcView(ctx.procfsRoot);
    const mem = { totalBytes: 0, availableBytes: 0, usedBytes: 0 };
    shared.memInfo(mem);
    releaseProcView(shared);
    const gib = mem.totalBytes / BYTES_PER_GIB;
    const machineW = ramPowerW(gib, arch);
    const details = { totalGiB: gib, arch, dimmCount: estimateDimmCount(gib), wattsPerDimm: wattsPerDimm(arch), ...(processMode ? {} : { powerW: machineW }) };
    return (total = { gib, machineW, details });
  };
  const device: DeviceInfo = {
    id: '0',
    get name() {
      return `${machine().gib.toFixed(1)} GiB RAM`;
    },
    get details() {
      return machine().details;
    },
  };

  let started = false;
  let lastMs = 0;
  let lastRssBytes = 0;
  let totalJ = 0;
  let view: ProcView | undefined;

  return {
    id: 'ram-dimm',
    component: 'ram',
    kind: 'estimated',
    scope: ctx.trackingMode,
    // The model does not depend on activity: all of its power is a floor (capacity held).
    get idlePowerW() {
      return processMode ? ramPowerW(lastRssBytes / BYTES_PER_GIB, arch) : machine().machineW;
    },
    probe() {
      return {
        ok: true,
        devices: [device],
        get note() {
          if (processMode) return 'estimated: DIMM model applied to the tracked process tree RSS at each read';
          const { gib, machineW } = machine();
          return `estimated: DIMM model: ${estimateDimmCount(gib)} DIMM(s) for ${gib.toFixed(1)} GiB = ${machineW} W`;
        },
      };
    },
    start() {
      started = true;
      totalJ = 0;
      lastMs = ctx.nowMs();
      // Each read integrates with the tree's RSS at its end, so start() reads none (its first
      // read in a process is ~0.3 ms).
      if (processMode) view ??= acquireProcView(ctx.procfsRoot);
    },
    read(): EnergyReading {
      if (!started) throw new WattprintError('STATE', 'ram-dimm source: read() called before start()');
      const nowMs = ctx.nowMs();
      const wallS = (nowMs - lastMs) / 1000;
      // Machine mode needs no /proc read per sample: the model depends on the total size only.
      if (processMode) {
        // An unreadable tree (process gone) keeps the last known size.
        lastRssBytes = view!.treeRssBytes(ctx.pid) ?? lastRssBytes;
      }
      if (wallS > 0) {
        totalJ += (processMode ? ramPowerW(lastRssBytes / BYTES_PER_GIB, arch) : machine().machineW) * wallS;
        lastMs = nowMs;
      }
      return { energyJ: totalJ, devicesJ: { [device.id]: totalJ } };
    },
    close() {
      started = false;
      if (view) releaseProcView(view);
      view = undefined;
    },
  };
}
