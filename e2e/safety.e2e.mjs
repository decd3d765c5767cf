// Page safety, on the production build (e2e/run.mjs serves it, or this file builds and previews it itself):
// a full flow (demo loads, a dropped folder, evaluation, statistics, W4A4 ADFQ, every export downloaded)
// sends no request anywhere but the studio's own server, from the page or its worker, with no CSP violation;
// the Content-Security-Policy is in force (header and <meta>, no inline script, no eval, in the page and in
// the worker); a file named `<img src=x onerror=alert(1)>.png` stays text in the studio and in the HTML summary.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchBrowser, openStudio, productionServer } from './browser.mjs';
import { demoSet } from './fixtures-demo.mjs';
import { dropFiles } from './fixtures-drop.mjs';

const EVIL = '<img src=x onerror=alert(1)>.png';
const EVIL_ESCAPED = '&lt;img src=x onerror=alert(1)&gt;.png';
const CALIB = 4;

let server, browser, page, pageErrors, docResponse, origin;
const requests = [];       // every request the context saw: page, worker, service worker
const offsite = [];        // requests to anywhere but the server, stopped by the route below
const sockets = [], serviceWorkers = [], workers = [], dialogs = [], consoleLines = [];
const files = {};

// Classes 2-4 of the demo (2 images each) and, alone in the first class's folder, a valid PNG with a hostile
// name, dropped first: the first image of the first class, so it is in the calibration set (the HTML summary
// lists the calibration files) and in the evaluation of all images (the predictions table).
const demo = demoSet({ classes: 4, perClass: 2 });
const firstClass = demo.images[0].path.split('/')[0];
const images = [{ path: `${firstClass}/${EVIL}`, bytes: demo.images[0].bytes },
  ...demo.images.filter((im) => !im.path.startsWith(`${firstClass}/`))];

const sameOrigin = (url) => {
  try { return new URL(url).origin === origin; } catch { return false; }
};
const cspLines = () => consoleLines.filter((l) => /Content.Security.Policy|Refused to/i.test(l.text));
const violations = () => page.evaluate(() => window.__cspViolations);
const workerViolations = () => workers[0].evaluate(() => self.__cspViolations);

/** Waits until the export button has a size, clicks it, returns the downloaded bytes and name. */
async function save(testId) {
  await page.waitForFunction((id) => document.querySelector(`[data-testid=${id}]`)?.dataset.bytes, testId, { timeout: 120_000 });
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.getByTestId(testId).click()]);
  return { name: download.suggestedFilename(), url: download.url(), bytes: readFileSync(await download.path()) };
}

/** A fresh context (no link to the studio's), with a dialog listener: what a user opening the file gets. */
async function openSummary(how, html, dir) {
  const ctx = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const view = await ctx.newPage(), seen = [], errors = [];
  view.on('dialog', (d) => { seen.push(d.message()); void d.dismiss(); });
  view.on('pageerror', (e) => errors.push(String(e)));
  const requested = [];
  view.on('request', (r) => requested.push(r.url()));
  if (how === 'setContent') await view.setContent(html);
  else {
    const path = join(dir, 'summary.html');
    writeFileSync(path, html);
    await view.goto(pathToFileURL(path).href);
  }
  await view.waitForTimeout(300);   // an onerror handler would have run by now
  const found = await view.evaluate((evil) => ({
    scripts: document.querySelectorAll('script').length,
    imgs: document.querySelectorAll('img').length,
    handlers: document.querySelectorAll('[onerror],[onload],[onclick]').length,
    calib: [...document.querySelectorAll('ul[data-section=calib-files] code')].map((c) => c.textContent),
    bodyHasName: document.body.textContent.includes(evil),
  }), EVIL);
  await ctx.close();
  return { ...found, dialogs: seen, errors, requested };
}

