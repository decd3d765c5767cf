/**
 * npm run fuzz -- [--cases N] [--seed S] [--timeout MS] [--workers W] [--sweep all|name,…] [--only i,j,…] [--inline]
 * Mutates the seed ONNX models (seeds.ts) N times and imports each case (see onnx-fuzz.ts); prints the
 * figures; exits 1 when any case ended untyped, inconsistent, hung or crashed. --sweep adds the
 * truncation sweep (every field boundary, raw and clean cut) of all or the named seeds. --only reruns
 * given case indices; --inline runs them in this thread, without the watchdog, for full stacks.
 */
import { runCase } from './cases';
import { formatSummary, runFuzz } from './onnx-fuzz';
import { loadSeedBytes, prepareSeeds } from './seeds';

function args(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`Unexpected argument '${a}'.`);
    const next = argv[i + 1];
    out[a.slice(2)] = next !== undefined && !next.startsWith('--') ? (i++, next) : 'true';
  }
  return out;
}

const a = args(process.argv.slice(2));
const num = (key: string, fallback: number) => {
  const v = a[key] === undefined ? fallback : Number(a[key]);
  if (!Number.isInteger(v) || v < 0) { console.error(`--${key} needs a non-negative integer.`); process.exit(2); }
  return v;
};
const cases = num('cases', 2000), seed = num('seed', 1), timeoutMs = num('timeout', 2000), workers = Math.max(1, num('workers', 1));
const only = a.only ? a.only.split(',').map(Number) : undefined;
const sweep = a.sweep === 'all' || a.sweep === 'true' ? ['demo', 'timm', 'hf', 'deit', 'export', 'export4'] : a.sweep?.split(',');

if (a.inline && only) {
  const seeds = prepareSeeds(loadSeedBytes());
  for (const i of only) {
    const r = runCase(seed, i, seeds);
    console.log(`#${i} ${r.kind} on ${r.seed}: ${r.what}\n  -> ${r.outcome} ${r.code ?? ''} ${r.message ?? ''}`);
    if (r.stack) console.log(r.stack);
  }
} else {
  let last = 0;
  const summary = await runFuzz({
    cases, seed, timeoutMs, workers, only, sweep,
    onProgress: (done, total) => {
      if (done - last >= 1000 || done === total) { last = done; process.stderr.write(`  ${done}/${total}\n`); }
    },
  });
  console.log(formatSummary(summary));
  console.log(`command: npm run fuzz -- --cases ${cases} --seed ${seed}${sweep ? ` --sweep ${sweep.join(',')}` : ''}${only ? ` --only ${a.only}` : ''}`);
  process.exitCode = summary.failures.length + summary.bigAllocations.length > 0 ? 1 : 0;
}
