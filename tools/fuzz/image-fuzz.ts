/**
 * `npm run fuzz:images [-- --cases 2000 --seed 1 --timeout-ms 5000 --out DIR]`
 * 1. the bad-image corpus (tests/fixtures/bad-images): every file must get its manifest outcome;
 * 2. seeded mutants of the good fixtures (bit flips, cuts, header field edits, CRC-valid chunk and
 *    pixel-data edits): each must decode consistently or be skipped with a BadImageError naming it.
 * Decoding runs in a worker so a hang is caught by a timeout instead of freezing the run. "Untyped"
 * counts anything but a BadImageError naming the file, plus BadImageErrors that only wrap a library
 * crash or hit decodeImage's safety net, plus decodes whose size and data disagree. "Crashes" are dead
 * workers (e.g. out of memory). Failing inputs are written to --out for reproduction; `--reasons`
 * lists the skip reasons seen. Exit code 1 on any corpus mismatch, untyped error, hang or crash.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { checkCase, corpusCases, readCorpusFile } from '../../tests/bad-images-corpus.ts';
import { mutate, rng } from './image-mutate.ts';
import type { FuzzResult } from './image-fuzz-worker.ts';

const arg = (flag: string, fallback: string) => { const i = process.argv.indexOf(flag); return i > 0 ? process.argv[i + 1] : fallback; };
const CASES = Number(arg('--cases', '2000'));
const SEED = Number(arg('--seed', '1'));
const TIMEOUT_MS = Number(arg('--timeout-ms', '5000'));
const OUT = arg('--out', '/tmp/image-fuzz-failures');
const SLOW_MS = 1000;

/** Runs inputs one at a time in a worker; a timeout or crash kills it and starts a fresh one. */
class Runner {
  private worker: Worker | null = null;
  private pending: { resolve: (r: FuzzResult | 'hang' | 'crash') => void; timer: NodeJS.Timeout } | null = null;
  private start(): Worker {
    const w = new Worker(new URL('./image-fuzz-worker.ts', import.meta.url));
    w.on('message', (r: FuzzResult) => this.settle(r));
    w.on('error', () => this.settle('crash'));
    w.on('exit', () => { if (this.worker === w) { this.worker = null; this.settle('crash'); } });
    return w;
  }
  private settle(r: FuzzResult | 'hang' | 'crash') {
    const p = this.pending;
    if (!p) return;
    this.pending = null;
    clearTimeout(p.timer);
    p.resolve(r);
  }
  run(id: number, name: string, bytes: Uint8Array): Promise<FuzzResult | 'hang' | 'crash'> {
    const fresh = !this.worker;
    this.worker ??= this.start();
    // A fresh worker first compiles the engine (a second or more on a busy machine): not the input's time.
    const limit = TIMEOUT_MS + (fresh ? 30_000 : 0);
    return new Promise((resolve) => {
      const timer = setTimeout(() => { const w = this.worker; this.worker = null; void w?.terminate(); this.settle('hang'); }, limit);
      this.pending = { resolve, timer };
      this.worker!.postMessage({ id, name, bytes });
    });
  }
  async close() { const w = this.worker; this.worker = null; await w?.terminate(); }
}

function goodSeeds(): Array<{ name: string; bytes: Uint8Array }> {
  const dir = new URL('../../tests/fixtures/images/', import.meta.url);
  const fixtures = readdirSync(dir).filter((f) => /\.(jpg|png)$/.test(f) && !f.startsWith('resize-out'))
    .map((f) => ({ name: f, bytes: new Uint8Array(readFileSync(new URL(f, dir))) }));
  const corpus = corpusCases().filter((c) => c.expect === 'decoded').map((c) => ({ name: c.file, bytes: readCorpusFile(c.file) }));
  return [...fixtures, ...corpus];
}

/** A skip reason with its numbers (decimal or hex, as in marker codes) blanked, to group alike reasons. */
const reasonKind = (msg: string) => msg.replace(/\b(?=[0-9a-f]*\d)[0-9a-f]+\b|\b[0-9a-f]{2,4}\b(?=\))/g, '#').slice(0, 90);

async function main() {
  const started = performance.now();
  const runner = new Runner();
  const cases = corpusCases();
  let corpusOk = 0;
  for (const c of cases) {
    const problem = checkCase(c, readCorpusFile(c.file));
    if (problem) console.log(`corpus ${c.file}: ${problem}`); else corpusOk++;
  }
  const seeds = goodSeeds();
  const counts = { decoded: 0, skipped: 0, untyped: 0, hang: 0, crash: 0, slow: 0 };
  const failures: string[] = [];
  const reasons = new Map<string, number>(); // skip reasons with numbers blanked, for --reasons
  for (let i = 0; i < CASES; i++) {
    const r = rng(SEED * 1_000_003 + i); // one stream per case: `--seed S` and the case number reproduce it
    const seed = seeds[Math.floor(r() * seeds.length)];
    const { bytes, how } = mutate(seed.bytes, r);
    const name = `mutant-${i}-${seed.name}`;
    const res = await runner.run(i, name, bytes);
    const outcome = typeof res === 'string' ? res : res.outcome;
    counts[outcome]++;
    if (typeof res !== 'string' && outcome === 'skipped') {
      const kind = reasonKind(res.detail.slice(name.length + 2));
      reasons.set(kind, (reasons.get(kind) ?? 0) + 1);
    }
    if (typeof res !== 'string' && res.ms > SLOW_MS) { counts.slow++; failures.push(`slow ${res.ms.toFixed(0)} ms: ${name} (${how})`); }
    if (outcome === 'untyped' || outcome === 'hang' || outcome === 'crash') {
      mkdirSync(OUT, { recursive: true });
      writeFileSync(`${OUT}/${name}`, bytes);
      failures.push(`${outcome}: ${name} (${how})${typeof res === 'string' ? '' : `: ${res.detail}`}`);
    }
  }
  await runner.close();
  const seconds = (performance.now() - started) / 1000;
  const handled = counts.decoded + counts.skipped;
  if (process.argv.includes('--reasons')) {
    for (const [k, n] of [...reasons].sort((a, b) => b[1] - a[1])) console.log(String(n).padStart(6), k);
  }
  if (failures.length) console.log(failures.slice(0, 20).join('\n') + (failures.length > 20 ? `\n… ${failures.length - 20} more` : ''));
  console.log(`corpus: ${corpusOk}/${cases.length} files with their expected outcome`);
  console.log(`mutants (seed ${SEED}, from ${seeds.length} good files): bad inputs tried ${CASES}, handled ${handled} ` +
    `(decoded ${counts.decoded}, typed skip ${counts.skipped}), untyped errors ${counts.untyped}, hangs ${counts.hang}, ` +
    `crashes ${counts.crash}, slow (>${SLOW_MS} ms) ${counts.slow}`);
  console.log(`elapsed ${seconds.toFixed(1)} s, peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB` +
    (failures.length ? `; failing inputs in ${OUT}` : ''));
  process.exitCode = corpusOk === cases.length && counts.untyped + counts.hang + counts.crash === 0 ? 0 : 1;
}

await main();
