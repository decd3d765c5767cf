// The studio in a real Chromium with WebGPU on SwiftShader: the demo loads by itself, evaluation runs
// in the worker on our WGSL kernels and gives the same accuracy as the CLI (Node + Dawn) on the same images.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { baseUrl, launchBrowser } from './browser.mjs';

let browser, page;
const consoleErrors = [];

before(async () => {
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  await page.goto(baseUrl());
});

after(async () => { await browser?.close(); });

test('the demo model and its sample images load without any action', async () => {
  await page.getByTestId('model-name').waitFor({ timeout: 60_000 });
  assert.match(await page.getByTestId('model-name').innerText(), /demo/);
  assert.match(await page.getByTestId('engine-status').innerText(), /GPU: .*swiftshader/i);
  await page.waitForFunction(() => /\b[1-9]\d* labelled/.test(document.querySelector('[data-testid=data-count]')?.textContent ?? ''), null, { timeout: 60_000 });
  assert.deepEqual(consoleErrors, []);
});

test('evaluation in the browser gives the CLI accuracy on the same images', async () => {
  await page.getByTestId('run-eval').click();
  await page.getByTestId('eval-result').waitFor({ timeout: 600_000 });
  const top1 = await page.getByTestId('top1').innerText();
  const counts = await page.getByTestId('eval-result').innerText();
  const cli = JSON.parse(execFileSync('npx', ['adfq', 'eval', '--json', '--no-progress'], { encoding: 'utf8' }).trim().split('\n').pop());
  assert.equal(top1, `${(100 * cli.top1).toFixed(2)}%`);
  assert.match(counts, new RegExp(`\\(${cli.correct1}/${cli.count}\\)`));
  mkdirSync('test-results', { recursive: true });
  await page.screenshot({ path: 'test-results/studio-demo.png', fullPage: true });
});
