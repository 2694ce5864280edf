// Cost of one RAPL sample: per domain, through the addon and through node:fs, on a fake powercap
// tree (regular files), plus a real sysfs attribute as a proxy for sysfs's own open/read cost.
// Target (issue 3): under 20 µs per RAPL domain read. Run: node test/bench/rapl.mjs [--json]
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const work = mkdtempSync(join(tmpdir(), 'wattprint-bench-rapl-'));
const json = process.argv.includes('--json');

// The sources are TypeScript: bundle the modules under test once.
const entry = join(work, 'entry.ts');
writeFileSync(
  entry,
  `export { raplCpuSource } from ${JSON.stringify(join(root, 'src/sources/rapl.ts'))};
export { fsZoneReader, nativeZoneReader } from ${JSON.stringify(join(root, 'src/sources/powercap.ts'))};
export { fsMsrReader, nativeMsrReader, MSR } from ${JSON.stringify(join(root, 'src/sources/rapl-msr.ts'))};
export { loadNative } from ${JSON.stringify(join(root, 'src/native/load.ts'))};
export { buildSystem, writeMsr } from ${JSON.stringify(join(root, 'test/fixtures/powercap/tree.ts'))};
`,
);
const bundle = join(work, 'bench-rapl.mjs');
await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: bundle, logLevel: 'silent' });
const m = await import(pathToFileURL(bundle).href);

// A local build if there is one, else the prebuild that `npm run build` leaves (it removes native/build).
const prebuildDir = join(root, 'native/prebuilds', `${process.platform}-${process.arch}`);
const addonPath = [join(root, 'native/build/Release/wattprint.node'), ...(existsSync(prebuildDir) ? readdirSync(prebuildDir).map((f) => join(prebuildDir, f)) : [])].find((p) => existsSync(p));
const native = m.loadNative({ path: addonPath ?? join(root, 'native/build/Release/wattprint.node') });
if (!native.binding) {
  console.error('addon not built (npm run build:native):', JSON.stringify(native.errors));
  process.exit(1);
}

/** Median of `rounds` timings of `iterations` calls, in µs per call. */
function time(fn, iterations = 10000, rounds = 7) {
  for (let i = 0; i < 2000; i++) fn();
  const per = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) fn();
    per.push(Number(process.hrtime.bigint() - t0) / 1000 / iterations);
  }
  return per.sort((a, b) => a - b)[rounds >> 1];
}

const rows = [];
const add = (what, domains, us) => rows.push({ what, domains, usPerCall: +us.toFixed(2), usPerDomain: +(us / domains).toFixed(2) });

for (const n of [1, 2, 4]) {
  const sys = m.buildSystem({ rapl: Array.from({ length: n }, (_, i) => ({ name: `package-${i}`, children: [{ name: 'dram' }] })) });
  const files = Array.from({ length: n }, (_, i) => sys.zone(`intel-rapl:${i}`).energyFile);
  const nat = m.nativeZoneReader(sys.powercapRoot, native.binding);
  const fsr = m.fsZoneReader(sys.powercapRoot);
  add('addon raplReadFiles', n, time(() => nat.readEnergyUj(files)));
  add('fs readFileSync', n, time(() => fsr.readEnergyUj(files)));
  const ctx = { sysfsRoot: sys.sysfsRoot, procfsRoot: sys.procfsRoot, devRoot: sys.devRoot, trackingMode: 'machine', pid: process.pid, nowMs: () => performance.now() };
  for (const reader of ['native', 'fs']) {
    const src = m.raplCpuSource(ctx, native, { reader, msr: false });
    if (!src.probe().ok) throw new Error('probe failed');
    src.start();
    add(`source.read() via ${reader}`, n, time(() => src.read()));
  }
  sys.cleanup();
}

const msrSys = m.buildSystem({});
m.writeMsr(msrSys.devRoot, 0, m.MSR.PKG_ENERGY_STATUS, 123456n);
const nm = m.nativeMsrReader(msrSys.devRoot, native.binding);
const fm = m.fsMsrReader(msrSys.devRoot);
add('addon msrRead (fake file)', 1, time(() => nm.read(0, m.MSR.PKG_ENERGY_STATUS)));
add('fs msr pread (fake file)', 1, time(() => fm.read(0, m.MSR.PKG_ENERGY_STATUS)));
msrSys.cleanup();

// No powercap here; a real sysfs attribute shows what sysfs itself adds to open/read/close.
const sysfsFile = '/sys/devices/system/cpu/cpu0/topology/physical_package_id';
if (existsSync(sysfsFile)) {
  add('addon raplReadFiles on a real sysfs attribute', 1, time(() => native.binding.raplReadFiles([sysfsFile])));
  add('fs readFileSync on a real sysfs attribute', 1, time(() => readFileSync(sysfsFile, 'utf8')));
}
if (existsSync('/sys/class/powercap/intel-rapl:0/energy_uj')) {
  const real = ['/sys/class/powercap/intel-rapl:0/energy_uj'];
  const r = native.binding.raplReadFiles(real);
  if (r[0] >= 0) add('addon raplReadFiles on real intel-rapl:0', 1, time(() => native.binding.raplReadFiles(real), 2000));
}

rmSync(work, { recursive: true, force: true });
const cpu = (readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) ?? [])[1] ?? 'unknown CPU';
if (json) {
  console.log(JSON.stringify({ node: process.version, cpu, rows }, null, 2));
} else {
  console.log(`RAPL sample cost (node ${process.version}, ${cpu}); median of 7 rounds\n`);
  console.log('| read | domains | µs per call | µs per domain |');
  console.log('|---|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.what} | ${r.domains} | ${r.usPerCall} | ${r.usPerDomain} |`);
  const worst = Math.max(...rows.filter((r) => r.what.startsWith('addon raplReadFiles') && !r.what.includes('sysfs')).map((r) => r.usPerDomain));
  console.log(`\nTarget < 20 µs per domain through the addon: ${worst < 20 ? 'met' : 'MISSED'} (worst ${worst} µs).`);
}
