import type { CpuInfo } from '../system/cpuinfo.js';
import type { NativeLoadResult } from '../native/binding.js';
import { COMPONENTS, type Component, type PowerSource, type ProbeResult, type WattprintWarning } from '../types.js';

/** One source considered for a component, and what its probe said. */
export interface Candidate {
  readonly component: Component;
  readonly id: string;
  readonly kind: PowerSource['kind'];
  readonly probe: ProbeResult;
  readonly chosen: boolean;
}

/** The sources chosen for each component, and why the others were not. */
export interface Selection {
  readonly sources: Readonly<Record<Component, PowerSource | undefined>>;
  readonly probes: Readonly<Record<Component, ProbeResult | undefined>>;
  readonly candidates: readonly Candidate[];
  readonly native: NativeLoadResult;
  /** The CPU as /proc/cpuinfo (or os.cpus()) describes it, read once for the sources and the hardware info. */
  readonly cpu: CpuInfo;
  /** Fallbacks worth telling the user about (e.g. RAPL unreadable: CPU estimated from TDP). */
  readonly warnings: readonly WattprintWarning[];
}

/** Per component, the sources to try in order (the first whose probe succeeds is used). */
export interface SourceChains {
  cpu: PowerSource[];
  gpu: PowerSource[];
  ram: PowerSource[];
}

function safeProbe(source: PowerSource): ProbeResult {
  try {
    return source.probe();
  } catch (e) {
    return { ok: false, code: 'PROBE_THREW', reason: `probe() threw: ${(e as Error)?.message ?? String(e)}` };
  }
}

/**
 * Walks each component's fallback chain and keeps the first source whose probe succeeds. Every
 * candidate is probed so that `detect()` can say why each unused source was not chosen. Never
 * throws; a component with no working source is simply not accounted (its boundary says `none`).
 */
export function selectSources(all: SourceChains, native: NativeLoadResult, cpu: CpuInfo): Selection {
  const sources: Record<Component, PowerSource | undefined> = { cpu: undefined, gpu: undefined, ram: undefined };
  const probes: Record<Component, ProbeResult | undefined> = { cpu: undefined, gpu: undefined, ram: undefined };
  const candidates: Candidate[] = [];
  const warnings: WattprintWarning[] = [];
  for (const component of COMPONENTS) {
    for (const source of all[component]) {
      const probe = safeProbe(source);
      const chosen = probe.ok && !sources[component];
      if (chosen) {
        sources[component] = source;
        probes[component] = probe;
      } else {
        try {
          source.close?.();
        } catch {
          // A source that fails to close was never started; nothing is lost.
        }
      }
      candidates.push({ component, id: source.id, kind: source.kind, probe, chosen });
    }
    const chosen = sources[component];
    if (chosen?.kind === 'estimated') {
      const missed = candidates.filter((c) => c.component === component && c.kind === 'measured' && !c.probe.ok);
      for (const m of missed) {
        if (m.probe.ok || m.probe.code === 'NOT_PRESENT' || m.probe.code === 'DISABLED' || m.probe.code === 'NATIVE_UNAVAILABLE') continue;
        warnings.push({
          code: 'SOURCE_FALLBACK',
          component,
          message: `${component}: ${m.id} unavailable (${m.probe.reason}); using the ${chosen.id} estimate.${m.probe.fix ? ` Fix: ${m.probe.fix}` : ''}`,
        });
      }
    }
  }
  return { sources, probes, candidates, native, cpu, warnings };
}
