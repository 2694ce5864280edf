import { VERSION } from '../../version.js';
import { COMPONENTS, type Component } from '../../types.js';
import { formatDurationS, formatEnergyKWh, formatMassKg, formatShare, sig } from '../format.js';
import { EQUIVALENT_SOURCES, equivalents } from './equivalents.js';
import type { ReportInput } from './load.js';
import { anyEstimated, energyOf, runLabel, runTotalCells, shortId, summarizeRuns, type ColumnUnits, type RunSummary } from './model.js';
import { barChart, esc, hatchDefs, histogram, lineChart, type Series } from './svg.js';
import { energyUnit, inUnit, massUnit } from './units.js';
import { J_PER_KWH } from '../../units.js';

/** The most power charts one page draws (one per run, the latest runs). */
export const MAX_POWER_CHARTS = 20;
/** The most runs the per-run bar charts show (the latest). */
export const MAX_BAR_RUNS = 200;

export const COLORS: Readonly<Record<Component, string>> = { cpu: '#4c78a8', gpu: '#e45756', ram: '#54a24b' };
const LABELS: Readonly<Record<Component, string>> = { cpu: 'CPU', gpu: 'GPU', ram: 'RAM' };
const series = (c: Component, estimated = false): Series => ({ key: c, label: LABELS[c], color: COLORS[c], estimated });

const ESTIMATED_NOTE = '* estimated from a model (TDP × load, DIMM count), not measured: drawn hatched or dashed.';

function htmlTable(head: readonly string[], rows: ReadonlyArray<{ attrs: string; cells: readonly string[] }>): string {
  const td = (c: string) => (c.endsWith('*') ? `<td class="est">${esc(c)}</td>` : `<td>${esc(c)}</td>`);
  return (
    `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>` +
    rows.map((r) => `<tr${r.attrs}>${r.cells.map(td).join('')}</tr>`).join('') +
    '</tbody></table>'
  );
}

/** One unit per column: the largest value of the column picks it. */
const unitsOf = (energiesKWh: readonly number[], massesKg: readonly number[]): ColumnUnits => ({
  energy: energyUnit(Math.max(0, ...energiesKWh)),
  mass: massUnit(Math.max(0, ...massesKg)),
});

function runsTable(runs: readonly RunSummary[]): string {
  const units = unitsOf(runs.map((r) => r.total.energyKWh), runs.map((r) => r.total.emissionsKg));
  const head = ['project', 'run', 'first row at', 'duration', `energy (${units.energy.label})`, 'CPU', 'GPU', 'RAM', `CO2eq (${units.mass.label})`, 'g/kWh'];
  return htmlTable(
    head,
    runs.map((r) => ({ attrs: ` data-run="${esc(r.runId)}"`, cells: [r.projectName, runLabel(r), r.firstTimestamp, ...runTotalCells(r, units)] })),
  );
}

interface ProjectTotal {
  readonly projectName: string;
  readonly runs: number;
  readonly durationS: number;
  readonly energyKWh: number;
  readonly byComponentKWh: Readonly<Record<Component, number>>;
  readonly emissionsKg: number;
}

function projectTotals(runs: readonly RunSummary[]): ProjectTotal[] {
  const map = new Map<string, ProjectTotal>();
  for (const r of runs) {
    const p = map.get(r.projectName);
    const t = r.total;
    map.set(r.projectName, {
      projectName: r.projectName,
      runs: (p?.runs ?? 0) + 1,
      durationS: (p?.durationS ?? 0) + t.durationS,
      energyKWh: (p?.energyKWh ?? 0) + t.energyKWh,
      byComponentKWh: { cpu: (p?.byComponentKWh.cpu ?? 0) + t.cpuEnergyKWh, gpu: (p?.byComponentKWh.gpu ?? 0) + t.gpuEnergyKWh, ram: (p?.byComponentKWh.ram ?? 0) + t.ramEnergyKWh },
      emissionsKg: (p?.emissionsKg ?? 0) + t.emissionsKg,
    });
  }
  return [...map.values()];
}

function projectsTable(projects: readonly ProjectTotal[]): string {
  const units = unitsOf(projects.map((p) => p.energyKWh), projects.map((p) => p.emissionsKg));
  const head = ['project', 'runs', 'duration', `energy (${units.energy.label})`, 'CPU', 'GPU', 'RAM', `CO2eq (${units.mass.label})`, 'km by car', 'phone charges'];
  return htmlTable(
    head,
    projects.map((p) => {
      const eq = equivalents(p.energyKWh, p.emissionsKg);
      return {
        attrs: ` data-project="${esc(p.projectName)}"`,
        cells: [
          p.projectName,
          String(p.runs),
          formatDurationS(p.durationS),
          inUnit(p.energyKWh, units.energy),
          ...COMPONENTS.map((c) => formatShare(p.byComponentKWh[c], p.energyKWh)),
          inUnit(p.emissionsKg, units.mass),
          sig(eq.carKm),
          sig(eq.phoneCharges),
        ],
      };
    }),
  );
}

