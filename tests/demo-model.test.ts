// The embedded demo models (public/demo/, made by tools/demo/make_demo_model.py): both ONNX files
// load in onnxruntime-node, the outlier-rescaled variant computes the same function as the plain
// model, accuracy holds on the 200 committed samples and (when the dataset is installed) on the
// full Fashion-MNIST test set, and the variant really has a few wide LayerNorm channels.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { decode } from 'fast-png';
// onnx-proto is CommonJS: take the namespace off the default export (works in Node ESM and vitest).
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

const DEMO = fileURLToPath(new URL('../public/demo/', import.meta.url));
const PLAIN = path.join(DEMO, 'vit-fmnist.onnx');
const OUTLIERS = path.join(DEMO, 'vit-fmnist-outliers.onnx');
const DATASET = '/usr/share/datasets/fashion-mnist';
const SIZE = 28;
const CLASS_NAMES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

/** Folder name of a class under public/demo/images/ (see public/demo/README.md). */
const classSlug = (name: string) => name.replace(/[/ ]/g, '_');

/** uint8 gray images (n·28·28) -> NCHW float32 with x/255, (x-0.5)/0.5, gray replicated to 3 channels. */
function toTensor(gray: Uint8Array, n: number): ort.Tensor {
  const px = SIZE * SIZE;
  const out = new Float32Array(n * 3 * px);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < px; j++) {
      const v = (gray[i * px + j] / 255 - 0.5) / 0.5;
      out[(i * 3) * px + j] = v;
      out[(i * 3 + 1) * px + j] = v;
      out[(i * 3 + 2) * px + j] = v;
    }
  }
  return new ort.Tensor('float32', out, [n, 3, SIZE, SIZE]);
}

async function runLogits(session: ort.InferenceSession, gray: Uint8Array, n: number, batch = 500): Promise<Float32Array> {
  const px = SIZE * SIZE;
  const logits = new Float32Array(n * 10);
  for (let s = 0; s < n; s += batch) {
    const m = Math.min(batch, n - s);
    const out = await session.run({ pixel_values: toTensor(gray.subarray(s * px, (s + m) * px), m) });
    logits.set(out.logits.data as Float32Array, s * 10);
  }
  return logits;
}

function argmax(logits: Float32Array, n: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < 10; c++) if (logits[i * 10 + c] > logits[i * 10 + best]) best = c;
    out[i] = best;
  }
  return out;
}

/** Loads the committed samples: public/demo/images/<class folder>/<nn>.png, labels from public/demo/classes.tsv. */
function loadSamples(): { gray: Uint8Array; labels: Int32Array; n: number } {
  const rows = readFileSync(path.join(DEMO, 'classes.tsv'), 'utf8').trim().split('\n').map((l) => l.split('\t'));
  const images: Uint8Array[] = [];
  const labels: number[] = [];
  for (const [idx, , name] of rows) {
    const dir = path.join(DEMO, 'images', classSlug(name));
    for (const f of readdirSync(dir).filter((f) => f.endsWith('.png')).sort()) {
      const png = decode(readFileSync(path.join(dir, f)));
      expect([png.width, png.height, png.channels, png.depth]).toEqual([SIZE, SIZE, 1, 8]);
      images.push(png.data as Uint8Array);
      labels.push(Number(idx));
    }
  }
  const gray = new Uint8Array(images.length * SIZE * SIZE);
  images.forEach((im, i) => gray.set(im, i * SIZE * SIZE));
  return { gray, labels: Int32Array.from(labels), n: images.length };
}

function loadIdxTestSet(): { gray: Uint8Array; labels: Uint8Array; n: number } {
  const img = gunzipSync(readFileSync(path.join(DATASET, 't10k-images-idx3-ubyte.gz')));
  const lab = gunzipSync(readFileSync(path.join(DATASET, 't10k-labels-idx1-ubyte.gz')));
  const n = img.readUInt32BE(4);
  expect(img.readUInt32BE(0)).toBe(2051);
  expect([img.readUInt32BE(8), img.readUInt32BE(12)]).toEqual([SIZE, SIZE]);
  expect(lab.readUInt32BE(0)).toBe(2049);
  return { gray: new Uint8Array(img.buffer, img.byteOffset + 16, n * SIZE * SIZE), labels: new Uint8Array(lab.buffer, lab.byteOffset + 8, n), n };
}

function metadata(file: string): Record<string, string> {
  const model = onnx.ModelProto.decode(readFileSync(file));
  return Object.fromEntries((model.metadataProps ?? []).map((p) => [p.key as string, p.value as string]));
}

function accuracy(pred: Int32Array, labels: ArrayLike<number>): number {
  let ok = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === labels[i]) ok++;
  return ok / pred.length;
}

/** max |a-b| / max |a|. */
function relDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(a[i]));
  }
  return d / m;
}

