/**
 * Static SVG charts for the HTML summary: a bar chart (SQNR per site) and a line chart (loss curves,
 * accuracy so far). Strings only, no script; every text and attribute value goes through escapeHtml.
 * `data-*` attributes carry the plotted numbers so tests (and readers of the file) can check them.
 */
import { escapeHtml as esc, shortNumber } from './format.ts';

const M = { left: 52, right: 10, top: 22, bottom: 34 };
const AXIS = '#99a', TEXT = '#445';

export interface Bar { label: string; value: number; color: string; attrs?: Record<string, string> }
export interface LineSeries { name: string; color: string; points: [number, number][] }

const attrText = (attrs: Record<string, string | number> = {}) =>
  Object.entries(attrs).map(([k, v]) => ` ${k}="${esc(v)}"`).join('');
const f = (v: number) => (Math.round(v * 10) / 10).toString();

/** About `count` round tick values; with `outward` the first and last lie at or beyond lo and hi. */
export function niceTicks(lo: number, hi: number, count = 5, outward = true): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count, mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const first = (outward ? Math.floor(lo / step - 1e-9) : Math.ceil(lo / step - 1e-9)) * step;
  const last = outward ? Math.ceil(hi / step - 1e-9) * step : hi;
  const out: number[] = [];
  for (let i = 0, t = first; t <= last + step * 1e-9; t = first + ++i * step) out.push(Math.abs(t) < step * 1e-9 ? 0 : Number(t.toPrecision(12)));
  return out;
}

function frame(width: number, height: number, title: string, attrs: Record<string, string | number>, body: string[]): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img"${attrText(attrs)}>`
    + `<title>${esc(title)}</title><text x="${M.left}" y="14" font-size="12" fill="${TEXT}">${esc(title)}</text>${body.join('')}</svg>`;
}

function yAxis(ticks: number[], y: (v: number) => number, width: number, label: string, height: number, fmt = shortNumber): string[] {
  const out = ticks.map((t) => `<line x1="${M.left}" x2="${width - M.right}" y1="${f(y(t))}" y2="${f(y(t))}" stroke="#eee"/>`
    + `<text x="${M.left - 4}" y="${f(y(t) + 3)}" font-size="10" text-anchor="end" fill="${TEXT}">${esc(fmt(t))}</text>`);
  out.push(`<text transform="translate(11 ${f((M.top + height - M.bottom) / 2)}) rotate(-90)" font-size="10" text-anchor="middle" fill="${TEXT}">${esc(label)}</text>`);
  return out;
}

/**
 * Bars in the given order, grouped: `groups` names consecutive runs of bars (e.g. 'block 3') under the
 * axis. A non-finite value (a lossless site) gets no bar, only an '∞' mark.
 */
export function barChart(o: { title: string; yLabel: string; bars: Bar[]; groups?: { label: string; count: number }[];
  legend?: { label: string; color: string }[]; height?: number; attrs?: Record<string, string | number> }): string {
  const barW = 7, gap = 2, groupGap = 8, height = o.height ?? 260;
  const groups = o.groups ?? [{ label: '', count: o.bars.length }];
  const legendW = (o.legend ?? []).reduce((a, l) => a + 16 + 6 * l.label.length, 0);
  const width = Math.max(480, M.left + M.right + legendW, M.left + M.right + o.bars.length * (barW + gap) + groups.length * groupGap);
  const finite = o.bars.map((b) => b.value).filter(Number.isFinite);
  const lo = Math.min(0, ...finite), hi = Math.max(1, ...finite);
  const ticks = niceTicks(lo, hi);
  const y0 = Math.min(lo, ticks[0]), y1 = Math.max(hi, ticks[ticks.length - 1]);
  const y = (v: number) => M.top + (height - M.top - M.bottom) * (1 - (v - y0) / (y1 - y0 || 1));
  const body = yAxis(ticks, y, width, o.yLabel, height);
  let x = M.left + groupGap / 2, i = 0;
  for (const g of groups) {
    const start = x;
    for (let k = 0; k < g.count && i < o.bars.length; k++, i++) {
      const b = o.bars[i], a = attrText({ 'data-value': Number.isFinite(b.value) ? b.value : 'Infinity', ...b.attrs });
      if (Number.isFinite(b.value)) {
        const top = y(Math.max(0, b.value)), bottom = y(Math.min(0, b.value));
        body.push(`<rect x="${f(x)}" y="${f(top)}" width="${barW}" height="${f(Math.max(0.5, bottom - top))}" fill="${esc(b.color)}"${a}><title>${esc(`${b.label}: ${shortNumber(b.value)}`)}</title></rect>`);
      } else {
        body.push(`<text x="${f(x + barW / 2)}" y="${f(M.top + 8)}" font-size="9" text-anchor="middle" fill="${esc(b.color)}"${a}><title>${esc(`${b.label}: lossless`)}</title>∞</text>`);
      }
      x += barW + gap;
    }
    body.push(`<text x="${f((start + x - gap) / 2)}" y="${height - M.bottom + 12}" font-size="9" text-anchor="middle" fill="${TEXT}">${esc(g.label)}</text>`);
    x += groupGap;
  }
  body.push(`<line x1="${M.left}" x2="${width - M.right}" y1="${f(y(0))}" y2="${f(y(0))}" stroke="${AXIS}"/>`);
  let lx = M.left;
  for (const l of o.legend ?? []) {
    body.push(`<rect x="${lx}" y="${height - 12}" width="8" height="8" fill="${esc(l.color)}"/><text x="${lx + 11}" y="${height - 4}" font-size="9" fill="${TEXT}">${esc(l.label)}</text>`);
    lx += 16 + 6 * l.label.length;
  }
  return frame(width, height, o.title, { 'data-bars': o.bars.length, ...o.attrs }, body);
}

