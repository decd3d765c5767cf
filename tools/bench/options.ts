// Command-line options of `npm run bench`; every default is small because software adapters are slow.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export interface BenchModel { key: string; path: string }

export interface BenchOptions {
  models: BenchModel[];
  batches: number[];
  runs: number;
  budgetMs: number;
  /** Hard limit for one model × batch × runtime cell, warm-up included; a hung runtime cannot stall the rest. */
  cellTimeoutMs: number;
  skipBrowser: boolean;
  skipOrtWebgpu: boolean;
  seed: number;
  out: string;
}

const KNOWN: Record<string, string> = {
  demo: 'public/demo/vit-fmnist-outliers.onnx',
  'vit-ti': new URL('../../../shared/fixtures/imagenet/vit_tiny_patch16_224.onnx', import.meta.url).pathname,
};

const USAGE = `npm run bench -- [--models demo,vit-ti] [--batches 1,8] [--runs N] [--budget-s S]
  [--cell-timeout-s S] [--skip-browser] [--skip-ort-web-webgpu] [--seed N] [--out FILE]
Env: BENCH_RUNS, BENCH_BUDGET_S, BENCH_CELL_TIMEOUT_S. --models also takes paths to .onnx files.`;

export function parseOptions(argv: string[], env = process.env): BenchOptions {
  const o = {
    models: 'demo,vit-ti', batches: '1,8', runs: env.BENCH_RUNS ?? '3', budget: env.BENCH_BUDGET_S ?? '20',
    cellTimeout: env.BENCH_CELL_TIMEOUT_S ?? '900', seed: '1234', out: 'bench-results/bench.json',
    skipBrowser: false, skipOrtWebgpu: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => { const v = argv[++i]; if (v === undefined) throw new Error(`${a} needs a value\n${USAGE}`); return v; };
    if (a === '--models') o.models = value();
    else if (a === '--batches') o.batches = value();
    else if (a === '--runs') o.runs = value();
    else if (a === '--budget-s') o.budget = value();
    else if (a === '--cell-timeout-s') o.cellTimeout = value();
    else if (a === '--seed') o.seed = value();
    else if (a === '--out') o.out = value();
    else if (a === '--skip-browser') o.skipBrowser = true;
    else if (a === '--skip-ort-web-webgpu') o.skipOrtWebgpu = true;
    else if (a === '--help' || a === '-h') { console.log(USAGE); process.exit(0); }
    else throw new Error(`unknown option ${a}\n${USAGE}`);
  }
  const positive = (s: string, name: string) => {
    const n = Number(s);
    if (!(n > 0)) throw new Error(`${name} must be a positive number, got "${s}"`);
    return n;
  };
  return {
    models: o.models.split(',').filter(Boolean).map((key) => ({ key, path: resolve(KNOWN[key] ?? key) })),
    batches: o.batches.split(',').map((b) => Math.round(positive(b, '--batches'))),
    runs: Math.round(positive(o.runs, '--runs')),
    budgetMs: positive(o.budget, '--budget-s') * 1000,
    cellTimeoutMs: positive(o.cellTimeout, '--cell-timeout-s') * 1000,
    skipBrowser: o.skipBrowser, skipOrtWebgpu: o.skipOrtWebgpu,
    seed: Math.round(Number(o.seed)), out: o.out,
  };
}

export function modelExists(m: BenchModel): boolean { return existsSync(m.path); }
