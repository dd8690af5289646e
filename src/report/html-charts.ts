/**
 * Small server-side SVG charts for `report.html`, written by hand: no browser, no DOM, no network, no
 * dependency. (Looked for a library first: Vega renders SVG in Node but brings ~40 packages; d3-scale /
 * d3-shape give scales and paths but not axes or a document. Four chart kinds with linear axes are
 * less code than either integration.)
 *
 * Every chart is an `<svg>` string with `class="chart <kind>"`, a `<title>`, axes with "nice" ticks
 * (1-2-5 steps, after Heckbert, "Nice numbers for graph labels", Graphics Gems 1990) and its marks:
 * `<circle class="mark">` (scatter), `<path class="series">` (lines), `<rect class="bar">` (bars),
 * `<rect class="band">` (shaded windows, e.g. fault windows). Tests count these.
 */

export interface Band {
  x0: number;
  x1: number;
  label: string;
  /** Shown on the chart when the label is long (the label stays the tooltip). */
  shortLabel?: string;
}

export interface ChartFrame {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Pixels of the view box; the page scales a chart to its column's width (`report.html`'s CSS). */
  width?: number;
  height?: number;
}

/** Width of a full-width chart's view box, px: about the page's width, so text stays near 11 px. */
export const CHART_WIDTH = 1200;

/**
 * Margins, px. `right` leaves room for the last x tick's label (centred on the axis end) and the legend,
 * so nothing is cut off at the right edge.
 */
const M = { left: 64, right: 48, top: 28, bottom: 44 };

/** Options every chart with a numeric x axis takes. */
export interface XAxis {
  /**
   * A fixed x domain (widened to nice ticks), e.g. one per trial so that its time charts line up and
   * their fault bands fall on the same pixels. Default: the data's extent.
   */
  xDomain?: [number, number];
  /** Tick label of an x value, e.g. ms shown as seconds. Default: `axisFormat` over the ticks. */
  xTickFormat?: (v: number) => string;
}