before(async () => {
  mkdirSync('test-results', { recursive: true });
  server = await productionServer();
  origin = new URL(server.url).origin;
  ({ browser, page, pageErrors, response: docResponse } = await openStudio({
    url: server.url, contextOptions: { acceptDownloads: true }, dataCount: '200 images, 200 labelled',
    beforeGoto: async (p) => {
      const ctx = p.context();
      ctx.on('request', (r) => requests.push({ url: r.url(), method: r.method(), type: r.resourceType(), serviceWorker: Boolean(r.serviceWorker()) }));
      ctx.on('serviceworker', (w) => serviceWorkers.push(w.url()));
      // Anything off the server is recorded and never leaves the machine.
      await ctx.route((url) => !['http:', 'https:'].includes(url.protocol) ? false : url.origin !== origin, (route) => {
        offsite.push(route.request().url());
        void route.abort('blockedbyclient');
      });
      p.on('websocket', (ws) => sockets.push(ws.url()));
      p.on('worker', (w) => {
        workers.push(w);
        // The worker's own violations (eval there leaves no console line), recorded from its first moments.
        w.evaluate(() => {
          self.__cspViolations = [];
          self.addEventListener('securitypolicyviolation', (e) => self.__cspViolations.push({ directive: e.effectiveDirective, blocked: e.blockedURI }));
        }).catch(() => {});
      });
      p.on('dialog', (d) => { dialogs.push(d.message()); void d.dismiss(); });
      p.on('console', (m) => consoleLines.push({ type: m.type(), text: m.text() }));
      // Before any of the page's own code: every CSP violation, and any element with an inline handler or
      // src=x ever added to the DOM (even for a moment).
      await p.addInitScript(() => {
        window.__cspViolations = [];
        window.__hostile = [];
        document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(
          { directive: e.effectiveDirective, blocked: e.blockedURI, sample: e.sample, source: e.sourceFile }));
        const check = (el) => {
          if (el.getAttribute('src') === 'x' || [...el.attributes].some((a) => /^on/i.test(a.name))) window.__hostile.push(el.outerHTML.slice(0, 200));
        };
        new MutationObserver((records) => {
          for (const r of records) {
            if (r.type === 'attributes') { check(r.target); continue; }
            for (const n of r.addedNodes) if (n.nodeType === 1) { check(n); n.querySelectorAll('*').forEach(check); }
          }
        }).observe(document, { subtree: true, childList: true, attributes: true });
      });
    },
  }));
});

after(async () => {
  await browser?.close();
  await server?.close();
});

