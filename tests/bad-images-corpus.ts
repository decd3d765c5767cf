// The bad-image corpus (tests/fixtures/bad-images, written by tools/fixtures/make-bad-images.py) and the
// one check of an entry against its expected outcome, shared by tests/bad-images.test.ts and
// tools/fuzz/image-fuzz.ts so both judge a file the same way.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { BadImageError } from '../src/engine/errors.ts';
import { decodeImage, type DecodedImage } from '../src/engine/image/index.ts';

interface CaseBase { file: string; note?: string }
/** Decoded to PIL's pixels: exactly (`fnv1a` of the bytes) or, for JPEG, within bounds of a reference PNG. */
export interface DecodedCase extends CaseBase {
  expect: 'decoded';
  width: number; height: number; channels: 1 | 3;
  fnv1a?: string; samples?: Array<[number, number, number[]]>;
  ref?: string; maxDiff?: number; meanDiff?: number;
}
/** Rejected with a BadImageError naming the file, its message matching `reason`. */
export interface SkippedCase extends CaseBase { expect: 'skipped'; reason: string }
export type CorpusCase = DecodedCase | SkippedCase;

export const CORPUS_DIR = new URL('./fixtures/bad-images/', import.meta.url);
export const readCorpusFile = (file: string) => new Uint8Array(readFileSync(new URL(file, CORPUS_DIR)));
export const corpusCases = (): CorpusCase[] => JSON.parse(readFileSync(new URL('manifest.json', CORPUS_DIR), 'utf8')).cases;

export function corpusBytes(): number {
  return readdirSync(CORPUS_DIR).reduce((sum, f) => sum + statSync(new URL(f, CORPUS_DIR)).size, 0);
}

/** 32-bit FNV-1a, as the generator computes it. */
export function fnv1a(data: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < data.length; i++) h = Math.imul(h ^ data[i], 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

/** Null when `decodeImage` gives the case's expected outcome, else what went wrong. */
export function checkCase(c: CorpusCase, bytes: Uint8Array): string | null {
  let img: DecodedImage | null = null;
  let error: unknown = null;
  try { img = decodeImage(bytes, c.file); } catch (e) { error = e; }
  if (error !== null) {
    const msg = error instanceof Error ? error.message : String(error);
    if (!(error instanceof BadImageError)) return `untyped ${error instanceof Error ? error.name : typeof error}: ${msg}`;
    if (!msg.startsWith(`${c.file}: `)) return `message does not start with the file name: ${msg}`;
    if (c.expect === 'decoded') return `rejected, expected decoded: ${msg}`;
    return new RegExp(c.reason).test(msg) ? null : `reason ${JSON.stringify(msg)} does not match /${c.reason}/`;
  }
  if (c.expect === 'skipped') return `decoded (${img!.width}x${img!.height}), expected skipped /${c.reason}/`;
  return comparePixels(c, img!);
}

function comparePixels(c: DecodedCase, img: DecodedImage): string | null {
  const got = [img.width, img.height, img.channels];
  if (got.join() !== [c.width, c.height, c.channels].join()) return `decoded as ${got.join('/')}, expected ${c.width}/${c.height}/${c.channels}`;
  if (img.data.length !== img.width * img.height * img.channels) return `data has ${img.data.length} bytes for ${got.join('/')}`;
  if (c.fnv1a) {
    if (fnv1a(img.data) === c.fnv1a) return null;
    const at = (c.samples ?? []).map(([x, y, v]) => `(${x},${y}) ${Array.from(img.data.subarray((y * img.width + x) * img.channels, (y * img.width + x + 1) * img.channels))} vs ${v}`);
    return `pixels differ from PIL's (checksum ${fnv1a(img.data)} vs ${c.fnv1a}); ${at.join('; ')}`;
  }
  const ref = decodeImage(readCorpusFile(c.ref!), c.ref!);
  let max = 0, sum = 0;
  for (let i = 0; i < ref.data.length; i++) { const d = Math.abs(ref.data[i] - img.data[i]); max = Math.max(max, d); sum += d; }
  const mean = sum / ref.data.length;
  if (ref.data.length !== img.data.length || max > c.maxDiff! || mean > c.meanDiff!) {
    return `pixels differ from PIL's: max ${max} (bound ${c.maxDiff}), mean ${mean.toFixed(3)} (bound ${c.meanDiff})`;
  }
  return null;
}
