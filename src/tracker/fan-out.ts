import { toError } from '../errors.js';
import type { EmissionsData, ReportContext, Reporter } from '../types.js';

type Fail = (code: string, message: string, cause?: unknown) => void;

/** Hands results to every reporter; a throw or rejection becomes an error and never stops the others. */
export class ReporterFanOut {
  constructor(
    private readonly reporters: readonly Reporter[],
    private readonly onCsvWrite: ReportContext['onCsvWrite'],
    private readonly fail: Fail,
  ) {}

  /** One row to every reporter. The built-in reporters write synchronously, before this returns. */
  report(data: EmissionsData, phase: ReportContext['phase']): Promise<void>[] {
    const ctx: ReportContext = { phase, onCsvWrite: this.onCsvWrite };
    return this.reporters.map((r) => this.guard(r, 'report', () => r.report(data, ctx)));
  }

  /**
   * The final row, the run report (built only when a reporter takes it), flush, then shutdown once
   * all of those settled. The synchronous part runs before this returns, for signal and exit handlers.
   */
  final(data: EmissionsData, buildReport: () => unknown): Promise<void> {
    const pending = this.report(data, 'stop');
    const withReport = this.reporters.filter((r) => typeof r.writeReport === 'function');
    if (withReport.length) {
      let report: unknown;
      try {
        report = buildReport();
      } catch (e) {
        this.fail('REPORT', `building the run report failed: ${toError(e).message}`, e);
      }
      if (report !== undefined) for (const r of withReport) pending.push(this.guard(r, 'writeReport', () => r.writeReport!(report)));
    }
    for (const r of this.reporters) {
      if (r.flush) pending.push(this.guard(r, 'flush', () => r.flush!()));
    }
    return Promise.all(pending)
      .then(() => Promise.all(this.reporters.filter((r) => r.shutdown).map((r) => this.guard(r, 'shutdown', () => r.shutdown!()))))
      .then(() => undefined);
  }

  private guard(r: Reporter, what: string, call: () => unknown): Promise<void> {
    const onErr = (e: unknown) => this.fail('REPORTER', `reporter '${r.id ?? 'anonymous'}' failed in ${what}(): ${toError(e).message}`, e);
    try {
      const out = call();
      if (out && typeof (out as Promise<void>).then === 'function') return (out as Promise<void>).then(() => undefined, onErr);
    } catch (e) {
      onErr(e);
    }
    return Promise.resolve();
  }
}