export function escapeXml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/** Round a step to 1, 2 or 5 × 10^k. */
function niceStep(range: number, count: number): number {
  const raw = range / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

/** A domain widened to nice tick values, and those ticks. */
export function niceTicks(
  min: number,
  max: number,
  count = 6,
): { min: number; max: number; ticks: number[] } {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return { min: 0, max: 1, ticks: [0, 1] };
  if (max <= min) max = min === 0 ? 1 : min + Math.abs(min) * 0.1 || 1;
  const step = niceStep(max - min, count);
  const lo = Math.floor(min / step) * step;
  const hi = Math.ceil(max / step) * step;
  const ticks: number[] = [];
  for (let v = lo; v <= hi + step / 2; v += step) ticks.push(Number(v.toPrecision(12)));
  return { min: lo, max: hi, ticks };
}

/**
 * One number format for all the ticks of an axis: the unit (none, k, M) from the largest tick, the decimals
 * from the step — `0 2k 4k … 14k`, or `0 0.5 1 1.5`, never `8000` beside `10.0k`.
 */
export function axisFormat(ticks: readonly number[]): (v: number) => string {
  const largest = Math.max(0, ...ticks.map((t) => Math.abs(t)));
  const [div, suffix] = largest >= 1e6 ? [1e6, 'M'] : largest >= 1e4 ? [1e3, 'k'] : [1, ''];
  let step = Number.POSITIVE_INFINITY;
  for (let i = 1; i < ticks.length; i++) step = Math.min(step, Math.abs(ticks[i]! - ticks[i - 1]!));
  const scaled = Number.isFinite(step) && step > 0 ? step / div : 1;
  const decimals = Math.min(6, Math.max(0, -Math.floor(Math.log10(scaled) + 1e-9)));
  return (v) => (v === 0 ? '0' : `${(v / div).toFixed(decimals)}${suffix}`);
}

/** A single value with 3 significant digits (tooltips, bar labels). */
function fmtValue(v: number): string {
  return Number(v.toPrecision(3)).toLocaleString('en');
}

interface Axes {
  x: (v: number) => number;
  y: (v: number) => number;
  svgOpen: string;
  axes: string;
  w: number;
  h: number;
}

function frame(
  kind: string,
  f: ChartFrame,
  xDomain: [number, number],
  yDomain: [number, number],
  opts: { xTickFormat?: (v: number) => string; xTicks?: number[] } = {},
): Axes {
  const w = f.width ?? CHART_WIDTH;
  const h = f.height ?? 280;
  const xs = niceTicks(xDomain[0], xDomain[1], 8);
  const ys = niceTicks(yDomain[0], yDomain[1], 5);
  const xTicks = opts.xTicks ?? xs.ticks;
  const xMin = opts.xTicks ? xDomain[0] : xs.min;
  const xMax = opts.xTicks ? xDomain[1] : xs.max;
  const pw = w - M.left - M.right;
  const ph = h - M.top - M.bottom;
  const x = (v: number) => M.left + ((v - xMin) / (xMax - xMin || 1)) * pw;
  const y = (v: number) => M.top + ph - ((v - ys.min) / (ys.max - ys.min || 1)) * ph;
  const fx = opts.xTickFormat ?? axisFormat(xTicks);
  const fy = axisFormat(ys.ticks);
  const parts: string[] = [];
  parts.push(`<g class="axes" font-size="11" fill="#444">`);
  for (const t of ys.ticks) {
    const yy = y(t).toFixed(1);
    parts.push(
      `<line x1="${M.left}" x2="${M.left + pw}" y1="${yy}" y2="${yy}" stroke="#e5e5e5"/>` +
        `<text x="${M.left - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle">${fy(t)}</text>`,
    );
  }
  for (const t of xTicks) {
    const xx = x(t).toFixed(1);
    parts.push(
      `<line x1="${xx}" x2="${xx}" y1="${M.top + ph}" y2="${M.top + ph + 4}" stroke="#888"/>` +
        `<text x="${xx}" y="${M.top + ph + 16}" text-anchor="middle">${escapeXml(fx(t))}</text>`,
    );
  }
  parts.push(
    `<line x1="${M.left}" x2="${M.left + pw}" y1="${M.top + ph}" y2="${M.top + ph}" stroke="#888"/>`,
    `<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + ph}" stroke="#888"/>`,
    `<text x="${M.left + pw / 2}" y="${h - 6}" text-anchor="middle">${escapeXml(f.xLabel)}</text>`,
    `<text transform="translate(14 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">${escapeXml(f.yLabel)}</text>`,
    `<text x="${M.left}" y="16" font-size="13" font-weight="600" fill="#222">${escapeXml(f.title)}</text>`,
    `</g>`,
  );
  return {
    x,
    y,
    w,
    h,
    svgOpen: `<svg class="chart ${kind}" xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img"><title>${escapeXml(f.title)}</title>`,
    axes: parts.join(''),
  };
}

function extent(values: number[], fallback: [number, number]): [number, number] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo === Number.POSITIVE_INFINITY ? fallback : [lo, hi];
}

function bandsSvg(a: Axes, bands: readonly Band[], yTop: number, yBottom: number): string {
  return bands
    .map((b) => {
      const x0 = a.x(b.x0);
      const x1 = Math.max(x0 + 1, a.x(b.x1));
      return (
        `<rect class="band" x="${x0.toFixed(1)}" y="${yTop}" width="${(x1 - x0).toFixed(1)}" height="${yBottom - yTop}" fill="#f5a623" fill-opacity="0.18"><title>${escapeXml(b.label)}</title></rect>` +
        `<text x="${(x0 + 3).toFixed(1)}" y="${yTop + 11}" font-size="10" fill="#a0620a">${escapeXml(b.label)}</text>`
      );
    })
    .join('');
}

export interface ScatterPoint {
  x: number;
  y: number;
  color: string;
  /** Tooltip. */
  label: string;
}

/**
 * One mark per point, e.g. requests by send time and latency; `bands` shade x ranges behind them. The
 * x axis spans the data (a 20 ms burst fills the width), y starts at 0.
 */
