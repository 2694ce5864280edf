/**
 * The one place that turns resolved options into objects: the native binding, the source chains
 * and the sources chosen from them, the reporters, and the intensity provider chain.
 * The tracker and `detect()` both build through here, so they cannot disagree.
 */
import { createIntensityChain, type IntensityChain, type IntensityChainContext } from './intensity/chain.js';
import { deferNative, loadNative, type NativeBinding, type NativeLoadResult } from './native/load.js';
import { resolveOptions, type EmissionsTrackerOptions, type ResolvedOptions } from './options.js';
import { csvReporter, jsonReporter } from './lazy/index.js';
import { callbackReporter } from './reporters/callback.js';
import { constantPowerSource } from './sources/constant.js';
import { cpuTdpSource } from './sources/cpu-tdp.js';
import { nvmlSource } from './sources/nvml.js';
import { ramModelSource } from './sources/ram-dimm.js';
import { raplCpuSource, raplRamSource } from './sources/rapl.js';
import { selectSources, type Selection, type SourceChains } from './sources/select.js';
import { lazyCpuInfo, type CpuInfo } from './system/cpuinfo.js';
import type { Reporter, SourceContext, WattprintWarning } from './types.js';

type OnWarning = (w: WattprintWarning) => void;

/** The environment the built-in sources read, from resolved options. */
export function sourceContext(o: ResolvedOptions): SourceContext {
  return { sysfsRoot: o.sysfsRoot, procfsRoot: o.procfsRoot, devRoot: o.devRoot, trackingMode: o.trackingMode, pid: o.pid, nowMs: o.clock };
}

/**
 * The native addon the `native` option asks for: disabled (`false`), loaded from a path (a string),
 * the binding object given (a fake in tests, or one the host loaded itself), else found in the package.
 */
export function nativeFor(o: Pick<ResolvedOptions, 'native'>): NativeLoadResult {
  const n = o.native;
  if (n === false) return loadNative({ disabled: true });
  if (typeof n === 'string') return loadNative({ path: n });
  if (typeof n === 'object') return { binding: n as NativeBinding, errors: [] };
  // Found in the package on first need: a probe that finds no hardware for it never loads it.
  return deferNative(() => loadNative());
}

/** The built-in chains, each built when asked for, in order of preference; forced powers replace a chain. */
function builtinChains(o: ResolvedOptions, native: NativeLoadResult, cpu: CpuInfo, onWarning: OnWarning): { [C in keyof SourceChains]: () => SourceChains[C] } {
  const ctx = sourceContext(o);
  return {
    cpu: () =>
      o.forceCpuPowerW !== undefined
        ? [cpuTdpSource(ctx, { tdpW: o.forceCpuPowerW, cpu })]
        : [raplCpuSource(ctx, native, { onWarning }), cpuTdpSource(ctx, { cpu })],
    // The default library is the addon's default too; a path the user set makes the probe try NVML
    // even without NVIDIA device nodes.
    gpu: () => [nvmlSource(ctx, native, { gpuIds: o.gpuIds, libraryPath: (o.origins.nvmlLibraryPath ?? 'default') === 'default' ? undefined : o.nvmlLibraryPath, onWarning })],
    ram: () =>
      o.forceRamPowerW !== undefined
        ? [
            constantPowerSource({
              component: 'ram',
              powerW: o.forceRamPowerW,
              id: 'ram-forced',
              nowMs: ctx.nowMs,
              boundaryNote: `forceRamPowerW = ${o.forceRamPowerW} W`,
            }),
          ]
        : [raplRamSource(ctx, native, { onWarning }), ramModelSource(ctx)],
  };
}

function emitWarningOnce(): OnWarning {
  const seen = new Set<string>();
  return (w) => {
    if (seen.has(w.code)) return;
    seen.add(w.code);
    process.emitWarning(w.message, { type: 'WattprintWarning', code: `WATTPRINT_${w.code}` });
  };
}

/**
 * The fallback chains the tracker uses for these options when `sources` does not replace them:
 * per component, the built-in sources in order of preference (`forceCpuPowerW` and
 * `forceRamPowerW` replace a chain, as in the tracker). Use it to extend a chain rather than
 * replace it; pass the same options as to the tracker, so the sources read the same roots and clock.
 * Sources created here warn through `onWarning` (default: `process.emitWarning`, once per code).
 *
 * @example
 * const defaults = defaultSources({ trackingMode: 'process' });
 * const tracker = new EmissionsTracker({ trackingMode: 'process', sources: { ...defaults, cpu: [wallMeter, ...defaults.cpu] } });
 */
export function defaultSources(options: EmissionsTrackerOptions = {}, hooks: { onWarning?: OnWarning } = {}): SourceChains {
  const o = resolveOptions({ ...options, saveToFile: false, saveToJson: false, handleSignals: false, sources: undefined });
  const chains = builtinChains(o, nativeFor(o), lazyCpuInfo(o.procfsRoot), hooks.onWarning ?? emitWarningOnce());
  return { cpu: chains.cpu(), gpu: chains.gpu(), ram: chains.ram() };
}

/**
 * Chooses a source per component: the user's chain where `sources` gives one, else the built-in
 * chain (built only when needed), walked by {@link selectSources}. Never throws.
 */
export function chooseSources(o: ResolvedOptions, onWarning: OnWarning = () => {}): Selection {
  const native = nativeFor(o);
  const cpu = lazyCpuInfo(o.procfsRoot);
  const builtin = builtinChains(o, native, cpu, onWarning);
  const user = o.sources ?? {};
  const chains: SourceChains = { cpu: user.cpu ?? builtin.cpu(), gpu: user.gpu ?? builtin.gpu(), ram: user.ram ?? builtin.ram() };
  return selectSources(chains, native, cpu);
}

/** The reporters the options ask for: CSV, JSON lines, the `onReport` callback, then the user's. */
export function reportersFor(o: ResolvedOptions, onWarning: OnWarning): Reporter[] {
  return [
    ...(o.saveToFile ? [csvReporter({ outputDir: o.outputDir, outputFile: o.outputFile, onCsvWrite: o.onCsvWrite, onWarning })] : []),
    ...(o.saveToJson ? [jsonReporter({ outputDir: o.outputDir, onWarning })] : []),
    ...(o.onReport ? [callbackReporter(o.onReport)] : []),
    ...o.reporters,
  ];
}

/**
 * The intensity provider the options ask for: the chain of the options' providers (or a forced
 * constant) with the offline data as its last link, and the location it answers for.
 */
export function intensityFor(o: ResolvedOptions, context?: IntensityChainContext): IntensityChain {
  return createIntensityChain(o, context);
}
