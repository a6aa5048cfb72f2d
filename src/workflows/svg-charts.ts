/**
 * Hand-written SVG charts for the HTML reports: strings in, strings out, no dependency and nothing
 * fetched, so a page that inlines them is complete on its own. Each chart is an `<svg>` with a
 * `class` naming its kind and a `<title>` on every mark a reader may hover.
 */

/** Text and attribute values, escaped for XML. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Colours for series, in order (Tableau 10). */
export const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
];

export interface Series {
  name: string;
  /** [x, y] points, x increasing. */
  points: readonly (readonly [number, number])[];
  color?: string;
  dashed?: boolean;
  /** Draw a dot at each point (sparse series such as evaluations). */
  dots?: boolean;
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly Series[];
  width?: number;
  height?: number;
}

/** About five round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step)
    ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

const fmt = (x: number) =>
  Math.abs(x) >= 1000 ? x.toLocaleString('en-US') : String(Number(x.toPrecision(4)));

/** At most `max` points of a series, evenly spaced (long step logs stay a few KB). */
export function thin<T>(points: readonly T[], max = 400): T[] {
  if (points.length <= max) return [...points];
  const every = points.length / max;
  // Not concat: it would spread a last point that is itself an array ([step, value]) into two numbers.
  return [...Array.from({length: max}, (_, i) => points[Math.floor(i * every)]!), points.at(-1)!];
}

/** A line chart with axes, ticks, a legend, one polyline per series. */
export function lineChart(o: LineChartOptions): string {
  const width = o.width ?? 560;
  const height = o.height ?? 280;
  const m = {left: 56, right: 16, top: 28, bottom: 44};
  const all = o.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (all.length === 0) return '';
  const [x0, x1] = [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))];
  let [y0, y1] = [Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1]))];
  if (y1 - y0 < 1e-9) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  const pad = (y1 - y0) * 0.05;
  [y0, y1] = [y0 - pad, y1 + pad];
  const px = (x: number) => m.left + ((x - x0) / Math.max(1e-9, x1 - x0)) * (width - m.left - m.right);
  const py = (y: number) => height - m.bottom - ((y - y0) / (y1 - y0)) * (height - m.top - m.bottom);
  const parts: string[] = [];
  for (const t of niceTicks(y0, y1)) {
    parts.push(
      `<line x1="${m.left}" x2="${width - m.right}" y1="${py(t)}" y2="${py(t)}" class="grid"/>`,
      `<text x="${m.left - 6}" y="${py(t) + 4}" text-anchor="end">${fmt(t)}</text>`,
    );
  }
  for (const t of niceTicks(x0, x1)) {
    parts.push(`<text x="${px(t)}" y="${height - m.bottom + 16}" text-anchor="middle">${fmt(t)}</text>`);
  }
  parts.push(
    `<line x1="${m.left}" x2="${width - m.right}" y1="${height - m.bottom}" y2="${height - m.bottom}" class="axis"/>`,
    `<text x="${(m.left + width - m.right) / 2}" y="${height - 8}" text-anchor="middle">${escapeXml(o.xLabel)}</text>`,
    `<text transform="translate(14 ${(m.top + height - m.bottom) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(o.yLabel)}</text>`,
    `<text x="${m.left}" y="16" class="title">${escapeXml(o.title)}</text>`,
  );
  let legendX = width - m.right;
  for (const [i, s] of [...o.series.entries()].reverse()) {
    const color = s.color ?? PALETTE[i % PALETTE.length]!;
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (pts.length === 0) continue;
    const d = pts.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ');
    parts.push(
      `<polyline class="series" points="${d}" fill="none" stroke="${color}" stroke-width="1.8"${s.dashed ? ' stroke-dasharray="5 3"' : ''}><title>${escapeXml(s.name)}</title></polyline>`,
    );
    if (s.dots) {
      for (const [x, y] of pts) {
        parts.push(
          `<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${color}"><title>${escapeXml(`${s.name} ${fmt(y)} at ${fmt(x)}`)}</title></circle>`,
        );
      }
    }
    legendX -= 8 * s.name.length + 26;
    parts.push(
      `<rect x="${legendX}" y="8" width="12" height="4" fill="${color}"/>`,
      `<text x="${legendX + 16}" y="14">${escapeXml(s.name)}</text>`,
    );
  }
  return svg('line-chart', width, height, parts);
}

export interface HeatmapOptions {
  title: string;
  /** Row and column names (a confusion matrix: true classes down, predicted across). */
  rows: readonly string[];
  columns: readonly string[];
  /** values[row][column]. */
  values: readonly (readonly number[])[];
  /** Colour by the share of the row's total (recall for a confusion matrix). Default true. */
  rowShare?: boolean;
}

