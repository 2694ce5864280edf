import { describeHardware, type HardwareInfo } from './hardware.js';
import { resolveOptions, type EmissionsTrackerOptions } from './options.js';
import { chooseSources, intensityFor } from './setup.js';
import { COMPONENTS, type Component, type IntensityValue, type SourceKind, type WattprintWarning } from './types.js';

/** One source considered for a component. */
export interface DetectedSource {
  readonly id: string;
  readonly kind: SourceKind;
  readonly chosen: boolean;
  readonly ok: boolean;
  /** Devices the source sees (when ok). */
  readonly devices: readonly string[];
  /** Why it cannot be used here, its code and the fix (when not ok). */
  readonly reason?: string;
  readonly code?: string;
  readonly fix?: string;
  readonly note?: string;
}

/** What {@link detect} found. */
export interface DetectResult {
  readonly hardware: HardwareInfo;
  /** Whether the native addon loaded, from where, and each candidate's error otherwise. */
  readonly native: {
    readonly loaded: boolean;
    readonly path?: string;
    readonly errors: ReadonlyArray<{ readonly candidate: string; readonly error: string }>;
    readonly fix?: string;
  };
  /** Per component: the chosen source (undefined: not accounted) and every candidate in fallback order. */
  readonly components: Readonly<
    Record<Component, { readonly chosen?: DetectedSource; readonly candidates: readonly DetectedSource[] }>
  >;
  readonly intensity: IntensityValue;
  readonly warnings: readonly WattprintWarning[];
}

/**
 * Probes the hardware the way `tracker.start()` would, without tracking: the source chosen for each
 * component, and for every other source the reason it was not chosen and how to fix it.
 */
export function detect(options: EmissionsTrackerOptions = {}): DetectResult {
  const opts = resolveOptions({ ...options, saveToFile: false, saveToJson: false, handleSignals: false });
  const selection = chooseSources(opts);
  const components = {} as Record<Component, { chosen?: DetectedSource; candidates: DetectedSource[] }>;
  for (const c of COMPONENTS) {
    const candidates = selection.candidates
      .filter((x) => x.component === c)
      .map(
        (x): DetectedSource => ({
          id: x.id,
          kind: x.kind,
          chosen: x.chosen,
          ok: x.probe.ok,
          devices: x.probe.ok ? x.probe.devices.map((d) => d.name) : [],
          ...(x.probe.ok
            ? x.probe.note
              ? { note: x.probe.note }
              : {}
            : {
                reason: x.probe.reason,
                ...(x.probe.code ? { code: x.probe.code } : {}),
                ...(x.probe.fix ? { fix: x.probe.fix } : {}),
              }),
        }),
      );
    const chosen = candidates.find((x) => x.chosen);
    components[c] = chosen ? { chosen, candidates } : { candidates };
  }
  for (const c of COMPONENTS) selection.sources[c]?.close?.();
  const native = selection.native;
  const intensity = intensityFor(opts).getIntensity(undefined, new Date());
  return {
    hardware: describeHardware(opts.procfsRoot, selection.probes.gpu, selection.cpu),
    native: {
      loaded: native.binding !== undefined,
      ...(native.path ? { path: native.path } : {}),
      errors: native.errors,
      ...(native.fix ? { fix: native.fix } : {}),
    },
    components,
    intensity,
    warnings: selection.warnings,
  };
}
