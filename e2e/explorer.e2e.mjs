// The activation distribution explorer: statistics recorded in the worker on our GPU kernels, and the
// block-0 post-LayerNorm ('qkv-in') histogram the page shows equals a CPU twin of the same computation
// (engine image pipeline + patchEmbedRef + layerNormRef + histogramRef, run in Node) on the same images.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { openStudio } from './browser.mjs';
import { demoSet } from './fixtures-demo.mjs';
import { dropFiles } from './fixtures-drop.mjs';

let browser, page, pageErrors;
const set = demoSet({ classes: 2, perClass: 2 });
const hist = async () => JSON.parse(await page.getByTestId('hist-counts').textContent());
const waitSite = (block, kind) => page.waitForFunction(([b, k]) => {
  const el = document.querySelector('[data-testid=hist-counts]');
  if (!el) return false;
  const h = JSON.parse(el.textContent);
  return h.block === b && h.kind === k;
}, [block, kind], { timeout: 60_000 });

before(async () => {
  mkdirSync('test-results', { recursive: true });
  ({ browser, page, pageErrors } = await openStudio({ dataCount: /.*/ }));
  // Few images keep SwiftShader quick: the demo's 200 would take minutes of GPU emulation.
  await dropFiles(page, [{ path: set.modelName, bytes: set.modelBytes }, ...set.images.map((im) => ({ path: `few/${im.path}`, bytes: im.bytes }))]);
  await page.waitForFunction((n) => document.querySelector('[data-testid=data-count]')?.textContent === `${n} images, ${n} labelled`, set.images.length, { timeout: 60_000 });
});

after(async () => { await browser?.close(); });

test('recording statistics shows the block-0 histogram, counting every value once', async () => {
  await page.getByTestId('record-stats').click();
  await page.getByTestId('stats-summary').waitFor({ timeout: 300_000 });
  await waitSite(0, 'qkv-in');
  const h = await hist();
  const total = h.counts.reduce((a, b) => a + b, 0) + h.under + h.over;
  assert.equal(h.count, set.images.length * h.tokens * h.channels);
  assert.equal(total, h.count);
  for (const id of ['histogram-chart', 'channel-chart', 'token-channel-heatmap', 'token-block-heatmap', 'threshold-table']) {
    assert.ok(await page.getByTestId(id).isVisible(), `${id} is shown`);
  }
});

test('the block-0 qkv-in histogram equals the CPU twin on the same images', async (t) => {
  const h = await hist();
  const dir = mkdtempSync(join(tmpdir(), 'adfq-e2e-'));
  try {
    const model = join(dir, 'model.onnx');
    writeFileSync(model, set.modelBytes);
    const images = set.images.map((im, i) => { const p = join(dir, `${i}.png`); writeFileSync(p, im.bytes); return p; });
    const spec = await page.evaluate(() => {
      const v = (id) => document.querySelector(`[data-testid=${id}]`).value;
      const list = (id) => v(id).split(',').map(Number);
      return { resize: Number(v('resize')), imageSize: Number(v('crop')), mean: list('mean'), std: list('std'), channels: 3 };
    });
    const cpu = JSON.parse(execFileSync(process.execPath, ['--import', './tools/node-loader.mjs', 'e2e/fixtures-ln1-histogram.ts'], {
      input: JSON.stringify({ model, images, spec, lo: h.lo, hi: h.hi, bins: h.counts.length }), encoding: 'utf8',
    }));
    assert.equal(cpu.values, h.count);
    // The GPU LayerNorm sums in f32, the twin in f64, so a value within f32 rounding of a bin edge (or of
    // lo/hi, which are the GPU's own min/max) may fall on the other side of it. Compare running counts at
    // every edge k (values below edge k, under-range included): they may differ only by the number of
    // values the twin finds that close to edge k (nearEdge[k]); everywhere else they must be equal.
    let cumGpu = h.under, cumCpu = cpu.under, differing = 0, moved = 0;
    for (let k = 0; k <= h.counts.length; k++) {
      const d = Math.abs(cumGpu - cumCpu);
      assert.ok(d <= cpu.nearEdge[k], `edge ${k}: ${cumGpu} GPU vs ${cumCpu} CPU values below it, only ${cpu.nearEdge[k]} near it`);
      if (d) { differing++; moved += d; }
      if (k < h.counts.length) { cumGpu += h.counts[k]; cumCpu += cpu.counts[k]; }
    }
    t.diagnostic(`${h.count} values; ${h.counts.length} bins; ${differing} edges where f32 rounding moved ${moved} value(s) across`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('another block and tensor can be picked; toggles redraw without errors', async () => {
  await page.getByTestId('site-kind').selectOption('fc2-in');
  await page.getByTestId('site-block').selectOption('1');
  await waitSite(1, 'fc2-in');
  const h = await hist();
  assert.equal(h.counts.reduce((a, b) => a + b, 0) + h.under + h.over, h.count);
  await page.getByTestId('log-scale').click();
  await page.getByTestId('sort-channels').click();
  await page.getByTestId('site-kind').selectOption('qkv-in');
  await waitSite(1, 'qkv-in');
  await page.getByTestId('log-scale').click();
  await page.getByTestId('sort-channels').click();
  await page.waitForTimeout(300);  // let echarts paint before the screenshot
  await page.getByTestId('stats-panel').screenshot({ path: 'test-results/studio-explorer.png' });
  await page.screenshot({ path: 'test-results/studio-explorer-page.png', fullPage: true });
  assert.deepEqual(pageErrors, []);
});
