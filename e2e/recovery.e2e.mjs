// Issue 7: GPU device loss at each phase and a reload, in the studio on the demo model. The device is
// destroyed through the page's test hook (the worker calls device.destroy()) while an evaluation, a
// statistics recording, and a W4A4 ADFQ + ASMO run (in calibration, after a finished module, in the
// evaluation) are going; each time the page restarts the engine and the run goes on from its last checkpoint
// (the evaluation's result equals an uninterrupted one). Then a reload offers the saved session, which
// restores every result; and a reload in the middle of an optimisation (a crashed tab) resumes it after its
// last finished module.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { openStudio } from './browser.mjs';
import { demoSet } from './fixtures-demo.mjs';
import { dropFiles } from './fixtures-drop.mjs';

let browser, page, pageErrors;
const set = demoSet({ classes: 10, perClass: 3 });
const text = (id) => page.getByTestId(id).innerText();
const withoutClock = (s) => s.replace(/[\d.]+ s\b/g, '');
const log = () => page.evaluate(() => window.adfqDebug.recoveryLog());
const loseDevice = () => page.evaluate(() => window.adfqDebug.loseDevice());
const rows = () => page.getByTestId('quant-row').count();

async function waitDemo() {
  await page.getByTestId('model-name').waitFor({ timeout: 60_000 });
  await page.waitForFunction(() => /^[1-9]/.test(document.querySelector('[data-testid=data-count]')?.textContent ?? ''), null, { timeout: 60_000 });
}

/** Waits until `fn` (run in the page) is true, then destroys the device and waits for the restart. */
async function loseWhen(fn, arg) {
  await page.waitForFunction(fn, arg, { timeout: 300_000, polling: 20 });
  const before = (await log()).length;
  await loseDevice();
  await page.waitForFunction((n) => window.adfqDebug.recoveryLog().length > n, before, { timeout: 120_000 });
  return (await log())[before];
}

/** W4A4 ADFQ with ASMO on 8 calibration images: 12 steps at a mini-batch of 8 on MLP and head modules (SwiftShader). */
async function chooseAsmo() {
  await page.getByTestId('quant-method').selectOption('adfq');
  await page.getByTestId('quant-preset-w4a4').click();
  await page.getByTestId('quant-calib-size').fill('8');
  if (!(await page.getByTestId('asmo-enabled').isChecked())) await page.getByTestId('asmo-enabled').check();
  await page.getByTestId('asmo-iters').fill('12');
  await page.getByTestId('asmo-hyper').evaluate((d) => { d.open = true; });
  await page.getByTestId('asmo-batch').fill('8');
  for (const k of ['patch', 'attention', 'mlp', 'head']) await page.getByTestId(`asmo-module-${k}`).setChecked(k === 'mlp' || k === 'head');
}

before(async () => {
  ({ browser, page, pageErrors } = await openStudio({
    beforeGoto: (p) => p.on('dialog', (d) => { pageErrors.push(`dialog: ${d.message()}`); void d.dismiss(); }),
  }));
});
after(async () => { await browser?.close(); });

test('evaluation: the device is lost after a few batches; it goes on after the last finished batch and gives the same result', async () => {
  await page.getByTestId('run-eval').click();
  await page.getByTestId('eval-result').waitFor({ timeout: 300_000 });
  const uninterrupted = withoutClock(await text('eval-result'));

  await page.getByTestId('run-eval').click();
  const entry = await loseWhen(() => (document.querySelector('[data-testid=eval-progress]')?.value ?? 0) >= 16);
  assert.equal(entry.what, 'the evaluation');
  assert.match(entry.resumedFrom, /^FP32 evaluation after (1[6-9]|[2-9]\d|1\d\d) images$/, 'resumed after a finished batch, not from the start');
  await page.waitForFunction(() => !document.querySelector('[data-testid=cancel-eval]'), null, { timeout: 300_000 });
  assert.equal(await page.getByTestId('eval-error').count(), 0);
  assert.equal(withoutClock(await text('eval-result')), uninterrupted);
  assert.match(await text('engine-recovered'), /Recovered from a GPU device loss/);
});

test('statistics: the device is lost while recording; the recording is made again and its summary shown', async () => {
  await page.getByTestId('record-stats').click();
  const entry = await loseWhen(() => (document.querySelector('[data-testid=stats-progress] progress')?.value ?? 0) > 0);
  assert.equal(entry.what, 'the statistics recording');
  await page.getByTestId('stats-summary').waitFor({ timeout: 300_000 });
  assert.equal(await page.getByTestId('stats-error').count(), 0);
});

