/**
 * Plausibility of energy-counter deltas. A counter that steps back is either a wrap or a glitch
 * (a firmware hiccup, a driver reload, a garbage read); only the energy it implies tells them
 * apart: a delta is accepted when it fits the device's power bound over the interval. Otherwise
 * the interval is dropped, the caller resets its baseline, and one `COUNTER_GLITCH` warning per
 * source says so.
 */

/**
 * Seconds of power at the bound allowed on top of the interval: read-time jitter between the
 * clock and the counter, and update granularity (RAPL about 1 ms, NVML energy about 100 ms).
 */
export const GLITCH_SLACK_S = 0.25;

/** NVML: the enforced power limit times this covers transient excursions above the limit. */
export const NVML_LIMIT_MARGIN = 2;

/**
 * Per-GPU ceiling (W) when NVML reports no power limit: above any board sold (H200 700 W,
 * B200 1000 W, GB200 superchip 2700 W for its two GPUs and CPU) by a wide margin.
 */
export const NVML_CEILING_W = 3000;

/** Whether `energyJ` could have been drawn at `boundW` or less in `intervalMs`. */
export function fitsPowerBound(energyJ: number, intervalMs: number, boundW: number): boolean {
  if (!Number.isFinite(energyJ) || energyJ < 0) return false;
  const seconds = Math.max(0, Number.isFinite(intervalMs) ? intervalMs : 0) / 1000 + GLITCH_SLACK_S;
  return energyJ <= boundW * seconds;
}

/** Emits `COUNTER_GLITCH` once per source; later glitches are still dropped, silently. */
export function glitchWarner(warn: (code: string, message: string) => void): (what: string, impliedJ: number, intervalMs: number, boundW: number) => void {
  let warned = false;
  return (what, impliedJ, intervalMs, boundW) => {
    if (warned) return;
    warned = true;
    const implied = Number.isFinite(impliedJ) ? `${impliedJ.toExponential(3)} J` : String(impliedJ);
    warn(
      'COUNTER_GLITCH',
      `${what}: the counter moved by ${implied} in ${(intervalMs / 1000).toFixed(3)} s, more than ${boundW} W can draw ` +
        '(a glitch or a step back, not a wrap); interval dropped and baseline reset. Further glitches of this source are dropped silently.',
    );
  };
}
