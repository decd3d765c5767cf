/**
 * One test per supported export style: import the fixture, check the recognised configuration, then
 * check that the CPU reference forward on the imported (layout-converted) weights reproduces both the
 * logits torch computed at export time and onnxruntime's output on the same file.
 */
import { describe, expect, it } from 'vitest';
import { importViT } from '../src/engine/onnx/import-vit';
import { vitForwardCpu } from '../src/engine/reference/vit-forward';
import { parameterCount, type ViTConfig } from '../src/engine/vit/description';
import { allClose } from './helpers/all-close';
import { loadFixture, runOrt } from './fixtures/onnx/io';

type Expected = Partial<ViTConfig>;
const base = { imageSize: 32, patch: 8, inChannels: 3, dim: 32, depth: 2, heads: 4, mlpDim: 64, numClasses: 10 };
const odd = { imageSize: 30, inChannels: 1, dim: 24, depth: 2, heads: 3, mlpDim: 40, numClasses: 7 };

const CASES: [string, Expected][] = [
  ['timm_op13_erf_fixed', { ...base, style: 'timm', prefixTokens: 1, tokens: 17, gelu: 'erf', lnEps: 1e-6, fixedBatch: 2 }],
  ['timm_op17_tanh_dynamic', { ...base, style: 'timm', prefixTokens: 1, tokens: 17, gelu: 'tanh', lnEps: 1e-6, fixedBatch: null }],
  ['hf_op13_dynamic_nofold', { ...base, style: 'huggingface', prefixTokens: 1, tokens: 17, gelu: 'erf', lnEps: 1e-12, fixedBatch: null }],
  ['hf_op17_fixed', { ...base, style: 'huggingface', prefixTokens: 1, tokens: 17, gelu: 'erf', lnEps: 1e-12, fixedBatch: 1 }],
  ['deit_distilled_op17_dynamic', { ...base, style: 'deit-distilled', prefixTokens: 2, tokens: 18, gelu: 'erf', lnEps: 1e-6, fixedBatch: null }],
  ['deit_distilled_op13_fixed', { ...base, style: 'deit-distilled', prefixTokens: 2, tokens: 18, gelu: 'tanh', lnEps: 1e-6, fixedBatch: 2 }],
  ['odd_p6_c1_op13_erfmul', { ...odd, patch: 6, style: 'timm', prefixTokens: 1, tokens: 26, gelu: 'erf', lnEps: 1e-6, fixedBatch: 1 }],
  ['odd_p5_c4_op17_tanhpow', { ...odd, patch: 5, inChannels: 4, style: 'timm', prefixTokens: 1, tokens: 37, gelu: 'tanh', lnEps: 1e-5, fixedBatch: null }],
];

describe('importViT on each export style', () => {
  for (const [name, expected] of CASES) {
    it(name, async () => {
      const fx = loadFixture(name);
      const model = importViT(fx.bytes);
      expect(model.config).toMatchObject(expected);
      expect(model.config.inputName).toBe('pixel_values');
      expect(model.config.outputName).toBe('logits');
      expect(model.weights.blocks).toHaveLength(model.config.depth);
      expect(model.weights.headDistW !== null).toBe(model.config.prefixTokens === 2);
      expect(parameterCount(model)).toBeGreaterThan(0);

      const batch = fx.inputShape[0];
      const cpu = vitForwardCpu(model, fx.input, batch);
      const ort = await runOrt(fx.bytes, model.config.inputName, fx.input, fx.inputShape);
      expect(cpu.length).toBe(batch * model.config.numClasses);
      allClose(cpu, fx.logits, { atol: 1e-4, rtol: 1e-4 }, `${name}: CPU forward vs torch`);
      allClose(cpu, ort, { atol: 1e-4, rtol: 1e-4 }, `${name}: CPU forward vs onnxruntime`);
    });
  }

  it('fills sources with the initializer names (timm and Hugging Face)', () => {
    const timm = importViT(loadFixture('timm_op13_erf_fixed').bytes).sources;
    expect(timm).toMatchObject({ patchW: 'patch_embed.proj.weight', posEmbed: 'pos_embed', 'prefix.cls': 'cls_token', headW: 'head.weight', normGamma: 'norm.weight', 'blocks.1.qkvB': 'blocks.1.attn.qkv.bias' });
    const hf = importViT(loadFixture('hf_op13_dynamic_nofold').bytes).sources;
    expect(hf['blocks.0.qkvW']).toBe(['query', 'key', 'value'].map((p) => `vit.encoder.layer.0.attention.attention.${p}.weight`).join(' + '));
    expect(hf).toMatchObject({ headW: 'classifier.weight', 'blocks.1.ln2Gamma': 'vit.encoder.layer.1.layernorm_after.weight', 'blocks.0.fc1W': 'vit.encoder.layer.0.intermediate.dense.weight' });
    const deit = importViT(loadFixture('deit_distilled_op17_dynamic').bytes).sources;
    expect(deit).toMatchObject({ 'prefix.cls': 'cls_token', 'prefix.dist': 'dist_token', headDistW: 'head_dist.weight' });
  });

  it('reads preprocessing and labels from metadata_props (adfq.* and Hugging Face keys)', () => {
    const timm = importViT(loadFixture('timm_op13_erf_fixed').bytes).config;
    expect(timm.preprocessing).toEqual({ mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], resize: 36, source: 'metadata' });
    expect(timm.labels?.[3]).toBe('class 3');
    const hf = importViT(loadFixture('hf_op13_dynamic_nofold').bytes).config;
    expect(hf.preprocessing).toEqual({ mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], resize: 37, source: 'metadata' });
    expect(hf.labels).toEqual(Array.from({ length: 10 }, (_, i) => `hf ${i}`));
    expect(importViT(loadFixture('hf_op17_fixed').bytes).config.preprocessing).toBeNull();
  });
});
