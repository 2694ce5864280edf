import { arch, machine, release, type } from 'node:os';
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
  /** Python's `platform.platform()`, as CodeCarbon writes it: `Linux-6.1.0-18-amd64-x86_64-with-glibc2.36`. */
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
  let ramTotalGiB: number | undefined;
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
    // Read on first use (a row, a report), not at start(): the glibc version costs ~10 ms.
    get os() {
      return platformString();
    },
    // On first use too (the sampler reads meminfo through its own kept file).
    get ramTotalGiB() {
      return (ramTotalGiB ??= readMemInfo(procfsRoot).totalBytes / BYTES_PER_GIB);
    },
    gpus,
    gpuCount: gpus.length,
    gpuModel: gpuModelString(gpus.map((g) => g.name)),
  };
}

/** Python's `platform._platform`: joins the parts with `-` and cleans the result the same way. */
export function pythonPlatform(...parts: string[]): string {
  let p = parts
    .filter((x) => x.length > 0)
    .map((x) => x.trim())
    .join('-')
    .replace(/ /g, '_')
    .replace(/[/\\:;"()]/g, '-')
    .replace(/unknown/g, '');
  while (p.includes('--')) p = p.replace(/--/g, '-');
  return p.replace(/-+$/, '');
}

let platformOnce: string | undefined;

/**
 * The `os` column: what CodeCarbon writes there, Python's `platform.platform()`. On Linux that is
 * `<system>-<release>-<machine>-with-<libc><version>` (glibc's version from the process report,
 * read once per process: about 10 ms; musl gives a bare `-with`, as Python's `libc_ver()` does).
 * Elsewhere it is `<system>-<release>-<machine>`, which differs from Python's (macOS and Windows
 * name the product version there).
 */
export function platformString(): string {
  if (platformOnce !== undefined) return platformOnce;
  if (process.platform !== 'linux') return (platformOnce = pythonPlatform(type(), release(), machine()));
  let glibc: string | undefined;
  const report = process.report as NodeJS.ProcessReport & { excludeNetwork?: boolean };
  const settable = 'excludeNetwork' in report;
  const excluded = report.excludeNetwork;
  try {
    // Network details cost reverse DNS look-ups and are not needed; the setting is put back at once.
    if (settable) report.excludeNetwork = true;
    glibc = (report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime;
  } catch {
    // No report: as musl.
  } finally {
    if (settable) report.excludeNetwork = excluded;
  }
  return (platformOnce = pythonPlatform(type(), release(), machine(), 'with', glibc ? `glibc${glibc}` : ''));
}