test('a full flow sends nothing off the server, violates no CSP directive, and shows a hostile file name as text', async () => {
  const t0 = Date.now();
  // The demo loaded (openStudio waited for it); now a dropped folder with the hostile name.
  await dropFiles(page, images.map((im) => ({ path: `few/${im.path}`, bytes: im.bytes })));
  await page.waitForFunction((n) => document.querySelector('[data-testid=data-count]')?.textContent === `${n} images, ${n} labelled`, images.length, { timeout: 60_000 });
  // Thumbnails are object URLs (img-src blob:) and have loaded.
  await page.waitForFunction((n) => {
    const imgs = [...document.querySelectorAll('[data-testid=thumbnails] img')];
    return imgs.length === n && imgs.every((i) => i.complete && i.naturalWidth > 0 && i.src.startsWith('blob:'));
  }, images.length, { timeout: 30_000 });
  assert.ok(await page.locator(`[data-testid=thumbnails] img[alt$="${EVIL}"]`).count() === 1, 'the thumbnail carries the name as its alt text');

  await page.getByTestId('run-eval').click();
  await page.getByTestId('eval-result').waitFor({ timeout: 300_000 });
  const cell = page.locator('[data-testid=predictions] td', { hasText: EVIL });
  assert.equal(await cell.count(), 1, 'the hostile name is one table cell');
  assert.ok((await cell.innerText()).endsWith(EVIL), 'shown literally');

  await page.getByTestId('record-stats').click();
  await page.getByTestId('stats-summary').waitFor({ timeout: 300_000 });
  // echarts (a lazily loaded chunk) draws under the CSP: its canvas has a size.
  await page.getByTestId('histogram-chart').waitFor({ state: 'visible', timeout: 60_000 });
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=histogram-chart] canvas')].some((c) => c.width > 0 && c.height > 0), null, { timeout: 60_000 });

  await page.getByTestId('quant-method').selectOption('adfq');
  await page.getByTestId('quant-preset-w4a4').click();
  if (await page.getByTestId('asmo-enabled').count()) await page.getByTestId('asmo-enabled').uncheck();
  await page.getByTestId('quant-calib-size').fill(String(CALIB));
  await page.getByTestId('run-quant').click();
  await page.locator('[data-testid=quant-row][data-bits=W4A4]').waitFor({ timeout: 300_000 }).catch(async (e) => {
    await page.screenshot({ path: 'test-results/safety-failed.png', fullPage: true });
    const panel = await page.getByTestId('quant-panel').innerText().catch(() => '(no quant panel)');
    throw new Error(`${e.message}\nquant panel: ${panel}\npage errors: ${pageErrors.join('; ')}`);
  });
  assert.equal(await page.getByTestId('quant-error').count(), 0);
  await page.getByTestId('export-section').waitFor();
  for (const id of ['export-qdq', 'export-fake-quant', 'export-report', 'export-summary']) {
    const f = await save(id);
    assert.ok(f.url.startsWith(`blob:${origin}/`), `${id} downloads from an object URL of the page: ${f.url}`);
    assert.ok(f.bytes.length > 0);
    files[id] = f;
  }
  await page.screenshot({ path: 'test-results/safety-flow.png', fullPage: true });

  // The engine worker ran, and the recorder sees the worker's own requests.
  assert.ok(workers.length >= 1, 'the engine runs in a worker');
  const probe = `${origin}/demo/manifest.json?probe=worker`;
  await workers[0].evaluate((u) => fetch(u).then((r) => r.status), probe);
  assert.ok(requests.some((r) => r.url === probe), 'a request from the worker is recorded');

  const hosts = [...new Set(requests.map((r) => { try { return new URL(r.url).origin; } catch { return r.url; } }))];
  console.log(`[safety e2e] ${requests.length} requests (${requests.filter((r) => r.type === 'image').length} images, `
    + `${requests.filter((r) => r.type === 'fetch').length} fetches), origins: ${hosts.join(', ')}; workers: ${workers.map((w) => new URL(w.url()).pathname).join(', ')}; `
    + `flow ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  assert.deepEqual(offsite, [], 'no request leaves the server');
  assert.deepEqual(requests.filter((r) => !sameOrigin(r.url)).map((r) => r.url), []);
  assert.deepEqual(requests.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.url}`), [], 'nothing is sent, only fetched');
  assert.deepEqual(sockets, [], 'no WebSocket');
  assert.deepEqual(serviceWorkers, [], 'no service worker');
  assert.deepEqual(await violations(), [], 'no CSP violation in the page');
  assert.deepEqual(await workerViolations(), [], 'no CSP violation in the worker');
  assert.deepEqual(cspLines(), [], 'no CSP message in the console (page and worker)');
  assert.deepEqual(await page.evaluate(() => window.__hostile), [], 'no element with src=x or an inline handler was ever created');
  assert.deepEqual(dialogs, []);
  assert.deepEqual(pageErrors, []);
});

