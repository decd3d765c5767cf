// Result cells, the markdown table and the JSON file of `npm run bench`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname } from 'node:path';
import type { BenchOptions } from './options.ts';

export const RUNTIMES = ['ours-node', 'ours-chromium', 'ort-web-webgpu', 'ort-web-wasm', 'ort-node'] as const;
export type RuntimeKey = (typeof RUNTIMES)[number];

const HEADERS: Record<RuntimeKey, string> = {
  'ours-node': 'ours, Node (Dawn)', 'ours-chromium': 'ours, Chromium', 'ort-web-webgpu': 'ort-web WebGPU',
  'ort-web-wasm': 'ort-web WASM', 'ort-node': 'ort-node CPU',
};

/** Each ratio compares a runtime with our engine on the same adapter/runtime; above 1 means ours is faster. */
const RATIOS: [RuntimeKey, RuntimeKey][] = [
  ['ort-web-webgpu', 'ours-chromium'], ['ort-web-wasm', 'ours-chromium'], ['ort-node', 'ours-node'],
];

export interface Cell {
  medianMs?: number;
  timesMs?: number[];
  warmupMs?: number;
  /** Max |logit − ort-node logit| on the same input; null when there was no reference. */
  maxAbsDiff?: number | null;
  error?: string;
  skipped?: string;
}

export interface Row { model: string; batch: number; cells: Partial<Record<RuntimeKey, Cell>> }

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return Number.isNaN(m) ? Infinity : m;
}

const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x.toPrecision(3));

function cellText(key: RuntimeKey, c: Cell | undefined): string {
  if (!c) return '—';
  if (c.skipped) return `skipped (${c.skipped})`;
  if (c.error) return `error: ${c.error.replace(/\s+/g, ' ').replace(/\|/g, '\\|').slice(0, 120)}`;
  if (c.medianMs === undefined) return '—';
  const check = key === 'ort-node' ? 'reference' : c.maxAbsDiff == null ? 'Δ n/a' : `Δ ${c.maxAbsDiff.toExponential(1)}`;
  return `${ms(c.medianMs)} ms (n=${c.timesMs?.length}, ${check})`;
}

function ratioText(row: Row, [num, den]: [RuntimeKey, RuntimeKey]): string {
  const a = row.cells[num]?.medianMs, b = row.cells[den]?.medianMs;
  return a !== undefined && b !== undefined ? `${(a / b).toPrecision(3)}×` : '—';
}

export function markdownTable(rows: Row[]): string {
  const head = ['model', 'batch', ...RUNTIMES.map((k) => HEADERS[k]), ...RATIOS.map(([a, b]) => `${a} / ${b}`)];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) {
    const cols = [r.model, String(r.batch), ...RUNTIMES.map((k) => cellText(k, r.cells[k])), ...RATIOS.map((p) => ratioText(r, p))];
    lines.push(`| ${cols.join(' | ')} |`);
  }
  return lines.join('\n');
}

export function writeJson(path: string, opts: BenchOptions, adapters: Record<string, string>, rows: Row[]): void {
  mkdirSync(dirname(path), { recursive: true });
  const ratios = rows.map((r) => Object.fromEntries(RATIOS.map((p) => [`${p[0]} / ${p[1]}`, ratioText(r, p)])));
  const data = {
    date: new Date().toISOString(), cpus: `${cpus().length} × ${cpus()[0]?.model ?? '?'}`,
    method: `1 warm-up run (its output checked vs ort-node), then the median of up to ${opts.runs} timed runs, stopping once they exceed ${opts.budgetMs / 1000} s`,
    options: { ...opts, models: opts.models.map((m) => m.key) }, adapters,
    rows: rows.map((r, i) => ({ ...r, ratios: ratios[i] })),
  };
  writeFileSync(path, JSON.stringify(data, null, 1) + '\n');
}
