import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One fake process: times in clock ticks, rss in pages; vmRssKiB omitted = no status file. */
export interface FakeProc {
  pid: number;
  ppid: number;
  comm?: string;
  utime: number;
  stime: number;
  cutime?: number;
  cstime?: number;
  rssPages?: number;
  vmRssKiB?: number;
}

/** A fake procfs under os.tmpdir(); write files, then `cleanup()`. */
export function makeProcfs() {
  const root = mkdtempSync(join(tmpdir(), 'wattprint-procfs-'));
  const write = (rel: string, text: string) => {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), text);
  };
  return {
    root,
    write,
    /** `/proc/stat` with a `cpu` line of user nice system idle iowait irq softirq steal guest guest_nice. */
    stat(ticks: number[]) {
      write('stat', `cpu  ${ticks.join(' ')}\ncpu0 ${ticks.join(' ')}\nintr 0\nctxt 0\n`);
    },
    proc(p: FakeProc) {
      // Fields 3..24 of /proc/<pid>/stat: state ppid pgrp session tty tpgid flags minflt cminflt majflt
      // cmajflt utime stime cutime cstime priority nice threads itreal starttime vsize rss.
      const after = ['S', p.ppid, p.pid, p.pid, 0, -1, 4194304, 10, 0, 0, 0, p.utime, p.stime, p.cutime ?? 0,
        p.cstime ?? 0, 20, 0, 1, 0, 1000, 1234567, p.rssPages ?? 0, 100, 200];
      write(`${p.pid}/stat`, `${p.pid} (${p.comm ?? 'node'}) ${after.join(' ')}\n`);
      if (p.vmRssKiB !== undefined) {
        write(`${p.pid}/status`, `Name:\tnode\nPid:\t${p.pid}\nVmRSS:\t  ${p.vmRssKiB} kB\nThreads:\t1\n`);
      }
    },
    /** /proc/<pid>/task/<tid>/children lists, in the kernel's "1 2 3 " format. */
    children(pid: number, byTid: Record<number, number[]>) {
      for (const [tid, pids] of Object.entries(byTid)) {
        write(`${pid}/task/${tid}/children`, pids.map((c) => `${c} `).join(''));
      }
    },
    remove(pid: number) {
      rmSync(join(root, String(pid)), { recursive: true, force: true });
    },
    cleanup() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}
