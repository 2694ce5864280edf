import { WattprintError } from '../errors.js';
import { estimateDimmCount, ramPowerW, wattsPerDimm } from '../estimate/ram.js';
import { machineArch } from '../system/cpuinfo.js';
import { readMemInfo } from '../system/meminfo.js';
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
  const totalBytes = readMemInfo(ctx.procfsRoot).totalBytes;
  const totalGiB = totalBytes / BYTES_PER_GIB;
  const machineW = ramPowerW(totalGiB, arch);
  const device: DeviceInfo = {
    id: '0',
    name: `${totalGiB.toFixed(1)} GiB RAM`,
    details: {
      totalGiB,
      arch,
      dimmCount: estimateDimmCount(totalGiB),
      wattsPerDimm: wattsPerDimm(arch),
      ...(processMode ? {} : { powerW: machineW }),
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
      return processMode ? ramPowerW(lastRssBytes / BYTES_PER_GIB, arch) : machineW;
    },
    probe() {
      const how = processMode
        ? 'DIMM model applied to the tracked process tree RSS at each read'
        : `DIMM model: ${estimateDimmCount(totalGiB)} DIMM(s) for ${totalGiB.toFixed(1)} GiB = ${machineW} W`;
      return { ok: true, devices: [device], note: `estimated: ${how}` };
    },
    start() {
      started = true;
      totalJ = 0;
      lastMs = ctx.nowMs();
      if (processMode) {
        view ??= acquireProcView(ctx.procfsRoot);
        lastRssBytes = view.treeRssBytes(ctx.pid) ?? 0;
      }
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
        totalJ += (processMode ? ramPowerW(lastRssBytes / BYTES_PER_GIB, arch) : machineW) * wallS;
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
