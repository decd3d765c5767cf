/**
 * The real timm ViT-Ti/16 from the shared ImageNet fixture (opset 17, see its README): the importer must
 * recognise it and the CPU forward on the imported weights must match onnxruntime. Skipped, with a
 * message, when ../shared is not checked out next to this repository.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { importViT } from '../src/engine/onnx/import-vit';
import { vitForwardCpu } from '../src/engine/reference/vit-forward';
import { parameterCount } from '../src/engine/vit/description';
import { allClose, randomArray } from './helpers/all-close';
import { runOrt } from './fixtures/onnx/io';

const PATH = new URL('../../shared/fixtures/imagenet/vit_tiny_patch16_224.onnx', import.meta.url);
const present = existsSync(PATH);
if (!present) console.warn(`[onnx-vit-tiny] ${PATH.pathname} is absent (no ../shared checkout); the ViT-Ti import test is skipped.`);

describe('ViT-Ti/16 from the shared ImageNet fixture', () => {
  it.skipIf(!present)('imports with the right config and matches onnxruntime', async () => {
    const bytes = new Uint8Array(readFileSync(PATH));
    const model = importViT(bytes);
    expect(model.config).toMatchObject({
      style: 'timm', imageSize: 224, patch: 16, inChannels: 3, dim: 192, depth: 12, heads: 3, mlpDim: 768,
      numClasses: 1000, prefixTokens: 1, tokens: 197, lnEps: 1e-6, gelu: 'erf', fixedBatch: null,
      inputName: 'pixel_values', outputName: 'logits',
    });
    expect(parameterCount(model)).toBe(5_717_416); // the README's count
    expect(model.sources).toMatchObject({ headW: 'head.weight', 'blocks.11.fc2B': 'blocks.11.mlp.fc2.bias' });

    // Image-shaped input in the normalised range ((x/255 − 0.5)/0.5 ∈ [−1, 1]).
    const input = randomArray(3 * 224 * 224, 1234, -1, 1);
    const cpu = vitForwardCpu(model, input, 1);
    const ort = await runOrt(bytes, 'pixel_values', input, [1, 3, 224, 224]);
    allClose(cpu, ort, { atol: 2e-4, rtol: 1e-4 }, 'ViT-Ti CPU forward vs onnxruntime');
  });
});
