/** Worker of tools/fuzz/image-fuzz.ts: decodes one input per message, so the parent can time it out. */
import { parentPort } from 'node:worker_threads';
import { BadImageError } from '../../src/engine/errors.ts';
import { decodeImage, DEFAULT_MAX_PIXELS } from '../../src/engine/image/index.ts';

export interface FuzzResult { id: number; outcome: 'decoded' | 'skipped' | 'untyped'; detail: string; ms: number }

parentPort!.on('message', ({ id, name, bytes }: { id: number; name: string; bytes: Uint8Array }) => {
  const t = performance.now();
  let outcome: FuzzResult['outcome'], detail: string;
  try {
    const img = decodeImage(bytes, name);
    // A decode must be self-consistent and within the limits the header check promises.
    const ok = (img.channels === 1 || img.channels === 3) && img.width > 0 && img.height > 0 &&
      img.width * img.height <= DEFAULT_MAX_PIXELS && img.data.length === img.width * img.height * img.channels;
    outcome = ok ? 'decoded' : 'untyped';
    detail = ok ? `${img.width}x${img.height}x${img.channels}` : `inconsistent image ${img.width}x${img.height}x${img.channels}, ${img.data.length} bytes`;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    // decodeImage's safety net and the decoders turn library crashes into BadImageError; these still count as bugs.
    const typed = e instanceof BadImageError && msg.startsWith(`${name}: `) &&
      !msg.includes('unexpected decoder failure') && !msg.includes('crashed the decoder');
    outcome = typed ? 'skipped' : 'untyped';
    detail = typed ? msg : `${e instanceof Error ? e.constructor.name : typeof e}: ${msg}`;
  }
  parentPort!.postMessage({ id, outcome, detail, ms: performance.now() - t } satisfies FuzzResult);
});
