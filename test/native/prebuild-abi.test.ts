// The prebuilds `npm run build` makes (native/scripts/build-prebuilds.mjs): the right machine, no
// glibc newer than 2.17 (RHEL 7, the oldest glibc of any arm64 distribution), no libstdc++ newer
// than GCC 4.8's, only system libraries NEEDED; and each one loads on its own architecture: x64 in
// this Node, arm64 under qemu-user through a C harness (no arm64 Node binary is available offline).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..');
const harness = join(root, 'test', 'fixtures', 'addon-harness', 'load-addon.c');

interface Target {
  arch: 'x64' | 'arm64';
  machine: string;
  gcc: string;
  run: (exe: string, addon: string) => string[];
  glibcBase: string;
}

const TARGETS: Target[] = [
  { arch: 'x64', machine: 'Advanced Micro Devices X86-64', gcc: 'gcc', run: (exe, addon) => [exe, addon], glibcBase: '2.2.5' },
  {
    arch: 'arm64',
    machine: 'AArch64',
    gcc: 'aarch64-linux-gnu-gcc',
    // Debian's libc6-arm64-cross (a dependency of the cross compiler) is the target's root.
    run: (exe, addon) => ['qemu-aarch64-static', '-L', '/usr/aarch64-linux-gnu', exe, addon],
    glibcBase: '2.17',
  },
];

const ALLOWED_NEEDED = ['libc.so.6', 'libdl.so.2', 'libgcc_s.so.1', 'libm.so.6', 'libpthread.so.0', 'libstdc++.so.6'];

function has(cmd: string): boolean {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
}

function prebuild(arch: string): string {
  return join(root, 'native', 'prebuilds', `linux-${arch}`, 'wattprint.glibc.node');
}

/** [major, minor, patch] of a version like `2.2.5` or `3.4.11`, for comparison. */
function parts(v: string): number[] {
  return v.split('.').map(Number);
}
function atMost(v: string, max: string): boolean {
  const [a, b] = [parts(v), parts(max)];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) < (b[i] ?? 0);
  }
  return true;
}

/** Every `NAME_x.y` version the file's dynamic symbols require, by family. */
function requiredVersions(file: string): Record<string, string[]> {
  const out: Record<string, Set<string>> = {};
  for (const m of execFileSync('objdump', ['-T', file], { encoding: 'utf8' }).matchAll(/\*UND\*\s+\S+\s+\(?(GLIBC|GLIBCXX|CXXABI|GCC)_([\d.]+)\)?/g)) {
    (out[m[1]!] ??= new Set()).add(m[2]!);
  }
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, [...v].sort()]));
}

// Why a check cannot run here, or undefined when it can.
function skipReason(t: Target): string | undefined {
  if (process.platform !== 'linux') return 'prebuilds are Linux-only';
  if (t.arch === process.arch) return undefined;
  if (!has(t.gcc)) return `${t.gcc} not installed (test/setup.sh installs g++-aarch64-linux-gnu)`;
  if (t.arch === 'arm64' && !has('qemu-aarch64-static')) return 'qemu-aarch64-static not installed (test/setup.sh installs qemu-user-static)';
  return undefined;
}

describe.each(TARGETS)('prebuild linux-$arch', (t) => {
  const why = skipReason(t);
  const title = (name: string) => (why ? `${name} (skipped: ${why})` : name);

  it.skipIf(why !== undefined)(title('is an ELF for its machine needing glibc <= 2.17 and GCC 4.8 libstdc++, system libraries only'), () => {
    const file = prebuild(t.arch);
    expect(existsSync(file), `${file} missing: run \`npm run build\``).toBe(true);
    expect(execFileSync('readelf', ['-h', file], { encoding: 'utf8' })).toMatch(new RegExp(`Machine:\\s+${t.machine}`));
    const versions = requiredVersions(file);
    expect(versions.GLIBC!.length).toBeGreaterThan(0);
    expect(versions.GLIBC!.filter((v) => !atMost(v, '2.17'))).toEqual([]);
    // dlopen & co. were pinned to the architecture's base version (they moved to GLIBC_2.34).
    const dl = execFileSync('objdump', ['-T', file], { encoding: 'utf8' }).split('\n').filter((l) => / dl(open|sym|error)$/.test(l));
    expect(dl).toHaveLength(3);
    for (const line of dl) expect(line).toContain(`(GLIBC_${t.glibcBase})`);
    // GCC 4.8.5 (RHEL 7) ships GLIBCXX_3.4.19 and CXXABI_1.3.7.
    expect((versions.GLIBCXX ?? []).filter((v) => !atMost(v, '3.4.19'))).toEqual([]);
    expect((versions.CXXABI ?? []).filter((v) => !atMost(v, '1.3.7'))).toEqual([]);
    expect((versions.GCC ?? []).filter((v) => !atMost(v, '4.8.0'))).toEqual([]);
    const needed = [...execFileSync('readelf', ['-d', file], { encoding: 'utf8' }).matchAll(/\(NEEDED\)\s+Shared library: \[(.+)\]/g)].map((m) => m[1]!);
    expect(needed.filter((n) => !ALLOWED_NEEDED.includes(n))).toEqual([]);
    expect(needed).toContain('libdl.so.2'); // where dlopen lives before glibc 2.34
  });

  it.skipIf(why !== undefined)(title('loads on its architecture: every import resolves and the entry point runs'), () => {
    const file = prebuild(t.arch);
    const dir = mkdtempSync(join(tmpdir(), `wattprint-harness-${t.arch}-`));
    const napi = execFileSync('nm', ['-D', '--undefined-only', file], { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.trim().split(/\s+/).pop()!)
      .filter((s) => /^(napi|node_api)_/.test(s));
    expect(napi).toContain('napi_create_function');
    writeFileSync(join(dir, 'stubs.c'), `#include <stdlib.h>\n${napi.map((s) => `void ${s}(void) { abort(); }`).join('\n')}\n`);
    const exe = join(dir, 'load-addon');
    execFileSync(t.gcc, ['-O1', '-rdynamic', '-o', exe, harness, join(dir, 'stubs.c'), '-ldl'], { encoding: 'utf8' });
    const [cmd, ...args] = t.run(exe, file);
    const r = spawnSync(cmd!, args, { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ napiVersion: 8, registers: true });
  });

  it.runIf(t.arch === process.arch && process.platform === 'linux')('loads in this Node and exposes every function', () => {
    const binding = createRequire(import.meta.url)(prebuild(t.arch)) as Record<string, unknown>;
    for (const fn of ['nvmlInit', 'nvmlDeviceGetTotalEnergyConsumption', 'raplReadZones', 'raplReadFiles', 'msrRead']) {
      expect(typeof binding[fn]).toBe('function');
    }
  });
});
