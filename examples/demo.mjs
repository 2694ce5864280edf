// The main demo: tracks a real CPU workload (examples/workload.mjs) on this machine and prints what
// was measured or estimated, with the system boundary. Run: npm run build && npm run demo
// Options come from the command line as `--country FRA --seconds 4 --out out`.
import { mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { EmissionsTracker } from '../dist/index.js';
import { compressFor, hashFor } from './workload.mjs';

const { values } = parseArgs({
  options: { country: { type: 'string', default: 'FRA' }, seconds: { type: 'string', default: '3' }, out: { type: 'string', default: 'out' } },
});
const phaseMs = Number(values.seconds) * 1000;
mkdirSync(values.out, { recursive: true });

const tracker = new EmissionsTracker({
  projectName: 'wattprint-demo',
  countryIsoCode: values.country,
  measurePowerSecs: 1,
  outputDir: values.out,
  saveToJson: true,
});
tracker.on('warning', (w) => console.log(`warning: ${w.message}`));
tracker.on('error', (e) => console.log(`error: ${e.message}`));
tracker.on('measurement', (m) =>
  console.log(`  sample: ${m.durationS.toFixed(2)} s, cpu ${m.cpuPowerW.toFixed(1)} W, ram ${m.ramPowerW.toFixed(1)} W, gpu ${m.gpuPowerW.toFixed(1)} W`),
);

tracker.start();
const { boundary } = await tracker.flush();
console.log('Sources chosen:');
for (const c of ['cpu', 'gpu', 'ram']) {
  const b = boundary[c];
  console.log(`  ${c}: ${b.source} (${b.kind})${b.devices.length ? ` on ${b.devices.join(', ')}` : ''}${b.note ? ` — ${b.note}` : ''}`);
}

tracker.startTask('sha256');
const h = hashFor(phaseMs);
const hashTask = await tracker.stopTask('sha256');
tracker.startTask('gzip');
const z = compressFor(phaseMs);
const gzipTask = await tracker.stopTask('gzip');
const data = await tracker.stop();

const j = (kWh) => `${(kWh * 3.6e6).toFixed(1)} J`;
console.log(`\nsha256: ${h.mib} MiB hashed in ${hashTask.durationS.toFixed(2)} s, ${j(hashTask.energyConsumedKWh)}, ${(hashTask.emissionsKg * 1e6).toFixed(3)} mg CO2eq`);
console.log(`gzip:   ${(z.bytesIn / 2 ** 20).toFixed(0)} MiB compressed in ${gzipTask.durationS.toFixed(2)} s, ${j(gzipTask.energyConsumedKWh)}, ${(gzipTask.emissionsKg * 1e6).toFixed(3)} mg CO2eq`);
console.log(`\nRun ${data.runId} on ${data.cpuModel} (${data.cpuCount} threads, ${data.ramTotalSizeGB.toFixed(1)} GiB RAM)`);
console.log(`  duration:  ${data.durationS.toFixed(2)} s`);
console.log(`  cpu:       ${j(data.cpuEnergyKWh)} (mean ${data.cpuPowerW.toFixed(2)} W, ${data.boundary.cpu.kind} by ${data.boundary.cpu.source})`);
console.log(`  ram:       ${j(data.ramEnergyKWh)} (mean ${data.ramPowerW.toFixed(2)} W, ${data.boundary.ram.kind} by ${data.boundary.ram.source})`);
console.log(`  gpu:       ${j(data.gpuEnergyKWh)} (${data.boundary.gpu.kind === 'none' ? 'no GPU accounted' : `${data.boundary.gpu.kind} by ${data.boundary.gpu.source}`})`);
console.log(`  total:     ${data.energyConsumedKWh.toExponential(4)} kWh (PUE ${data.pue})`);
console.log(`  intensity: ${data.intensityGPerKWh} g/kWh (${data.intensitySource})`);
console.log(`  emissions: ${(data.emissionsKg * 1e3).toFixed(6)} g CO2eq`);
console.log(`\nWrote ${values.out}/emissions.csv, ${values.out}/emissions.jsonl, ${values.out}/wattprint-report.json and the task file.`);
