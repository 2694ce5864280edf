import { detect, type DetectedSource, type DetectResult } from '../detect.js';
import type { EmissionsTrackerOptions } from '../options.js';
import { COMPONENTS } from '../types.js';
import { CliError, EXIT } from './exit.js';
import { sig } from './format.js';
import type { CliIO } from './io.js';
import { describeOptionError } from './tracker-flags.js';

function candidateLine(s: DetectedSource): string[] {
  if (s.chosen) return [`    * ${s.id} (${s.kind}): chosen${s.devices.length ? `, ${s.devices.join(', ')}` : ''}${s.note ? ` – ${s.note}` : ''}`];
  if (s.ok) return [`    - ${s.id} (${s.kind}): available, not chosen (an earlier source in the chain won)${s.devices.length ? `; ${s.devices.join(', ')}` : ''}`];
  const lines = [`    - ${s.id} (${s.kind}): not available${s.code ? ` [${s.code}]` : ''}: ${s.reason ?? 'no reason given'}`];
  if (s.fix) lines.push(`      fix: ${s.fix}`);
  return lines;
}

/** `wattprint detect` in words: hardware, then per component the chain of sources with reasons and fixes. */
export function formatDetect(r: DetectResult): string {
  const h = r.hardware;
  const out = [
    'hardware',
    `  cpu      ${h.cpuModel} (${h.cpuCount} threads, ${h.cpuSockets} socket${h.cpuSockets === 1 ? '' : 's'}${h.cpuPhysicalCores ? `, ${h.cpuPhysicalCores} cores` : ''}, ${h.arch})`,
    `  ram      ${sig(h.ramTotalGiB)} GiB`,
    `  gpu      ${h.gpuCount > 0 ? h.gpuModel : 'none found'}`,
    `  os       ${h.os}`,
    `native addon: ${r.native.loaded ? `loaded${r.native.path ? ` from ${r.native.path}` : ''}` : 'not loaded'}`,
  ];
  if (!r.native.loaded) {
    for (const e of r.native.errors) out.push(`  - ${e.candidate}: ${e.error}`);
    if (r.native.fix) out.push(`  fix: ${r.native.fix}`);
  }
  out.push('sources (in fallback order; * = chosen)');
  for (const c of COMPONENTS) {
    const comp = r.components[c];
    out.push(`  ${c}: ${comp.chosen ? `${comp.chosen.id} (${comp.chosen.kind})` : 'not accounted'}`);
    for (const s of comp.candidates) out.push(...candidateLine(s));
  }
  out.push(`grid intensity: ${sig(r.intensity.gPerKWh)} gCO2eq/kWh (${r.intensity.source}${r.intensity.year !== undefined ? `, ${r.intensity.year}` : ''})`);
  if (r.intensity.locationSource) out.push(`  location from: ${r.intensity.locationSource}${r.intensity.zone ? ` (zone ${r.intensity.zone})` : ''}; live providers fetch only once tracking starts`);
  for (const w of r.warnings) out.push(`warning: ${w.message}`);
  return out.join('\n');
}

export function detectCommand(given: EmissionsTrackerOptions, flags: { json?: boolean }, io: CliIO): number {
  let result: DetectResult;
  try {
    result = detect(given);
  } catch (error) {
    const message = describeOptionError(error, given);
    if (message) throw new CliError(message, EXIT.USAGE);
    throw error;
  }
  io.stdout.write(flags.json ? `${JSON.stringify(result, null, 2)}\n` : `${formatDetect(result)}\n`);
  return EXIT.OK;
}
