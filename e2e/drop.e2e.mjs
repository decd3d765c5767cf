// Drag and drop on the studio page with real DOM drag events (see fixtures-drop.mjs for how folders are
// faked): a model plus a folder of class folders, a corrupt image that is skipped while the rest are
// evaluated, a non-ONNX file that leaves the loaded model in place, and cancelling an evaluation.
import { mkdirSync } from 'node:fs';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { openStudio } from './browser.mjs';
import { demoSet } from './fixtures-demo.mjs';
import { dropFiles } from './fixtures-drop.mjs';

let browser, page, pageErrors;
const set = demoSet({ classes: 3, perClass: 2 });
const folder = (images, root = 'dropped') => images.map((im) => ({ path: `${root}/${im.path}`, bytes: im.bytes }));
const text = (id) => page.getByTestId(id).innerText();

before(async () => {
  mkdirSync('test-results', { recursive: true });
  ({ browser, page, pageErrors } = await openStudio());
});

after(async () => { await browser?.close(); });

test('a dropped model and folder of class folders load, labels from the folders', async () => {
  let overlay = false;
  await dropFiles(page, [{ path: set.modelName, bytes: set.modelBytes }, ...folder(set.images)], {
    whileOver: async () => { overlay = await page.getByTestId('drop-overlay').isVisible(); },
  });
  assert.ok(overlay, 'the drop zone overlay shows while dragging');
  await page.waitForFunction((name) => document.querySelector('[data-testid=model-name]')?.textContent === name, set.modelName, { timeout: 60_000 });
  await page.waitForFunction((n) => document.querySelector('[data-testid=data-count]')?.textContent === `${n} images, ${n} labelled`, set.images.length, { timeout: 30_000 });
  assert.equal(await page.getByTestId('drop-overlay').count(), 0);
  assert.equal(await page.locator('[data-testid=thumbnails] img').count(), set.images.length);
  assert.match(await text('label-source'), /folder/);
  assert.deepEqual(pageErrors, []);
});

test('a corrupt image is listed as skipped and the others are evaluated', async () => {
  const png = set.images[0].bytes;
  const broken = { path: `${set.images[0].path.split('/')[0]}/broken.png`, bytes: png.subarray(0, Math.floor(png.length / 2)) };
  await dropFiles(page, folder([...set.images, broken]));
  await page.waitForFunction((n) => document.querySelector('[data-testid=data-count]')?.textContent?.startsWith(`${n} images`), set.images.length + 1);
  await page.getByTestId('run-eval').click();
  await page.getByTestId('eval-result').waitFor({ timeout: 300_000 });
  assert.match(await text('eval-result'), new RegExp(`/${set.images.length}\\), .* 1 skipped`));
  assert.match(await text('skipped'), /broken\.png/);
  assert.equal(await page.locator('[data-testid=predictions] tbody tr').count(), set.images.length);
  assert.equal(await page.locator('[data-testid=predictions] img.thumb').count(), set.images.length);
  await page.screenshot({ path: 'test-results/studio-evaluation.png', fullPage: true });
});

test('a non-ONNX file dropped as a model shows the importer message; the model and results stay', async () => {
  const before = await text('model-name');
  const result = await text('eval-result');
  await dropFiles(page, [{ path: 'not-a-model.onnx', bytes: new TextEncoder().encode('hello, this is not protobuf at all') }]);
  await page.getByTestId('model-error').waitFor({ timeout: 30_000 });
  assert.ok((await text('model-error')).length > 10);
  assert.equal(await text('model-name'), before);
  assert.equal(await text('eval-result'), result);
  // And the model still works: the run button is enabled.
  assert.ok(await page.getByTestId('run-eval').isEnabled());
});

test('cancel stops a running evaluation and Run works again', async () => {
  // Enough batches (8 images each) that the cancel lands between two of them.
  const many = Array.from({ length: 6 }, (_, k) => set.images.map((im) => ({ path: im.path.replace(/\.png$/, `-${k}.png`), bytes: im.bytes }))).flat();
  await dropFiles(page, folder(many));
  await page.waitForFunction((n) => document.querySelector('[data-testid=data-count]')?.textContent?.startsWith(`${n} images`), many.length);
  await page.getByTestId('run-eval').click();
  await page.getByTestId('cancel-eval').click();
  await page.getByTestId('eval-error').waitFor({ timeout: 120_000 });
  assert.match(await text('eval-error'), /cancel/i);
  assert.equal(await page.getByTestId('eval-result').count(), 0);
  assert.ok(await page.getByTestId('run-eval').isEnabled());
  await page.getByTestId('run-eval').click();
  await page.getByTestId('eval-result').waitFor({ timeout: 300_000 });
  assert.match(await text('eval-result'), new RegExp(`/${many.length}\\)`));
  assert.deepEqual(pageErrors, []);
});
