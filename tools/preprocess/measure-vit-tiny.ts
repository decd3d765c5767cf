/**
 * Measures our image pipeline against the PIL reference on the real ViT-Ti fixture:
 * both preprocessings → onnxruntime-node → top-1/top-5, disagreements and tensor/pixel differences.
 *
 * Run: node --import ./tools/node-loader.mjs tools/preprocess/measure-vit-tiny.ts [imagesDir] [model.onnx]
 * Needs /usr/bin/python3 with PIL and numpy (tools/preprocess/reference_tensors.py).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { assignLabels } from '../../src/engine/data/labels.ts';
import { listImageFiles, readImagenetClassList } from '../../src/engine/data/node-files.ts';
import { decodeImage, normalizeToTensor, resizeAndCrop, toChannels } from '../../src/engine/image/index.ts';

const FIXTURE = new URL('../../../shared/fixtures/imagenet', import.meta.url).pathname;
const imagesDir = process.argv[2] ?? join(FIXTURE, 'images');
const modelPath = process.argv[3] ?? join(FIXTURE, 'vit_tiny_patch16_224.onnx');
const RESIZE = 256, CROP = 224, MEAN = [0.5, 0.5, 0.5], STD = [0.5, 0.5, 0.5];
const PER = 3 * CROP * CROP;

const entries = await listImageFiles(imagesDir, { readBytes: true });
const labels = assignLabels(entries, { classList: await readImagenetClassList(), numClasses: 1000 });
console.log(`${entries.length} images; labels: ${labels.labelSource} (${labels.labelled} labelled, ${labels.unknown.length} unknown keys)`);

// Reference tensors from PIL + numpy.
const work = join(tmpdir(), 'adfq-preprocess');
mkdirSync(work, { recursive: true });
writeFileSync(join(work, 'list.txt'), entries.map((e) => e.absolutePath).join('\n'));
const py = spawnSync('/usr/bin/python3', [new URL('./reference_tensors.py', import.meta.url).pathname, join(work, 'list.txt'), join(work, 'ref.f32'),
  '--resize', String(RESIZE), '--crop', String(CROP), '--mean', MEAN.join(','), '--std', STD.join(',')], { stdio: 'inherit' });
if (py.status !== 0) throw new Error('reference_tensors.py failed');
const refAll = new Float32Array(readFileSync(join(work, 'ref.f32')).buffer);
const refU8 = new Uint8Array(readFileSync(join(work, 'ref.f32.u8')).buffer);

// Ours, with pixel-level comparison of the uint8 crops.
const t0 = performance.now();
const ours = new Float32Array(entries.length * PER);
let maxPix = 0, sumPix = 0, diffPix = 0, maxTensor = 0;
entries.forEach((e, n) => {
  const crop = resizeAndCrop(toChannels(decodeImage(e.bytes!, e.path), 3), RESIZE, CROP);
  ours.set(normalizeToTensor(crop, MEAN, STD), n * PER);
  for (let i = 0; i < crop.data.length; i++) {
    const d = Math.abs(crop.data[i] - refU8[n * crop.data.length + i]);
    if (d) diffPix++;
    sumPix += d;
    if (d > maxPix) maxPix = d;
  }
});
const ms = performance.now() - t0;
for (let i = 0; i < ours.length; i++) maxTensor = Math.max(maxTensor, Math.abs(ours[i] - refAll[i]));

async function predict(all: Float32Array): Promise<number[][]> {
  const session = await ort.InferenceSession.create(modelPath);
  const top5: number[][] = [];
  for (let s = 0; s < entries.length; s += 25) {
    const b = Math.min(25, entries.length - s);
    const input = new ort.Tensor('float32', all.subarray(s * PER, (s + b) * PER), [b, 3, CROP, CROP]);
    const out = await session.run({ [session.inputNames[0]]: input });
    const logits = out[session.outputNames[0]].data as Float32Array;
    for (let i = 0; i < b; i++) {
      const row = Array.from(logits.subarray(i * 1000, (i + 1) * 1000));
      top5.push(row.map((v, k) => [v, k]).sort((x, y) => y[0] - x[0]).slice(0, 5).map((p) => p[1]));
    }
  }
  return top5;
}

const [pOurs, pRef] = [await predict(ours), await predict(refAll)];
const score = (p: number[][]) => {
  let t1 = 0, t5 = 0;
  labels.items.forEach((it, i) => { if (p[i][0] === it.label) t1++; if (it.label !== null && p[i].includes(it.label)) t5++; });
  return { t1, t5 };
};
const n = entries.length;
const pct = (k: number) => `${((100 * k) / n).toFixed(1)}% (${k}/${n})`;
const so = score(pOurs), sr = score(pRef);
console.log(`\npreprocessing        top-1              top-5`);
console.log(`PIL reference        ${pct(sr.t1).padEnd(18)} ${pct(sr.t5)}`);
console.log(`ours (jpeg-js + TS)  ${pct(so.t1).padEnd(18)} ${pct(so.t5)}`);
console.log(`images whose top-1 differs: ${pOurs.filter((p, i) => p[0] !== pRef[i][0]).length}`);
console.log(`max |tensor difference|: ${maxTensor.toFixed(4)} (${maxPix} uint8 levels)`);
console.log(`uint8 crop pixels differing: ${((100 * diffPix) / (n * PER)).toFixed(2)}%, mean |diff| ${(sumPix / (n * PER)).toFixed(3)} levels`);
console.log(`our preprocessing time: ${(ms / n).toFixed(1)} ms/image`);
