import { monotonicMs } from '../clock-guard.js';
import type { Measurement } from '../types.js';
import { formatDurationS, formatEnergyKWh, formatMassKg, formatPowerW } from './format.js';
import { J_PER_KWH } from '../units.js';

const CLEAR = '\r\x1b[2K';

interface TtyLike {
  write(chunk: string): boolean;
  readonly columns?: number;
}

/**
 * The live line on a terminal: elapsed time, the latest power per component, cumulative energy and
 * CO2eq, redrawn in place with `\r` + erase-line. Cut to the terminal width so it never wraps
 * (a wrapped line cannot be erased with `\r`).
 */
export class StatusLine {
  private energyJ = 0;
  private emissionsKg = 0;
  private last?: Measurement;
  private shown = false;

  constructor(
    private readonly out: TtyLike,
    private readonly startMs: number,
    private readonly nowMs: () => number = monotonicMs,
  ) {}

  add(m: Measurement): void {
    this.energyJ += m.energyJ;
    this.emissionsKg += m.emissionsKg;
    this.last = m;
  }

  text(): string {
    const elapsed = formatDurationS((this.nowMs() - this.startMs) / 1000);
    const m = this.last;
    const power = m
      ? `cpu ${formatPowerW(m.cpuPowerW)}  gpu ${formatPowerW(m.gpuPowerW)}  ram ${formatPowerW(m.ramPowerW)}`
      : 'measuring…';
    return `wattprint ${elapsed} | ${power} | ${formatEnergyKWh(this.energyJ / J_PER_KWH)} | ${formatMassKg(this.emissionsKg)} CO2eq`;
  }

  render(): void {
    // A pseudo-terminal without a size reports 0 columns.
    const width = Math.max(20, (this.out.columns || 80) - 1);
    const t = this.text();
    this.out.write(CLEAR + (t.length > width ? t.slice(0, width - 1) + '…' : t));
    this.shown = true;
  }

  clear(): void {
    if (this.shown) this.out.write(CLEAR);
    this.shown = false;
  }
}

/**
 * With `wattprint run --status`, the command's stdout and stderr are piped through wattprint so
 * that one writer owns the terminal: the status line is erased before each chunk of the command's
 * output and drawn again only when that output ends a line, so it never lands inside a line of the
 * command's log or a progress bar redrawn with `\r`.
 */
export class StatusRelay {
  private atLineStart = true;

  constructor(private readonly status: StatusLine) {}

  /** Writes a chunk of the command's output to `out` around the status line. */
  relay(out: { write(chunk: string | Uint8Array): boolean }, chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.status.clear();
    out.write(chunk);
    this.atLineStart = chunk[chunk.length - 1] === 0x0a;
    if (this.atLineStart) this.status.render();
  }

  /** Redraws the status line if the command's output is between lines. */
  refresh(): void {
    if (this.atLineStart) this.status.render();
  }
}
