// Module-wise optimisation (ASMO) in the studio on the demo model: the form's defaults and checks, a
// short W4A4 ADFQ + ASMO run whose live loss curve grows while it runs, holds while paused and goes on
// when resumed, and whose final accuracy lands in the results table; a cancel that keeps the finished
// modules' curves and the table.
// 30 of the demo's images (3 per class): 8 calibrate and are the reconstruction set, 22 are evaluated
// (and the accuracy-so-far curve is measured on them). SwiftShader is slow: 12 steps at a mini-batch of
// 8, MLP and head modules only.
import { mkdirSync } from 'node:fs';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { openStudio } from './browser.mjs';
import { demoSet } from './fixtures-demo.mjs';
import { dropFiles } from './fixtures-drop.mjs';

let browser, page, pageErrors;
const set = demoSet({ classes: 10, perClass: 3 });
const STEPS = 12, CALIB = 8, EVAL = 22;
const text = (id) => page.getByTestId(id).innerText();
const PCT = /^\d{1,3}\.\d\d%$/;
const cells = (row) => row.locator('td').allInnerTexts();
const attr = (id, name) => page.getByTestId(id).getAttribute(name);
const points = async () => Number(await attr('asmo-loss-chart', 'data-points'));

/** Records every value of the loss chart's data-points attribute, so a test can see it grow. */
async function watchPoints() {
  await page.evaluate(() => {
    const seen = (window.__asmoPoints = []);
    const note = () => {
      const v = document.querySelector('[data-testid=asmo-loss-chart]')?.getAttribute('data-points');
      if (v !== undefined && v !== null && seen[seen.length - 1] !== Number(v)) seen.push(Number(v));
    };
    new MutationObserver(note).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-points'] });
  });
}

/** W4A4 ADFQ on CALIB images with ASMO: `steps` per module at a mini-batch of 8 (SwiftShader), on the chosen kinds of modules. */
async function chooseAsmo({ steps = STEPS, modules = ['mlp', 'head'] } = {}) {
  await page.getByTestId('quant-method').selectOption('adfq');
  await page.getByTestId('quant-preset-w4a4').click();
  await page.getByTestId('quant-calib-size').fill(String(CALIB));
  if (!(await page.getByTestId('asmo-enabled').isChecked())) await page.getByTestId('asmo-enabled').check();
  await page.getByTestId('asmo-iters').fill(String(steps));
  await page.getByTestId('asmo-hyper').evaluate((d) => { d.open = true; });
  await page.getByTestId('asmo-batch').fill('8');
  for (const k of ['patch', 'attention', 'mlp', 'head']) await page.getByTestId(`asmo-module-${k}`).setChecked(modules.includes(k));
}

before(async () => {
  mkdirSync('test-results', { recursive: true });
  ({ browser, page, pageErrors } = await openStudio());
  await dropFiles(page, set.images.map((im) => ({ path: `few/${im.path}`, bytes: im.bytes })));
  await page.waitForFunction((n) => document.querySelector('[data-testid=data-count]')?.textContent === `${n} images, ${n} labelled`, set.images.length, { timeout: 60_000 });
});

after(async () => { await browser?.close(); });

test('the ASMO settings: ADFQ only, the spec\'s defaults, fewer steps preselected on SwiftShader, bad values explained', async () => {
  await page.getByTestId('quant-method').selectOption('minmax');
  assert.ok(await page.getByTestId('asmo-enabled').isDisabled(), 'ASMO is for ADFQ only');
  await page.getByTestId('quant-method').selectOption('adfq');
  await page.getByTestId('asmo-enabled').check();
  assert.ok(await page.getByTestId('asmo-iters').isEnabled());
  assert.equal(await page.getByTestId('asmo-iters').getAttribute('placeholder'), '200', 'a software adapter preselects 200 steps');
  assert.match(await text('asmo-iters-note'), /200 preselected on this software adapter .*3000/);
  for (const [id, v] of [['asmo-lrWeights', '0.003'], ['asmo-lrSteps', '0.00004'], ['asmo-roundWeight', '0.01'], ['asmo-betaStart', '20'],
    ['asmo-betaEnd', '2'], ['asmo-warmup', '0.2'], ['asmo-klTemperature', '4'], ['asmo-klWeight', '10'], ['asmo-batch', '32']]) {
    assert.equal(await page.getByTestId(id).inputValue(), v, `${id} defaults to the spec's ${v}`);
  }
  assert.equal(await page.getByTestId('asmo-gradients').inputValue(), 'default');
  assert.equal(await page.getByTestId('asmo-kl-axis').inputValue(), 'heads');
  // With ASMO the calibration split defaults to half of the images (the paper's 1024 when there are that many).
  assert.equal(await page.getByTestId('quant-calib-size').getAttribute('placeholder'), String(set.images.length / 2));

  await page.getByTestId('asmo-iters').fill('0');
  assert.match(await text('quant-invalid'), /ASMO iterations must be a whole number from 1 to 1000000, not 0\./);
  assert.ok(await page.getByTestId('run-quant').isDisabled());
  await page.getByTestId('asmo-iters').fill('ten');
  assert.match(await text('quant-invalid'), /ASMO iterations must be a number, not 'ten'/);
  await page.getByTestId('asmo-iters').fill(String(STEPS));
  for (const k of ['patch', 'attention', 'mlp', 'head']) await page.getByTestId(`asmo-module-${k}`).uncheck();
  assert.match(await text('quant-invalid'), /at least one kind of module/);
  await page.getByTestId('asmo-module-mlp').check();
  assert.equal(await page.getByTestId('quant-invalid').count(), 0);
  assert.match(await text('asmo-memory'), /^ASMO on 15 images: .* MiB/);
  await page.getByTestId('quant-calib-size').fill('16');
  assert.match(await text('asmo-memory'), /^ASMO on 16 images: /);
});

