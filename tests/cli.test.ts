/**
 * `npx adfq` end to end, as a user runs it: the JSON contract of each command, raw tensors through
 * `run` against PyTorch's logits, and typed, readable errors with exit codes and no stack traces.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareClose } from './helpers/all-close.ts';
import { FIXTURE_DIR, loadFixture } from './fixtures/onnx/io.ts';

const BIN = new URL('../bin/adfq.mjs', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'adfq-cli-'));

function adfq(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 300_000 });
  const lines = r.stdout.trim().split('\n');
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, last: lines[lines.length - 1] };
}

describe('adfq CLI', () => {
  it('inspect --json prints the architecture as the last line', () => {
    const r = adfq('inspect', `${FIXTURE_DIR}odd_p6_c1_op13_erfmul.onnx`, '--json');
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.last);
    expect(j).toMatchObject({ depth: 2, dim: 24, heads: 3, patch: 6, imageSize: 30, numClasses: 7, tokens: 26, inChannels: 1 });
  });

  it('run writes float32 logits equal to PyTorch for a raw NCHW input', () => {
    const name = 'deit_distilled_op17_dynamic';
    const f = loadFixture(name);
    const input = join(tmp, 'x.f32'), out = join(tmp, 'y.f32');
    writeFileSync(input, new Uint8Array(f.input.buffer));
    const r = adfq('run', `${FIXTURE_DIR}${name}.onnx`, '--input', input, '--shape', f.inputShape.join(','), '--out', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.last);
    expect(j.shape).toEqual(f.logitsShape);
    const bytes = readFileSync(out);
    const logits = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    const check = compareClose(logits, f.logits, { atol: 1e-4, rtol: 1e-4 });
    expect(check.ok, check.message).toBe(true);
  });

  it.each([
    [['inspect', '/nonexistent/model.onnx'], 2, /Model file not found/],
    [['inspect', BIN], 1, /ONNX/],
    [['eval', '--bogus'], 2, /Unknown option --bogus/],
    [['run', `${FIXTURE_DIR}timm_op17_tanh_dynamic.onnx`, '--input', BIN, '--shape', '1,3,x,32', '--out', join(tmp, 'o')], 2, /--shape must be four positive integers/],
    [['run', `${FIXTURE_DIR}timm_op17_tanh_dynamic.onnx`, '--input', BIN, '--shape', '1,3,32,32', '--out', join(tmp, 'o')], 1, /float32 \[1, 3, 32, 32\] needs 12288/],
    [['inspect', `${FIXTURE_DIR}cnn_op13.onnx`], 1, /not|unsupported|Expected/i],
    [['frobnicate'], 2, /Unknown command 'frobnicate'/],
  ])('%j fails with exit %i and a readable message, no stack trace', (args, code, message) => {
    const r = adfq(...(args as string[]));
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message as RegExp);
    expect(r.stderr).toMatch(/^adfq: /m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('--debug adds the stack trace', () => {
    const r = adfq('inspect', BIN, '--debug');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\n\s+at /);
  });
});
