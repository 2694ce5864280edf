/**
 * The native addon (`native/`) as TypeScript sees it: the NVML functions of native/src/nvml.cc
 * and the RAPL functions of native/src/rapl.cc. Only src/native/load.ts loads it; sources receive
 * the binding through a {@link NativeLoadResult}.
 */
import type { RaplBinding } from './rapl-binding.js';

/** One per-process utilisation sample of `nvmlDeviceGetProcessUtilization`. */
export interface NvmlProcessSample {
  readonly pid: number;
  /** SM (compute/3D) utilisation of this process, percent. */
  readonly smUtil: number;
  /** Frame-buffer memory utilisation of this process, percent. */
  readonly memUtil: number;
  /** CPU timestamp of the sample, microseconds since the epoch. */
  readonly timeStampUs: number;
}

/**
 * Error thrown by every NVML function: `code` is the NVML status name (`'NVML_ERROR_NOT_SUPPORTED'`,
 * `'NVML_ERROR_GPU_IS_LOST'`...; see docs/measurement.md), the message is `nvmlErrorString`'s text
 * prefixed with the NVML function, and `nvmlReturn` the numeric `nvmlReturn_t`.
 */
export interface NvmlError extends Error {
  readonly code: string;
  readonly nvmlReturn?: number;
}

/** Functions registered by native/src/nvml.cc. Device functions take the NVML device index. */
export interface NvmlBinding {
  /**
   * dlopen()s NVML (default `libnvidia-ml.so.1`, found by the dynamic loader) and calls
   * `nvmlInit_v2`; returns the library path in use. Reference-counted: balance with `nvmlShutdown`.
   * Throws `NVML_ERROR_LIBRARY_NOT_FOUND` (dlopen failed, message has `dlerror()`),
   * `NVML_ERROR_FUNCTION_NOT_FOUND` (not an NVML library), `NVML_ERROR_IN_USE` (another library
   * path is loaded and in use) or nvmlInit's own status (`NVML_ERROR_DRIVER_NOT_LOADED`, ...).
   */
  nvmlInit(libraryPath?: string): string;
  nvmlShutdown(): void;
  nvmlDeviceGetCount(): number;
  nvmlSystemGetDriverVersion(): string;
  nvmlDeviceGetName(index: number): string;
  nvmlDeviceGetUuid(index: number): string;
  /** `NVML_DEVICE_ARCH_*`: 2 Kepler, 3 Maxwell, 4 Pascal, 5 Volta, 6 Turing, 7 Ampere, 8 Ada, 9 Hopper, 10 Blackwell. */
  nvmlDeviceGetArchitecture(index: number): number;
  /** Millijoules since the driver was loaded (Volta and newer), exact. */
  nvmlDeviceGetTotalEnergyConsumption(index: number): bigint;
  /** Milliwatts. */
  nvmlDeviceGetPowerUsage(index: number): number;
  /** Milliwatts. */
  nvmlDeviceGetEnforcedPowerLimit(index: number): number;
  /** Percent over NVML's last sample period. */
  nvmlDeviceGetUtilizationRates(index: number): { gpu: number; memory: number };
  /** Samples with a timestamp after `lastSeenTimeStampUs` (0: all the driver keeps); `[]` when none. */
  nvmlDeviceGetProcessUtilization(index: number, lastSeenTimeStampUs: number): NvmlProcessSample[];
  /** Index of the GPU holding a `GPU-` or `MIG-` UUID (a MIG instance maps to its parent GPU). */
  nvmlDeviceResolveUuid(uuid: string): { index: number; mig: boolean };
}

/** Everything the addon exports. */
export type NativeBinding = NvmlBinding & RaplBinding;

/** The outcome of {@link loadNative}: a binding, or why there is none. */
export interface NativeLoadResult {
  /** The loaded addon; absent when it could not be loaded or is disabled. */
  readonly binding?: NativeBinding;
  /** The file the binding came from. */
  readonly path?: string;
  /** Each candidate tried and why it failed (empty when disabled or when the first one loaded). */
  readonly errors: readonly { readonly candidate: string; readonly error: string }[];
  /** How to get a working addon, when there is none. */
  readonly fix?: string;
  /** True when turned off by `native: false` or `WATTPRINT_NATIVE=0`. */
  readonly disabled?: boolean;
}