export function scatterChart(
  f: ChartFrame,
  points: readonly ScatterPoint[],
  bands: readonly Band[] = [],
  legend: readonly { name: string; color: string }[] = [],
  x: XAxis = {},
): string {
  const xd = x.xDomain ?? extent([...points.map((p) => p.x), ...bands.flatMap((b) => [b.x0, b.x1])], [0, 1]);
  const yd = extent(
    points.map((p) => p.y),
    [0, 1],
  );
  const a = frame('scatter', f, xd, [0, yd[1]], { xTickFormat: x.xTickFormat });
  const key = legend
    .map(
      (l, i) =>
        `<g class="legend"><circle cx="${a.w - M.right - 110}" cy="${M.top + 8 + i * 15}" r="4" fill="${l.color}"/><text x="${a.w - M.right - 100}" y="${M.top + 12 + i * 15}" font-size="11">${escapeXml(l.name)}</text></g>`,
    )
    .join('');
  const marks = points
    .map(
      (p) =>
        `<circle class="mark" cx="${a.x(p.x).toFixed(1)}" cy="${a.y(p.y).toFixed(1)}" r="3" fill="${p.color}" fill-opacity="0.75"><title>${escapeXml(p.label)}</title></circle>`,
    )
    .join('');
  return `${a.svgOpen}${bandsSvg(a, bands, M.top, a.h - M.bottom)}${a.axes}${marks}${key}</svg>`;
}

export interface Series {
  name: string;
  color: string;
  points: readonly { x: number; y: number }[];
}

/**
 * Lines through points. `xTicks` + `xTickFormat` place custom ticks (e.g. percentiles on a
 * log(1/(1−p)) axis); `bands` shade x ranges.
 */
export function lineChart(
  f: ChartFrame,
  series: readonly Series[],
  opts: XAxis & {
    xTicks?: number[];
    bands?: readonly Band[];
    step?: boolean;
  } = {},
): string {
  const all = series.flatMap((s) => s.points);
  const xd =
    opts.xDomain ??
    extent([...all.map((p) => p.x), ...(opts.bands ?? []).flatMap((b) => [b.x0, b.x1])], [0, 1]);
  const yd = extent(
    all.map((p) => p.y),
    [0, 1],
  );
  const xDomain: [number, number] = opts.xTicks
    ? [Math.min(xd[0], ...opts.xTicks), Math.max(xd[1], ...opts.xTicks)]
    : xd;
  const a = frame('line', f, xDomain, [0, yd[1]], { xTicks: opts.xTicks, xTickFormat: opts.xTickFormat });
  const paths = series
    .map((s) => {
      if (s.points.length === 0) return '';
      let d = '';
      s.points.forEach((p, i) => {
        const px = a.x(p.x).toFixed(1);
        const py = a.y(p.y).toFixed(1);
        if (i === 0) d += `M${px},${py}`;
        else if (opts.step) d += `H${px}V${py}`;
        else d += `L${px},${py}`;
      });
      return `<path class="series" d="${d}" fill="none" stroke="${s.color}" stroke-width="2"><title>${escapeXml(s.name)}</title></path>`;
    })
    .join('');
  const legend = series
    .map(
      (s, i) =>
        `<g class="legend"><rect x="${a.w - M.right - 200}" y="${M.top + 4 + i * 16}" width="10" height="10" fill="${s.color}"/><text x="${a.w - M.right - 186}" y="${M.top + 13 + i * 16}" font-size="11">${escapeXml(s.name)}</text></g>`,
    )
    .join('');
  return `${a.svgOpen}${bandsSvg(a, opts.bands ?? [], M.top, a.h - M.bottom)}${a.axes}${paths}${series.length > 1 ? legend : ''}</svg>`;
}

export interface Bar {
  /** Category label (categorical bars) — or the left edge when `x` is numeric. */
  label: string;
  value: number;
  color: string;
}

