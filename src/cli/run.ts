import { monotonicMs } from '../clock-guard.js';
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import { recordTimeline } from '../exporters/timeline.js';
import { EmissionsTracker } from '../tracker.js';
import type { EmissionsTrackerOptions } from '../options.js';
import type { EmissionsData, Measurement, WattprintWarning } from '../types.js';
import { CliError, EXIT, oneLine } from './exit.js';
import type { CliIO } from './io.js';
import { StatusLine, StatusRelay } from './status-line.js';
import { formatResult } from './summary.js';
import { describeOptionError } from './tracker-flags.js';

export interface RunFlags {
  machine?: boolean;
  quiet?: boolean;
  /** Live status line on stderr; the command's output is then relayed through wattprint. */
  status?: boolean;
  /** Append one JSON line per sample to this file. */
  timeline?: string;
}

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** The files a tracker writes with these options (only those that exist are listed). */
export function outputFiles(options: { outputDir: string; outputFile: string; saveToFile: boolean; saveToJson: boolean }): string[] {
  const files: string[] = [];
  if (options.saveToFile) files.push(join(options.outputDir, options.outputFile));
  if (options.saveToJson) files.push(join(options.outputDir, 'emissions.jsonl'), join(options.outputDir, 'wattprint-report.json'));
  return files.filter((f) => existsSync(f));
}

