/**
 * Figures of a fuzz run (outcomes, typed errors by code, per mutation kind and per seed, the slowest and
 * most memory-hungry cases) and their text form, printed the same way by the CLI and the test.
 */
import type { CaseResult, Outcome } from './cases';

export const OUTCOMES: Outcome[] = ['ok', 'typed', 'untyped', 'inconsistent', 'hang', 'crash', 'mutator'];
/** A case whose import grows memory beyond this allocated far more than any seed needs. */
export const BIG_ALLOCATION_MIB = 256;

export interface Summary {
  seed: number; seeds: string[]; kinds: string[]; workers: number; timeoutMs: number; elapsedMs: number;
  cases: number;
  outcomes: Record<Outcome, number>;
  typedByCode: Record<string, number>;
  byKind: Record<string, Record<Outcome, number>>;
  bySeed: Record<string, Record<Outcome, number>>;
  /** Untyped, inconsistent, hang, crash and mutator cases: every one is a bug. */
  failures: CaseResult[];
  bigAllocations: CaseResult[];
  slowest: CaseResult | null;
  hungriest: CaseResult | null;
}

const zero = (): Record<Outcome, number> => Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;

export function summarize(results: CaseResult[], run: Pick<Summary, 'seed' | 'seeds' | 'kinds' | 'workers' | 'timeoutMs' | 'elapsedMs'>): Summary {
  const s: Summary = { ...run, cases: results.length, outcomes: zero(), typedByCode: {}, byKind: {}, bySeed: {}, failures: [], bigAllocations: [], slowest: null, hungriest: null };
  for (const r of results) {
    s.outcomes[r.outcome]++;
    (s.byKind[r.kind] ??= zero())[r.outcome]++;
    (s.bySeed[r.seed] ??= zero())[r.outcome]++;
    if (r.outcome === 'typed') s.typedByCode[r.code!] = (s.typedByCode[r.code!] ?? 0) + 1;
    if (!['ok', 'typed'].includes(r.outcome)) s.failures.push(r);
    if ((r.memMiB ?? 0) > BIG_ALLOCATION_MIB) s.bigAllocations.push(r);
    if ((r.ms ?? 0) > (s.slowest?.ms ?? -1)) s.slowest = r;
    if ((r.memMiB ?? 0) > (s.hungriest?.memMiB ?? -1)) s.hungriest = r;
  }
  return s;
}

const pad = (v: string | number, n: number) => String(v).padStart(n);
const caseLine = (r: CaseResult) => `#${r.index} ${r.kind} on ${r.seed}: ${r.what}`;

function table(title: string, rows: Record<string, Record<Outcome, number>>): string[] {
  const lines = [`${title.padEnd(12)}${pad('cases', 7)}${OUTCOMES.map((o) => pad(o, Math.max(7, o.length + 2))).join('')}`];
  for (const [name, c] of Object.entries(rows)) {
    lines.push(`${name.padEnd(12)}${pad(OUTCOMES.reduce((n, o) => n + c[o], 0), 7)}${OUTCOMES.map((o) => pad(c[o], Math.max(7, o.length + 2))).join('')}`);
  }
  return lines;
}

export function formatSummary(s: Summary): string {
  const lines = [
    `ONNX import fuzz: seed ${s.seed}, ${s.cases} cases in ${(s.elapsedMs / 1000).toFixed(1)} s (${s.seeds.length} seed models, ${s.kinds.length} mutation kinds, ${s.workers} worker(s), ${s.timeoutMs} ms per case)`,
    `outcomes: ${OUTCOMES.map((o) => `${o} ${s.outcomes[o]}`).join(' | ')}`,
    `typed by code: ${Object.entries(s.typedByCode).sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ${n}`).join(', ') || 'none'}`,
    ...table('kind', s.byKind), ...table('seed', s.bySeed),
  ];
  if (s.slowest) lines.push(`slowest import: ${s.slowest.ms!.toFixed(0)} ms, ${caseLine(s.slowest)}`);
  if (s.hungriest) lines.push(`largest memory growth: ${s.hungriest.memMiB!.toFixed(1)} MiB, ${caseLine(s.hungriest)}`);
  for (const r of s.bigAllocations) lines.push(`BIG ALLOCATION ${r.memMiB!.toFixed(0)} MiB: ${caseLine(r)} -> ${r.outcome} ${r.code ?? ''}`);
  for (const r of s.failures) {
    lines.push(`FAILED ${r.outcome}: ${caseLine(r)}`, `  ${r.code}: ${r.message}`);
    if (r.stack) lines.push(...r.stack.split('\n').slice(1, 6).map((l) => `  ${l.trim()}`));
  }
  if (s.failures.length + s.bigAllocations.length > 0) {
    const ids = [...s.failures, ...s.bigAllocations].map((r) => r.index);
    lines.push(`reproduce: npm run fuzz -- --seed ${s.seed} --only ${[...new Set(ids)].slice(0, 50).join(',')}`);
  }
  return lines.join('\n');
}
