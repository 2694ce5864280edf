import os from 'node:os';
import { join } from 'node:path';
import { ProcFile } from './proc-file.js';
import { parseCpuTicks, type CpuTicks } from './proc-parse.js';

/**
 * Clock ticks per second of the times in /proc (`getconf CLK_TCK`). USER_HZ is part of the kernel ABI
 * and is 100 on every mainstream Linux architecture (x86, arm, arm64, ppc64, s390, riscv).
 */
export const USER_HZ = 100;

/** CPU time of the whole machine, all CPUs summed. */
export interface CpuTimes {
  /** Seconds not idle: total minus idle and iowait. */
  busyS: number;
  /** Seconds of user, nice, system, idle, iowait, irq, softirq and steal. */
  totalS: number;
}

/**
 * System CPU times from the `cpu` line of `<procfsRoot>/stat`; where that file is missing, from
 * `os.cpus()`. The guest columns are left out of the total because the kernel already counts them
 * in user and nice (as psutil does). Returns undefined when neither source answers.
 */
export function readSystemCpuTimes(procfsRoot = '/proc'): CpuTimes | undefined {
  const out: CpuTimes = { busyS: 0, totalS: 0 };
  return readCpuTimesInto(new ProcFile(join(procfsRoot, 'stat'), false), out) ? out : undefined;
}

const ticks: CpuTicks = { busyTicks: 0, totalTicks: 0 };

/**
 * {@link readSystemCpuTimes} through a kept file (`<procfsRoot>/stat`) into `out`, without
 * allocating where procfs answers. False when neither procfs nor `os.cpus()` answers.
 */
export function readCpuTimesInto(file: ProcFile, out: CpuTimes): boolean {
  const n = file.read();
  if (n >= 0 && parseCpuTicks(file.buf, n, ticks)) {
    out.busyS = ticks.busyTicks / USER_HZ;
    out.totalS = ticks.totalTicks / USER_HZ;
    return true;
  }
  const os = fromOs();
  if (!os) return false;
  out.busyS = os.busyS;
  out.totalS = os.totalS;
  return true;
}

function fromOs(): CpuTimes | undefined {
  try {
    const cpus = os.cpus();
    if (cpus.length === 0) return undefined;
    let totalMs = 0;
    let idleMs = 0;
    for (const { times } of cpus) {
      totalMs += times.user + times.nice + times.sys + times.idle + times.irq;
      idleMs += times.idle;
    }
    return { busyS: (totalMs - idleMs) / 1000, totalS: totalMs / 1000 };
  } catch {
    return undefined;
  }
}