/** Shell-like quoting of a command line for messages. */
export function quoteCommand(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`)).join(' ');
}

/** Constructs the tracker, turning option errors into one-line usage errors that name the flag. */
export function createTracker(given: EmissionsTrackerOptions, extra: EmissionsTrackerOptions): EmissionsTracker {
  try {
    return new EmissionsTracker({ ...given, ...extra, handleSignals: false });
  } catch (error) {
    const message = describeOptionError(error, given);
    if (message) throw new CliError(message, EXIT.USAGE);
    throw error;
  }
}

function spawnFailure(file: string, error: NodeJS.ErrnoException): CliError {
  if (error.code === 'ENOENT') return new CliError(`${file}: command not found`, EXIT.NOT_FOUND);
  if (error.code === 'EACCES' || error.code === 'EPERM' || error.code === 'ENOEXEC' || error.code === 'EISDIR') {
    let folder = false;
    try {
      folder = statSync(file).isDirectory();
    } catch {
      // Only refines the message.
    }
    return new CliError(`${file}: ${folder ? 'is a folder' : 'permission denied (not executable)'}`, EXIT.NOT_EXECUTABLE);
  }
  return new CliError(`${file}: cannot run: ${error.message}`, EXIT.NOT_EXECUTABLE);
}

/**
 * `wattprint run`: runs `argv` without a shell, tracks it, writes the tracker's outputs and returns
 * the exit status to leave with: the command's own, 128 + the signal number if a signal killed it,
 * 127 if it was not found, 126 if it cannot be executed.
 *
 * In process mode the tracked tree is rooted at this process, not at the command: Linux moves the
 * CPU time of a finished child into its parent's `cutime`, so the command's last seconds, after the
 * final sample it was alive for, are still counted. Rooted at the command's pid, a command shorter
 * than one sampling interval would report no CPU energy at all. This process only waits meanwhile.
 */
export async function runCommand(argv: readonly string[], given: EmissionsTrackerOptions, flags: RunFlags, io: CliIO): Promise<number> {
  const [file, ...args] = argv;
  if (file === undefined || file === '') throw new CliError('missing the command to run, e.g. wattprint run -- node train.js');
  if (flags.machine && given.trackingMode === 'process') throw new CliError('--machine conflicts with --tracking-mode process');
  const trackingMode = flags.machine ? 'machine' : (given.trackingMode ?? 'process');
  const tracker = createTracker(given, { trackingMode, ...(trackingMode === 'process' ? { pid: process.pid } : {}) });

  const quiet = flags.quiet === true;
  // Off unless asked for: a command sharing the terminal would have its lines glued to ours.
  const live = flags.status === true && !quiet && io.stderr.isTTY === true;
  const status = live ? new StatusLine(io.stderr, monotonicMs()) : undefined;
  const relay = status ? new StatusRelay(status) : undefined;
  const say = (line: string) => {
    status?.clear();
    io.stderr.write(`${line}\n`);
  };
  tracker.on('measurement', (m: Measurement) => status?.add(m));
  tracker.on('warning', (w: WattprintWarning) => {
    if (!quiet) say(`wattprint: warning: ${oneLine(w.message)}`);
  });
  tracker.on('error', (e: Error) => say(`wattprint: error: ${oneLine(e)}`));
  const timeline = flags.timeline ? recordTimeline(tracker, { path: flags.timeline, onError: (e) => say(`wattprint: error: ${oneLine(e)}`) }) : undefined;

  // Listen before spawning: a signal in between must reach the command, not kill wattprint alone.
  let received: NodeJS.Signals | undefined;
  let childDone = false;
  let forwardTo: ((signal: NodeJS.Signals) => void) | undefined;
  const forward = (signal: NodeJS.Signals) => {
    received = signal;
    forwardTo?.(signal);
  };
  for (const s of FORWARDED) process.on(s, forward);
  const unlisten = () => {
    for (const s of FORWARDED) process.off(s, forward);
  };

  const child = spawn(file, args, { stdio: relay ? ['inherit', 'pipe', 'pipe'] : 'inherit' });
  child.stdout?.on('data', (b: Buffer) => relay!.relay(io.stdout as never, b));
  child.stderr?.on('data', (b: Buffer) => relay!.relay(io.stderr as never, b));
  // 'close' also waits for the relayed output to drain.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once(relay ? 'close' : 'exit', (code, signal) => resolve({ code, signal })),
  );
  const spawnError = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
    child.once('spawn', () => resolve(undefined));
    child.once('error', (e) => resolve(e as NodeJS.ErrnoException));
  });
  if (spawnError) {
    unlisten();
    throw spawnFailure(file, spawnError);
  }
  // Later errors (a failed kill) must not crash the CLI; the exit status still arrives.
  child.on('error', (e) => say(`wattprint: error: ${oneLine(e)}`));
  forwardTo = (signal) => {
    if (!childDone) child.kill(signal);
  };
  if (received) child.kill(received);

  try {
    tracker.start();
  } catch (error) {
    // Never leave the command running untracked behind a failed wattprint.
    child.kill('SIGTERM');
    unlisten();
    throw error;
  }
  const timer = status
    ? setInterval(() => {
        // Sampling once a second keeps the live figures fresh even with a long --measure-power-secs.
        tracker.sample();
        relay!.refresh();
      }, 1000)
    : undefined;
  status?.render();

  const { code, signal } = await exited;
  childDone = true;
  if (timer) clearInterval(timer);
  status?.clear();
  let data: EmissionsData;
  try {
    data = await tracker.stop();
  } finally {
    timeline?.close();
    unlisten();
  }

  const signo = signal ? (osConstants.signals as Record<string, number>)[signal] : undefined;
  const status_ = code ?? (signo !== undefined ? 128 + signo : EXIT.FAILURE);
  const cmd = quoteCommand(argv);
  if (signal) {
    io.stderr.write(`wattprint: \`${cmd}\` was killed by ${signal}${received === signal ? ' (forwarded by wattprint)' : ''}; exiting with ${status_}\n`);
  } else if (!quiet) {
    io.stderr.write(`wattprint: \`${cmd}\` exited with code ${code}\n`);
  }
  if (!quiet) {
    io.stderr.write(`${formatResult(data)}\n`);
    const files = outputFiles(tracker.options);
    if (files.length > 0) io.stderr.write(`  files      ${files.join(', ')}\n`);
  }
  return status_;
}
