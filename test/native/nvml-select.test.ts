// Device selection rules: gpuIds, CUDA_VISIBLE_DEVICES, UUID prefixes and MIG UUIDs.
import { describe, expect, it } from 'vitest';
import { selectGpus, type UuidResolver } from '../../src/sources/nvml-select.js';

const GPUS = [
  { index: 0, uuid: 'GPU-8a3f1c2e-1111-2222-3333-444444444444' },
  { index: 1, uuid: 'GPU-b7d20000-5555-6666-7777-888888888888' },
  { index: 2, uuid: 'GPU-b7d29999-5555-6666-7777-888888888888' },
];
const MIG: UuidResolver = (uuid) => (uuid === 'MIG-1f2e3d4c-aaaa-bbbb-cccc-dddddddddddd' ? { index: 2, mig: true } : undefined);

describe('selectGpus', () => {
  it('takes every GPU when neither gpuIds nor CUDA_VISIBLE_DEVICES is set', () => {
    expect(selectGpus(GPUS, undefined, {})).toEqual({ indices: [0, 1, 2], origin: 'all', migParents: [], unmatched: [] });
  });

  it('matches gpuIds by index, full UUID, GPU- prefix and bare prefix; sorted, each once', () => {
    const s = selectGpus(GPUS, ['2', 'GPU-8a3f1c2e-1111-2222-3333-444444444444', 'b7d20', ' 0 '], {});
    expect(s.indices).toEqual([0, 1, 2]);
    expect(s.origin).toBe('gpuIds');
    expect(selectGpus(GPUS, ['GPU-B7D29'], {}).indices).toEqual([2]);
  });

  it('reports unknown, out-of-range and ambiguous entries and keeps the others', () => {
    const s = selectGpus(GPUS, ['7', 'GPU-b7d2', 'ffff', '1'], {});
    expect(s.indices).toEqual([1]);
    expect(s.unmatched).toEqual([
      '7 (no GPU with index 7)',
      'GPU-b7d2 (ambiguous: 2 GPU UUIDs start with it)',
      'ffff (no GPU UUID starts with it)',
    ]);
  });

  it('maps a MIG UUID to its parent GPU through NVML, and the legacy MIG-GPU-<uuid>/gi/ci form by prefix', () => {
    const s = selectGpus(GPUS, ['MIG-1f2e3d4c-aaaa-bbbb-cccc-dddddddddddd', 'MIG-GPU-8a3f1c2e-1111-2222-3333-444444444444/1/0'], {}, MIG);
    expect(s.indices).toEqual([0, 2]);
    expect(s.migParents).toEqual([0, 2]);
    expect(selectGpus(GPUS, ['MIG-0000'], {}, MIG).unmatched).toEqual(['MIG-0000 (NVML does not know this MIG UUID)']);
  });

  it('defaults to CUDA_VISIBLE_DEVICES, in NVML index order', () => {
    const s = selectGpus(GPUS, undefined, { CUDA_VISIBLE_DEVICES: '2,GPU-8a3f' });
    expect(s).toEqual({ indices: [0, 2], origin: 'CUDA_VISIBLE_DEVICES', migParents: [], unmatched: [] });
  });

  it('selects nothing for an empty CUDA_VISIBLE_DEVICES, NoDevFiles or -1', () => {
    for (const v of ['', ' ', 'NoDevFiles', '-1']) {
      expect(selectGpus(GPUS, undefined, { CUDA_VISIBLE_DEVICES: v }).indices, v).toEqual([]);
    }
  });

  it('stops CUDA_VISIBLE_DEVICES at the first invalid entry, as CUDA does', () => {
    const s = selectGpus(GPUS, undefined, { CUDA_VISIBLE_DEVICES: '1,7,0,2' });
    expect(s.indices).toEqual([1]);
    expect(s.unmatched).toEqual(['7 (no GPU with index 7; 0,2 ignored after it, as CUDA does)']);
    expect(selectGpus(GPUS, undefined, { CUDA_VISIBLE_DEVICES: '0,-1,1' }).indices).toEqual([0]);
  });

  it('lets gpuIds override CUDA_VISIBLE_DEVICES', () => {
    expect(selectGpus(GPUS, ['1'], { CUDA_VISIBLE_DEVICES: '0' }).indices).toEqual([1]);
  });
});
