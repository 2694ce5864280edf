import { LogHistogram } from './histogram.js';
import { RemoteTotals } from './remote.js';
import type { CallStats } from './types.js';
import { J_PER_KWH } from '../units.js';

/** One finished call's numbers, as the stats need them. */
export interface FinishedCall {
  durationS: number;
  energyJ: number;
  cpuEnergyJ: number;
  gpuEnergyJ: number;
  ramEnergyJ: number;
  /** NaN when the call has no dynamic energy. */
  dynamicEnergyJ: number;
  emissionsKg: number;
  amortizedEmissionsKg: number;
  cpuWorkS: number;
  /** NaN when not counted. */
  inputTokens: number;
  outputTokens: number;
  error: boolean;
  truncated: boolean;
  abandoned: boolean;
  /** Estimates of the call's remote LLM requests, if it made any. */
  remote: RemoteTotals | undefined;
}

/** Running totals and quantile sketches of a set of calls, in constant memory. */
export class StatsAccumulator {
  count = 0;
  errors = 0;
  truncated = 0;
  abandoned = 0;
  durationS = 0;
  energyJ = 0;
  cpuEnergyJ = 0;
  gpuEnergyJ = 0;
  ramEnergyJ = 0;
  dynamicEnergyJ = 0;
  dynamicCount = 0;
  emissionsKg = 0;
  amortizedEmissionsKg = 0;
  cpuWorkS = 0;
  inputTokens = 0;
  outputTokens = 0;
  outputTokenCalls = 0;
  outputTokenEnergyJ = 0;
  readonly energyHist = new LogHistogram();
  readonly durationHist = new LogHistogram();
  /** Sum of the calls' remote LLM estimates, once one has some. */
  remote: RemoteTotals | undefined = undefined;

  add(c: FinishedCall): void {
    if (c.remote) (this.remote ??= new RemoteTotals()).merge(c.remote);
    this.count++;
    if (c.error) this.errors++;
    if (c.truncated) this.truncated++;
    if (c.abandoned) this.abandoned++;
    this.durationS += c.durationS;
    this.energyJ += c.energyJ;
    this.cpuEnergyJ += c.cpuEnergyJ;
    this.gpuEnergyJ += c.gpuEnergyJ;
    this.ramEnergyJ += c.ramEnergyJ;
    if (c.dynamicEnergyJ === c.dynamicEnergyJ) {
      this.dynamicEnergyJ += c.dynamicEnergyJ;
      this.dynamicCount++;
    }
    this.emissionsKg += c.emissionsKg;
    this.amortizedEmissionsKg += c.amortizedEmissionsKg;
    this.cpuWorkS += c.cpuWorkS;
    if (c.inputTokens === c.inputTokens) this.inputTokens += c.inputTokens;
    if (c.outputTokens === c.outputTokens) {
      this.outputTokens += c.outputTokens;
      this.outputTokenCalls++;
      this.outputTokenEnergyJ += c.energyJ;
    }
    this.energyHist.add(c.energyJ);
    this.durationHist.add(c.durationS);
  }

  /** Adds the calls of `other`, quantile sketches included. */
  merge(other: StatsAccumulator): void {
    this.count += other.count;
    this.errors += other.errors;
    this.truncated += other.truncated;
    this.abandoned += other.abandoned;
    this.durationS += other.durationS;
    this.energyJ += other.energyJ;
    this.cpuEnergyJ += other.cpuEnergyJ;
    this.gpuEnergyJ += other.gpuEnergyJ;
    this.ramEnergyJ += other.ramEnergyJ;
    this.dynamicEnergyJ += other.dynamicEnergyJ;
    this.dynamicCount += other.dynamicCount;
    this.emissionsKg += other.emissionsKg;
    this.amortizedEmissionsKg += other.amortizedEmissionsKg;
    this.cpuWorkS += other.cpuWorkS;
    this.inputTokens += other.inputTokens;
    this.outputTokens += other.outputTokens;
    this.outputTokenCalls += other.outputTokenCalls;
    this.outputTokenEnergyJ += other.outputTokenEnergyJ;
    this.energyHist.merge(other.energyHist);
    this.durationHist.merge(other.durationHist);
    if (other.remote) (this.remote ??= new RemoteTotals()).merge(other.remote);
  }

  /** `extra`: fields of the all-calls statistics only (idle and unattributed energy). */
  toStats(name: string | undefined, extra?: Partial<CallStats>): CallStats {
    const n = this.count;
    const stats: Record<string, unknown> = {};
    if (name !== undefined) stats.name = name;
    Object.assign(stats, {
      count: n,
      errors: this.errors,
      truncated: this.truncated,
      abandoned: this.abandoned,
      durationS: this.durationS,
      meanDurationS: n > 0 ? this.durationS / n : undefined,
      p50DurationS: this.durationHist.quantile(0.5),
      p95DurationS: this.durationHist.quantile(0.95),
      energyJ: this.energyJ,
      cpuEnergyJ: this.cpuEnergyJ,
      gpuEnergyJ: this.gpuEnergyJ,
      ramEnergyJ: this.ramEnergyJ,
      dynamicEnergyJ: this.dynamicCount > 0 ? this.dynamicEnergyJ : undefined,
      callsWithDynamicEnergy: this.dynamicCount,
      emissionsKg: this.emissionsKg,
      amortizedEmissionsKg: this.amortizedEmissionsKg,
      totalEmissionsKg: this.emissionsKg + this.amortizedEmissionsKg,
      cpuWorkS: this.cpuWorkS,
      meanEnergyJ: n > 0 ? this.energyJ / n : undefined,
      p50EnergyJ: this.energyHist.quantile(0.5),
      p95EnergyJ: this.energyHist.quantile(0.95),
      meanEmissionsKg: n > 0 ? this.emissionsKg / n : undefined,
      inputTokens: this.inputTokens,
      outputTokens: this.outputTokens,
      callsWithOutputTokens: this.outputTokenCalls,
      energyPerOutputTokenJ: this.outputTokens > 0 ? this.outputTokenEnergyJ / this.outputTokens : undefined,
      requestsPerKWh: this.energyJ > 0 ? n / (this.energyJ / J_PER_KWH) : undefined,
      quantileRelativeError: LogHistogram.RELATIVE_ERROR,
    });
    if (extra) Object.assign(stats, extra);
    for (const k of Object.keys(stats)) if (stats[k] === undefined) delete stats[k];
    if (this.remote) stats.remoteEstimate = this.remote.toJSON();
    return stats as unknown as CallStats;
  }
}
