/**
 * Public types shared by the tracker, the built-in sources, reporters and intensity
 * providers. Every numeric name carries its unit: `energyJ`, `powerW`, `gPerKWh`, `durationS`.
 */

/** A hardware component whose energy is accounted separately. */
export type Component = 'cpu' | 'gpu' | 'ram';

/** The components in the order they appear in outputs. */
export const COMPONENTS: readonly Component[] = ['cpu', 'gpu', 'ram'];

/**
 * How a component's energy was obtained: read from a hardware counter (`measured`),
 * computed from a model such as TDP x load (`estimated`), or not accounted at all (`none`,
 * e.g. a machine without a GPU).
 */
export type SourceKind = 'measured' | 'estimated';

/** `machine` accounts the whole host; `process` attributes energy to the tracked process tree. */
export type TrackingMode = 'machine' | 'process';

/** One device a source reads, e.g. a GPU or a RAPL package domain. */
export interface DeviceInfo {
  /** Stable id within the source: `'0'`, a GPU UUID, `'package-0'`, ... */
  readonly id: string;
  /** Human-readable name: `'NVIDIA H200'`, `'Intel(R) Xeon(R) Gold 6248'`, `'package-0'`. */
  readonly name: string;
  /** Extra facts the source knows (power limit, architecture, TDP, matched table row...). */
  readonly details?: Readonly<Record<string, string | number | boolean>>;
}

/** The answer of {@link PowerSource.probe}. Probes never throw; a failure explains itself. */
export type ProbeResult =
  | { readonly ok: true; readonly devices: readonly DeviceInfo[]; readonly note?: string }
  | {
      readonly ok: false;
      /** Why the source cannot be used here, e.g. `"EACCES reading .../energy_uj"`. */
      readonly reason: string;
      /** What the user can do about it, e.g. a chmod or udev rule. */
      readonly fix?: string;
      /** A stable code: 'NOT_PRESENT', 'PERMISSION_DENIED', 'NATIVE_UNAVAILABLE', 'DISABLED', ... */
      readonly code?: string;
    };

/** One cumulative reading of a source. */
export interface EnergyReading {
  /**
   * Energy in joules consumed since the source was started (`start()`), summed over its
   * devices and already attributed to the tracked processes in process mode. Monotonic: counter
   * wraps and resets are handled inside the source.
   */
  readonly energyJ: number;
  /** The same, per device id (optional; used for per-device outputs). */
  readonly devicesJ?: Readonly<Record<string, number>>;
  /** Mean utilisation of the component in percent since the previous read, where known. */
  readonly utilizationPercent?: number;
}

/** Environment handed to source factories; every root path is injectable for containers and tests. */
export interface SourceContext {
  /** Root of sysfs, default `/sys`. */
  readonly sysfsRoot: string;
  /** Root of procfs, default `/proc`. */
  readonly procfsRoot: string;
  /** Root of devfs, default `/dev` (MSR files live at `<devRoot>/cpu/N/msr`). */
  readonly devRoot: string;
  readonly trackingMode: TrackingMode;
  /** Root pid of the tracked process tree (process mode), default `process.pid`. */
  readonly pid: number;
  /** Monotonic clock in milliseconds. Default: ms since the process started, on the clock `performance.now()` reads. */
  readonly nowMs: () => number;
}

/**
 * A source of energy for one component. Built-in sources (NVML, RAPL, the TDP and DIMM models,
 * constants) implement this interface, and so can yours.
 *
 * The tracker calls `probe()` once to choose sources, `start()` when tracking starts, then
 * `read()` on every sample and takes deltas of the cumulative `energyJ`. Estimated sources
 * integrate their power model over time inside `read()`.
 *
 * `read()` is synchronous and must be cheap (it runs in the host's event loop at every sample);
 * a source backed by something slow should poll in the background and return its latest total.
 * It may throw: the tracker turns the throw into an 'error' event, keeps the last total, and
 * carries on.
 *
 * @example
 * const wallMeter: PowerSource = {
 *   id: 'my-meter', component: 'cpu', kind: 'measured',
 *   probe: () => ({ ok: true, devices: [{ id: 'psu', name: 'PSU meter' }] }),
 *   start() {}, read: () => ({ energyJ: meter.totalJ() }),
 * };
 */
