// Issue 6 item 2 in the studio, the round trip: quantize 40 demo images (W4A4 ADFQ, 4 calibrate, the other
// 36 are evaluated), export the QDQ model with the export button (the saved download), open that file with the
// model picker, and check that the studio recognises it: the model panel names the quantization, the results
// table holds a 'From file' run with the file's quantizers, the explorer draws that run's PPOQ levels on a
// post-LayerNorm site, and "Evaluate quantized" on the 36 evaluation images (dropped again on their own)
// gives the original run's top-1 and top-5, and its quantized top-1 on every image.
import { mkdirSync, readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { openStudio } from './browser.mjs';
import { demoSet } from './fixtures-demo.mjs';
import { dropFiles } from './fixtures-drop.mjs';

const CALIB = 4;
const set = demoSet({ classes: 10, perClass: 4 });
const folder = (images) => images.map((im) => ({ path: `few/${im.path}`, bytes: im.bytes }));
let browser, page, pageErrors;
const original = {};
const started = Date.now();

const dataCount = (n) => page.waitForFunction((k) => document.querySelector('[data-testid=data-count]')?.textContent === `${k} images, ${k} labelled`, n, { timeout: 60_000 });
const cells = (row) => row.locator('td').allInnerTexts();
const fileRow = () => page.locator('[data-testid=quant-row][data-source=file]');

/** Clicks an export button once it has its size; returns the saved download's name and bytes. */
async function save(testId) {
  await page.waitForFunction((id) => document.querySelector(`[data-testid=${id}]`)?.dataset.bytes, testId, { timeout: 60_000 });
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.getByTestId(testId).click()]);
  return { name: download.suggestedFilename(), bytes: readFileSync(await download.path()) };
}

before(async () => {
  mkdirSync('test-results', { recursive: true });
  ({ browser, page, pageErrors } = await openStudio({ contextOptions: { acceptDownloads: true }, dataCount: '200 images, 200 labelled' }));
  // Few images keep SwiftShader quick; the demo model stays.
  await dropFiles(page, folder(set.images));
  await dataCount(set.images.length);
});

after(async () => { await browser?.close(); });

test('quantize W4A4 ADFQ and save the QDQ export and the report from the export buttons', async () => {
  await page.getByTestId('quant-method').selectOption('adfq');
  await page.getByTestId('quant-preset-w4a4').click();
  await page.getByTestId('quant-calib-size').fill(String(CALIB));
  await page.getByTestId('run-quant').click();
  const row = page.locator('[data-testid=quant-row][data-bits=W4A4]');
  await row.waitFor({ timeout: 120_000 });
  assert.equal(await page.getByTestId('quant-error').count(), 0);
  original.cells = await cells(row);
  const qdq = await save('export-qdq');
  assert.equal(qdq.name, 'vit-fmnist-outliers_adfq_w4a4_qdq-int8-opset13.onnx');
  original.qdq = qdq;
  original.report = JSON.parse((await save('export-report')).bytes.toString('utf8'));
  assert.equal(original.report.predictions.length, set.images.length - CALIB);
  console.log(`[round-trip e2e] quantized and exported in ${((Date.now() - started) / 1000).toFixed(0)} s; QDQ ${qdq.bytes.length} B`);
});

test('the exported file opened with the model picker is recognised: quantization named, a From file run', async () => {
  await page.getByTestId('model-input').setInputFiles({ name: original.qdq.name, mimeType: 'application/octet-stream', buffer: original.qdq.bytes });
  await page.waitForFunction((n) => document.querySelector('[data-testid=model-name]')?.textContent === n, original.qdq.name, { timeout: 60_000 });
  assert.equal(await page.getByTestId('model-error').count(), 0);
  assert.equal(await page.getByTestId('model-quantization').innerText(), 'adfq export: W4A4 adfq (qdq, opset 13), quantizers from the file');
  // The earlier run belonged to the other model; the file's quantizers are the one run now, selected.
  assert.equal(await page.locator('[data-testid=quant-row]').count(), 1);
  assert.equal(await fileRow().getAttribute('data-label'), 'From file: W4A4 adfq');
  assert.equal(await fileRow().getAttribute('aria-selected'), 'true');
  const c = await cells(fileRow());
  assert.deepEqual([c[2], c[3], c[5]], ['W4A4', 'file', '—']);
  assert.match(await page.getByTestId('quant-error-none').innerText(), /^No SQNR per site for this run/);
  assert.equal(await page.getByTestId('export-section').count(), 0);
  // Only the original run's evaluation images: the run stays (it belongs to the model), not evaluated yet.
  const evalNames = new Set(original.report.predictions.map((p) => p.name));
  await dropFiles(page, folder(set.images).filter((f) => evalNames.has(f.path)));
  await dataCount(evalNames.size);
  assert.equal(await fileRow().getAttribute('data-label'), 'From file: W4A4 adfq');
});