test('the downloaded HTML summary lists the hostile name as text and runs nothing, inline or from a file', async () => {
  const html = files['export-summary'].bytes.toString('utf8');
  assert.ok(html.includes(EVIL_ESCAPED), 'the name is escaped in the summary');
  assert.ok(!html.includes('<img src=x'), 'the name is not markup in the summary');
  assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">/);
  const report = JSON.parse(files['export-report'].bytes.toString('utf8'));
  assert.ok(report.data.calibFiles.some((n) => n.endsWith(EVIL)), `the hostile file calibrated: ${report.data.calibFiles.join(', ')}`);
  const dir = mkdtempSync(join(tmpdir(), 'adfq-safety-'));
  try {
    for (const how of ['setContent', 'file']) {
      const v = await openSummary(how, html, dir);
      assert.equal(v.scripts, 0, how);
      assert.equal(v.imgs, 0, `${how}: no <img> element`);
      assert.equal(v.handlers, 0, how);
      assert.ok(v.calib.some((t) => t.endsWith(EVIL)), `${how}: the calibration list shows the name literally: ${v.calib.join(', ')}`);
      assert.ok(v.bodyHasName, how);
      assert.deepEqual(v.dialogs, [], `${how}: no dialog`);
      assert.deepEqual(v.errors, [], how);
      assert.ok(v.requested.every((u) => u.startsWith('file:') || u === 'about:blank'), `${how}: no request: ${v.requested.join(', ')}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the CSP is in force: header and <meta> without unsafe-eval or inline scripts; inline script, handlers and eval are blocked in the page and the worker', async () => {
  const directives = (policy) => Object.fromEntries(policy.split(';').map((d) => d.trim().split(/\s+/)).filter((d) => d[0]).map(([k, ...v]) => [k, v]));
  const header = docResponse.headers()['content-security-policy'];
  const meta = await page.locator('meta[http-equiv=Content-Security-Policy]').getAttribute('content');
  assert.ok(header, 'the document comes with a Content-Security-Policy header');
  assert.ok(meta, 'the built index.html carries the policy in a <meta>');
  for (const [where, policy] of [['header', header], ['meta', meta]]) {
    const d = directives(policy);
    const script = d['script-src'] ?? d['default-src'];
    assert.ok(script, `${where}: scripts are restricted`);
    for (const bad of ["'unsafe-eval'", "'unsafe-inline'", "'wasm-unsafe-eval'", '*', 'data:', 'blob:', 'http:', 'https:']) {
      assert.ok(!script.includes(bad), `${where}: script-src has no ${bad}`);
    }
    assert.deepEqual(d['object-src'], ["'none'"], where);
    assert.deepEqual(d['base-uri'], ["'none'"], where);
    assert.deepEqual(d['connect-src'], ["'self'"], where);
    assert.ok(!(d['worker-src'] ?? script).includes('blob:'), `${where}: workers only from the server`);
  }
  assert.deepEqual(directives(header)['frame-ancestors'], ["'none'"]);

  const seen = (await violations()).length;
  // An inline <script> added to the page does not run, and the page is told why.
  const inline = await page.evaluate(() => new Promise((resolve) => {
    const result = { ran: false, violation: null };
    document.addEventListener('securitypolicyviolation', (e) => { result.violation = e.effectiveDirective; }, { once: true });
    const s = document.createElement('script');
    s.textContent = 'window.__injected = true;';
    document.head.append(s);
    setTimeout(() => { result.ran = window.__injected === true; s.remove(); resolve(result); }, 200);
  }));
  assert.deepEqual(inline, { ran: false, violation: 'script-src-elem' });
  // Inline event handlers do not run either.
  const handler = await page.evaluate(() => new Promise((resolve) => {
    const b = document.createElement('button');
    b.setAttribute('onclick', 'window.__clicked = true');
    document.body.append(b);
    b.click();
    setTimeout(() => { b.remove(); resolve(window.__clicked === true); }, 100);
  }));
  assert.equal(handler, false, 'an inline onclick does not run');
  // eval and new Function throw, in the page and in the engine worker (whose policy is its response header).
  // They run from a timer, as the page's own code would: code evaluated by the DevTools protocol itself
  // (page.evaluate's function body) is allowed to eval whatever the policy says.
  const evalIn = () => new Promise((resolve) => setTimeout(() => {
    const out = [];
    try { out.push(['eval', String(eval('6 * 7'))]); } catch (e) { out.push(['eval', e.name]); }
    try { out.push(['Function', String(new Function('return 6 * 7')())]); } catch (e) { out.push(['Function', e.name]); }
    resolve(out);
  }, 0));
  assert.deepEqual(await page.evaluate(evalIn), [['eval', 'EvalError'], ['Function', 'EvalError']]);
  assert.deepEqual(await workers[0].evaluate(evalIn), [['eval', 'EvalError'], ['Function', 'EvalError']]);
  assert.deepEqual((await workerViolations()).map((v) => v.directive), ['script-src', 'script-src'], 'the worker reports both');
  const after = await violations();
  assert.ok(after.length > seen, 'the blocked attempts were reported as violations');
  assert.ok(after.slice(seen).every((v) => ['script-src-elem', 'script-src-attr', 'script-src'].includes(v.directive)), JSON.stringify(after.slice(seen)));
  assert.equal(await page.evaluate(() => window.__injected), undefined);
  assert.deepEqual(dialogs, []);
  assert.deepEqual(offsite, []);
});