export interface PowerSource {
  /** Stable id: `'nvml'`, `'rapl'`, `'cpu-tdp'`, `'ram-dimm'`, `'constant'`, or yours. */
  readonly id: string;
  readonly component: Component;
  readonly kind: SourceKind;
  /** Whether energy is whole-device (`machine`) or attributed to the tracked processes (`process`). */
  readonly scope?: TrackingMode;
  /** Can this source work here? Must not throw. */
  probe(): ProbeResult;
  /** Take the baseline; `read()` totals count from here. */
  start(): void;
  /** Cumulative energy since `start()`. */
  read(): EnergyReading;
  /**
   * Longest safe interval between two reads in ms (e.g. so a RAPL counter cannot wrap twice);
   * the tracker samples at least this often while running.
   */
  readonly maxReadIntervalMs?: number;
  /**
   * Power drawn at no load, W (before PUE), where the source's model knows it (the CPU load
   * model's floor, a constant or memory-size estimate); undefined for measured counters. Per-call
   * attribution uses it as the idle floor when no `baseline` was measured. Read after `read()`.
   */
  readonly idlePowerW?: number;
  /** Release handles (NVML, background samplers). */
  close?(): void;
}

/** Where and how a component's energy came from, as stated in every output. */
export interface ComponentBoundary {
  readonly component: Component;
  /** Source id, or `'none'` where the component is not accounted. */
  readonly source: string;
  readonly kind: SourceKind | 'none';
  /** Device names read by the source. */
  readonly devices: readonly string[];
  /** `machine`: whole device; `process`: attributed to the tracked process tree. */
  readonly scope: TrackingMode;
  /** Whether PUE multiplied this component's energy. */
  readonly pueApplied: boolean;
  /** Extra explanation, e.g. "no per-process GPU data: whole device". */
  readonly note?: string;
}

/** The system boundary of a result: one entry per component, plus the facility overhead. */
export interface Boundary {
  readonly cpu: ComponentBoundary;
  readonly gpu: ComponentBoundary;
  readonly ram: ComponentBoundary;
  /** The PUE applied (1 means facility overhead not included). */
  readonly pue: number;
  /** Only operational (use-phase) emissions are included today. */
  readonly emissionsScope: 'operational';
}

/** Location of the electricity used, for grid intensity. */
export interface Location {
  /** ISO 3166-1 alpha-3, upper-case, e.g. 'FRA'. */
  readonly countryIsoCode?: string;
  /** Sub-national region: US state name ('california'), Canadian province ('quebec'), Nordic zone ('SE3'). */
  readonly region?: string;
  /** 'gcp' (CodeCarbon's per-region data), 'aws' or 'azure' (region → grid country or zone). */
  readonly cloudProvider?: string;
  readonly cloudRegion?: string;
  /** Decimal degrees, where known (IP geolocation, or given to a live provider). */
  readonly latitude?: number;
  readonly longitude?: number;
}

/** Where the location came from: the options, cloud instance metadata, IP geolocation (opt-in), the system time zone, or nowhere. */
export type LocationSource = 'options' | 'cloud-metadata' | 'geolocation' | 'timezone' | 'none';

/**
 * How current an intensity is: `live` was fetched from a provider within its TTL; `cached` is a
 * live value kept past its TTL because refreshing failed; `offline` comes from shipped data or a fixed value.
 */
export type IntensityFreshness = 'live' | 'cached' | 'offline';

