import { arch, release, type } from 'node:os';
import { readCpuInfo, type CpuInfo } from './system/cpuinfo.js';
import { readMemInfo } from './system/meminfo.js';
import type { ProbeResult } from './types.js';
import { BYTES_PER_GIB } from './units.js';

/** The hardware a result was measured on, as written to outputs and the report. */
export interface HardwareInfo {
  readonly cpuModel: string;
  /** Logical CPUs (threads). */
  readonly cpuCount: number;
  readonly cpuSockets: number;
  readonly cpuPhysicalCores?: number;
  readonly arch: string;
  /** `Linux-6.1.0-amd64-x64`, like Python's platform.platform(). */
  readonly os: string;
  readonly ramTotalGiB: number;
  /** The GPUs tracked (after `gpuIds` selection). */
  readonly gpus: ReadonlyArray<{ readonly id: string; readonly name: string; readonly uuid?: string }>;
  readonly gpuCount: number;
  /** CodeCarbon style: `"2 x NVIDIA H200"`, distinct models joined with `", "`. */
  readonly gpuModel: string;
}

/** CodeCarbon's `gpu_model`: a count and a name per distinct model. */
export function gpuModelString(names: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const n of names) counts.set(n, (counts.get(n) ?? 0) + 1);
  return [...counts].map(([name, n]) => `${n} x ${name}`).join(', ');
}

export function describeHardware(procfsRoot: string, gpuProbe: ProbeResult | undefined, cpu: CpuInfo = readCpuInfo(procfsRoot)): HardwareInfo {
  const mem = readMemInfo(procfsRoot);
  const gpus = gpuProbe?.ok
    ? gpuProbe.devices.map((d) => {
        const uuid = d.details?.uuid;
        return typeof uuid === 'string' ? { id: d.id, name: d.name, uuid } : { id: d.id, name: d.name };
      })
    : [];
  return {
    cpuModel: cpu.model,
    cpuCount: cpu.threads,
    cpuSockets: cpu.sockets,
    ...(cpu.physicalCores !== undefined ? { cpuPhysicalCores: cpu.physicalCores } : {}),
    arch: cpu.arch || arch(),
    os: `${type()}-${release()}-${arch()}`,
    ramTotalGiB: mem.totalBytes / BYTES_PER_GIB,
    gpus,
    gpuCount: gpus.length,
    gpuModel: gpuModelString(gpus.map((g) => g.name)),
  };
}