/** A grid of cells shaded by value (or row share), with the count in each cell. */
export function heatmap(o: HeatmapOptions): string {
  const n = o.rows.length;
  const k = o.columns.length;
  const cell = Math.max(14, Math.min(44, Math.floor(560 / Math.max(n, k))));
  const label = Math.min(160, 7 * Math.max(...o.rows.map((r) => r.length), 4) + 10);
  const top = 34 + Math.min(120, 7 * Math.max(...o.columns.map((c) => c.length), 4));
  const width = label + k * cell + 10;
  const height = top + n * cell + 10;
  const max = Math.max(1e-9, ...o.values.flat());
  const parts = [`<text x="4" y="16" class="title">${escapeXml(o.title)}</text>`];
  for (const [j, c] of o.columns.entries()) {
    const x = label + j * cell + cell / 2;
    parts.push(`<text transform="translate(${x + 4} ${top - 6}) rotate(-60)">${escapeXml(c)}</text>`);
  }
  for (const [i, r] of o.rows.entries()) {
    const row = o.values[i] ?? [];
    const total = row.reduce((a, b) => a + b, 0);
    parts.push(
      `<text x="${label - 6}" y="${top + i * cell + cell / 2 + 4}" text-anchor="end">${escapeXml(r)}</text>`,
    );
    for (let j = 0; j < k; j++) {
      const v = row[j] ?? 0;
      const share = (o.rowShare ?? true) ? (total > 0 ? v / total : 0) : v / max;
      const fill = `rgb(${Math.round(247 - 180 * share)},${Math.round(251 - 130 * share)},${Math.round(255 - 75 * share)})`;
      const x = label + j * cell;
      const y = top + i * cell;
      parts.push(
        `<rect class="cell" x="${x}" y="${y}" width="${cell - 1}" height="${cell - 1}" fill="${fill}"${i === j ? ' stroke="#333"' : ''}><title>${escapeXml(`${r} → ${o.columns[j]}: ${v}${total ? ` (${((100 * v) / total).toFixed(1)}% of the row)` : ''}`)}</title></rect>`,
      );
      if (v > 0 && cell >= 20) {
        parts.push(
          `<text x="${x + cell / 2}" y="${y + cell / 2 + 4}" text-anchor="middle" class="${share > 0.55 ? 'on-dark' : ''}">${v}</text>`,
        );
      }
    }
  }
  return svg('heatmap', width, height, parts);
}

export interface BarChartOptions {
  title: string;
  categories: readonly string[];
  /** One bar per group in each category. */
  groups: readonly {name: string; values: readonly number[]}[];
  /** The value axis' top. Default the largest value. */
  max?: number;
}

/** Grouped horizontal bars: a category per row, one bar per group. */
export function barChart(o: BarChartOptions): string {
  const label = Math.min(160, 7 * Math.max(...o.categories.map((c) => c.length), 4) + 10);
  const barH = 9;
  const rowH = o.groups.length * barH + 8;
  const top = 40;
  const plot = 360;
  const width = label + plot + 60;
  const height = top + o.categories.length * rowH + 8;
  const max = o.max ?? Math.max(1e-9, ...o.groups.flatMap((g) => g.values));
  const parts = [`<text x="4" y="16" class="title">${escapeXml(o.title)}</text>`];
  let legendX = label;
  for (const [g, group] of o.groups.entries()) {
    parts.push(
      `<rect x="${legendX}" y="24" width="12" height="8" fill="${PALETTE[g % PALETTE.length]}"/>`,
      `<text x="${legendX + 16}" y="32">${escapeXml(group.name)}</text>`,
    );
    legendX += 8 * group.name.length + 30;
  }
  for (const [i, c] of o.categories.entries()) {
    const y = top + i * rowH;
    parts.push(`<text x="${label - 6}" y="${y + rowH / 2 + 2}" text-anchor="end">${escapeXml(c)}</text>`);
    for (const [g, group] of o.groups.entries()) {
      const v = group.values[i] ?? 0;
      const w = Math.max(0.5, (v / max) * plot);
      parts.push(
        `<rect class="bar" x="${label}" y="${y + g * barH}" width="${w.toFixed(1)}" height="${barH - 1}" fill="${PALETTE[g % PALETTE.length]}"><title>${escapeXml(`${c} ${group.name} ${fmt(v)}`)}</title></rect>`,
        `<text x="${label + w + 4}" y="${y + g * barH + barH - 1}" class="small">${fmt(v)}</text>`,
      );
    }
  }
  return svg('bar-chart', width, height, parts);
}

function svg(kind: string, width: number, height: number, parts: readonly string[]): string {
  return `<svg class="${kind}" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img">${parts.join('')}</svg>`;
}
