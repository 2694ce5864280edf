import type { HardwareInfo } from '../hardware.js';
import { LogHistogram } from '../inference/histogram.js';
import type { CallReportData, CallStats } from '../inference/index.js';
import type { ResolvedOptions } from '../options.js';
import type { Boundary, Component, ComponentBoundary, EmissionsData, IntensityValue } from '../types.js';
import { J_PER_KWH } from '../units.js';
import { VERSION } from '../version.js';

export const REPORT_SCHEMA_VERSION = '1.0.0';

/** One component as the report states it: where its energy came from, and how. */
export interface ReportComponent {
  readonly component: 'cpu' | 'gpu' | 'ram';
  readonly included: boolean;
  /** Source id (`'nvml'`, `'rapl'`, `'cpu-tdp'`, ...) or `'none'`. */
  readonly source: string;
  readonly kind: 'measured' | 'estimated' | 'none';
  readonly devices: readonly string[];
  readonly scope: 'machine' | 'process';
  readonly pueApplied: boolean;
  readonly note: string | null;
}

/**
 * The run report: `await tracker.report()`, and `wattprint-report.json` written at stop by the JSON
 * reporter. Sections 1–7 follow the reporting checklist of the review wattprint starts from
 * (task and modality, tokens, hardware, operational conditions, measurement tools, system
 * boundary, units). JSON Schema: docs/report-schema.json. Energies in J, emissions in kgCO2eq.
 */
