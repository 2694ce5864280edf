/**
 * Minimal inline-SVG charts for the HTML report: no script, no external resource. Each chart carries
 * stable data attributes (`data-chart`, `data-series`, `data-run`, `data-bin`, `data-x`, `data-y`,
 * `data-value`) so that tests and scripts can read the plotted values back.
 */

export const esc = (s: string) =>
  s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;');

const r2 = (n: number) => String(Math.round(n * 100) / 100);

/** Round-number axis ticks from 0 to at least `max`. */
export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0) || !Number.isFinite(max)) return [0, 1];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let v = 0; v < max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  if (ticks[ticks.length - 1]! < max) ticks.push(Number((ticks[ticks.length - 1]! + step).toPrecision(12)));
  return ticks;
}

const fmt = (v: number) => {
  if (v === 0) return '0';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '-∞';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(1);
  return String(Number(v.toPrecision(3)));
};

export interface Series {
  readonly key: string;
  readonly label: string;
  readonly color: string;
  /** Drawn dashed (lines) or hatched (bars, legend), and labelled so: the values come from a model. */
  readonly estimated?: boolean;
}

/** Id of the hatch pattern of a series key; {@link hatchDefs} defines it once per page. */
export const hatchId = (key: string) => `hatch-${key.replace(/[^\w-]/g, '_')}`;

/**
 * An invisible SVG holding one diagonal hatch pattern per series, referenced by every chart of the
 * page as `fill="url(#hatch-<key>)"` (a fragment of the page itself, no fetch).
 */
export function hatchDefs(series: readonly Series[]): string {
  const patterns = series.map(
    (s) =>
      `<pattern id="${hatchId(s.key)}" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)">` +
      `<rect width="6" height="6" fill="${s.color}" fill-opacity="0.25"/><line x1="0" y1="0" x2="0" y2="6" stroke="${s.color}" stroke-width="3"/></pattern>`,
  );
  return `<svg class="defs" width="0" height="0" aria-hidden="true" xmlns="http://www.w3.org/2000/svg"><defs>${patterns.join('')}</defs></svg>`;
}

interface Frame {
  readonly width: number;
  readonly height: number;
  readonly left: number;
  readonly right: number;
  readonly top: number;
  readonly bottom: number;
}

const FRAME: Frame = { width: 720, height: 300, left: 64, right: 16, top: 16, bottom: 52 };