/** A grid carbon intensity and where it came from. */
export interface IntensityValue {
  /** Grams of CO2-equivalent per kWh of electricity. */
  readonly gPerKWh: number;
  /** Data set or provider, e.g. 'Our World in Data via CodeCarbon (2023)', 'Electricity Maps (lifecycle)'. */
  readonly source: string;
  /** Data year, where known. */
  readonly year?: number;
  /** True when the value is the world-average fallback. */
  readonly isFallback?: boolean;
  /** The country and region actually matched. */
  readonly countryName?: string;
  readonly countryIsoCode?: string;
  readonly region?: string;
  /** Id of the provider that answered: 'electricity-maps', 'uk-carbon-intensity', 'watttime', 'fixed', 'offline', 'ember', or yours. */
  readonly provider?: string;
  /** The provider's zone or region id: 'FR', 'US-CAL-CISO', 'CAISO_NORTH', 'GB-13', 'FRA'. */
  readonly zone?: string;
  readonly freshness?: IntensityFreshness;
  /** Start of the period the value describes (ISO 8601), for live values. */
  readonly validAt?: string;
  /** `average`: the mix's mean intensity; `marginal`: the plant that responds to extra load (WattTime MOER). */
  readonly signal?: 'average' | 'marginal';
  /** `lifecycle`: includes building and fuel supply (Electricity Maps default, IPCC); `direct`: combustion only. */
  readonly emissionFactor?: 'lifecycle' | 'direct';
  /** Where the location behind this value came from. */
  readonly locationSource?: LocationSource;
  /** The cloud provider and region, when known (options or instance metadata). */
  readonly cloudProvider?: string;
  readonly cloudRegion?: string;
}

/** What the tracker hands a provider at start, for background refresh. */
export interface IntensityHooks {
  /**
   * Call just before the value `getIntensity` answers changes (a live value arrived, a location was
   * found): the tracker closes the running interval at the old value, so every energy delta is
   * multiplied by the intensity in force while it was used.
   */
  beforeChange(): void;
  /** A fallback taken (a provider failing and why); secrets must not appear in it. */
  warn(w: WattprintWarning): void;
}

/**
 * Gives the grid intensity in force for a location at a time. `getIntensity` is called
 * synchronously on every sample and must never block: live providers refresh in the background
 * (after `start`) and answer from cache. `undefined` means "no value yet": the next provider of
 * the chain answers (the last link is always the offline data).
 */
export interface IntensityProvider {
  readonly id: string;
  getIntensity(location: Location, at: Date): IntensityValue | undefined;
  /** Called when tracking starts; begin background refresh here, never block. */
  start?(hooks?: IntensityHooks): void;
  /** Called when tracking stops: cancel timers and requests. */
  stop?(): void;
}

/**
 * One result: cumulative since `start()` for a run, or since `startTask()` for a task.
 * Field for field the CodeCarbon 3.x `EmissionsData`, in camelCase with units, plus the boundary.
 */