export interface WattprintReport {
  readonly schemaVersion: string;
  readonly generatedAt: string;
  readonly generator: { readonly name: 'wattprint'; readonly version: string; readonly nodeVersion: string };
  readonly run: {
    readonly projectName: string;
    readonly experimentId: string;
    readonly experimentName: string;
    readonly runId: string;
    readonly startTime: string | null;
    readonly endTime: string | null;
    readonly durationS: number;
    readonly trackingMode: 'machine' | 'process';
  };
  /** (1) Declared by the user (`task`, `modality` options); null when not declared. */
  readonly task: { readonly task: string | null; readonly modality: string | null };
  /** (2) Token counts over all calls. */
  readonly tokens: {
    readonly inputTokens: number;
    readonly outputTokens: number;
    readonly callsWithOutputTokens: number;
    readonly calls: number;
  };
  /** (3) The machine. */
  readonly hardware: {
    readonly cpu: { readonly model: string; readonly sockets: number; readonly threads: number; readonly physicalCores: number | null; readonly arch: string };
    readonly gpus: ReadonlyArray<{ readonly model: string; readonly count: number }>;
    readonly gpuCount: number;
    readonly memory: { readonly totalGiB: number };
    readonly os: string;
  };
  /** (4) How the service ran, observed and declared. */
  readonly operationalConditions: {
    readonly requests: number;
    readonly errors: number;
    readonly observedS: number;
    readonly requestRatePerS: number | null;
    readonly concurrency: {
      /** Time-average of the in-flight count over the observed time. */
      readonly meanInFlight: number | null;
      /** The same over the time with at least one call in flight. */
      readonly meanInFlightWhileBusy: number | null;
      readonly maxInFlight: number;
      /** Fraction of the observed time with at least one call in flight. */
      readonly busyFraction: number | null;
    };
    readonly declaredBatchSize: number | null;
    readonly pue: number;
    readonly wue: number;
    readonly location: {
      readonly countryName: string;
      readonly countryIsoCode: string;
      readonly region: string | null;
      readonly cloudProvider: string | null;
      readonly cloudRegion: string | null;
    };
    readonly carbonIntensity: {
      readonly gPerKWh: number;
      readonly source: string;
      readonly year: number | null;
      readonly provider: string;
      readonly zone: string | null;
      readonly freshness: IntensityValue['freshness'] | null;
      readonly signal: IntensityValue['signal'] | null;
      readonly emissionFactor: IntensityValue['emissionFactor'] | null;
      readonly locationSource: IntensityValue['locationSource'] | null;
    };
  };
  /** (5) Measurement tools and techniques. */
  readonly measurement: {
    readonly components: readonly ReportComponent[];
    readonly samplingIntervalMs: { readonly idle: number; readonly duringCalls: number };
    readonly intervalsObserved: number;
    readonly attribution: {
      readonly method: 'work' | 'time-share';
      /** Where the idle floor came from: measured `baseline`, the source's `model`, or `none` known. */
      readonly idleFloor: Readonly<Record<Component, 'baseline' | 'model' | 'none'>>;
      readonly description: string;
    };
    readonly baseline:
      | { readonly status: 'measured'; readonly requestedDurationMs: number; readonly idleDurationS: number; readonly powerW: number; readonly cpuPowerW: number; readonly gpuPowerW: number; readonly ramPowerW: number }
      | { readonly status: 'not-configured' | 'not-measured'; readonly requestedDurationMs: number | null };
    readonly quantiles: { readonly method: 'log-bucketed histogram'; readonly relativeError: number };
  };
  /** (6) System boundary. */
  readonly boundary: {
    readonly included: {
      readonly gpu: boolean;
      readonly cpu: boolean;
      readonly dram: boolean;
      readonly restOfServer: false;
      readonly facilityOverhead: boolean;
      readonly idleEnergy: true;
      readonly network: false;
      readonly storage: false;
    };
    readonly pue: number;
    readonly emissions: { readonly operational: true; readonly embodied: false; readonly trainingAmortized: boolean };
    readonly notes: readonly string[];
  };
  /** (7) Units of every number in this document. */
  readonly units: {
    readonly energy: 'J';
    readonly power: 'W';
    readonly emissions: 'kgCO2eq';
    readonly carbonIntensity: 'gCO2eq/kWh';
    readonly duration: 's';
    readonly samplingInterval: 'ms';
    readonly water: 'L';
    readonly memory: 'GiB';
    readonly tokens: string;
    readonly convention: string;
  };
  readonly results: {
    /** The whole run, as in the CSV (all energy, idle included). */
    readonly run: {
      readonly energyJ: number;
      readonly cpuEnergyJ: number;
      readonly gpuEnergyJ: number;
      readonly ramEnergyJ: number;
      readonly emissionsKg: number;
      readonly waterL: number;
    };
    /**
     * What the intervals seen by the call attribution contained, and where it went:
     * calls + unattributed + idle = observed.
     */
    readonly attribution: {
      readonly observedEnergyJ: number;
      readonly callsEnergyJ: number;
      readonly idleEnergyJ: number;
      readonly unattributedEnergyJ: number;
      readonly observedEmissionsKg: number;
      readonly callsEmissionsKg: number;
      readonly idleEmissionsKg: number;
      readonly unattributedEmissionsKg: number;
      readonly cpuWorkS: number;
      readonly callsCpuWorkS: number;
      /** The tracker's own sampling, never charged to calls (energy: rule 'work' only). */
      readonly trackerOverhead: { readonly cpuS: number; readonly energyJ: number | null };
    };
    readonly perRequest: {
      readonly requests: number;
      /** Attributed to calls (time share); mean and quantiles. */
      readonly meanEnergyJ: number | null;
      readonly p50EnergyJ: number | null;
      readonly p95EnergyJ: number | null;
      readonly meanDynamicEnergyJ: number | null;
      readonly meanEmissionsKg: number | null;
      readonly energyPerOutputTokenJ: number | null;
      readonly requestsPerKWh: number | null;
      /** The review's window formula: all energy observed (idle included) / requests. */
      readonly windowEnergyPerRequestJ: number | null;
      readonly windowEmissionsPerRequestKg: number | null;
      /** Training share per request (`amortize`), reported apart from operational emissions. */
      readonly amortizedEmissionsKg: number;
      /** meanEmissionsKg + amortizedEmissionsKg. */
      readonly totalEmissionsKg: number | null;
    };
    readonly amortization: {
      readonly trainingEmissionsKg: number;
      readonly expectedRequests: number;
      readonly perRequestKg: number;
      readonly requests: number;
      readonly amortizedEmissionsKg: number;
    } | null;
    readonly calls: CallStats;
    readonly byName: readonly CallStats[];
  };
}

