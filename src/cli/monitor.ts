import { recordTimeline } from '../exporters/timeline.js';
import type { EmissionsTrackerOptions } from '../options.js';
import type { EmissionsData, WattprintWarning } from '../types.js';
import { CliError, oneLine } from './exit.js';
import { formatEnergyKWh, formatMassKg, formatPowerW, sig } from './format.js';
import type { CliIO } from './io.js';
import { serveMetrics, type MetricsServer } from './metrics-server.js';
import { createTracker, outputFiles } from './run.js';
import { formatResult } from './summary.js';
import { J_PER_KWH } from '../units.js';

export interface MonitorFlags {
  /** Seconds between rows. */
  interval: number;
  /** Stop by itself after this many seconds. */
  duration?: number;
  quiet?: boolean;
  /** Serve Prometheus metrics on this port (0: any free port). */
  prometheus?: number;
  /** Address of the metrics endpoint, default 127.0.0.1. */
  host?: string;
  /** Append one JSON line per sample to this file. */
  timeline?: string;
}

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** One line per written row: the mean power of each component since the previous row, and the totals. */
export function formatRow(d: EmissionsData, prev: EmissionsData | undefined): string {
  const dt = d.durationS - (prev?.durationS ?? 0);
  const w = (now: number, before = 0) => (dt > 0 ? ((now - before) * J_PER_KWH) / dt : 0);
  return (
    `[${d.timestamp}] ${sig(d.durationS)} s` +
    `  cpu ${formatPowerW(w(d.cpuEnergyKWh, prev?.cpuEnergyKWh))}` +
    `  gpu ${formatPowerW(w(d.gpuEnergyKWh, prev?.gpuEnergyKWh))}` +
    `  ram ${formatPowerW(w(d.ramEnergyKWh, prev?.ramEnergyKWh))}` +
    `  | total ${formatEnergyKWh(d.energyConsumedKWh)}  ${formatMassKg(d.emissionsKg)} CO2eq`
  );
}

/**
 * `wattprint monitor`: tracks the whole machine until SIGINT/SIGTERM/SIGHUP (or `--duration`),
 * writing the cumulative totals as a row every `--interval` seconds and a final row at the end.
 */
export async function monitorCommand(given: EmissionsTrackerOptions, flags: MonitorFlags, io: CliIO): Promise<number> {
  const tracker = createTracker(given, { trackingMode: 'machine' });
  const quiet = flags.quiet === true;
  tracker.on('warning', (w: WattprintWarning) => {
    if (!quiet) io.stderr.write(`wattprint: warning: ${oneLine(w.message)}\n`);
  });
  tracker.on('error', (e: Error) => io.stderr.write(`wattprint: error: ${oneLine(e)}\n`));
  if (flags.host !== undefined && flags.prometheus === undefined) throw new CliError('--host needs --prometheus <port>, e.g. --prometheus 9464 --host 0.0.0.0');

  // Bind first: a port in use is a usage error before anything is measured or written.
  let server: MetricsServer | undefined;
  if (flags.prometheus !== undefined) {
    server = await serveMetrics(tracker, flags.host ?? '127.0.0.1', flags.prometheus);
    if (!quiet) io.stderr.write(`wattprint: serving Prometheus metrics at ${server.url}\n`);
  }
  const timeline = flags.timeline
    ? recordTimeline(tracker, { path: flags.timeline, onError: (e) => io.stderr.write(`wattprint: error: ${oneLine(e)}\n`) })
    : undefined;
  try {
    tracker.start();
  } catch (error) {
    timeline?.close();
    await server?.close();
    throw error;
  }
  const target = tracker.options.saveToFile ? ` to ${tracker.options.outputDir}/${tracker.options.outputFile}` : '';
  if (!quiet) {
    const until = flags.duration !== undefined ? `for ${sig(flags.duration)} s` : 'until Ctrl-C';
    io.stderr.write(`wattprint: monitoring the machine ${until}, a row every ${sig(flags.interval)} s${target}\n`);
  }

  let prev: EmissionsData | undefined;
  let inFlight: Promise<void> = Promise.resolve();
  const tick = () => {
    inFlight = inFlight.then(async () => {
      const d = await tracker.flush();
      if (!quiet) io.stdout.write(`${formatRow(d, prev)}\n`);
      prev = d;
    });
  };
  const timer = setInterval(tick, flags.interval * 1000);

  let onSignal: (s: NodeJS.Signals) => void = () => {};
  let stopTimer: NodeJS.Timeout | undefined;
  const reason = await new Promise<string>((resolve) => {
    onSignal = (s) => resolve(s);
    for (const s of STOP_SIGNALS) process.on(s, onSignal);
    if (flags.duration !== undefined) stopTimer = setTimeout(() => resolve('duration'), flags.duration * 1000);
  });
  clearInterval(timer);
  if (stopTimer) clearTimeout(stopTimer);
  // A second signal while the final row is written must not kill the process half-way.
  const ignore = () => {};
  for (const s of STOP_SIGNALS) {
    process.off(s, onSignal);
    process.on(s, ignore);
  }
  await inFlight.catch(() => {});
  const final = await tracker.stop();
  timeline?.close();
  await server?.close();
  if (!quiet) {
    io.stdout.write(`${formatRow(final, prev)}\n`);
    io.stderr.write(`wattprint: stopped (${reason === 'duration' ? `after --duration ${flags.duration} s` : reason})\n${formatResult(final)}\n`);
    const files = outputFiles(tracker.options);
    if (files.length > 0) io.stderr.write(`  files      ${files.join(', ')}\n`);
  }
  for (const s of STOP_SIGNALS) process.off(s, ignore);
  return 0;
}