test('the explorer draws the file run\'s PPOQ levels on the block-0 post-LayerNorm site', async () => {
  await page.getByTestId('record-stats').click();
  await page.getByTestId('stats-summary').waitFor({ timeout: 120_000 });
  await page.waitForFunction(() => {
    const el = document.querySelector('[data-testid=hist-counts]');
    return el && JSON.parse(el.textContent).block === 0 && JSON.parse(el.textContent).kind === 'qkv-in';
  }, null, { timeout: 60_000 });
  const overlay = page.getByTestId('level-overlay');
  await overlay.waitFor({ timeout: 10_000 });
  assert.equal(await overlay.getAttribute('data-kind'), 'ppoq');
  const levels = Number(await overlay.getAttribute('data-levels'));
  assert.ok(levels >= 2 ** 4, `a 4-bit PPOQ grid has at least 16 levels (${levels})`);
  const info = await page.getByTestId('quant-site-info').innerText();
  assert.match(info, /^From file: W4A4 adfq W4A4 · PPOQ \(per token, outliers in FP32\) · τ /);
  assert.doesNotMatch(info, /SQNR/);
});

test('"Evaluate quantized" gives the original run\'s top-1 and top-5 on the same images, image by image', async () => {
  const t0 = Date.now();
  await page.getByTestId('eval-file-run').click();
  await page.getByTestId('quant-progress').waitFor({ timeout: 10_000 });
  await page.waitForFunction(() => {
    const row = document.querySelector('[data-testid=quant-row][data-source=file]');
    return row && row.querySelectorAll('td')[5].textContent !== '—' && !document.querySelector('[data-testid=quant-progress]');
  }, null, { timeout: 60_000 });
  assert.equal(await page.getByTestId('quant-error').count(), 0);
  const c = await cells(fileRow());
  assert.equal(c[4], String(set.images.length - CALIB));
  assert.equal(c[5], original.cells[5], 'top-1 of the file\'s quantizers = top-1 of the run it was exported from');
  assert.equal(c[6], original.cells[6], 'top-5 too');
  assert.equal(c[5], `${(100 * original.report.accuracy.quantized.top1).toFixed(2)}%`);
  // Image by image: the file's quantizers predict what the run they were exported from predicted.
  const runs = await page.evaluate(() => window.adfqDebug.runPredictions());
  const mine = new Map(runs.find((r) => r.label === 'From file: W4A4 adfq').predictions.map((p) => [p.name, p.quantized]));
  assert.equal(mine.size, original.report.predictions.length);
  const differ = original.report.predictions.filter((p) => mine.get(p.name) !== p.quantized).map((p) => p.name);
  assert.deepEqual(differ, [], 'every image\'s quantized top-1 is the original run\'s');
  const fp32 = await page.getByTestId('quant-row-fp32').locator('td').allInnerTexts();
  assert.equal(fp32[1], 'FP32 activations, the file\'s weights');
  await page.getByTestId('quant-panel').screenshot({ path: 'test-results/studio-roundtrip.png' });
  console.log(`[round-trip e2e] evaluated in ${((Date.now() - t0) / 1000).toFixed(0)} s: top-1 ${c[5]} (original ${original.cells[5]}), `
    + `FP32 activations on the file's weights ${fp32[5]}; ${((Date.now() - started) / 1000).toFixed(0)} s in all`);
  assert.deepEqual(pageErrors, []);
});