describe('demo models (public/demo)', () => {
  let plain: ort.InferenceSession;
  let outliers: ort.InferenceSession;

  beforeAll(async () => {
    plain = await ort.InferenceSession.create(PLAIN);
    outliers = await ort.InferenceSession.create(OUTLIERS);
  });
  afterAll(async () => {
    await plain?.release();
    await outliers?.release();
  });

  it('both ONNX files load with pixel_values -> logits and carry the studio metadata', () => {
    for (const s of [plain, outliers]) {
      expect(s.inputNames).toEqual(['pixel_values']);
      expect(s.outputNames).toEqual(['logits']);
    }
    for (const file of [PLAIN, OUTLIERS]) {
      const meta = metadata(file);
      expect(meta['adfq.mean']).toBe('0.5,0.5,0.5');
      expect(meta['adfq.std']).toBe('0.5,0.5,0.5');
      expect(meta['adfq.resize']).toBe(String(SIZE));
      expect(JSON.parse(meta['adfq.labels'])).toEqual(CLASS_NAMES);
      expect(meta['adfq.description']).toBeTruthy();
    }
    const meta = metadata(OUTLIERS);
    expect(meta['adfq.variant']).toBe('outlier-rescaled');
    expect(meta['adfq.description']).toMatch(/outlier/i);
    const spec = JSON.parse(meta['adfq.outliers']) as { ln: string; linear: string; channels: number[]; factors: number[] }[];
    expect(spec.length).toBeGreaterThan(0);
    for (const s of spec) expect(s.channels.length).toBe(s.factors.length);
    expect(metadata(PLAIN)['adfq.variant']).toBeUndefined();
  });

  it('classes.tsv matches the model labels', () => {
    const rows = readFileSync(path.join(DEMO, 'classes.tsv'), 'utf8').trim().split('\n').map((l) => l.split('\t'));
    expect(rows).toEqual(CLASS_NAMES.map((name, i) => [String(i), `fmnist${i}`, name]));
  });

  it('on the 200 samples: variant == plain (argmax, logits) and accuracy >= 85%', async () => {
    const { gray, labels, n } = loadSamples();
    expect(n).toBe(200);
    const a = await runLogits(plain, gray, n);
    const b = await runLogits(outliers, gray, n);
    expect(Array.from(argmax(b, n))).toEqual(Array.from(argmax(a, n)));
    expect(relDiff(a, b)).toBeLessThan(1e-4);
    const acc = accuracy(argmax(b, n), labels);
    console.log(`demo samples: accuracy ${(acc * 100).toFixed(1)}% (200 images)`);
    expect(acc).toBeGreaterThanOrEqual(0.85);
  });

  it.skipIf(!existsSync(path.join(DATASET, 't10k-images-idx3-ubyte.gz')))(
    'on the Fashion-MNIST 10k test set (when installed): outlier variant accuracy >= 88%, same argmax as plain',
    async () => {
      const { gray, labels, n } = loadIdxTestSet();
      expect(n).toBe(10000);
      const b = await runLogits(outliers, gray, n);
      const a = await runLogits(plain, gray, n);
      const pb = argmax(b, n);
      const acc = accuracy(pb, labels);
      let same = 0;
      const pa = argmax(a, n);
      for (let i = 0; i < n; i++) if (pa[i] === pb[i]) same++;
      console.log(`demo 10k test: outlier variant accuracy ${(acc * 100).toFixed(2)}%, plain ${(accuracy(pa, labels) * 100).toFixed(2)}%, argmax agreement ${same}/${n}`);
      expect(acc).toBeGreaterThanOrEqual(0.88);
      expect(same).toBe(n);
      expect(relDiff(a, b)).toBeLessThan(1e-4);
    },
  );

  it('the variant has a few channels with |gamma| >= 10x the median in every block LayerNorm (not the final norm); the plain model none', () => {
    const lnScales = (file: string) => {
      const model = onnx.ModelProto.decode(readFileSync(file));
      const g = model.graph!;
      const inits = new Map((g.initializer ?? []).map((t) => [t.name as string, t]));
      const names = (g.node ?? []).filter((nd) => nd.opType === 'LayerNormalization').map((nd) => (nd.input ?? [])[1]);
      expect(names.length).toBeGreaterThan(0);
      return names.map((name) => {
        const t = inits.get(name)!;
        expect(t, `initializer ${name}`).toBeDefined();
        const raw = t.rawData;
        const vals = raw?.length
          ? new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength))
          : Float32Array.from(t.floatData ?? []);
        const abs = Array.from(vals, Math.abs);
        const median = [...abs].sort((x, y) => x - y)[abs.length >> 1];
        return { name, wide: abs.filter((v) => v >= 10 * median).length };
      });
    };
    const variant = lnScales(OUTLIERS);
    expect(variant.length).toBe(13);   // 6 blocks × 2, and the final norm last
    for (const { name, wide } of variant.slice(0, -1)) {
      expect(wide, name).toBeGreaterThanOrEqual(2);
      expect(wide, name).toBeLessThanOrEqual(4);
    }
    // The head input is quantized per tensor at b_a bits (spec §1): outliers there would erase the rest at 4 bits.
    expect(variant[variant.length - 1].wide).toBe(0);
    for (const { name, wide } of lnScales(PLAIN)) expect(wide, name).toBe(0);
  });
});