test('quantization with ASMO: lost in calibration, after a finished module and in the evaluation; the run finishes', async () => {
  await dropFiles(page, set.images.map((im) => ({ path: `few/${im.path}`, bytes: im.bytes })));
  await page.waitForFunction((n) => document.querySelector('[data-testid=data-count]')?.textContent === `${n} images, ${n} labelled`, set.images.length, { timeout: 60_000 });
  await chooseAsmo();
  await page.getByTestId('run-quant').click();
  const inCalibration = await loseWhen(() => /calibrating/.test(document.querySelector('[data-testid=quant-progress]')?.textContent ?? ''));
  assert.equal(inCalibration.resumedFrom, 'the start (calibration)');
  const afterModule = await loseWhen(() => Number(document.querySelector('[data-testid=asmo-module-grid]')?.getAttribute('data-modules') ?? 0) >= 1);
  assert.match(afterModule.resumedFrom, /^optimisation after module [1-9]\d* of \d+$/);
  const inEvaluation = await loseWhen(() => /evaluating/.test(document.querySelector('[data-testid=quant-progress]')?.textContent ?? ''));
  assert.match(inEvaluation.resumedFrom, /evaluation/);
  await page.getByTestId('quant-row').first().waitFor({ timeout: 300_000 });
  await page.waitForFunction(() => !document.querySelector('[data-testid=cancel-quant]'), null, { timeout: 300_000 });
  assert.equal(await page.getByTestId('quant-error').count(), 0);
  assert.match((await page.getByTestId('quant-row').first().innerText()), /ASMO/);
  assert.equal(await page.getByTestId('asmo-live').getAttribute('data-status'), 'done');
});

test('a reload offers the saved session; restoring brings back the model, images, runs, evaluation and curves', async () => {
  await page.getByTestId('run-eval').click();
  await page.getByTestId('eval-result').waitFor({ timeout: 300_000 });
  await page.waitForFunction(() => !document.querySelector('[data-testid=cancel-eval]'), null, { timeout: 300_000 });
  const evalResult = withoutClock(await text('eval-result'));
  const runRows = await page.getByTestId('quant-results').innerText();
  const modules = await page.getByTestId('asmo-module-grid').getAttribute('data-modules');
  await page.waitForTimeout(1000); // the debounced save

  await page.reload();
  await waitDemo();
  await page.getByTestId('restore-offer').waitFor({ timeout: 30_000 });
  assert.match(await text('restore-offer'), new RegExp(`${set.images.length} images, an evaluation, activation statistics|${set.images.length} images, an evaluation`));
  assert.match(await text('restore-offer'), /1 quantization run/);
  await page.getByTestId('restore-session').click();
  await page.getByTestId('quant-row').first().waitFor({ timeout: 60_000 });
  await page.getByTestId('restore-offer').waitFor({ state: 'detached', timeout: 60_000 });
  assert.equal(await text('data-count'), `${set.images.length} images, ${set.images.length} labelled`);
  assert.equal(withoutClock(await text('eval-result')), evalResult);
  assert.equal(await page.getByTestId('quant-results').innerText(), runRows);
  assert.equal(await page.getByTestId('asmo-module-grid').getAttribute('data-modules'), modules);
});

test('a tab that goes away during an optimisation: after the reload the run resumes after its last finished module', async () => {
  await chooseAsmo();
  const before = await rows();
  await page.getByTestId('run-quant').click();
  await page.waitForFunction(() => /optimising/.test(document.querySelector('[data-testid=quant-progress]')?.textContent ?? ''), null, { timeout: 300_000 });
  await page.waitForFunction(() => Number(document.querySelector('[data-testid=asmo-module-grid]')?.getAttribute('data-modules') ?? 0) >= 1, null, { timeout: 300_000, polling: 20 });
  await page.waitForTimeout(300); // the checkpoint's write
  await page.reload();
  await waitDemo();
  await page.getByTestId('restore-offer').waitFor({ timeout: 30_000 });
  assert.match(await text('restore-offer'), /interrupted run can be resumed: ADFQ \+ ASMO.*from optimisation after module [1-9]\d* of \d+/);
  await page.getByTestId('restore-session').click();
  await page.getByTestId('interrupted-run').waitFor({ timeout: 60_000 });
  const restoredModules = Number(await page.getByTestId('asmo-module-grid').getAttribute('data-modules'));
  assert.ok(restoredModules >= 1, 'the finished modules\' curves are back');
  await page.getByTestId('resume-run').click();
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid=quant-row]').length > n, before, { timeout: 300_000 });
  assert.equal(await page.getByTestId('quant-error').count(), 0);
  assert.equal(await page.getByTestId('interrupted-run').count(), 0);
  assert.equal(await page.getByTestId('asmo-live').getAttribute('data-status'), 'done');
  assert.deepEqual(pageErrors, []);
});

test('a second studio tab in the same browser says it does not save, and leaves the first tab\'s session alone', async () => {
  const second = await page.context().newPage();
  try {
    await second.goto(page.url());
    await second.getByTestId('model-name').waitFor({ timeout: 60_000 });
    await second.getByTestId('restore-offer').waitFor({ timeout: 30_000 });
    await second.getByTestId('discard-session').click();
    await second.getByTestId('storage-error').waitFor({ timeout: 30_000 });
    assert.match(await second.getByTestId('storage-error').innerText(), /Another adfq-studio tab is open/);
  } finally {
    await second.close();
  }
  // Discarding in the second tab deleted nothing (the first tab holds the lock), and the first tab still saves: a reload offers its session.
  await page.getByTestId('run-eval').click();
  await page.waitForFunction(() => !document.querySelector('[data-testid=cancel-eval]'), null, { timeout: 300_000 });
  await page.waitForTimeout(1000);
  await page.reload();
  await page.getByTestId('restore-offer').waitFor({ timeout: 30_000 });
});

