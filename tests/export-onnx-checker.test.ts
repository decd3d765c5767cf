/**
 * Tooling check: exports pass Python's `onnx.checker.check_model(full_check=True)` (which also runs ONNX
 * shape inference) when `/usr/bin/python3 -c 'import onnx'` works; skipped with a note otherwise. Opset 21
 * exports need onnx ≥ 1.16 (IR version 10); with an older onnx they are skipped with a note.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportQuantizedOnnx, type ExportOptions } from '../src/engine/export/export-onnx.ts';
import { importViT } from '../src/engine/onnx/import-vit.ts';
import { minMaxParams } from '../src/engine/quant/min-max.ts';
import { demoModelBytes } from './export-helpers.ts';
import { loadFixture } from './fixtures/onnx/io.ts';
import { randomImages } from './quant-model-helpers.ts';

const PYTHON = '/usr/bin/python3';
const probe = spawnSync(PYTHON, ['-c', 'import onnx; print(onnx.__version__, onnx.IR_VERSION)'], { encoding: 'utf8' });
const onnxInfo = probe.status === 0 ? probe.stdout.trim().split(' ') : null;
if (!onnxInfo) console.warn(`[export-onnx-checker] ${PYTHON} with the onnx package is not available: skipped.`);
const irSupported = onnxInfo ? Number(onnxInfo[1]) : 0;

const CHECK = `
import json, sys, onnx
out = {}
for path in sys.argv[1:]:
    try:
        onnx.checker.check_model(onnx.load(path), full_check=True)
        out[path] = 'ok'
    except Exception as e:
        out[path] = str(e)[:500]
print(json.dumps(out))
`;

describe.skipIf(!onnxInfo)('exports pass onnx.checker.check_model(full_check=True)', () => {
  it('demo, DeiT-distilled and tanh fixtures, both formats, W4A4 and W8A8, every opset the installed onnx knows', () => {
    const models = [
      ['demo', importViT(demoModelBytes())],
      ['deit', importViT(loadFixture('deit_distilled_op13_fixed').bytes)],
      ['tanh', importViT(loadFixture('timm_op17_tanh_dynamic').bytes)],
    ] as const;
    const variants: ExportOptions[] = [
      { format: 'qdq', opset: 13 }, { format: 'qdq', opset: 17 }, { format: 'fake-quant-weights', opset: 13 }, { format: 'fake-quant-weights', opset: 17 },
      { format: 'qdq', opset: 21, int4Weights: true }, { format: 'fake-quant-weights', opset: 21 },
    ];
    const usable = variants.filter((v) => (v.opset === 21 ? irSupported >= 10 : true));
    if (usable.length < variants.length) console.warn(`[export-onnx-checker] onnx ${onnxInfo![0]} (IR ${irSupported}) predates opset 21 / IR 10: opset-21 exports not checked here (the structural checker and onnxruntime cover them).`);
    const dir = mkdtempSync(join(tmpdir(), 'adfq-export-check-'));
    try {
      const paths: string[] = [];
      for (const [name, model] of models) {
        const c = model.config;
        const pixels = randomImages(4, c.inChannels * c.imageSize ** 2, 5);
        for (const bits of [4, 8]) {
          const params = minMaxParams(model, pixels, 4, { bitsW: bits, bitsA: bits });
          for (const v of usable) {
            const path = join(dir, `${name}-w${bits}-${v.format}-${v.opset}.onnx`);
            writeFileSync(path, exportQuantizedOnnx(model, params, v));
            paths.push(path);
          }
        }
      }
      const result = JSON.parse(execFileSync(PYTHON, ['-c', CHECK, ...paths], { encoding: 'utf8', maxBuffer: 1 << 24 }));
      console.log(`[export-onnx-checker] onnx ${onnxInfo![0]}: ${paths.length} exports checked`);
      for (const p of paths) expect(result[p], p).toBe('ok');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
