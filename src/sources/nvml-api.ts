/** The NVML source's public types and device check, shared by src/sources/nvml.ts and the code it loads on first need. */
import { existsSync } from 'node:fs';
import type { NativeLoadResult } from '../native/binding.js';
import { nativeNotLoaded } from '../native/load.js';
import type { PowerSource, ProbeResult, SourceContext, TrackingMode, WattprintWarning } from '../types.js';
import type { GpuDeviceError, GpuEnergyMode } from './nvml-meter.js';

/** Options of {@link nvmlSource}. */
export interface NvmlSourceOptions {
  /** GPUs to measure: NVML indices, UUIDs or UUID prefixes (`GPU-`/`MIG-` too). Default: CUDA_VISIBLE_DEVICES, else all. */
  readonly gpuIds?: readonly string[];
  /** Path given to dlopen. Default `libnvidia-ml.so.1` (found through the loader's search path). */
  readonly libraryPath?: string;
  /** Environment read for CUDA_VISIBLE_DEVICES. Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Receives per-device failures (device lost, counter stuck) while running; the tracker emits them as 'warning'. */
  readonly onWarning?: (warning: WattprintWarning) => void;
  /** Background power sampling period for GPUs without an energy counter, ms. Default 100. */
  readonly powerSampleIntervalMs?: number;
  /** Background polling period of per-process utilisation in process mode, ms. Default 1000. */
  readonly processSampleIntervalMs?: number;
  /** Pids of the tracked process tree (process mode). Default: `ctx.pid` and its descendants from procfs. */
  readonly pidsOf?: () => readonly number[];
}

/** A failing device, as exposed by {@link NvmlSource.lastErrors}. */
export interface NvmlDeviceError extends GpuDeviceError {
  /** The device id (NVML index). */
  readonly deviceId: string;
}

/** The NVML {@link PowerSource}, plus what the tracker reads about its boundary and health. */
export interface NvmlSource extends PowerSource {
  readonly scope: TrackingMode;
  /** Whole-device, MIG and power-sampling caveats of the current run; undefined when none. */
  readonly boundaryNote: string | undefined;
  /** Devices whose last read failed (e.g. `NVML_ERROR_GPU_IS_LOST`); their energy stays at the last total. */
  readonly lastErrors: readonly NvmlDeviceError[];
  /** Energy mode per device id, after a successful probe. */
  readonly modes: Readonly<Record<string, GpuEnergyMode>>;
}

/** Device files the NVIDIA driver creates: Linux, and WSL 2's GPU paravirtualisation. */
const NVIDIA_DEVICE_NODES = ['nvidiactl', 'dxg'];

/**
 * NOT_PRESENT when no driver serves a GPU here (no device node), the addon is not loaded yet and
 * no library path was set: answered without loading the addon.
 */
export function noNvidiaDevice(ctx: SourceContext, native: NativeLoadResult, libraryPath: string | undefined): Extract<ProbeResult, { ok: false }> | undefined {
  if (!nativeNotLoaded(native) || libraryPath !== undefined || NVIDIA_DEVICE_NODES.some((n) => existsSync(`${ctx.devRoot}/${n}`))) return undefined;
  return {
    ok: false,
    code: 'NOT_PRESENT',
    reason: `no NVIDIA GPU device: neither ${ctx.devRoot}/nvidiactl nor ${ctx.devRoot}/dxg (WSL) exists`,
    fix: 'Install the NVIDIA driver; in a container, expose the GPUs (`docker run --gpus all`). Setting `nvmlLibraryPath` (WATTPRINT_NVML_LIBRARY_PATH) skips this check.',
  };
}
