/**
 * Which NVML devices a tracker measures: `gpuIds` when given, else CUDA_VISIBLE_DEVICES, else all.
 * Indices are NVML's (PCI bus order), which is CUDA's order when CUDA_DEVICE_ORDER=PCI_BUS_ID.
 */

/** A GPU as NVML lists it. */
export interface GpuIdentity {
  readonly index: number;
  readonly uuid: string;
}

/** The outcome of {@link selectGpus}. */
export interface GpuSelection {
  /** NVML indices to measure, ascending, each once. */
  readonly indices: readonly number[];
  /** Where the list came from. */
  readonly origin: 'gpuIds' | 'CUDA_VISIBLE_DEVICES' | 'all';
  /** Indices selected through a MIG UUID (energy is the whole parent GPU's). */
  readonly migParents: readonly number[];
  /** Entries that matched no GPU, with the reason. */
  readonly unmatched: readonly string[];
}

/** Resolves a full `GPU-`/`MIG-` UUID through NVML (`nvmlDeviceGetHandleByUUID`); undefined if unknown. */
export type UuidResolver = (uuid: string) => { index: number; mig: boolean } | undefined;

/**
 * Selects devices. An entry is an index (`'1'`), a UUID or UUID prefix with or without `GPU-`
 * (`'GPU-8a3f'`, `'8a3f'`), or a full MIG UUID (`'MIG-…'`, or the legacy `'MIG-GPU-<uuid>/gi/ci'`),
 * which selects its parent GPU. CUDA_VISIBLE_DEVICES follows CUDA: an empty value, `NoDevFiles`
 * or a negative index selects nothing, and the list stops at the first entry that matches no GPU.
 */
export function selectGpus(
  devices: readonly GpuIdentity[],
  gpuIds: readonly string[] | undefined,
  env: Readonly<Record<string, string | undefined>>,
  resolveUuid?: UuidResolver,
): GpuSelection {
  const visible = env.CUDA_VISIBLE_DEVICES;
  const origin = gpuIds !== undefined ? 'gpuIds' : visible !== undefined ? 'CUDA_VISIBLE_DEVICES' : 'all';
  if (origin === 'all') return { indices: devices.map((d) => d.index), origin, migParents: [], unmatched: [] };
  const entries = (gpuIds ?? visible!.split(',')).map((e) => e.trim()).filter((e) => e !== '');
  const picked = new Set<number>();
  const migParents = new Set<number>();
  const unmatched: string[] = [];
  for (const [i, entry] of entries.entries()) {
    const match = matchEntry(devices, entry, resolveUuid);
    if (typeof match === 'string') {
      if (origin === 'CUDA_VISIBLE_DEVICES') {
        // CUDA ignores the rest of the list after an invalid entry; do the same.
        const rest = entries.slice(i + 1);
        unmatched.push(`${entry} (${match}${rest.length ? `; ${rest.join(',')} ignored after it, as CUDA does` : ''})`);
        break;
      }
      unmatched.push(`${entry} (${match})`);
      continue;
    }
    picked.add(match.index);
    if (match.mig) migParents.add(match.index);
  }
  return { indices: [...picked].sort((a, b) => a - b), origin, migParents: [...migParents].sort((a, b) => a - b), unmatched };
}

function matchEntry(
  devices: readonly GpuIdentity[],
  entry: string,
  resolveUuid: UuidResolver | undefined,
): { index: number; mig: boolean } | string {
  if (/^-?\d+$/.test(entry)) {
    const index = Number(entry);
    if (index < 0) return 'negative index: no GPU';
    return devices.some((d) => d.index === index) ? { index, mig: false } : `no GPU with index ${index}`;
  }
  if (entry === 'NoDevFiles') return 'no GPU';
  if (/^MIG-/i.test(entry)) {
    const legacy = /^MIG-(GPU-[0-9a-f-]+)\/\d+\/\d+$/i.exec(entry);
    if (legacy) {
      const parent = byPrefix(devices, legacy[1]!);
      return typeof parent === 'string' ? parent : { index: parent.index, mig: true };
    }
    const resolved = resolveUuid?.(entry);
    if (resolved === undefined) return 'NVML does not know this MIG UUID';
    return { index: resolved.index, mig: true };
  }
  const found = byPrefix(devices, entry);
  return typeof found === 'string' ? found : { index: found.index, mig: false };
}

function byPrefix(devices: readonly GpuIdentity[], entry: string): GpuIdentity | string {
  const want = entry.toLowerCase().replace(/^gpu-/, '');
  const hits = devices.filter((d) => d.uuid.toLowerCase().replace(/^gpu-/, '').startsWith(want));
  if (hits.length === 1) return hits[0]!;
  return hits.length === 0 ? 'no GPU UUID starts with it' : `ambiguous: ${hits.length} GPU UUIDs start with it`;
}