/**
 * Everything the run report is built from, as plain data: the tracker's results and context, and
 * the call tracker's totals and statistics (`CallTracker.reportData()`).
 */
export interface RunReportInput {
  readonly results: EmissionsData;
  readonly hardware: HardwareInfo;
  readonly boundary: Boundary;
  /** The grid intensity in force, with its source and year, where known. */
  readonly intensity: IntensityValue | undefined;
  readonly options: Pick<ResolvedOptions, 'task' | 'modality' | 'batchSize' | 'measurePowerSecs'>;
  readonly calls: CallReportData;
}

const orNull = <T>(v: T | undefined): T | null => (v === undefined ? null : v);
const ratio = (a: number, b: number): number | null => (b > 0 ? a / b : null);

function component(b: ComponentBoundary): ReportComponent {
  const { component: c, source, kind, scope, pueApplied } = b;
  return { component: c, included: kind !== 'none', source, kind, devices: [...b.devices], scope, pueApplied, note: b.note ?? null };
}

export const ATTRIBUTION_DESCRIPTION = {
  work:
    "Per sampling interval and component (after PUE): the idle floor × the fraction of the interval with at least one call in flight " +
    'is divided among the calls in flight by their time in it (the rest is idle energy); the CPU energy above the floor by each ' +
    "call's CPU work (main-thread time in its own async context; work no call owns is unattributed); the GPU energy above the floor " +
    'by stream chunks produced in the interval for token streams, else by time in flight; the RAM energy above the floor by time in ' +
    "flight. A call's emissions are its energy in each interval × that interval's grid intensity.",
  time:
    "Each sampling interval's energy (all components, after PUE) × the fraction of the interval with at least one call in flight " +
    'is divided among the calls in flight in proportion to their time in the interval; the rest is idle energy. ' +
    "A call's emissions are its energy in each interval × that interval's grid intensity.",
} as const;

