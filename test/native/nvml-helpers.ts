/** Shared set-up of the NVML test files: the addon and fake NVML built by test/global-setup.ts. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import type { NativeBinding, NativeLoadResult } from '../../src/native/binding.js';
import { loadNative } from '../../src/native/load.js';
import type { SourceContext, TrackingMode } from '../../src/types.js';

/** The addon loaded from native/build/Release; throws with the build log when the build failed. */
export function nativeAddon(): NativeLoadResult & { binding: NativeBinding } {
  const info = inject('nativeAddon');
  if (!info.path) throw new Error(`the native addon was not built by test/global-setup.ts:\n${info.error}`);
  const native = loadNative({ path: info.path });
  if (!native.binding) throw new Error(`the native addon does not load: ${JSON.stringify(native.errors)}`);
  return native as NativeLoadResult & { binding: NativeBinding };
}

/** Absolute path of the fake libnvidia-ml.so.1 (`minimal`: the old-driver variant). */
export function fakeLibrary(kind: 'full' | 'minimal' = 'full'): string {
  const info = inject('fakeNvml');
  const path = kind === 'full' ? info.path : info.minimalPath;
  if (!path) throw new Error(`the fake NVML was not built by test/global-setup.ts: ${info.error}`);
  return path;
}

export function fakeLibraryDir(): string {
  const dir = inject('fakeNvml').dir;
  if (!dir) throw new Error(`the fake NVML was not built by test/global-setup.ts: ${inject('fakeNvml').error}`);
  return dir;
}

/**
 * The fake NVML's value file. `set()` rewrites it and points FAKE_NVML_FILE at it (getenv in the
 * fake sees process.env changes; the dynamic loader's LD_LIBRARY_PATH would not).
 */
export class FakeGpus {
  readonly file: string;
  private values: Record<string, string | number> = {};

  constructor(values: Record<string, string | number> = {}) {
    this.file = join(mkdtempSync(join(tmpdir(), 'wattprint-fake-nvml-')), 'gpus.txt');
    this.replace(values);
  }

  /** Replaces every value. */
  replace(values: Record<string, string | number>): this {
    this.values = { ...values };
    return this.write();
  }

  /** Changes some values; `undefined` removes a key. */
  set(values: Record<string, string | number | undefined>): this {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delete this.values[k];
      else this.values[k] = v;
    }
    return this.write();
  }

  private write(): this {
    writeFileSync(this.file, Object.entries(this.values).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
    process.env.FAKE_NVML_FILE = this.file;
    return this;
  }
}

/** Two Hopper GPUs with energy counters, as a baseline fixture. */
export const TWO_H200 = {
  count: 2,
  '0.name': 'NVIDIA H200',
  '0.uuid': 'GPU-8a3f1c2e-1111-2222-3333-444444444444',
  '0.arch': 9,
  '0.energy_mj': '1000000',
  '0.power_mw': 300000,
  '0.power_limit_mw': 700000,
  '0.util_gpu': 80,
  '1.name': 'NVIDIA H200',
  '1.uuid': 'GPU-b7d20000-5555-6666-7777-888888888888',
  '1.arch': 9,
  '1.energy_mj': '2000000',
  '1.power_mw': 100000,
  '1.power_limit_mw': 700000,
  '1.util_gpu': 40,
} as const;

/** A SourceContext whose clock the test moves (`clock.ms`). */
export function fakeContext(trackingMode: TrackingMode = 'machine') {
  const clock = { ms: 0 };
  const ctx: SourceContext = {
    sysfsRoot: '/sys',
    procfsRoot: '/proc',
    devRoot: '/dev',
    trackingMode,
    pid: process.pid,
    nowMs: () => clock.ms,
  };
  return { ctx, clock };
}
