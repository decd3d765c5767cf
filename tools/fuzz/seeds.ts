/**
 * The fuzzer's seed models, all of which import cleanly: the studio's demo model, a synthetic timm ViT,
 * a synthetic Hugging Face ViT (separate q/k/v, no constant folding) and a DeiT-distilled one from the
 * importer fixtures, plus an adfq-studio QDQ export of the timm fixture, built here on the CPU so the
 * export importer (import-export.ts) is fuzzed too. Deterministic: same bytes on every run.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { exportQuantizedOnnx } from '../../src/engine/export/export-onnx';
import { importViT } from '../../src/engine/onnx/import-vit';
import { minMaxParams } from '../../src/engine/quant/min-max';
import { DEFAULT_QUANTIZE_SETTINGS } from '../../src/engine/quant/settings';
import type { Seed } from './mutate-bytes';
import { Rng } from './rng';
import { walk } from './wire';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FILES: Record<string, string> = {
  demo: 'public/demo/vit-fmnist-outliers.onnx',
  timm: 'tests/fixtures/onnx/timm_op13_erf_fixed.onnx',
  hf: 'tests/fixtures/onnx/hf_op13_dynamic_nofold.onnx',
  deit: 'tests/fixtures/onnx/deit_distilled_op17_dynamic.onnx',
};

/** A min-max QDQ export of a fixture, calibrated on 2 seeded random images: W8A8 opset 13 or W4A4 int4 opset 21. */
function exportSeed(fixture: Uint8Array, bits: 4 | 8): Uint8Array {
  const model = importViT(fixture), c = model.config, rng = new Rng(1, 0);
  const pixels = Float32Array.from({ length: 2 * c.inChannels * c.imageSize ** 2 }, () => rng.next() * 2 - 1);
  const params = minMaxParams(model, pixels, 2, { bitsW: bits, bitsA: bits });
  const settings = { ...DEFAULT_QUANTIZE_SETTINGS, method: 'minmax' as const, bitsW: bits, bitsA: bits };
  return exportQuantizedOnnx(model, params, bits === 8 ? { format: 'qdq', opset: 13, settings } : { format: 'qdq', opset: 21, int4Weights: true, settings });
}

/** Seed bytes by name (what the main thread hands to the workers). */
export function loadSeedBytes(): { name: string; bytes: Uint8Array }[] {
  // Typed as plain Uint8Array: the exports are, the files are read into one.
  const seeds: { name: string; bytes: Uint8Array }[] = Object.entries(FILES).map(([name, path]) => ({ name, bytes: new Uint8Array(readFileSync(ROOT + path)) }));
  const bytes = (name: string) => seeds.find((s) => s.name === name)!.bytes;
  seeds.push({ name: 'export', bytes: exportSeed(bytes('timm'), 8) }, { name: 'export4', bytes: exportSeed(bytes('hf'), 4) });
  return seeds;
}

/** Seeds with their wire layout, ready for the mutators. */
export function prepareSeeds(raw: { name: string; bytes: Uint8Array }[]): Seed[] {
  return raw.map(({ name, bytes }) => ({ name, bytes, fields: walk(bytes) }));
}
