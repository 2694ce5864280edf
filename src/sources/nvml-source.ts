/**
 * Measured GPU energy through NVML (the native addon dlopen()s libnvidia-ml.so.1). Energy is the
 * delta of each GPU's total-energy counter (Volta and newer); where that counter is missing the
 * source samples power in the background and integrates it. See docs/measurement.md.
 */
import { WattprintError } from '../errors.js';
import type { NativeLoadResult, NvmlBinding } from '../native/binding.js';
import { acquireProcView, releaseProcView, type ProcView } from '../system/proc-view.js';
import type { DeviceInfo, EnergyReading, ProbeResult, SourceContext, TrackingMode } from '../types.js';
import { GpuMeter, nvmlCode, ProcessShare, type GpuEnergyMode } from './nvml-meter.js';
import { glitchWarner, NVML_CEILING_W, NVML_LIMIT_MARGIN } from './counter-guard.js';
import { selectGpus, type GpuIdentity } from './nvml-select.js';
import { noNvidiaDevice, type NvmlDeviceError, type NvmlSource, type NvmlSourceOptions } from './nvml-api.js';

/** NVML_DEVICE_ARCH_VOLTA: the total-energy counter exists from Volta on. */
const ARCH_VOLTA = 5;
const ARCH_UNKNOWN = 0xffffffff;
const TREE_REFRESH_MS = 1000;
const ARCH_NAMES: Record<number, string> = {
  2: 'kepler',
  3: 'maxwell',
  4: 'pascal',
  5: 'volta',
  6: 'turing',
  7: 'ampere',
  8: 'ada',
  9: 'hopper',
  10: 'blackwell',
};

const NVML_FIX: Record<string, string> = {
  NVML_ERROR_DRIVER_NOT_LOADED:
    'The NVIDIA kernel driver is not loaded: check `nvidia-smi`; load it (`modprobe nvidia`) or, in a container, run with the NVIDIA Container Toolkit (`--gpus all`).',
  NVML_ERROR_NO_PERMISSION: 'This user cannot open /dev/nvidia*: add it to the group that owns those devices, or run the container with `--gpus`.',
  NVML_ERROR_LIB_RM_VERSION_MISMATCH:
    'libnvidia-ml and the kernel driver have different versions (driver upgraded without reboot): reboot or reload the nvidia module.',
  NVML_ERROR_FUNCTION_NOT_FOUND: 'The library at `nvmlLibraryPath` is not NVML: point it at libnvidia-ml.so.1.',
  NVML_ERROR_IN_USE: 'Another NVML library is already loaded in this process: use a single `nvmlLibraryPath` per process.',
};
const GENERIC_FIX = 'Check that `nvidia-smi` works for this user; see docs/measurement.md, "GPU (NVML)".';

interface Plan {
  readonly probe: ProbeResult;
  readonly meters: readonly GpuMeter[];
  readonly shares: ReadonlyMap<number, ProcessShare>;
  readonly notes: readonly string[];
}

