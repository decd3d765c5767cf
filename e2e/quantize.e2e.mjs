// The quantization panel on the demo model: bad input is explained before anything runs; a W4A4 ADFQ
// run in the worker shows its progress, an FP32 and a W4A4 row with accuracies, and the per-site error
// chart; the explorer draws the run's quantizer levels over a post-GELU (SLQ) and a post-LayerNorm (PPOQ)
// histogram; a cancelled run leaves the finished one in place. 30 of the demo's images (3 per class):
// 16 calibrate, 14 are evaluated, which keeps SwiftShader quick.
import { mkdirSync } from 'node:fs';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { openStudio } from './browser.mjs';
import { demoSet } from './fixtures-demo.mjs';
import { dropFiles } from './fixtures-drop.mjs';

let browser, page, pageErrors;
const set = demoSet({ classes: 10, perClass: 3 });
const text = (id) => page.getByTestId(id).innerText();
const PCT = /^\d{1,3}\.\d\d%$/;
const cells = (row) => row.locator('td').allInnerTexts();
const overlay = async () => page.getByTestId('level-overlay').evaluate((el) => ({ kind: el.dataset.kind, levels: Number(el.dataset.levels), drawn: Number(el.dataset.drawn) }));
const waitOverlay = (kind) => page.waitForFunction((k) => document.querySelector('[data-testid=level-overlay]')?.dataset.kind === k, kind, { timeout: 60_000 });

before(async () => {
  mkdirSync('test-results', { recursive: true });
  ({ browser, page, pageErrors } = await openStudio());
  await dropFiles(page, set.images.map((im) => ({ path: `few/${im.path}`, bytes: im.bytes })));
  await page.waitForFunction((n) => document.querySelector('[data-testid=data-count]')?.textContent === `${n} images, ${n} labelled`, set.images.length, { timeout: 60_000 });
});

after(async () => { await browser?.close(); });

test('a calibration size that leaves nothing to evaluate, or is no number, is explained and blocks Run', async () => {
  assert.equal(await page.getByTestId('quant-invalid').count(), 0, 'the default calibration size is valid');
  await page.getByTestId('quant-calib-size').fill(String(set.images.length));
  assert.match(await text('quant-invalid'), new RegExp(`calibration size \\(${set.images.length}\\) must be smaller than the number of images \\(${set.images.length}\\)`));
  assert.ok(await page.getByTestId('run-quant').isDisabled());
  await page.getByTestId('quant-calib-size').fill('ten');
  assert.match(await text('quant-invalid'), /whole number from 1 to 29/);
  assert.ok(await page.getByTestId('run-quant').isDisabled());
  await page.getByTestId('quant-calib-size').fill('16');
  assert.equal(await page.getByTestId('quant-invalid').count(), 0);
  assert.ok(await page.getByTestId('run-quant').isEnabled());
  // The memory plan for that size, before anything runs.
  assert.match(await text('calib-memory'), /^Calibration memory: 16 image\(s\) in 1 chunk\(s\) of 16; about \d+ MiB/);
});