/**
 * Lines over a shared x axis; with `log` the y axis is logarithmic and values ≤ 0 leave a gap (a loss
 * term that is 0 during the warm-up, say). No legend: small multiples share one, written by the page.
 */
export function lineChart(o: { title: string; xLabel: string; yLabel: string; series: LineSeries[]; log?: boolean; width?: number; height?: number;
  yRange?: [number, number]; yFormat?: (v: number) => string; attrs?: Record<string, string | number> }): string {
  const width = o.width ?? 320, height = o.height ?? 200, log = o.log ?? false;
  const usable = (v: number) => Number.isFinite(v) && (!log || v > 0);
  const pts = o.series.flatMap((s) => s.points).filter(([, v]) => usable(v));
  const xs = pts.map(([x]) => x), ys = pts.map(([, v]) => (log ? Math.log10(v) : v));
  const x0 = Math.min(...xs, 0), x1 = Math.max(...xs, 1);
  let lo = o.yRange?.[0] ?? Math.min(...ys), hi = o.yRange?.[1] ?? Math.max(...ys);
  if (!pts.length) { lo = 0; hi = 1; }
  if (log) { lo = Math.floor(lo); hi = Math.max(Math.ceil(hi), lo + 1); } else if (!(hi > lo)) { lo -= 0.5; hi += 0.5; }
  const ticks = log ? Array.from({ length: hi - lo + 1 }, (_, i) => lo + i) : niceTicks(lo, hi);
  if (!log) { lo = Math.min(lo, ticks[0]); hi = Math.max(hi, ticks[ticks.length - 1]); }
  const x = (v: number) => M.left + (width - M.left - M.right) * ((v - x0) / (x1 - x0 || 1));
  const y = (v: number) => M.top + (height - M.top - M.bottom) * (1 - (v - lo) / (hi - lo || 1));
  const fmt = log ? (t: number) => `1e${t}` : (o.yFormat ?? shortNumber);
  const body = yAxis(ticks, y, width, o.yLabel, height, fmt);
  const wholeX = xs.every(Number.isInteger);
  for (const t of niceTicks(x0, x1, 4, false).filter((t) => !wholeX || Number.isInteger(t))) {
    body.push(`<text x="${f(x(t))}" y="${height - M.bottom + 12}" font-size="10" text-anchor="middle" fill="${TEXT}">${esc(shortNumber(t))}</text>`);
  }
  body.push(`<text x="${f((M.left + width - M.right) / 2)}" y="${height - 4}" font-size="10" text-anchor="middle" fill="${TEXT}">${esc(o.xLabel)}</text>`);
  body.push(`<line x1="${M.left}" x2="${width - M.right}" y1="${height - M.bottom}" y2="${height - M.bottom}" stroke="${AXIS}"/>`);
  for (const s of o.series) {
    let d = '', pen = false;
    for (const [px, v] of s.points) {
      if (!usable(v)) { pen = false; continue; }
      d += `${pen ? 'L' : 'M'}${f(x(px))} ${f(y(log ? Math.log10(v) : v))}`;
      pen = true;
    }
    const single = s.points.filter(([, v]) => usable(v)).length === 1;
    body.push(`<path d="${d}" fill="none" stroke="${esc(s.color)}" stroke-width="${single ? 4 : 1.5}" stroke-linecap="round" data-series="${esc(s.name)}" data-points="${s.points.length}"/>`);
  }
  return frame(width, height, o.title, { 'data-series': o.series.length, ...o.attrs }, body);
}
