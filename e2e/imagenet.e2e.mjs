// The acceptance path with the real ImageNet ViT-Ti (../shared/fixtures/imagenet, skipped when
// absent): drop the model and a few of its images, choose the 0.5/0.5 preset, evaluate (same accuracy as
// the CLI on the same files) and record the distributions of every block. Few images: SwiftShader takes
// seconds per ViT-Ti image.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { openStudio } from './browser.mjs';
import { dropFiles } from './fixtures-drop.mjs';

const SHARED = new URL('../../shared/fixtures/imagenet/', import.meta.url);
const MODEL = new URL('vit_tiny_patch16_224.onnx', SHARED);
const present = existsSync(MODEL);
if (!present) console.log(`# ${MODEL.pathname} is absent: the ImageNet ViT-Ti e2e test is skipped.`);

let browser, page, pageErrors;
before(async () => {
  if (!present) return;
  ({ browser, page, pageErrors } = await openStudio({ dataCount: /.*/ }));
});
after(async () => { await browser?.close(); });

test('ViT-Ti dropped with ImageNet images: 0.5/0.5 preset, CLI accuracy, 12 blocks of distributions', { skip: !present }, async () => {
  const names = readdirSync(new URL('images/', SHARED)).sort().slice(0, 3);
  const images = names.map((n) => ({ path: n, bytes: readFileSync(new URL(`images/${n}`, SHARED)) }));
  await dropFiles(page, [{ path: 'vit_tiny_patch16_224.onnx', bytes: readFileSync(MODEL) }, ...images]);
  await page.waitForFunction(() => document.querySelector('[data-testid=model-name]')?.textContent === 'vit_tiny_patch16_224.onnx', null, { timeout: 120_000 });
  await page.waitForFunction(() => document.querySelector('[data-testid=data-count]')?.textContent === '3 images, 3 labelled', null, { timeout: 30_000 });
  assert.match(await page.getByTestId('model-dims').innerText(), /192 \/ 12 \/ 3/);
  await page.getByTestId('preset').selectOption('half');
  await page.getByTestId('run-eval').click();
  await page.getByTestId('eval-result').waitFor({ timeout: 600_000 });

  const dir = mkdtempSync(join(tmpdir(), 'adfq-e2e-'));
  for (const n of names) symlinkSync(new URL(`images/${n}`, SHARED).pathname, join(dir, n));
  const cli = JSON.parse(execFileSync('npx', ['adfq', 'eval', MODEL.pathname, '--images', dir, '--preset', 'half', '--json', '--no-progress'],
    { encoding: 'utf8' }).trim().split('\n').pop());
  assert.equal(await page.getByTestId('top1').innerText(), `${(100 * cli.top1).toFixed(2)}%`);
  assert.match(await page.getByTestId('eval-result').innerText(), new RegExp(`\\(${cli.correct1}/${cli.count}\\)`));

  await page.getByTestId('record-stats').click();
  await page.getByTestId('stats-summary').waitFor({ timeout: 900_000 });
  assert.match(await page.getByTestId('stats-summary').innerText(), /3 images, 197 tokens, 12 blocks/);
  const h = JSON.parse(await page.getByTestId('hist-counts').textContent());
  assert.equal(h.count, 3 * 197 * h.channels);
  assert.equal(h.counts.reduce((a, b) => a + b, 0) + h.under + h.over, h.count);
  assert.deepEqual(pageErrors, []);
  await page.screenshot({ path: 'test-results/studio-vit-tiny.png', fullPage: true });
});