test('W4A4 ADFQ runs in the browser: progress, FP32 and W4A4 rows with accuracies, the per-site error chart', async () => {
  await page.getByTestId('quant-method').selectOption('adfq');
  await page.getByTestId('quant-preset-w4a4').click();
  // Every text the progress line shows, in order.
  await page.evaluate(() => {
    const seen = (window.__quantProgress = []);
    new MutationObserver(() => {
      const t = document.querySelector('[data-testid=quant-progress]')?.textContent?.trim();
      if (t && seen[seen.length - 1] !== t) seen.push(t);
    }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  });
  await page.getByTestId('run-quant').click();
  await page.getByTestId('quant-progress').waitFor({ timeout: 10_000 });
  await page.getByTestId('quant-results').waitFor({ timeout: 300_000 });
  assert.equal(await page.getByTestId('quant-progress').count(), 0);
  const phases = await page.evaluate(() => window.__quantProgress);
  for (const p of [/^calibrating: block 0: .* \d+\/\d+$/, /^evaluating FP32 \d+\/14$/, /^evaluating quantized 14\/14$/]) {
    assert.ok(phases.some((t) => p.test(t)), `progress showed ${p} (saw ${JSON.stringify(phases)})`);
  }
  assert.equal(await page.getByTestId('quant-error').count(), 0);

  const fp32 = await cells(page.getByTestId('quant-row-fp32'));
  const w4 = await cells(page.locator('[data-testid=quant-row][data-bits=W4A4]'));
  // columns: radio, method, bits, calib., eval., top-1, top-5, Δ top-1, seconds
  assert.deepEqual(fp32.slice(1, 5), ['FP32', '—', '—', '14']);
  assert.deepEqual(w4.slice(1, 5), ['ADFQ', 'W4A4', '16', '14']);
  for (const c of [fp32[5], fp32[6], w4[5], w4[6]]) assert.match(c, PCT);
  assert.match(w4[7], /^[+−]\d+\.\d\d pp$/);
  const diff = Number.parseFloat(w4[5]) - Number.parseFloat(fp32[5]);
  assert.equal(w4[7].replace('−', '-'), `${diff >= 0 ? '+' : '-'}${Math.abs(diff).toFixed(2)} pp`);

  const chart = page.getByTestId('quant-error-chart');
  await chart.locator('canvas').first().waitFor({ timeout: 60_000 });
  const depth = Number((await text('model-dims')).split('/')[1]);
  assert.equal(Number(await chart.getAttribute('data-sites')), 2 + 8 * depth, 'patch input, head input and 8 sites per block');
  assert.ok((await chart.boundingBox()).height > 100);
});

test('the explorer draws the run\'s levels: SLQ over post-GELU, PPOQ (one token or all) over post-LayerNorm', async () => {
  await page.getByTestId('record-stats').click();
  await page.getByTestId('stats-summary').waitFor({ timeout: 300_000 });
  await page.getByTestId('site-kind').selectOption('fc2-in');
  await waitOverlay('slq');
  const slq = await overlay();
  assert.equal(slq.levels, 2 ** 4 + 1, 'log levels of codes 0..16, the last one the exact zero');
  assert.ok(slq.drawn > 0, 'some levels fall inside the histogram');
  assert.match(await text('quant-site-info'), /ADFQ W4A4 · SLQ.* · 17 levels .*SQNR (-?\d+\.\d dB|lossless)/);

  await page.getByTestId('site-kind').selectOption('qkv-in');
  await waitOverlay('ppoq');
  assert.equal((await overlay()).levels, 16, "token 0's grid");
  assert.match(await text('quant-site-info'), /PPOQ.*τ 5\.000 · token 0: Δ .*above τ/);
  await page.getByTestId('level-token').selectOption('all');
  await page.waitForFunction(() => Number(document.querySelector('[data-testid=level-overlay]')?.dataset.levels) > 16, null, { timeout: 30_000 });

  await page.getByTestId('site-kind').selectOption('block-out');
  await page.waitForFunction(() => JSON.parse(document.querySelector('[data-testid=hist-counts]')?.textContent ?? '{}').kind === 'block-out', null, { timeout: 60_000 });
  assert.equal(await page.getByTestId('level-overlay').count(), 0, 'the block output has no quantizer');
  await page.getByTestId('site-kind').selectOption('fc2-in');
  await waitOverlay('slq');
  await page.waitForTimeout(300);  // let echarts paint before the screenshot
  await page.screenshot({ path: 'test-results/studio-quantize.png', fullPage: true });
});

test('cancelling a run keeps the finished one; the next run (MinMax) completes', async () => {
  const before = await page.getByTestId('quant-results').innerText();
  await page.getByTestId('quant-preset-w8a8').click();
  await page.getByTestId('run-quant').click();
  await page.getByTestId('quant-progress').waitFor({ timeout: 10_000 });
  await page.getByTestId('cancel-quant').click();
  await page.getByTestId('quant-error').waitFor({ timeout: 300_000 });
  assert.match(await text('quant-error'), /cancel/i);
  assert.equal(await page.getByTestId('quant-progress').count(), 0);
  assert.equal(await page.getByTestId('quant-results').innerText(), before, 'the W4A4 run and its FP32 row stay');
  assert.equal(await page.locator('[data-testid=quant-row]').count(), 1);
  assert.equal(await page.getByTestId('level-overlay').getAttribute('data-kind'), 'slq', 'the W4A4 run stays selected');
  assert.ok(await page.getByTestId('run-quant').isEnabled());

  // The worker is fine after the cancel: another run finishes, on the same evaluation images. (MinMax
  // W4A4: ADFQ's 8-bit searches take minutes here.)
  await page.getByTestId('quant-method').selectOption('minmax');
  await page.getByTestId('quant-preset-w4a4').click();
  assert.ok(await page.getByTestId('quant-no-slq').isDisabled(), 'ablations are for ADFQ only');
  await page.getByTestId('run-quant').click();
  const minmax = page.locator('[data-testid=quant-row][data-label=MinMax]');
  await minmax.waitFor({ timeout: 300_000 });
  assert.equal(await page.getByTestId('quant-error').count(), 0, 'the new run clears the cancel message');
  assert.equal(await page.getByTestId('quant-row-fp32').count(), 1, 'one FP32 row for both runs: same evaluation images');
  assert.equal(await minmax.getAttribute('aria-selected'), 'true', 'the new run is selected');
  const row = await cells(minmax);
  assert.deepEqual(row.slice(1, 5), ['MinMax', 'W4A4', '16', '14']);
  for (const c of row.slice(5, 7)) assert.match(c, PCT);
  assert.equal(await page.getByTestId('level-overlay').getAttribute('data-kind'), 'uniform', 'MinMax quantizes the GELU output uniformly');
  assert.deepEqual(pageErrors, []);
});
