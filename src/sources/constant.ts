import { monotonicMs } from '../clock-guard.js';
import type { Component, DeviceInfo, EnergyReading, PowerSource, ProbeResult, SourceKind } from '../types.js';

export interface ConstantPowerSourceOptions {
  component: Component;
  /** Power drawn until changed with `setPowerW`. */
  powerW: number;
  /** Default `'constant'`. */
  id?: string;
  /** Default `'estimated'`. */
  kind?: SourceKind;
  /** Monotonic clock in ms. Default: ms since the process started, on the clock `performance.now()` reads. */
  nowMs?: () => number;
  devices?: DeviceInfo[];
  /** Explanation carried into the boundary, e.g. "forceRamPowerW = 8 W". */
  boundaryNote?: string;
}

/** A power source of known, settable power, integrated exactly over time. */
export interface ConstantPowerSource extends PowerSource {
  /** Change the power from now on; energy so far keeps the previous power. */
  setPowerW(powerW: number): void;
  readonly boundaryNote?: string;
}

/**
 * A source drawing a constant (or piecewise constant) power. Used for `forceRamPowerW` and as the
 * public fake `FakePowerSource` for tests.
 */
export function constantPowerSource(opts: ConstantPowerSourceOptions): ConstantPowerSource {
  const nowMs = opts.nowMs ?? monotonicMs;
  let powerW = opts.powerW;
  let sinceMs = 0;
  let energyJ = 0;
  let started = false;
  const devices = opts.devices ?? [{ id: '0', name: `${opts.component} (${opts.powerW} W constant)` }];
  const advance = () => {
    const t = nowMs();
    if (started) energyJ += (powerW * (t - sinceMs)) / 1000;
    sinceMs = t;
  };
  return {
    id: opts.id ?? 'constant',
    component: opts.component,
    kind: opts.kind ?? 'estimated',
    boundaryNote: opts.boundaryNote,
    // A constant draw does not follow activity: all of it is a floor.
    get idlePowerW() {
      return powerW;
    },
    probe: (): ProbeResult => ({ ok: true, devices }),
    start() {
      energyJ = 0;
      started = true;
      sinceMs = nowMs();
    },
    read(): EnergyReading {
      advance();
      return { energyJ };
    },
    setPowerW(w: number) {
      advance();
      powerW = w;
    },
  };
}
