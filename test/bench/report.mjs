// `wattprint report` on a large CodeCarbon-shaped CSV (default 200 MB): wall time and peak RSS of
// the CLI process, against a floor (`node -e ''`, the runtime's own RSS). Targets: < 15 s, < 300 MB.
// Usage: node test/bench/report.mjs [sizeMB]
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, '../../dist/cli.js');
const sizeMB = Number(process.argv[2] ?? 200);
const dir = mkdtempSync(join(tmpdir(), 'wattprint-bench-report-'));
const file = join(dir, 'emissions.csv');

const COLUMNS = 'timestamp,project_name,run_id,experiment_id,duration,emissions,emissions_rate,cpu_power,gpu_power,ram_power,cpu_energy,gpu_energy,ram_energy,energy_consumed,water_consumed,country_name,country_iso_code,region,cloud_provider,cloud_region,os,python_version,codecarbon_version,cpu_count,cpu_model,gpu_count,gpu_model,longitude,latitude,ram_total_size,tracking_mode,on_cloud,pue,wue,cpu_utilization_percent,gpu_utilization_percent,ram_utilization_percent,ram_used_gb';

async function generate() {
  const out = createWriteStream(file);
  out.write(`${COLUMNS}\n`);
  let bytes = 0;
  let k = 0;
  const target = sizeMB * 1024 * 1024;
  const runs = Array.from({ length: 50 }, (_, r) => `0f8e2d36-7c1a-4b7e-9e4b-${String(r).padStart(12, '0')}`);
  while (bytes < target) {
    const lines = [];
    for (let n = 0; n < 2000; n++, k++) {
      const run = runs[k % runs.length];
      const d = (k / runs.length) * 15;
      const e = d * 0.00001;
      lines.push(
        `2026-08-09T10:11:12,inference-server,${run},5b0fa12a-3dd7-45bb-9766-cc326314d9f1,${d},${e * 0.05},${0.05 / 3600},45.1,301.2,11.9,${e * 0.1},${e * 0.85},${e * 0.05},${e},${e * 1.8},France,FRA,ile-de-france,,,Linux-6.8.0-x86_64,node v22.11.0,wattprint 0.1.0,64,Intel(R) Xeon(R) Gold 6248,8,8 x NVIDIA H200,2.35,48.85,503.6,machine,N,1.2,1.8,37.5,81.2,44.1,221.7`,
      );
    }
    const chunk = `${lines.join('\n')}\n`;
    bytes += Buffer.byteLength(chunk);
    if (!out.write(chunk)) await new Promise((r) => out.once('drain', r));
  }
  await new Promise((r) => out.end(r));
  return k;
}

function timed(args) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', process.execPath, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const m = /([\d.]+) ([\d.]+) ([\d.]+) (\d+)\s*$/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return { s: Number(m[1]), cpuS: Number(m[2]) + Number(m[3]), rssMB: Number(m[4]) / 1024, stdout: r.stdout };
}

const rows = await generate();
const mb = statSync(file).size / 1024 / 1024;
const floor = timed(['-e', '']);
const rep = timed([cli, 'report', file]);
console.log(`report of a ${mb.toFixed(0)} MB CSV (${rows} rows, 50 runs): ${rep.s.toFixed(1)} s wall, ${rep.cpuS.toFixed(1)} s CPU, peak RSS ${rep.rssMB.toFixed(0)} MB (floor: node alone ${floor.rssMB.toFixed(0)} MB)`);
console.log(`targets: < 15 s ${rep.s < 15 ? 'ok' : 'MISSED'}, < 300 MB ${rep.rssMB < 300 ? 'ok' : 'MISSED'} (load average ${loadavg()[0].toFixed(1)} on ${cpus().length} CPUs)`);
writeFileSync(join(dir, 'out.txt'), rep.stdout);
rmSync(dir, { recursive: true, force: true });
process.exitCode = rep.s < 15 && rep.rssMB < 300 ? 0 : 1;
