/** Shared set-up of the RAPL test files: the readers under test and a SourceContext on a fake tree. */
import { afterEach, inject } from 'vitest';
import { loadNative } from '../../src/native/load.js';
import type { RaplBinding } from '../../src/native/rapl-binding.js';
import type { SourceContext, TrackingMode, WattprintWarning } from '../../src/types.js';
import { buildSystem, type FakeSystem, type TreeSpec } from '../fixtures/powercap/tree.js';

const built = inject('nativeAddon');

/** The addon as built by test/global-setup.ts. */
export const native = loadNative(built?.path ? { path: built.path } : {});

export function raplBinding(): RaplBinding {
  const b = native.binding;
  if (!b || typeof b.raplReadZones !== 'function') {
    throw new Error(`native addon without RAPL functions: ${built?.error ?? JSON.stringify(native.errors)}`);
  }
  return b;
}

/** Every test that takes a reader runs once per reader. */
export const READERS = ['native', 'fs'] as const;
export type ReaderKind = (typeof READERS)[number];

/** A context on the fake tree with a clock the test moves. */
export function fakeContext(sys: FakeSystem, trackingMode: TrackingMode = 'machine') {
  const clock = { ms: 1000 };
  const ctx: SourceContext = {
    sysfsRoot: sys.sysfsRoot,
    procfsRoot: sys.procfsRoot,
    devRoot: sys.devRoot,
    trackingMode,
    pid: process.pid,
    nowMs: () => clock.ms,
  };
  return { ctx, clock };
}

/** Collects warnings for assertions. */
export function warnings() {
  const list: WattprintWarning[] = [];
  return { list, onWarning: (w: WattprintWarning) => void list.push(w) };
}

/** Energy in µJ of `raw` counts at `euNj` per count, exact. */
export function exactUj(raw: bigint, euNj: number): number {
  return Number(raw * BigInt(euNj)) / 1000;
}

/** A builder of fake systems that are all removed after each test. */
export function useFakeSystems(): (spec: TreeSpec) => FakeSystem {
  let systems: FakeSystem[] = [];
  afterEach(() => {
    for (const s of systems) s.cleanup();
    systems = [];
  });
  return (spec) => {
    const s = buildSystem(spec);
    systems.push(s);
    return s;
  };
}
