import table from './data/gpu-tdp.json' with { type: 'json' };
import { editDistance } from '../edit-distance.js';

/** Where a row's watts come from. */
export interface GpuSource {
  /**
   * `mlco2`: ML CO2 Impact's data/gpus.csv (MIT); `green-algorithms`: Green Algorithms'
   * TDP_gpu.csv v3.0 (CC BY 4.0); `manufacturer`: a vendor document (or a verbatim copy of one);
   * `secondary`: a page that states the vendor's figure.
   */
  readonly kind: 'mlco2' | 'green-algorithms' | 'manufacturer' | 'secondary';
  /** The row name in the copied table. */
  readonly row?: string;
  /** The vendor document the figure comes from. */
  readonly document?: string;
  /** Where the figure was read. */
  readonly url?: string;
  /** The sentence or cell that states it. */
  readonly quote?: string;
}

export interface GpuRow {
  readonly name: string;
  readonly vendor: string;
  readonly segment: 'data-centre' | 'workstation' | 'consumer' | 'embedded';
  readonly year?: number;
  /** Board power (TDP / TBP / TGP as the vendor names it), W. */
  readonly tdpW: number;
  readonly aliases?: readonly string[];
  readonly source: GpuSource;
  /** Other tables' values for the same GPU, where they differ or agree. */
  readonly alsoIn?: ReadonlyArray<{ readonly kind: string; readonly row: string; readonly tdpW: number }>;
  readonly note?: string;
}

export const GPU_ROWS: readonly GpuRow[] = (table as unknown as { gpus: GpuRow[] }).gpus;

/** Words that vendors and drivers prepend and users often omit. */
const NOISE = new Set(['nvidia', 'tesla', 'geforce', 'amd', 'radeon', 'instinct', 'quadro', 'accelerator', 'gpu']);

/**
 * Canonical form for matching: lower case, ® and ™ dropped, vendor/brand words removed, then
 * everything but letters and digits removed: 'NVIDIA A100-SXM4-80GB' → 'a100sxm480gb'.
 */
export function canonicalGpu(name: string): string {
  const words = name
    .toLowerCase()
    .replace(/[®™]|\(r\)|\(tm\)/g, ' ')
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== '' && !NOISE.has(w));
  return words.join('');
}

let index: Map<string, GpuRow> | undefined;

function getIndex(): Map<string, GpuRow> {
  if (index) return index;
  index = new Map();
  for (const row of GPU_ROWS) {
    for (const n of [row.name, ...(row.aliases ?? [])]) {
      const key = canonicalGpu(n);
      const other = index.get(key);
      if (other && other !== row) throw new Error(`gpu-tdp.json: '${n}' names both ${other.name} and ${row.name}`);
      index.set(key, row);
    }
  }
  return index;
}

export type GpuLookup = { readonly row: GpuRow } | { readonly row?: undefined; readonly suggestions: readonly string[] };

/**
 * Finds a GPU by name, ignoring case, punctuation and the words NVIDIA, Tesla, GeForce, AMD, Radeon,
 * Instinct and Quadro, so that `nvidia-smi`'s names match ('Tesla V100-SXM2-16GB', 'NVIDIA H100 PCIe').
 * A miss returns up to six suggestions: rows whose name contains the query (an ambiguous 'A100'),
 * then the nearest names by edit distance.
 */
export function lookupGpu(query: string): GpuLookup {
  const q = canonicalGpu(query);
  const idx = getIndex();
  const hit = q === '' ? undefined : idx.get(q);
  if (hit) return { row: hit };
  const containing = new Set<string>();
  const near = new Map<string, number>();
  for (const [key, row] of idx) {
    if (q !== '' && key.includes(q)) containing.add(row.name);
    const d = editDistance(q, key);
    if (d <= Math.max(2, Math.floor(q.length / 3))) near.set(row.name, Math.min(d, near.get(row.name) ?? Infinity));
  }
  // An ambiguous short name ('A100') lists the models it is part of; a typo lists the nearest names.
  const suggestions =
    containing.size > 0
      ? [...containing].sort()
      : [...near].sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0])).map(([n]) => n);
  return { suggestions: suggestions.slice(0, 6) };
}

/** The citation of a row's source in words. */
export function describeGpuSource(row: GpuRow): string {
  const s = row.source;
  switch (s.kind) {
    case 'mlco2':
      return `ML CO2 Impact data/gpus.csv row "${s.row}" (MIT)`;
    case 'green-algorithms':
      return `Green Algorithms TDP_gpu.csv v3.0 row "${s.row}" (Lannelongue et al. 2021, CC BY 4.0)`;
    case 'manufacturer':
      return `${s.document ?? 'manufacturer document'}${s.url ? `, ${s.url}` : ''}`;
    default:
      return `${s.document ? `${s.document}, as stated by ` : ''}${s.url ?? 'secondary source'}`;
  }
}