/** The run report (docs/report-schema.json): the reporting checklist of the review, filled in. */
export function buildRunReport(input: RunReportInput): WattprintReport {
  const { results: snap, hardware: hw, boundary, intensity, options: opts, calls } = input;
  const { totals, overall } = calls;

  const gpuCounts = new Map<string, number>();
  for (const g of hw.gpus) gpuCounts.set(g.name, (gpuCounts.get(g.name) ?? 0) + 1);

  const components = [component(boundary.cpu), component(boundary.gpu), component(boundary.ram)];
  const included = {
    gpu: boundary.gpu.kind !== 'none',
    cpu: boundary.cpu.kind !== 'none',
    dram: boundary.ram.kind !== 'none',
    restOfServer: false as const,
    facilityOverhead: boundary.pue > 1,
    idleEnergy: true as const,
    network: false as const,
    storage: false as const,
  };
  const notes: string[] = [];
  for (const c of components) {
    if (!c.included) notes.push(`${c.component.toUpperCase()} not accounted (no source).`);
    else if (c.kind === 'estimated') notes.push(`${c.component.toUpperCase()} energy is estimated (${c.source}), not measured.`);
    if (c.note) notes.push(`${c.component.toUpperCase()}: ${c.note}`);
  }
  notes.push('Rest of the server (fans, disks, NICs, PSU losses) is not measured.');
  notes.push(
    included.facilityOverhead
      ? `Facility overhead included through PUE ${boundary.pue}.`
      : 'Facility overhead (cooling, power distribution) not included: PUE 1.',
  );
  notes.push('Embodied (manufacturing) emissions are not included; emissions are operational only.');
  if (calls.amortize) notes.push('Training emissions are amortized per request and reported separately from operational emissions.');

  const requests = overall.count;
  const amortized = calls.amortize
    ? {
        trainingEmissionsKg: calls.amortize.trainingEmissionsKg,
        expectedRequests: calls.amortize.expectedRequests,
        perRequestKg: calls.amortize.trainingEmissionsKg / calls.amortize.expectedRequests,
        requests,
        amortizedEmissionsKg: overall.amortizedEmissionsKg,
      }
    : null;
  const perRequestAmortKg = amortized?.perRequestKg ?? 0;

  let baseline: WattprintReport['measurement']['baseline'];
  if (calls.baseline && calls.baselineDurationMs !== undefined) {
    const b = calls.baseline;
    baseline = {
      status: 'measured',
      requestedDurationMs: calls.baselineDurationMs,
      idleDurationS: b.idleDurationS,
      powerW: b.powerW,
      cpuPowerW: b.cpuPowerW,
      gpuPowerW: b.gpuPowerW,
      ramPowerW: b.ramPowerW,
    };
  } else if (calls.baselineDurationMs !== undefined) {
    baseline = { status: 'not-measured', requestedDurationMs: calls.baselineDurationMs };
  } else {
    baseline = { status: 'not-configured', requestedDurationMs: null };
  }

  const wall = (ms: number | undefined) => (ms === undefined ? null : new Date(calls.wallOffsetMs + ms).toISOString());
  const kwhToJ = (kwh: number) => kwh * J_PER_KWH;

  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    generatedAt: new Date().toISOString(),
    generator: { name: 'wattprint', version: VERSION, nodeVersion: process.version },
    run: {
      projectName: snap.projectName,
      experimentId: snap.experimentId,
      experimentName: snap.experimentName,
      runId: snap.runId,
      startTime: wall(calls.startedAtMs),
      endTime: wall(calls.stoppedAtMs),
      durationS: snap.durationS,
      trackingMode: snap.trackingMode,
    },
    task: { task: orNull(opts.task), modality: orNull(opts.modality) },
    tokens: {
      inputTokens: overall.inputTokens,
      outputTokens: overall.outputTokens,
      callsWithOutputTokens: overall.callsWithOutputTokens,
      calls: requests,
    },
    hardware: {
      cpu: {
        model: hw.cpuModel,
        sockets: hw.cpuSockets,
        threads: hw.cpuCount,
        physicalCores: orNull(hw.cpuPhysicalCores),
        arch: hw.arch,
      },
      gpus: [...gpuCounts].map(([model, count]) => ({ model, count })),
      gpuCount: hw.gpuCount,
      memory: { totalGiB: hw.ramTotalGiB },
      os: hw.os,
    },
    operationalConditions: {
      requests,
      errors: overall.errors,
      observedS: totals.observedS,
      requestRatePerS: ratio(requests, totals.observedS),
      concurrency: {
        meanInFlight: ratio(totals.callS, totals.observedS),
        meanInFlightWhileBusy: ratio(totals.callS, totals.busyS),
        maxInFlight: totals.maxInFlight,
        busyFraction: ratio(totals.busyS, totals.observedS),
      },
      declaredBatchSize: orNull(opts.batchSize),
      pue: snap.pue,
      wue: snap.wue,
      location: {
        countryName: snap.countryName,
        countryIsoCode: snap.countryIsoCode,
        region: snap.region || null,
        cloudProvider: snap.cloudProvider || null,
        cloudRegion: snap.cloudRegion || null,
      },
      carbonIntensity: {
        gPerKWh: intensity?.gPerKWh ?? snap.intensityGPerKWh,
        source: intensity?.source ?? snap.intensitySource,
        year: orNull(intensity?.year),
        provider: intensity?.provider ?? snap.intensityProvider ?? '',
        zone: orNull(intensity?.zone),
        freshness: orNull(intensity?.freshness),
        signal: orNull(intensity?.signal),
        emissionFactor: orNull(intensity?.emissionFactor),
        locationSource: orNull(intensity?.locationSource),
      },
    },
    measurement: {
      components,
      samplingIntervalMs: { idle: opts.measurePowerSecs * 1000, duringCalls: calls.callSampleIntervalMs },
      intervalsObserved: totals.intervals,
      attribution: {
        method: calls.rule === 'work' ? 'work' : 'time-share',
        idleFloor: calls.idleFloor,
        description: ATTRIBUTION_DESCRIPTION[calls.rule],
      },
      baseline,
      quantiles: { method: 'log-bucketed histogram', relativeError: LogHistogram.RELATIVE_ERROR },
    },
    boundary: {
      included,
      pue: boundary.pue,
      emissions: { operational: true, embodied: false, trainingAmortized: amortized !== null },
      notes,
    },
    units: {
      energy: 'J',
      power: 'W',
      emissions: 'kgCO2eq',
      carbonIntensity: 'gCO2eq/kWh',
      duration: 's',
      samplingInterval: 'ms',
      water: 'L',
      memory: 'GiB',
      tokens: 'tokens, as counted by the tokens callbacks',
      convention:
        'Every numeric field name ends in its unit: J joules, W watts, Kg kgCO2eq, GPerKWh gCO2eq/kWh, S seconds, Ms milliseconds, ' +
        'L litres, GiB gibibytes, PerS per second, PerKWh per kWh; pue is a ratio, wue L/kWh.',
    },
    results: {
      run: {
        energyJ: kwhToJ(snap.energyConsumedKWh),
        cpuEnergyJ: kwhToJ(snap.cpuEnergyKWh),
        gpuEnergyJ: kwhToJ(snap.gpuEnergyKWh),
        ramEnergyJ: kwhToJ(snap.ramEnergyKWh),
        emissionsKg: snap.emissionsKg,
        waterL: snap.waterConsumedL,
      },
      attribution: {
        observedEnergyJ: totals.energyJ,
        callsEnergyJ: totals.callsEnergyJ,
        idleEnergyJ: totals.idleEnergyJ,
        unattributedEnergyJ: totals.unattributedEnergyJ,
        observedEmissionsKg: totals.emissionsKg,
        callsEmissionsKg: totals.callsEmissionsKg,
        idleEmissionsKg: totals.idleEmissionsKg,
        unattributedEmissionsKg: totals.unattributedEmissionsKg,
        cpuWorkS: totals.cpuWorkS,
        callsCpuWorkS: totals.callsCpuWorkS,
        trackerOverhead: { cpuS: totals.trackerCpuS, energyJ: calls.rule === 'work' ? totals.trackerEnergyJ : null },
      },
      perRequest: {
        requests,
        meanEnergyJ: orNull(overall.meanEnergyJ),
        p50EnergyJ: orNull(overall.p50EnergyJ),
        p95EnergyJ: orNull(overall.p95EnergyJ),
        meanDynamicEnergyJ:
          overall.dynamicEnergyJ !== undefined && overall.callsWithDynamicEnergy > 0
            ? overall.dynamicEnergyJ / overall.callsWithDynamicEnergy
            : null,
        meanEmissionsKg: orNull(overall.meanEmissionsKg),
        energyPerOutputTokenJ: orNull(overall.energyPerOutputTokenJ),
        requestsPerKWh: orNull(overall.requestsPerKWh),
        windowEnergyPerRequestJ: ratio(totals.energyJ, requests),
        windowEmissionsPerRequestKg: ratio(totals.emissionsKg, requests),
        amortizedEmissionsKg: perRequestAmortKg,
        totalEmissionsKg: overall.meanEmissionsKg === undefined ? null : overall.meanEmissionsKg + perRequestAmortKg,
      },
      amortization: amortized,
      calls: overall,
      byName: calls.byName,
    },
  };
}