test('a short ASMO run: the live loss curve grows, pause holds it, resume goes on; ADFQ + ASMO lands in the results table', async () => {
  const t0 = Date.now();
  await chooseAsmo();
  await watchPoints();
  await page.getByTestId('run-quant').click();
  await page.getByTestId('quant-progress').waitFor({ timeout: 10_000 });
  await page.getByTestId('asmo-live').waitFor({ timeout: 30_000 });
  // The first module's curve appears and grows while the run is going.
  await page.waitForFunction(() => Number(document.querySelector('[data-testid=asmo-loss-chart]')?.getAttribute('data-points')) > 0, null, { timeout: 180_000 });
  const first = await points();
  await page.waitForFunction((n) => Number(document.querySelector('[data-testid=asmo-loss-chart]')?.getAttribute('data-points')) > n, first, { timeout: 60_000 });
  assert.match(await text('asmo-status'), new RegExp(`^module \\d of 7: (block \\d MLP|head), step \\d+ of ${STEPS}`));

  // Pause: after the step in flight, nothing moves; the progress line says so. Resume: it goes on.
  await page.getByTestId('pause-quant').click();
  assert.equal(await page.getByTestId('pause-quant').innerText(), 'Resume');
  assert.equal(await attr('asmo-live', 'data-paused'), 'true');
  await page.waitForTimeout(2000);
  const held = await text('asmo-status');
  await page.waitForTimeout(4000);
  assert.equal(await text('asmo-status'), held, 'no step while paused');
  assert.match(held, /\(paused\)/);
  assert.match(await text('quant-progress'), /paused/);
  await page.getByTestId('pause-quant').click();
  assert.equal(await attr('asmo-live', 'data-paused'), 'false');
  await page.waitForFunction((t) => document.querySelector('[data-testid=asmo-status]')?.textContent !== t.replace(' (paused)', ''),
    held, { timeout: 60_000 });

  const row = page.locator('[data-testid=quant-row][data-label^="ADFQ + ASMO"]');
  await row.waitFor({ timeout: 300_000 });
  const seen = await page.evaluate(() => window.__asmoPoints);
  assert.ok(seen.some((v, i) => i > 0 && v > seen[i - 1] && seen[i - 1] > 0), `the curve grew between two renders (saw ${JSON.stringify(seen)})`);
  assert.equal(await page.getByTestId('quant-error').count(), 0);
  assert.equal(await page.getByTestId('quant-progress').count(), 0);

  // columns: radio, method, bits, calib., eval., top-1, top-5, Δ top-1, seconds
  const r = await cells(row);
  assert.deepEqual(r.slice(1, 5), [`ADFQ + ASMO (${STEPS} steps, MLP + head)`, 'W4A4', String(CALIB), String(EVAL)]);
  for (const c of r.slice(5, 7)) assert.match(c, PCT);
  assert.match(r[7], /^[+−]\d+\.\d\d pp$/);
  assert.equal(await row.getAttribute('aria-selected'), 'true');

  // The finished run's charts: 6 MLP modules and the head, each with its curve; top-1 before and after each block.
  assert.equal(await attr('asmo-live', 'data-status'), 'done');
  assert.match(await text('asmo-status'), new RegExp(`^finished: 7 module\\(s\\), ${STEPS} steps each`));
  assert.equal(await attr('asmo-module-grid', 'data-modules'), '7');
  const depth = Number((await text('model-dims')).split('/')[1]);
  assert.equal(await attr('asmo-accuracy-chart', 'data-points'), String(depth + 2), 'calibrated, after each block, after the head');
  assert.equal(await attr('asmo-rounding-chart', 'data-modules'), '7');
  assert.equal(await points(), STEPS, 'the last module\'s whole curve, a point per step');
  await page.waitForTimeout(300);  // let echarts paint before the screenshot
  await page.getByTestId('asmo-live').screenshot({ path: 'test-results/studio-asmo.png' });
  console.log(`# ASMO run of ${STEPS} steps × 7 modules: ${((Date.now() - t0) / 1000).toFixed(0)} s (${await row.locator('td').nth(8).getAttribute('title')})`);
});

test('cancelling an ASMO run keeps its finished modules\' curves and the results table', async () => {
  const table = await page.getByTestId('quant-results').innerText();
  await chooseAsmo({ modules: ['mlp'] });
  await page.getByTestId('run-quant').click();
  await page.waitForFunction(() => Number(document.querySelector('[data-testid=asmo-module-grid]')?.getAttribute('data-modules')) >= 1, null, { timeout: 180_000 });
  await page.getByTestId('cancel-quant').click();
  await page.getByTestId('quant-error').waitFor({ timeout: 120_000 });
  assert.match(await text('quant-error'), /cancel/i);
  assert.equal(await attr('asmo-live', 'data-status'), 'cancelled');
  const done = Number(await attr('asmo-module-grid', 'data-modules'));
  assert.ok(done >= 1 && done < 6);
  assert.match(await text('asmo-status'), new RegExp(`^cancelled after ${done} of 6 module\\(s\\)`));
  assert.equal(await page.getByTestId('quant-results').innerText(), table, 'the finished ASMO run and its FP32 row stay');
  assert.equal(await page.getByTestId('quant-progress').count(), 0);
  assert.ok(await page.getByTestId('run-quant').isEnabled());
  assert.deepEqual(pageErrors, []);
});
