/**
 * Compact storage of the rows `wattprint report` loads: numbers in one Float64Array, the values that
 * repeat across rows (location, models, intensity source, boundary) in shared context objects, and
 * each row a small view with getters. A row costs about 200 bytes instead of about 380 as a plain
 * object, which keeps a 200 MB CSV (half a million rows) within a few hundred MB.
 */
import type { Boundary } from '../../types.js';

/** The fields of a row that usually repeat from one row to the next. */
export interface RowContext {
  readonly experimentName?: string;
  readonly countryName?: string;
  readonly region?: string;
  readonly trackingMode?: string;
  readonly cpuModel?: string;
  readonly gpuModel?: string;
  readonly pue?: number;
  readonly intensityGPerKWh?: number;
  readonly intensitySource?: string;
  readonly boundary?: Boundary;
}

/** A result row (`ResultRow` in load.ts): as parsed, and as the stored view reads it. */
export interface ParsedRow extends RowContext {
  readonly timestamp: string;
  readonly projectName: string;
  readonly runId: string;
  readonly taskName?: string;
  readonly durationS: number;
  readonly emissionsKg: number;
  readonly cpuEnergyKWh: number;
  readonly gpuEnergyKWh: number;
  readonly ramEnergyKWh: number;
  readonly energyKWh: number;
}

const NUMBERS = 6;

export class RowStore {
  private numbers = new Float64Array(NUMBERS * 4096);
  private count = 0;
  readonly timestamps: string[] = [];
  readonly projects: string[] = [];
  readonly runs: string[] = [];
  readonly tasks: Array<string | undefined> = [];
  readonly contexts: RowContext[] = [];
  private readonly contextByKey = new Map<string, RowContext>();

  /** Stores `r` and returns its view. */
  add(r: ParsedRow): ParsedRow {
    const i = this.count++;
    if ((i + 1) * NUMBERS > this.numbers.length) {
      const bigger = new Float64Array(this.numbers.length * 2);
      bigger.set(this.numbers);
      this.numbers = bigger;
    }
    const o = i * NUMBERS;
    this.numbers[o] = r.durationS;
    this.numbers[o + 1] = r.emissionsKg;
    this.numbers[o + 2] = r.cpuEnergyKWh;
    this.numbers[o + 3] = r.gpuEnergyKWh;
    this.numbers[o + 4] = r.ramEnergyKWh;
    this.numbers[o + 5] = r.energyKWh;
    this.timestamps.push(r.timestamp);
    this.projects.push(r.projectName);
    this.runs.push(r.runId);
    this.tasks.push(r.taskName);
    this.contexts.push(this.context(r));
    return new StoredRow(this, i);
  }

  number(i: number, field: number): number {
    return this.numbers[i * NUMBERS + field]!;
  }

  private context(r: ParsedRow): RowContext {
    const c: RowContext = {
      experimentName: r.experimentName,
      countryName: r.countryName,
      region: r.region,
      trackingMode: r.trackingMode,
      cpuModel: r.cpuModel,
      gpuModel: r.gpuModel,
      pue: r.pue,
      intensityGPerKWh: r.intensityGPerKWh,
      intensitySource: r.intensitySource,
      boundary: r.boundary,
    };
    const key = JSON.stringify(c);
    const hit = this.contextByKey.get(key);
    if (hit) return hit;
    if (this.contextByKey.size < 10_000) this.contextByKey.set(key, c);
    return c;
  }
}

/** A stored row: reads through to its {@link RowStore}. */
class StoredRow implements ParsedRow {
  constructor(
    private readonly store: RowStore,
    private readonly i: number,
  ) {}
  get timestamp(): string {
    return this.store.timestamps[this.i]!;
  }
  get projectName(): string {
    return this.store.projects[this.i]!;
  }
  get runId(): string {
    return this.store.runs[this.i]!;
  }
  get taskName(): string | undefined {
    return this.store.tasks[this.i];
  }
  get durationS(): number {
    return this.store.number(this.i, 0);
  }
  get emissionsKg(): number {
    return this.store.number(this.i, 1);
  }
  get cpuEnergyKWh(): number {
    return this.store.number(this.i, 2);
  }
  get gpuEnergyKWh(): number {
    return this.store.number(this.i, 3);
  }
  get ramEnergyKWh(): number {
    return this.store.number(this.i, 4);
  }
  get energyKWh(): number {
    return this.store.number(this.i, 5);
  }
  private get ctx(): RowContext {
    return this.store.contexts[this.i]!;
  }
  get experimentName(): string | undefined {
    return this.ctx.experimentName;
  }
  get countryName(): string | undefined {
    return this.ctx.countryName;
  }
  get region(): string | undefined {
    return this.ctx.region;
  }
  get trackingMode(): string | undefined {
    return this.ctx.trackingMode;
  }
  get cpuModel(): string | undefined {
    return this.ctx.cpuModel;
  }
  get gpuModel(): string | undefined {
    return this.ctx.gpuModel;
  }
  get pue(): number | undefined {
    return this.ctx.pue;
  }
  get intensityGPerKWh(): number | undefined {
    return this.ctx.intensityGPerKWh;
  }
  get intensitySource(): string | undefined {
    return this.ctx.intensitySource;
  }
  get boundary(): Boundary | undefined {
    return this.ctx.boundary;
  }
}
