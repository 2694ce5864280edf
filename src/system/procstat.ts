import { readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

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
  let text: string | undefined;
  try {
    text = readFileSync(join(procfsRoot, 'stat'), 'utf8');
  } catch {
    return fromOs();
  }
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (line === undefined) return fromOs();
  const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (ticks.length < 4 || ticks.some((t) => !Number.isFinite(t))) return fromOs();
  const total = ticks.reduce((a, b) => a + b, 0);
  const idle = ticks[3]! + (ticks[4] ?? 0);
  return { busyS: (total - idle) / USER_HZ, totalS: total / USER_HZ };
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