function axes(f: Frame, yTicks: number[], yLabel: string, xLabel: string): string {
  const plotH = f.height - f.top - f.bottom;
  const yMax = yTicks[yTicks.length - 1]!;
  const y = (v: number) => f.top + plotH - (v / yMax) * plotH;
  const parts = [
    `<line class="axis" x1="${f.left}" y1="${f.top}" x2="${f.left}" y2="${f.height - f.bottom}"/>`,
    `<line class="axis" x1="${f.left}" y1="${f.height - f.bottom}" x2="${f.width - f.right}" y2="${f.height - f.bottom}"/>`,
  ];
  for (const t of yTicks) {
    parts.push(
      `<line class="grid" x1="${f.left}" y1="${r2(y(t))}" x2="${f.width - f.right}" y2="${r2(y(t))}"/>`,
      `<text class="tick" x="${f.left - 6}" y="${r2(y(t) + 4)}" text-anchor="end">${fmt(t)}</text>`,
    );
  }
  parts.push(
    `<text class="label" transform="translate(14 ${r2(f.top + plotH / 2)}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
    `<text class="label" x="${r2(f.left + (f.width - f.left - f.right) / 2)}" y="${f.height - 8}" text-anchor="middle">${esc(xLabel)}</text>`,
  );
  return parts.join('');
}

function legend(series: readonly Series[]): string {
  return `<ul class="legend">${series
    .map((s) =>
      s.estimated
        ? `<li data-series="${esc(s.key)}" data-estimated="true"><svg class="swatch" viewBox="0 0 12 12"><rect width="12" height="12" fill="url(#${hatchId(s.key)})" stroke="${s.color}"/></svg>${esc(s.label)} (estimated)</li>`
        : `<li data-series="${esc(s.key)}"><span class="swatch" style="background:${s.color}"></span>${esc(s.label)}</li>`,
    )
    .join('')}</ul>`;
}

function figure(chart: string, attrs: Record<string, string>, title: string, svgBody: string, after = ''): string {
  const extra = Object.entries(attrs)
    .map(([k, v]) => ` ${k}="${esc(v)}"`)
    .join('');
  return (
    `<figure class="chart"><figcaption>${esc(title)}</figcaption>` +
    `<svg data-chart="${chart}"${extra} viewBox="0 0 ${FRAME.width} ${FRAME.height}" role="img" aria-label="${esc(title)}" xmlns="http://www.w3.org/2000/svg">` +
    `<title>${esc(title)}</title>${svgBody}</svg>${after}</figure>`
  );
}

export interface LinePoint {
  /** End of the interval the value holds for (where the point is drawn). */
  readonly x: number;
  readonly y: number;
  /** Start of that interval: the series is drawn as steps, each value held from `x0` to `x`. */
  readonly x0?: number;
}

/**
 * A line chart: one `<path data-series>` per series and one `<circle data-series data-x data-y>` per
 * point. Points with `x0` are drawn as steps (a mean over an interval is flat over that interval).
 */
export function lineChart(opts: {
  chart: string;
  attrs?: Record<string, string>;
  title: string;
  xLabel: string;
  yLabel: string;
  series: ReadonlyArray<Series & { readonly points: readonly LinePoint[] }>;
}): string {
  const f = FRAME;
  const all = opts.series.flatMap((s) => s.points);
  const xMax = Math.max(...all.map((p) => p.x), 0) || 1;
  const yTicks = niceTicks(Math.max(...all.map((p) => p.y), 0));
  const yMax = yTicks[yTicks.length - 1]!;
  const plotW = f.width - f.left - f.right;
  const plotH = f.height - f.top - f.bottom;
  const px = (x: number) => f.left + (x / xMax) * plotW;
  const py = (y: number) => f.top + plotH - (y / yMax) * plotH;
  const xTicks = niceTicks(xMax).filter((t) => t <= xMax * 1.0001);
  const body = [axes(f, yTicks, opts.yLabel, opts.xLabel)];
  for (const t of xTicks) body.push(`<text class="tick" x="${r2(px(t))}" y="${f.height - f.bottom + 16}" text-anchor="middle">${fmt(t)}</text>`);
  for (const s of opts.series) {
    const d = s.points
      .map((p, i) => {
        const end = `${r2(px(p.x))} ${r2(py(p.y))}`;
        if (p.x0 === undefined) return `${i === 0 ? 'M' : 'L'}${end}`;
        return `${i === 0 ? 'M' : 'L'}${r2(px(p.x0))} ${r2(py(p.y))} L${end}`;
      })
      .join(' ');
    const dash = s.estimated ? ' stroke-dasharray="7 4" data-estimated="true"' : '';
    body.push(`<path data-series="${esc(s.key)}" d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>`);
    for (const p of s.points) {
      body.push(
        `<circle data-series="${esc(s.key)}" data-x="${p.x}" data-y="${p.y}" cx="${r2(px(p.x))}" cy="${r2(py(p.y))}" r="3" fill="${s.color}"><title>${esc(s.label)}: ${fmt(p.y)} at ${fmt(p.x)}</title></circle>`,
      );
    }
  }
  return figure(opts.chart, opts.attrs ?? {}, opts.title, body.join(''), legend(opts.series));
}

/**
 * A bar chart with one group per category; several series are stacked. Each bar is a
 * `<rect data-series data-category data-value>`; zero values draw no bar.
 */
export function barChart(opts: {
  chart: string;
  attrs?: Record<string, string>;
  title: string;
  yLabel: string;
  xLabel: string;
  categories: ReadonlyArray<{ readonly key: string; readonly label: string }>;
  series: readonly Series[];
  value: (category: string, series: string) => number;
  /** Whether this bar segment was estimated (hatched); default: the series' `estimated`. */
  estimated?: (category: string, series: string) => boolean;
}): string {
  const f = FRAME;
  const totals = opts.categories.map((c) => opts.series.reduce((s, se) => s + Math.max(0, opts.value(c.key, se.key)), 0));
  const yTicks = niceTicks(Math.max(...totals, 0));
  const yMax = yTicks[yTicks.length - 1]!;
  const plotW = f.width - f.left - f.right;
  const plotH = f.height - f.top - f.bottom;
  const slot = plotW / Math.max(1, opts.categories.length);
  const barW = Math.max(2, Math.min(48, slot * 0.7));
  const body = [axes(f, yTicks, opts.yLabel, opts.xLabel)];
  const labelEvery = Math.ceil(opts.categories.length / 12);
  opts.categories.forEach((c, i) => {
    const x = f.left + slot * i + (slot - barW) / 2;
    let base = 0;
    body.push(`<g data-category="${esc(c.key)}">`);
    for (const s of opts.series) {
      const v = Math.max(0, opts.value(c.key, s.key));
      if (v === 0) continue;
      const h = (v / yMax) * plotH;
      const y = f.top + plotH - ((base + v) / yMax) * plotH;
      const est = opts.estimated ? opts.estimated(c.key, s.key) : s.estimated === true;
      const fill = est ? `url(#${hatchId(s.key)})" stroke="${s.color}" data-estimated="true` : s.color;
      body.push(
        `<rect data-series="${esc(s.key)}" data-value="${v}" x="${r2(x)}" y="${r2(y)}" width="${r2(barW)}" height="${r2(h)}" fill="${fill}"><title>${esc(c.label)} ${esc(s.label)}${est ? ' (estimated)' : ''}: ${fmt(v)}</title></rect>`,
      );
      base += v;
    }
    body.push('</g>');
    if (i % labelEvery === 0)
      body.push(`<text class="tick" x="${r2(x + barW / 2)}" y="${f.height - f.bottom + 16}" text-anchor="middle">${esc(c.label)}</text>`);
  });
  const shown = opts.series.map((s) => ({ ...s, estimated: opts.estimated ? opts.categories.some((c) => opts.estimated!(c.key, s.key)) : s.estimated }));
  return figure(opts.chart, opts.attrs ?? {}, opts.title, body.join(''), opts.series.length > 1 || shown.some((s) => s.estimated) ? legend(shown) : '');
}