export interface EmissionsData {
  /** Local time `YYYY-MM-DDTHH:MM:SS`, as CodeCarbon writes it. */
  readonly timestamp: string;
  readonly projectName: string;
  readonly runId: string;
  readonly experimentId: string;
  readonly experimentName: string;
  readonly taskName?: string;
  readonly durationS: number;
  readonly emissionsKg: number;
  /** emissionsKg / durationS. */
  readonly emissionsRateKgPerS: number;
  /** Time-weighted mean power (energy after PUE / duration). */
  readonly cpuPowerW: number;
  readonly gpuPowerW: number;
  readonly ramPowerW: number;
  /** Energies after PUE. */
  readonly cpuEnergyKWh: number;
  readonly gpuEnergyKWh: number;
  readonly ramEnergyKWh: number;
  readonly energyConsumedKWh: number;
  readonly waterConsumedL: number;
  readonly countryName: string;
  readonly countryIsoCode: string;
  readonly region: string;
  readonly cloudProvider: string;
  readonly cloudRegion: string;
  readonly os: string;
  /** Node.js version without the `v`, e.g. `'20.20.2'` (written to CodeCarbon's `python_version` column, which holds e.g. `'3.12.3'`). */
  readonly nodeVersion: string;
  /** `wattprint <version>` (written to `codecarbon_version`). */
  readonly trackerVersion: string;
  readonly cpuCount: number;
  readonly cpuModel: string;
  readonly gpuCount: number;
  /** CodeCarbon style, e.g. "2 x NVIDIA H200". */
  readonly gpuModel: string;
  readonly longitude?: number;
  readonly latitude?: number;
  /** GiB. */
  readonly ramTotalSizeGB: number;
  readonly trackingMode: TrackingMode;
  readonly cpuUtilizationPercent: number;
  readonly gpuUtilizationPercent: number;
  readonly ramUtilizationPercent: number;
  /** GiB, mean: psutil's `used` (total − free − buffers − cache), as CodeCarbon's `ram_used_gb`. */
  readonly ramUsedGB: number;
  /** GiB, mean: total − available (`MemAvailable`), the memory new work cannot have. JSON only. */
  readonly ramInUseGB?: number;
  readonly onCloud: 'Y' | 'N';
  readonly pue: number;
  readonly wue: number;
  /** Intensity in force at the last sample, and its source. */
  readonly intensityGPerKWh: number;
  readonly intensitySource: string;
  /** Provider, zone, freshness and data year of that intensity (JSON and the run report; the CSV keeps CodeCarbon's columns). */
  readonly intensityProvider?: string;
  readonly intensityZone?: string;
  readonly intensityFreshness?: IntensityFreshness;
  readonly intensityYear?: number;
  readonly boundary: Boundary;
  /**
   * Remote LLM API requests seen while running (`wattprint/llm`): ESTIMATED impacts at the
   * providers' data centres, summed as ranges. Not included in any measured field above, nor in the
   * CSV. Cumulative rows only; absent when there were none.
   */
  readonly remoteEstimate?: RemoteEstimate;
}

/** Why a reporter is called. */
export interface ReportContext {
  /** 'flush': `tracker.flush()`; 'stop': final; 'task': `stopTask()`. */
  readonly phase: 'flush' | 'stop' | 'task';
  /** The CSV write mode configured on the tracker. */
  readonly onCsvWrite: 'append' | 'update';
}

/**
 * A sink for results. Built-in CSV, JSON and callback reporters implement it, and so can yours.
 * A reporter that throws or rejects never stops tracking nor the other reporters: the tracker
 * emits an 'error' event naming the reporter and carries on.
 */
export interface Reporter {
  /** Name used in error events, e.g. 'csv'. */
  readonly id: string;
  report(data: EmissionsData, context: ReportContext): void | Promise<void>;
  /** Receives the full run report (see docs/report-schema.json) when the tracker stops. */
  writeReport?(report: unknown): void | Promise<void>;
  flush?(): void | Promise<void>;
  shutdown?(): void | Promise<void>;
}

/** One sampling interval, emitted as the 'measurement' event. */
export interface Measurement {
  /** Monotonic ms (tracker clock) at the interval's start and end. */
  readonly startMs: number;
  readonly endMs: number;
  readonly durationS: number;
  /** Energy in the interval per component, after PUE. */
  readonly cpuEnergyJ: number;
  readonly gpuEnergyJ: number;
  readonly ramEnergyJ: number;
  readonly energyJ: number;
  readonly cpuPowerW: number;
  readonly gpuPowerW: number;
  readonly ramPowerW: number;
  readonly intensityGPerKWh: number;
  readonly emissionsKg: number;
}

/** A non-fatal problem: a source degraded, a fallback used, a default assumed. */
export interface WattprintWarning {
  readonly code: string;
  readonly message: string;
  /** The option or component concerned, where there is one. */
  readonly option?: string;
  readonly component?: Component;
}