/** The NVML source behind {@link nvmlSource} (src/sources/nvml.ts), loaded on first need. */
export function makeNvmlSource(ctx: SourceContext, native: NativeLoadResult, opts: NvmlSourceOptions = {}): NvmlSource {
  const env = opts.env ?? process.env;
  const processMode = ctx.trackingMode === 'process';
  const powerIntervalMs = opts.powerSampleIntervalMs ?? 100;
  const processIntervalMs = opts.processSampleIntervalMs ?? 1000;
  // The sampler's shared view: a read() inside a sample reuses the tree walk of the other sources.
  let view: ProcView | undefined;
  const pidsOf = opts.pidsOf ?? (() => (view ??= acquireProcView(ctx.procfsRoot)).treePids(ctx.pid));
  // Every pid seen in the tree since start(): NVML's samples are matched at the next read(), when a
  // GPU job that has just exited is no longer in the tree (a command shorter than one interval
  // would otherwise get none of its GPU energy). Scanning procfs costs milliseconds on a busy
  // host, so the tree is walked at most once a second, from the background poll and from read().
  const ownPids = new Set<number>();
  let treeAtMs: number | undefined;
  const ownedPids = (nowMs: number): ReadonlySet<number> => {
    if (treeAtMs === undefined || nowMs - treeAtMs >= TREE_REFRESH_MS || nowMs < treeAtMs) {
      treeAtMs = nowMs;
      for (const pid of pidsOf()) ownPids.add(pid);
    }
    return ownPids;
  };
  const warn = (code: string, message: string): void => opts.onWarning?.({ code, message, component: 'gpu' });
  const glitch = glitchWarner(warn);
  let initialised = false;
  let plan: Plan | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  let timerMs = 0;
  const attributedJ = new Map<number, number>();

  const nvml = (): NvmlBinding => native.binding as NvmlBinding;

  function shutdown(): void {
    if (!initialised) return;
    initialised = false;
    try {
      nvml().nvmlShutdown();
    } catch {
      // Shutdown failing leaves nothing to release on our side.
    }
  }

  function fail(code: string, reason: string, fix?: string): ProbeResult {
    shutdown();
    return fix === undefined ? { ok: false, code, reason } : { ok: false, code, reason, fix };
  }

  function buildPlan(): Plan | ProbeResult {
    const absent = noNvidiaDevice(ctx, native, opts.libraryPath);
    if (absent) return absent;
    if (native.binding === undefined) {
      if (native.disabled) return { ok: false, code: 'DISABLED', reason: 'the native addon is disabled', ...(native.fix ? { fix: native.fix } : {}) };
      const why = native.errors.map((e) => `${e.candidate}: ${e.error}`).join('; ') || 'not found';
      return { ok: false, code: 'NATIVE_UNAVAILABLE', reason: `the native addon did not load (${why})`, ...(native.fix ? { fix: native.fix } : {}) };
    }
    const b = nvml();
    if (!initialised) {
      try {
        b.nvmlInit(opts.libraryPath);
        initialised = true;
      } catch (err) {
        const code = nvmlCode(err);
        const text = err instanceof Error ? err.message : String(err);
        if (code === 'NVML_ERROR_LIBRARY_NOT_FOUND') {
          return fail(
            'NOT_PRESENT',
            `NVML is not available (${text})`,
            'Install the NVIDIA driver (it provides libnvidia-ml.so.1), or set `nvmlLibraryPath` (WATTPRINT_NVML_LIBRARY_PATH) to the library, or LD_LIBRARY_PATH to its folder before Node starts.',
          );
        }
        return fail(code, `NVML failed to initialise: ${text}`, NVML_FIX[code] ?? GENERIC_FIX);
      }
    }
    let count: number;
    try {
      count = b.nvmlDeviceGetCount();
    } catch (err) {
      return fail(nvmlCode(err), `nvmlDeviceGetCount failed: ${(err as Error).message}`, NVML_FIX[nvmlCode(err)] ?? GENERIC_FIX);
    }
    if (count === 0) return fail('NOT_PRESENT', 'NVML sees no GPU');
    const identities: GpuIdentity[] = [];
    for (let index = 0; index < count; index++) identities.push({ index, uuid: tryCall(() => b.nvmlDeviceGetUuid(index)) ?? '' });
    const resolve = (uuid: string): { index: number; mig: boolean } | undefined => tryCall(() => b.nvmlDeviceResolveUuid(uuid));
    const selection = selectGpus(identities, opts.gpuIds, env, resolve);
    const notes: string[] = [];
    const unmatched = selection.unmatched.length ? `; not matched: ${selection.unmatched.join(', ')}` : '';
    if (selection.indices.length === 0) {
      const what = selection.origin === 'gpuIds' ? `gpuIds [${(opts.gpuIds ?? []).join(', ')}]` : `CUDA_VISIBLE_DEVICES="${env.CUDA_VISIBLE_DEVICES}"`;
      return fail(
        'NOT_SELECTED',
        `${what} selects none of the ${count} GPU(s) NVML sees${unmatched}`,
        'Select GPUs by NVML index or UUID (`nvidia-smi -L` lists them).',
      );
    }
    if (unmatched) notes.push(`${selection.origin}${unmatched}`);
    const devices: DeviceInfo[] = [];
    const meters: GpuMeter[] = [];
    const shares = new Map<number, ProcessShare>();
    const failures: { code: string; text: string }[] = [];
    for (const index of selection.indices) {
      const name = tryCall(() => b.nvmlDeviceGetName(index)) ?? `GPU ${index}`;
      const uuid = identities[index]?.uuid ?? '';
      const arch = tryCall(() => b.nvmlDeviceGetArchitecture(index));
      const limitMw = tryCall(() => b.nvmlDeviceGetEnforcedPowerLimit(index));
      const counter = probeCounter(b, index, arch);
      let mode: GpuEnergyMode = 'counter';
      if (!counter.ok) {
        const power = probeCall(() => b.nvmlDeviceGetPowerUsage(index));
        if (!power.ok) {
          failures.push({ code: power.code, text: `GPU ${index} (${name}): no energy counter (${counter.why}) and no power reading (${power.text})` });
          continue;
        }
        mode = 'power';
        notes.push(`GPU ${index}: energy integrated from power samples every ${powerIntervalMs} ms (${counter.why})`);
      }
      const mig = selection.migParents.includes(index);
      if (mig) notes.push(`GPU ${index}: selected through a MIG UUID; energy is the whole GPU's (MIG instances have no energy counter)`);
      const archName = arch === undefined ? 'unknown' : (ARCH_NAMES[arch] ?? `arch-${arch}`);
      devices.push({
        id: String(index),
        name,
        details: {
          index,
          uuid,
          architecture: archName,
          energyCounter: mode === 'counter',
          ...(limitMw !== undefined ? { powerLimitW: limitMw / 1000 } : {}),
          ...(mig ? { mig: true } : {}),
        },
      });
      const boundW = limitMw !== undefined && limitMw > 0 ? (limitMw / 1000) * NVML_LIMIT_MARGIN : NVML_CEILING_W;
      meters.push(new GpuMeter(b, index, `GPU ${index} (${name})`, mode, warn, boundW, glitch));
      if (processMode) {
        const share = new ProcessShare(b, index);
        share.poll();
        if (share.supported) shares.set(index, share);
        else notes.push(`GPU ${index}: no per-process GPU data from NVML: whole device`);
      }
    }
    if (meters.length === 0) {
      const first = failures[0]!;
      return fail(first.code, failures.map((f) => f.text).join('; '), NVML_FIX[first.code] ?? GENERIC_FIX);
    }
    for (const f of failures) notes.push(`${f.text}: not measured`);
    if (processMode && shares.size > 0) notes.push("process mode: each GPU's energy x the tracked processes' share of per-process SM utilisation");
    const probe: ProbeResult = notes.length ? { ok: true, devices, note: notes.join('; ') } : { ok: true, devices };
    return { probe, meters, shares, notes };
  }

  function ensureTimer(): void {
    const wantMs = plan?.meters.some((m) => m.mode === 'power') ? powerIntervalMs : plan && plan.shares.size > 0 ? processIntervalMs : 0;
    if (wantMs === timerMs) return;
    if (timer !== undefined) clearInterval(timer);
    timer = undefined;
    timerMs = wantMs;
    if (wantMs <= 0) return;
    timer = setInterval(tick, wantMs);
    timer.unref();
  }

  function tick(): void {
    if (plan === undefined) return;
    const now = ctx.nowMs();
    try {
      for (const m of plan.meters) if (m.mode === 'power') m.sample(now);
      if (plan.shares.size > 0) ownedPids(now);
      for (const s of plan.shares.values()) s.poll();
    } catch {
      // A timer callback must never throw; failures surface at the next read().
    }
  }

  const source: NvmlSource = {
    id: 'nvml',
    component: 'gpu',
    kind: 'measured',
    get scope(): TrackingMode {
      return processMode && plan !== undefined && plan.shares.size > 0 ? 'process' : 'machine';
    },
    get boundaryNote(): string | undefined {
      if (plan === undefined) return undefined;
      const notes = [...plan.notes];
      for (const m of plan.meters) {
        if (m.switchedToPower) notes.push(`GPU ${m.index}: energy counter stuck; switched to power sampling every ${powerIntervalMs} ms`);
      }
      return notes.length ? notes.join('; ') : undefined;
    },
    get lastErrors(): readonly NvmlDeviceError[] {
      return (plan?.meters ?? []).flatMap((m) => (m.error ? [{ deviceId: String(m.index), ...m.error }] : []));
    },
    get modes(): Readonly<Record<string, GpuEnergyMode>> {
      return Object.fromEntries((plan?.meters ?? []).map((m) => [String(m.index), m.mode]));
    },
    probe(): ProbeResult {
      if (plan !== undefined) return plan.probe;
      try {
        const built = buildPlan();
        if ('meters' in built) {
          plan = built;
          return built.probe;
        }
        return built;
      } catch (err) {
        return fail('PROBE_FAILED', `NVML probe failed: ${err instanceof Error ? err.message : String(err)}`, GENERIC_FIX);
      }
    },
    start(): void {
      const probe = source.probe();
      if (!probe.ok) throw new WattprintError(probe.code ?? 'NOT_PRESENT', `nvml: ${probe.reason}`);
      const now = ctx.nowMs();
      attributedJ.clear();
      ownPids.clear();
      treeAtMs = undefined;
      for (const m of plan!.meters) {
        m.start(now);
        attributedJ.set(m.index, 0);
      }
      for (const s of plan!.shares.values()) s.reset();
      ensureTimer();
    },
    read(): EnergyReading {
      if (plan === undefined) throw new WattprintError('STATE', 'nvml: read() before start()');
      const now = ctx.nowMs();
      const pids = plan.shares.size > 0 ? ownedPids(now) : undefined;
      const devicesJ: Record<string, number> = {};
      let energyJ = 0;
      const utilisation: number[] = [];
      for (const m of plan.meters) {
        const deltaJ = m.take(now);
        const share = pids === undefined ? undefined : plan.shares.get(m.index)?.take(pids);
        const total = (attributedJ.get(m.index) ?? 0) + deltaJ * (share ?? 1);
        attributedJ.set(m.index, total);
        devicesJ[String(m.index)] = total;
        energyJ += total;
        if (m.error === undefined) {
          const u = tryCall(() => nvml().nvmlDeviceGetUtilizationRates(m.index));
          if (u !== undefined) utilisation.push(u.gpu);
        }
      }
      ensureTimer();
      const reading: EnergyReading = { energyJ, devicesJ };
      return utilisation.length ? { ...reading, utilizationPercent: utilisation.reduce((a, b) => a + b, 0) / utilisation.length } : reading;
    },
    close(): void {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      timerMs = 0;
      plan = undefined;
      if (view) releaseProcView(view);
      view = undefined;
      shutdown();
    },
  };
  return source;
}

function tryCall<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

function probeCall<T>(fn: () => T): { ok: true; value: T } | { ok: false; code: string; text: string } {
  try {
    return { ok: true, value: fn() };
  } catch (err) {
    return { ok: false, code: nvmlCode(err), text: err instanceof Error ? err.message : String(err) };
  }
}

/** Whether the total-energy counter can be used: Volta or newer, answering, and not stuck at 0. */
function probeCounter(b: NvmlBinding, index: number, arch: number | undefined): { ok: true } | { ok: false; why: string } {
  if (arch !== undefined && arch !== ARCH_UNKNOWN && arch < ARCH_VOLTA) {
    return { ok: false, why: `${ARCH_NAMES[arch] ?? `architecture ${arch}`} is older than Volta` };
  }
  const r = probeCall(() => b.nvmlDeviceGetTotalEnergyConsumption(index));
  if (!r.ok) return { ok: false, why: `nvmlDeviceGetTotalEnergyConsumption: ${r.code}` };
  if (r.value === 0n) return { ok: false, why: 'the energy counter reads 0 (vGPU?)' };
  return { ok: true };
}
