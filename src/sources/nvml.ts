/**
 * The public NVML source. Its code (src/sources/nvml-source.ts, with the addon it drives) loads on
 * the first probe that finds an NVIDIA device node, or when a library path is set.
 */
import { nvmlModule } from '../lazy/index.js';
import type { NativeLoadResult } from '../native/binding.js';
import type { SourceContext } from '../types.js';
import { deferredSource } from './deferred.js';
import { noNvidiaDevice, type NvmlSource, type NvmlSourceOptions } from './nvml-api.js';

export type { NvmlDeviceError, NvmlSource, NvmlSourceOptions } from './nvml-api.js';

/**
 * The NVML source: id `'nvml'`, measured, component `'gpu'`. `probe()` initialises NVML and keeps
 * it initialised for `start()`; `close()` releases it.
 *
 * @example
 * const gpu = nvmlSource(ctx, loadNative(), { gpuIds: ['0'] });
 * const p = gpu.probe();
 * if (p.ok) { gpu.start(); ...; console.log(gpu.read().energyJ); gpu.close(); }
 */
export function nvmlSource(ctx: SourceContext, native: NativeLoadResult, opts: NvmlSourceOptions = {}): NvmlSource {
  return deferredSource<NvmlSource>(
    { id: 'nvml', component: 'gpu', kind: 'measured', scope: ctx.trackingMode },
    () => noNvidiaDevice(ctx, native, opts.libraryPath),
    () => nvmlModule().makeNvmlSource(ctx, native, opts),
    { boundaryNote: undefined, lastErrors: [], modes: {} },
  );
}