function boundaryNote(r: RunSummary): string {
  const b = r.total.boundary;
  if (!b) return '';
  const parts = COMPONENTS.map((c) => `${LABELS[c]}: ${b[c].source} (${b[c].kind})`);
  return `<p class="note">Sources of run ${esc(shortId(r.runId))}: ${esc(parts.join(', '))}; PUE ${esc(String(b.pue))}.</p>`;
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#222}
h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{border-bottom:1px solid #ddd;padding:.25rem .5rem;text-align:right}th:first-child,td:first-child,th:nth-child(2),td:nth-child(2){text-align:left}
figure.chart{margin:1rem 0}figcaption{font-weight:600;margin-bottom:.25rem}
svg{width:100%;height:auto;display:block}
svg .axis{stroke:#444;stroke-width:1}svg .grid{stroke:#e5e5e5;stroke-width:1}
svg .tick{font-size:11px;fill:#555}svg .label{font-size:12px;fill:#333}
.legend{list-style:none;padding:0;margin:.25rem 0;display:flex;gap:1rem}
.swatch{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:-.1rem}
.note{color:#555;font-size:.9rem}
td.est{font-style:italic}svg.defs{position:absolute;width:0;height:0}
.legend svg.swatch{width:.8rem;height:.8rem;display:inline-block}`;

/**
 * One self-contained HTML page: a table of runs, then inline-SVG charts of power over time per run,
 * energy and emissions per run, and the per-request energy distribution when calls were tracked.
 * A Content-Security-Policy of `default-src 'none'` makes the browser refuse any fetch.
 */
export function renderHtml(input: ReportInput, generatedAt = new Date()): string {
  const runs = summarizeRuns(input);
  const sections: string[] = [];
  const projects = projectTotals(runs);
  const estimatedNote = anyEstimated(runs) ? `<p class="note">${esc(ESTIMATED_NOTE)}</p>` : '';
  const unknownKinds = runs.some((r) => COMPONENTS.some((c) => r.kinds[c] === 'unknown' && energyOf(r.total, c) > 0));
  const kindsNote = unknownKinds
    ? `<p class="note">Some rows do not say which components were measured and which estimated (a CSV does not): report the emissions.jsonl (--save-to-json) or a --timeline file to mark them.</p>`
    : '';
  sections.push(`<h2>Projects</h2>${projectsTable(projects)}`);
  sections.push(`<h2>Runs</h2>${runsTable(runs)}${estimatedNote}${kindsNote}`);

  const powerRuns = runs.filter((r) => r.power.length > 0 && r.components.length > 0).slice(-MAX_POWER_CHARTS);
  if (powerRuns.length > 0) {
    const charts = powerRuns.map((r) =>
      lineChart({
        chart: 'power',
        attrs: { 'data-run': r.runId, 'data-project': r.projectName, 'data-from': r.powerFrom },
        title: `Power over time – ${r.projectName}, run ${shortId(r.runId)}`,
        xLabel: 'seconds since start',
        yLabel: 'mean power (W)',
        series: r.components.map((c) => ({ ...series(c, r.kinds[c] === 'estimated'), points: r.power.map((p) => ({ x0: p.t0S, x: p.tS, y: p.powerW[c] })) })),
      }) + boundaryNote(r),
    );
    const dropped = runs.filter((r) => r.power.length > 0).length - powerRuns.length;
    sections.push(
      `<h2>Power over time</h2><p class="note">Mean power of each component over each sample of the run's timeline (--timeline), or else between two successive rows (energy delta / time delta); estimated components are dashed.` +
        (dropped > 0 ? ` Only the latest ${MAX_POWER_CHARTS} runs are drawn.` : '') +
        `</p>${charts.join('')}`,
    );
  }

  const barRuns = runs.slice(-MAX_BAR_RUNS);
  if (barRuns.length > 0) {
    const used = COMPONENTS.filter((c) => barRuns.some((r) => energyOf(r.total, c) > 0));
    const eUnit = energyUnit(Math.max(...barRuns.map((r) => r.total.energyKWh)));
    const mUnit = massUnit(Math.max(...barRuns.map((r) => r.total.emissionsKg)));
    const categories = barRuns.map((r) => ({ key: r.runId, label: shortId(r.runId) }));
    const byId = new Map(barRuns.map((r) => [r.runId, r]));
    sections.push(
      `<h2>Energy and emissions per run</h2>` +
        barChart({
          chart: 'energy-per-run',
          title: `Energy per run (${eUnit.label})`,
          yLabel: `energy (${eUnit.label})`,
          xLabel: 'run',
          categories,
          series: used.map((c) => series(c)),
          value: (run, c) => energyOf(byId.get(run)!.total, c as Component) * eUnit.per,
          estimated: (run, c) => byId.get(run)!.kinds[c as Component] === 'estimated',
        }) +
        barChart({
          chart: 'emissions-per-run',
          title: `Emissions per run (${mUnit.label} CO2eq)`,
          yLabel: `${mUnit.label} CO2eq`,
          xLabel: 'run',
          categories,
          series: [{ key: 'emissions', label: 'CO2eq', color: '#9d755d' }],
          value: (run) => byId.get(run)!.total.emissionsKg * mUnit.per,
        }),
    );
  }

  if (input.requests.length > 0) {
    const charts = input.requests.map((q) => {
      const jUnit = (maxJ: number): [string, number] => (maxJ >= 3600 ? ['Wh', 1 / 3600] : maxJ >= 1 ? ['J', 1] : ['mJ', 1000]);
      if (q.histogram) {
        const [unit, perJ] = jUnit(Math.max(...q.histogram.map((b) => (Number.isFinite(b.toJ) ? b.toJ : b.fromJ))));
        return histogram({
          chart: 'request-energy',
          attrs: { 'data-name': q.name },
          title: `Energy per request – ${q.name} (${q.count} requests, ${unit})`,
          xLabel: `energy per request (${unit})`,
          yLabel: 'requests',
          bins: q.histogram.map((b) => ({ from: b.fromJ * perJ, to: b.toJ * perJ, count: b.count })),
          color: '#b279a2',
        });
      }
      const marks = [
        ['mean', q.meanEnergyJ],
        ['p50', q.p50EnergyJ],
        ['p95', q.p95EnergyJ],
      ].filter((m): m is [string, number] => m[1] !== undefined);
      if (marks.length === 0) return '';
      const [unit, perJ] = jUnit(Math.max(...marks.map((m) => m[1])));
      return barChart({
        chart: 'request-energy-quantiles',
        attrs: { 'data-name': q.name },
        title: `Energy per request – ${q.name} (${q.count} requests, ${unit}; the report has quantiles, not a histogram)`,
        yLabel: `energy per request (${unit})`,
        xLabel: 'statistic',
        categories: marks.map(([k]) => ({ key: k, label: k })),
        series: [{ key: 'energy', label: 'energy per request', color: '#b279a2' }],
        value: (k) => marks.find((m) => m[0] === k)![1] * perJ,
      });
    });
    const stats = input.requests
      .map((q) => {
        const mean = q.meanEnergyJ !== undefined ? `, mean ${formatEnergyKWh(q.meanEnergyJ / J_PER_KWH)}` : '';
        const co2 = q.meanEmissionsKg !== undefined ? `, ${formatMassKg(q.meanEmissionsKg)} CO2eq per request` : '';
        return `<li>${esc(q.name)}: ${q.count} requests${esc(mean)}${esc(co2)}</li>`;
      })
      .join('');
    sections.push(`<h2>Per-request energy</h2><ul>${stats}</ul>${charts.join('')}`);
  }

  const totalKWh = projects.reduce((a, p) => a + p.energyKWh, 0);
  const totalKg = projects.reduce((a, p) => a + p.emissionsKg, 0);
  if (totalKWh > 0) {
    const eq = equivalents(totalKWh, totalKg);
    sections.push(
      `<h2>Equivalents</h2><p data-equivalents data-car-km="${eq.carKm}" data-phone-charges="${eq.phoneCharges}">` +
        `${esc(formatEnergyKWh(totalKWh))} and ${esc(formatMassKg(totalKg))} CO2eq in all: about <strong>${esc(sig(eq.carKm))} km</strong> by an average gasoline car ` +
        `(same CO2eq) or <strong>${esc(sig(eq.phoneCharges))}</strong> full smartphone charges (same energy).</p>` +
        `<ul class="note">${EQUIVALENT_SOURCES.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>`,
    );
  }

  const title = `wattprint report – ${input.path}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="wattprint ${esc(VERSION)}">
<title>${esc(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${hatchDefs(COMPONENTS.map((c) => series(c)))}
<h1>${esc(title)}</h1>
<p class="note">${input.rows.length} rows${input.samples.length > 0 ? `, ${input.samples.length} samples` : ''} (${esc(input.format)}), ${runs.length} runs; generated ${esc(generatedAt.toISOString())} by wattprint ${esc(VERSION)}.
Energies are after PUE; emissions are operational only.</p>
${sections.join('\n')}
</body>
</html>
`;
}
