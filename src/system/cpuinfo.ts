import { readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

/** What the CPU estimate needs to know about the processor. */
export interface CpuInfo {
  /** Model string as the OS reports it, e.g. `'Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz'`. */
  model: string;
  /** Logical CPUs (hardware threads) seen by the OS. */
  threads: number;
  /** Physical packages: distinct `physical id` values in /proc/cpuinfo, 1 when unknown. */
  sockets: number;
  /** Physical cores over all sockets, where /proc/cpuinfo tells. */
  physicalCores?: number;
  /** Machine architecture as `uname -m` prints it (`'x86_64'`, `'aarch64'`). */
  arch: string;
}

/**
 * Reads `<procfsRoot>/cpuinfo` ("model name" on x86; "Hardware" or "Processor" on older ARM kernels),
 * and falls back to `os.cpus()` where procfs is missing (macOS, Windows). Never throws.
 */
export function readCpuInfo(procfsRoot = '/proc'): CpuInfo {
  const arch = machineArch();
  let text: string;
  try {
    text = readFileSync(join(procfsRoot, 'cpuinfo'), 'utf8');
  } catch {
    return fromOs(arch);
  }
  const first = new Map<string, string>();
  const sockets = new Set<string>();
  const cores = new Set<string>();
  let threads = 0;
  let physicalId = '';
  let coresPerSocket: number | undefined;
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (!first.has(key)) first.set(key, value);
    if (key === 'processor') threads++;
    else if (key === 'physical id') sockets.add((physicalId = value));
    else if (key === 'core id') cores.add(`${physicalId}:${value}`);
    else if (key === 'cpu cores' && coresPerSocket === undefined) coresPerSocket = Number(value) || undefined;
  }
  // os.cpus() reads cpuinfo again and a frequency file per CPU: only for what cpuinfo lacks.
  let fallback: CpuInfo | undefined;
  const model = first.get('model name') || first.get('Hardware') || first.get('Processor') || (fallback ??= fromOs(arch)).model;
  const socketCount = Math.max(1, sockets.size);
  const physicalCores =
    cores.size > 0 ? cores.size : coresPerSocket !== undefined ? coresPerSocket * socketCount : undefined;
  const info: CpuInfo = { model, threads: threads || (fallback ??= fromOs(arch)).threads, sockets: socketCount, arch };
  if (physicalCores !== undefined) info.physicalCores = physicalCores;
  return info;
}

/**
 * {@link readCpuInfo} on the first read of a field: `start()` does not read /proc/cpuinfo (about
 * 0.3 ms the first time in a process); the first sample or the first row does.
 */
export function lazyCpuInfo(procfsRoot = '/proc'): CpuInfo {
  let info: CpuInfo | undefined;
  const read = (): CpuInfo => (info ??= readCpuInfo(procfsRoot));
  return {
    get model() {
      return read().model;
    },
    get threads() {
      return read().threads;
    },
    get sockets() {
      return read().sockets;
    },
    get physicalCores() {
      return read().physicalCores;
    },
    get arch() {
      return read().arch;
    },
  };
}

function fromOs(arch: string): CpuInfo {
  let cpus: os.CpuInfo[] = [];
  try {
    cpus = os.cpus();
  } catch {
    // os.cpus() can fail in sandboxes; availableParallelism still answers.
  }
  const model = cpus[0]?.model.trim() || 'Unknown';
  return { model, threads: cpus.length || os.availableParallelism(), sockets: 1, arch };
}

/** `uname -m` of this machine (`os.machine()`), or `process.arch` where that is unavailable. */
export function machineArch(): string {
  try {
    return os.machine();
  } catch {
    return os.arch();
  }
}