/** One device of a component in a {@link TrackerSnapshot}. */
export interface DeviceSnapshot {
  /** Stable id within the source (`'0'`, a GPU UUID, `'package-0'`). */
  readonly id: string;
  /** Human-readable name (`'NVIDIA H200'`). */
  readonly name: string;
  /** Device energy since `start()`, before PUE; `undefined` where the source gives no per-device split. */
  readonly energyJ?: number;
  /** Mean power over the last sampling window (as {@link ComponentSnapshot.powerW}), before PUE. */
  readonly powerW?: number;
}

/** One component (cpu, gpu, ram) in a {@link TrackerSnapshot}. */
export interface ComponentSnapshot {
  readonly component: Component;
  /** Source id, or `'none'` where the component is not accounted. */
  readonly source: string;
  readonly kind: SourceKind | 'none';
  readonly scope: TrackingMode;
  /** Energy since `start()`, before PUE. */
  readonly energyJ: number;
  /**
   * Mean power over the last sampling interval, before PUE (0 before the first interval); an
   * interval shorter than min(1 s, half `measurePowerSecs`), e.g. a `flush()` just after a timer
   * sample, extends the window instead of replacing it.
   */
  readonly powerW: number;
  /** Emissions since `start()`: each interval's energy × PUE × the intensity in force then. */
  readonly emissionsG: number;
  readonly devices: readonly DeviceSnapshot[];
}

/** Per wrapped handler, cumulative since `start()`, in a {@link TrackerSnapshot}. */
export interface CallsSnapshot {
  readonly name: string;
  /** Ended calls by outcome; `aborted` counts abandoned streams and calls still in flight at stop. */
  readonly ok: number;
  readonly error: number;
  readonly aborted: number;
  /** Sum of the ended calls' energy (after PUE). */
  readonly energyJ: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
}

/**
 * A cheap, allocation-light view of a tracker's cumulative state at the last sample, for
 * exporters (Prometheus, OpenTelemetry), status lines and dashboards. Reading it never samples:
 * values change only when the tracker's own timer samples.
 */
export interface TrackerSnapshot {
  readonly projectName: string;
  readonly runId: string;
  readonly running: boolean;
  readonly trackingMode: TrackingMode;
  /** Wall-clock time of `start()` and of the last sample, ms since the epoch (0 before start). */
  readonly startedAtMs: number;
  readonly lastSampleAtMs: number;
  /** Time covered by the samples so far. */
  readonly durationS: number;
  readonly pue: number;
  readonly components: { readonly cpu: ComponentSnapshot; readonly gpu: ComponentSnapshot; readonly ram: ComponentSnapshot };
  /** Sum over components, before PUE. */
  readonly energyJ: number;
  /** Sum over components, after PUE and intensity. */
  readonly emissionsG: number;
  /** The intensity in force at the last sample. */
  readonly intensity?: IntensityValue;
  /** One entry per wrapped handler name that has ended at least one call. */
  readonly calls: readonly CallsSnapshot[];
}

/**
 * Estimated impacts of remote LLM API calls (instrumented with `wattprint/llm`), summed. Never
 * measured, and never included in the measured energy or emissions beside it. Each impact is the
 * sum of the requests' scenario ranges (mins added to mins, maxes to maxes); see docs/llm.md.
 */
export interface RemoteEstimate {
  /** Requests summed. */
  readonly requests: number;
  /** Of them, requests without an estimate (unknown model): their impacts are missing from the sums. */
  readonly unestimated: number;
  readonly outputTokens: number;
  /** Energy at the providers' data centres (PUE included), kWh. */
  readonly energyKWh: { readonly min: number; readonly max: number };
  /** kgCO2eq, electricity and hardware manufacturing. */
  readonly gwpKg: { readonly min: number; readonly max: number };
  readonly adpeKgSb: { readonly min: number; readonly max: number };
  readonly peMJ: { readonly min: number; readonly max: number };
  readonly waterL: { readonly min: number; readonly max: number };
}
