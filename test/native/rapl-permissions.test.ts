import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build as esbuild } from 'esbuild';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultFs, type FsLike } from '../../src/sources/powercap.js';
import { raplCpuSource } from '../../src/sources/rapl.js';
import type { ProbeResult } from '../../src/types.js';
import { buildSystem, type FakeSystem } from '../fixtures/powercap/tree.js';
import { fakeContext, native } from './rapl-helpers.js';

let systems: FakeSystem[] = [];
afterEach(() => {
  for (const s of systems) s.cleanup();
  systems = [];
});

function expectPermissionDenied(p: ProbeResult, file: string): void {
  expect(p).toMatchObject({ ok: false, code: 'PERMISSION_DENIED' });
  if (p.ok) return;
  expect(p.reason).toContain(`EACCES reading ${file}`);
  expect(p.reason).toContain('CVE-2020-8694');
  expect(p.fix).toContain('sudo chmod -R a+r ');
  expect(p.fix).toContain('ACTION=="add", SUBSYSTEM=="powercap", KERNEL=="intel-rapl*:*", RUN+="/bin/chmod a+r /sys%p/energy_uj"');
  expect(p.fix).toContain('udevadm trigger --subsystem-match=powercap --action=add');
  expect(p.fix).toContain('run as root');
}

describe('energy_uj not readable (EACCES, the default since Linux 5.10)', () => {
  it('probe says PERMISSION_DENIED with the file and the fix (fs reader, EACCES injected)', () => {
    const sys = buildSystem({ rapl: [{ name: 'package-0' }, { name: 'package-1' }] });
    systems.push(sys);
    const denied = join(sys.powercapRoot, 'intel-rapl', 'intel-rapl:1', 'energy_uj');
    const fs: FsLike = {
      ...defaultFs,
      readFileSync(p, e) {
        if (p === denied) throw Object.assign(new Error(`EACCES: permission denied, open '${p}'`), { code: 'EACCES' });
        return defaultFs.readFileSync(p, e);
      },
    };
    const p = raplCpuSource(fakeContext(sys).ctx, native, { reader: 'fs', fs }).probe();
    expectPermissionDenied(p, denied);
    expect(!p.ok && p.fix).toContain(`sudo chmod -R a+r ${sys.powercapRoot}/*`);
  });

  // Tests run as root, whom chmod does not stop: read the tree as `nobody` in a child process.
  const canDrop = process.getuid?.() === 0 && spawnSync('setpriv', ['--version']).status === 0;
  it.runIf(canDrop)('probe says PERMISSION_DENIED for a real root-only energy_uj, through the addon and fs', async () => {
    const sys = buildSystem({ rapl: [{ name: 'package-0', energyMode: 0o400 }] });
    systems.push(sys);
    const entry = join(sys.root, 'probe-entry.ts');
    const bundle = join(sys.root, 'probe.mjs');
    const raplTs = fileURLToPath(new URL('../../src/sources/rapl.ts', import.meta.url));
    writeFileSync(
      entry,
      `import { createRequire } from 'node:module';
import { raplCpuSource } from ${JSON.stringify(raplTs)};
const binding = createRequire(import.meta.url)(process.argv[3]);
const ctx = { sysfsRoot: process.argv[2] + '/sys', procfsRoot: process.argv[2] + '/proc', devRoot: process.argv[2] + '/dev',
  trackingMode: 'machine', pid: process.pid, nowMs: () => 0 };
const out = {};
for (const reader of ['native', 'fs']) out[reader] = raplCpuSource(ctx, { binding }, { reader }).probe();
console.log(JSON.stringify(out));
`,
    );
    await esbuild({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: bundle, logLevel: 'silent' });
    // `nobody` may not be able to enter the checkout (CI clones into a mode-700 mktemp folder):
    // run a copy of the addon from a folder anyone can read.
    const readable = mkdtempSync(join(tmpdir(), 'wattprint-addon-'));
    chmodSync(readable, 0o755);
    const addon = join(readable, 'wattprint.node');
    copyFileSync(native.path!, addon);
    chmodSync(addon, 0o755);
    chmodSync(bundle, 0o644);
    const out = execFileSync(
      'setpriv',
      ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, bundle, sys.root, addon],
      { encoding: 'utf8', cwd: readable },
    );
    const result = JSON.parse(out) as Record<'native' | 'fs', ProbeResult>;
    const file = join(sys.powercapRoot, 'intel-rapl', 'intel-rapl:0', 'energy_uj');
    expectPermissionDenied(result.native, file);
    expectPermissionDenied(result.fs, file);
    // Root still reads it: the same tree works here.
    expect(raplCpuSource(fakeContext(sys).ctx, native).probe().ok).toBe(true);
  });
});
