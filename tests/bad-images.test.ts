// Image files are untrusted: every file of the bad-image corpus is either decoded to PIL's pixels or
// rejected with a BadImageError that names it and says why, and in the evaluation loader one bad
// image never stops a run. Corpus: tests/fixtures/bad-images (tools/fixtures/make-bad-images.py).
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { imageBatches, type ImageSource, type SkippedImage } from '../src/engine/eval/image-batches.ts';
import { CancelledError, UsageError } from '../src/engine/errors.ts';
import { checkCase, CORPUS_DIR, corpusBytes, corpusCases, readCorpusFile } from './bad-images-corpus.ts';

const cases = corpusCases();

describe('bad-image corpus: each file gets its expected outcome from decodeImage', () => {
  it('the corpus is small, listed in full and covers both outcomes', () => {
    expect(corpusBytes()).toBeLessThan(300 * 1024);
    const listed = new Set(cases.flatMap((c) => (c.expect === 'decoded' && c.ref ? [c.file, c.ref] : [c.file])));
    const files = readdirSync(CORPUS_DIR).filter((f) => f !== 'manifest.json');
    expect(files.filter((f) => !listed.has(f))).toEqual([]);
    expect(cases.filter((c) => c.expect === 'decoded').length).toBeGreaterThan(40);
    expect(cases.filter((c) => c.expect === 'skipped').length).toBeGreaterThan(40);
  });

  for (const c of cases) {
    const what = c.expect === 'decoded' ? `decoded ${c.width}x${c.height}x${c.channels}` : `skipped /${c.reason}/`;
    it(`${c.file} → ${what}${c.note ? ` (${c.note})` : ''}`, () => {
      expect(checkCase(c, readCorpusFile(c.file))).toBeNull();
    });
  }
});

describe('evaluation loader: one bad image never stops a run', () => {
  const spec = { resize: 8, imageSize: 8, mean: [0.5], std: [0.25], channels: 3 as const };
  const per = 3 * 8 * 8;
  const good = ['jpeg-baseline-420.jpg', 'png-rgba.png', 'png-gray16.png'].map((f): ImageSource => ({
    name: `good/${f}`, label: 0, load: async () => new Uint8Array(readFileSync(new URL(`./fixtures/images/${f}`, import.meta.url))),
  }));
  const corpus = cases.map((c): ImageSource => ({ name: c.file, label: 1, load: async () => readCorpusFile(c.file) }));
  const unreadable: ImageSource = { name: 'gone.jpg', label: 1, load: async () => { throw new Error('ENOENT: no such file'); } };
  // Good images first, in the middle and last, so no batch position is special.
  const sources = [good[0], ...corpus.slice(0, 40), good[1], unreadable, ...corpus.slice(40), good[2]];

  it('decodes every good image, in order, and lists every bad one with its reason', async () => {
    const skipped: SkippedImage[] = [];
    const kept: string[] = [];
    let consumed = 0;
    for await (const b of imageBatches(sources, spec, 7, skipped)) {
      expect(b.pixels.length).toBe(b.kept.length * per);
      expect(b.pixels.every(Number.isFinite)).toBe(true);
      kept.push(...b.kept.map((s) => s.name));
      consumed = b.consumed;
    }
    expect(consumed).toBe(sources.length);
    const decodable = new Set([...good.map((s) => s.name), ...cases.filter((c) => c.expect === 'decoded').map((c) => c.file)]);
    expect(kept).toEqual(sources.map((s) => s.name).filter((n) => decodable.has(n)));
    const expectedSkips = sources.map((s) => s.name).filter((n) => !decodable.has(n));
    expect(skipped.map((s) => s.name)).toEqual(expectedSkips);
    for (const s of skipped) {
      const c = cases.find((k) => k.file === s.name);
      if (c?.expect === 'skipped') expect(s.reason).toMatch(new RegExp(`^${escape(c.file)}: .*${c.reason}`));
      else expect(s).toEqual({ name: 'gone.jpg', reason: 'could not be read (Error: ENOENT: no such file)' });
    }
  });

  it('errors about the whole run are not turned into a skip per image', async () => {
    const drain = async (s: typeof spec, signal?: AbortSignal) => { for await (const _ of imageBatches(sources, s, 7, [], signal)); };
    // A bad spec would otherwise "skip" every image with the same message and report 0% accuracy.
    await expect(drain({ ...spec, std: [0] })).rejects.toBeInstanceOf(UsageError);
    const abort = new AbortController();
    abort.abort();
    await expect(drain(spec, abort.signal)).rejects.toBeInstanceOf(CancelledError);
  });
});

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