export interface Bin {
  readonly from: number;
  readonly to: number;
  readonly count: number;
}

/** A histogram: one `<rect data-bin data-from data-to data-count>` per bin, empty bins included. */
export function histogram(opts: { chart: string; attrs?: Record<string, string>; title: string; xLabel: string; yLabel: string; bins: readonly Bin[]; color: string }): string {
  const f = FRAME;
  const yTicks = niceTicks(Math.max(...opts.bins.map((b) => b.count), 0));
  const yMax = yTicks[yTicks.length - 1]!;
  const plotW = f.width - f.left - f.right;
  const plotH = f.height - f.top - f.bottom;
  const slot = plotW / Math.max(1, opts.bins.length);
  const body = [axes(f, yTicks, opts.yLabel, opts.xLabel)];
  opts.bins.forEach((b, i) => {
    const h = (b.count / yMax) * plotH;
    const x = f.left + slot * i;
    body.push(
      `<rect data-bin="${i}" data-from="${b.from}" data-to="${b.to}" data-count="${b.count}" x="${r2(x + 1)}" y="${r2(f.top + plotH - h)}" width="${r2(Math.max(1, slot - 2))}" height="${r2(h)}" fill="${opts.color}"><title>${fmt(b.from)} to ${fmt(b.to)}: ${b.count}</title></rect>`,
    );
  });
  const step = Math.ceil(opts.bins.length / 8);
  opts.bins.forEach((b, i) => {
    if (i % step === 0) body.push(`<text class="tick" x="${r2(f.left + slot * i)}" y="${f.height - f.bottom + 16}" text-anchor="middle">${fmt(b.from)}</text>`);
  });
  if (opts.bins.length > 0) {
    const last = opts.bins[opts.bins.length - 1]!;
    body.push(`<text class="tick" x="${r2(f.left + plotW)}" y="${f.height - f.bottom + 16}" text-anchor="middle">${fmt(last.to)}</text>`);
  }
  return figure(opts.chart, opts.attrs ?? {}, opts.title, body.join(''));
}
