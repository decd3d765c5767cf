// A lost GPU device (injected through the page's test hook, which destroys the worker's device) is
// reported, finished results stay on screen, and "Restart GPU" brings back a working engine with the
// same model.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { baseUrl, launchBrowser } from './browser.mjs';

let browser, page;
before(async () => {
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  await page.goto(baseUrl());
  await page.getByTestId('model-name').waitFor({ timeout: 60_000 });
  await page.waitForFunction(() => /^[1-9]/.test(document.querySelector('[data-testid=data-count]')?.textContent ?? ''));
});
after(async () => { await browser?.close(); });

test('device loss: message, results kept, restart restores a working engine with the same model', async () => {
  await page.getByTestId('run-eval').click();
  await page.getByTestId('eval-result').waitFor({ timeout: 300_000 });
  const result = await page.getByTestId('eval-result').innerText();
  const model = await page.getByTestId('model-name').innerText();

  await page.evaluate(() => window.adfqDebug.loseDevice());
  await page.getByTestId('restart-gpu').waitFor({ timeout: 30_000 });
  assert.match(await page.getByTestId('engine-error').innerText(), /lost/i);
  assert.equal(await page.getByTestId('eval-result').innerText(), result, 'finished results stay');

  await page.getByTestId('restart-gpu').click();
  await page.waitForFunction(() => /GPU: /.test(document.querySelector('[data-testid=engine-status]')?.textContent ?? ''), null, { timeout: 60_000 });
  assert.equal(await page.getByTestId('model-name').innerText(), model);
  await page.getByTestId('run-eval').click();
  await page.waitForFunction(() => !document.querySelector('[data-testid=cancel-eval]'), null, { timeout: 300_000 });
  await page.getByTestId('eval-result').waitFor({ timeout: 300_000 });
  assert.equal(await page.getByTestId('eval-error').count(), 0, 'the evaluation after the restart succeeded');
  assert.equal(await page.getByTestId('eval-result').innerText().then((t) => t.replace(/[\d.]+ s/, '')), result.replace(/[\d.]+ s/, ''));
});