/** Categorical bars, e.g. responses per status code. */
export function barChart(f: ChartFrame, bars: readonly Bar[]): string {
  const w = f.width ?? CHART_WIDTH;
  const h = f.height ?? 220;
  // 10 % headroom: the value printed above the tallest bar stays inside the plot.
  const { max, ticks } = niceTicks(0, Math.max(1, ...bars.map((b) => b.value)) * 1.1, 4);
  const pw = w - M.left - M.right;
  const ph = h - M.top - M.bottom;
  const slot = pw / Math.max(1, bars.length);
  const bw = Math.min(80, slot * 0.7);
  const y = (v: number) => M.top + ph - (v / max) * ph;
  const fy = axisFormat(ticks);
  const parts: string[] = [
    `<svg class="chart bars" xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img"><title>${escapeXml(f.title)}</title>`,
    `<g class="axes" font-size="11" fill="#444">`,
  ];
  for (const t of ticks) {
    parts.push(
      `<line x1="${M.left}" x2="${M.left + pw}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#e5e5e5"/><text x="${M.left - 6}" y="${y(t).toFixed(1)}" text-anchor="end" dominant-baseline="middle">${fy(t)}</text>`,
    );
  }
  parts.push(
    `<line x1="${M.left}" x2="${M.left + pw}" y1="${M.top + ph}" y2="${M.top + ph}" stroke="#888"/>`,
    `<text x="${M.left + pw / 2}" y="${h - 6}" text-anchor="middle">${escapeXml(f.xLabel)}</text>`,
    `<text transform="translate(14 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">${escapeXml(f.yLabel)}</text>`,
    `<text x="${M.left}" y="16" font-size="13" font-weight="600" fill="#222">${escapeXml(f.title)}</text></g>`,
  );
  bars.forEach((b, i) => {
    const cx = M.left + slot * (i + 0.5);
    const top = y(b.value);
    parts.push(
      `<rect class="bar" x="${(cx - bw / 2).toFixed(1)}" y="${top.toFixed(1)}" width="${bw.toFixed(1)}" height="${(M.top + ph - top).toFixed(1)}" fill="${b.color}"><title>${escapeXml(`${b.label}: ${b.value}`)}</title></rect>`,
      `<text x="${cx.toFixed(1)}" y="${(top - 4).toFixed(1)}" text-anchor="middle" font-size="11">${b.value}</text>`,
      `<text x="${cx.toFixed(1)}" y="${M.top + ph + 16}" text-anchor="middle" font-size="11">${escapeXml(b.label)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}

/** Bars on a numeric x axis: e.g. arrivals per time bucket, each `[x, x + width)`. */
export function histogramChart(
  f: ChartFrame,
  buckets: readonly { x: number; width: number; value: number }[],
  bands: readonly Band[] = [],
  x: XAxis & {
    /** x ranges to outline above the bars, e.g. detected retry waves; drawn as `<rect class="mark-range">`. */
    marks?: readonly Band[];
  } = {},
): string {
  const xd =
    x.xDomain ??
    extent([...buckets.flatMap((b) => [b.x, b.x + b.width]), ...bands.flatMap((b) => [b.x0, b.x1])], [0, 1]);
  const yd = extent(
    buckets.map((b) => b.value),
    [0, 1],
  );
  const a = frame('histogram', f, [Math.min(0, xd[0]), xd[1]], [0, yd[1]], { xTickFormat: x.xTickFormat });
  const base = a.y(0);
  const marks = buckets
    .map((b) => {
      const x0 = a.x(b.x);
      const x1 = a.x(b.x + b.width);
      const top = a.y(b.value);
      return `<rect class="bar" x="${x0.toFixed(1)}" y="${top.toFixed(1)}" width="${Math.max(0.5, x1 - x0 - 0.5).toFixed(1)}" height="${(base - top).toFixed(1)}" fill="#4a78c2"><title>${escapeXml(`${fmtValue(b.x)}–${fmtValue(b.x + b.width)}: ${b.value}`)}</title></rect>`;
    })
    .join('');
  // Outlined ranges below the band labels; their short labels (`shortLabel`, else the label) alternate
  // between two rows so neighbours do not overprint; the full label is the tooltip.
  const ranges = (x.marks ?? [])
    .map((m, i) => {
      const x0 = a.x(m.x0);
      const x1 = Math.max(x0 + 2, a.x(m.x1));
      const top = M.top + 36;
      return (
        `<rect class="mark-range" x="${(x0 - 1).toFixed(1)}" y="${top}" width="${(x1 - x0 + 2).toFixed(1)}" height="${a.h - M.bottom - top}" fill="none" stroke="#c92a2a" stroke-width="1.5" stroke-dasharray="4 2"><title>${escapeXml(m.label)}</title></rect>` +
        `<text x="${(x0 - 1).toFixed(1)}" y="${M.top + 22 + (i % 2) * 11}" font-size="10" fill="#c92a2a" stroke="#fff" stroke-width="3" paint-order="stroke">${escapeXml(m.shortLabel ?? m.label)}<title>${escapeXml(m.label)}</title></text>`
      );
    })
    .join('');
  return `${a.svgOpen}${bandsSvg(a, bands, M.top, a.h - M.bottom)}${a.axes}${marks}${ranges}</svg>`;
}
