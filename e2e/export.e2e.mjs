// Issue 6 in the studio: quantize the demo (W4A4 ADFQ, 10 calibration images, the other 190 evaluated), then
// the export section of the run: each button shows the size of its file and saves exactly that many bytes
// under the shown name; the QDQ model (int8 at opset 13, and int4 at opset 21) and the fake-quant model run
// in onnxruntime-web's WASM backend in the page, served by Vite from node_modules (no network), on the
// evaluation images' tensors the studio used (same bytes through the engine's own image pipeline), with the
// top-1 of the studio's quantized engine on >= 99.5% of the images and the accuracy within 0.2 points;
// the HTML summary opens with its charts and runs no script.
import { mkdirSync, readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { openStudio } from './browser.mjs';

const CALIB = 10;
let browser, page, pageErrors;
const files = {};

/** The studio's byte format (src/engine/report/format.ts). */
function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let v = n / 1024, u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${v.toFixed(2)} ${units[u]}`;
}

/** Waits until the button has a size, clicks it, and returns what the browser saved next to what the button said. */
async function save(testId) {
  const button = page.getByTestId(testId);
  await page.waitForFunction((id) => document.querySelector(`[data-testid=${id}]`)?.dataset.bytes, testId, { timeout: 120_000 });
  const shown = { bytes: Number(await button.getAttribute('data-bytes')), name: await button.getAttribute('data-filename'), text: await button.innerText() };
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), button.click()]);
  const bytes = readFileSync(await download.path());
  return { shown, name: download.suggestedFilename(), bytes };
}

/** Runs an exported model with onnxruntime-web (WASM) in the page on the named demo images; returns top-1 per image. */
async function ortTop1(model, names, spec, exact) {
  return page.evaluate(async ({ b64, names, spec, exact }) => {
    const ort = await import('/node_modules/onnxruntime-web/dist/ort.wasm.min.mjs');
    ort.env.wasm.wasmPaths = '/node_modules/onnxruntime-web/dist/';
    ort.env.wasm.numThreads = 1;
    const { imageBytesToTensor } = await import('/src/engine/image/index.ts');
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    // onnxruntime rewrites DequantizeLinear → MatMul into MatMulNBits with int8 inputs unless told not to.
    const options = { executionProviders: ['wasm'], logSeverityLevel: 3, ...(exact ? { extra: { session: { qdq_matmulnbits_accuracy_level: '1' } } } : {}) };
    const session = await ort.InferenceSession.create(bytes, options);
    const per = spec.channels * spec.imageSize * spec.imageSize, pixels = new Float32Array(names.length * per);
    for (let i = 0; i < names.length; i++) {
      const img = new Uint8Array(await (await fetch(`/demo/images/${names[i]}`)).arrayBuffer());
      pixels.set(imageBytesToTensor(img, names[i], spec), i * per);
    }
    const t0 = performance.now();
    const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', pixels, [names.length, spec.channels, spec.imageSize, spec.imageSize]) });
    const seconds = (performance.now() - t0) / 1000;
    const logits = out[session.outputNames[0]].data, classes = logits.length / names.length, top1 = [];
    for (let i = 0; i < names.length; i++) {
      let best = 0;
      for (let c = 1; c < classes; c++) if (logits[i * classes + c] > logits[i * classes + best]) best = c;
      top1.push(best);
    }
    await session.release();
    return { top1, seconds, version: ort.env.versions.common };
  }, { b64: model.toString('base64'), names, spec, exact });
}

function compare(report, ort) {
  const p = report.predictions, n = p.length;
  const agree = p.filter((x, i) => x.quantized === ort.top1[i]).length / n;
  const labelled = p.filter((x) => x.label !== null);
  const accOrt = labelled.filter((x) => x.label === ort.top1[p.indexOf(x)]).length / labelled.length;
  return { n, agree, accOrt, accEngine: report.accuracy.quantized.top1 };
}

before(async () => {
  mkdirSync('test-results', { recursive: true });
  ({ browser, page, pageErrors } = await openStudio({ contextOptions: { acceptDownloads: true }, dataCount: '200 images, 200 labelled' }));
});

after(async () => { await browser?.close(); });

test('a W4A4 ADFQ run of the demo: each export button shows its size and saves exactly that file', async () => {
  const t0 = Date.now();
  await page.getByTestId('quant-method').selectOption('adfq');
  await page.getByTestId('quant-preset-w4a4').click();
  await page.getByTestId('quant-calib-size').fill(String(CALIB));
  await page.getByTestId('run-quant').click();
  await page.locator('[data-testid=quant-row][data-bits=W4A4]').waitFor({ timeout: 240_000 });
  assert.equal(await page.getByTestId('quant-error').count(), 0);
  const quantSeconds = (Date.now() - t0) / 1000;
  await page.getByTestId('export-section').waitFor();

  const base = 'vit-fmnist-outliers_adfq_w4a4';
  const expected = { 'export-qdq': `${base}_qdq-int8-opset13.onnx`, 'export-fake-quant': `${base}_fakequant-opset13.onnx`,
    'export-report': `${base}_report.json`, 'export-summary': `${base}_summary.html` };
  for (const [id, name] of Object.entries(expected)) {
    const f = await save(id);
    assert.equal(f.shown.name, name);
    assert.equal(f.name, name, `${id}: the saved file's name is the one shown`);
    assert.equal(f.bytes.length, f.shown.bytes, `${id}: the saved file has the size shown`);
    assert.ok(f.shown.text.endsWith(formatBytes(f.bytes.length)), `${id}: '${f.shown.text}' shows ${formatBytes(f.bytes.length)}`);
    files[id] = f.bytes;
  }
  assert.match(await page.getByTestId('export-sizes').innerText(), /^FP32 model \d+\.\d\d (KiB|MiB) · weights .* in FP32, .* packed at 4 bits \(\d+\.\d× smaller/);
  await page.getByTestId('export-section').screenshot({ path: 'test-results/studio-export.png' });
  // Whole ONNX files: a protobuf ModelProto starts with ir_version (field 1, varint).
  assert.equal(files['export-qdq'][0], 0x08);
  assert.ok(files['export-qdq'].length < files['export-fake-quant'].length, 'integer weights make the QDQ file smaller');
  const report = JSON.parse(files['export-report'].toString('utf8'));
  assert.equal(report.kind, 'adfq-studio run report');
  assert.equal(report.sizes.qdq.fileBytes, files['export-qdq'].length);
  assert.equal(report.sizes.fakeQuant.fileBytes, files['export-fake-quant'].length);
  assert.equal(report.data.calibImages, CALIB);
  assert.equal(report.predictions.length, 200 - CALIB);
  assert.equal(report.quantParams.bitsW, 4);
  console.log(`[export e2e] quantize ${quantSeconds.toFixed(0)} s; files: QDQ ${files['export-qdq'].length} B, fake-quant ${files['export-fake-quant'].length} B, `
    + `report ${files['export-report'].length} B, summary ${files['export-summary'].length} B; ${((Date.now() - t0) / 1000).toFixed(0)} s so far`);
});

test('onnxruntime-web (WASM) runs the exports in the page like the studio\'s quantized engine', async () => {
  const report = JSON.parse(files['export-report'].toString('utf8'));
  const pre = report.preprocessing, spec = { resize: pre.resize, imageSize: pre.crop, mean: pre.mean, std: pre.std, channels: pre.channels };
  const names = report.predictions.map((p) => p.name);
  // The report's accuracy is the table's and its predictions'.
  const row = await page.locator('[data-testid=quant-row][data-bits=W4A4]').locator('td').allInnerTexts();
  assert.equal(row[5], `${(100 * report.accuracy.quantized.top1).toFixed(2)}%`);
  const own = report.predictions.filter((p) => p.label === p.quantized).length / names.length;
  assert.ok(Math.abs(own - report.accuracy.quantized.top1) < 1e-12);

  const check = (what, r) => {
    const c = compare(report, r);
    console.log(`[export e2e] ${what}: ort-web ${r.version} WASM, ${c.n} images in ${r.seconds.toFixed(2)} s: top-1 agreement ${(100 * c.agree).toFixed(2)}%, `
      + `accuracy ort ${(100 * c.accOrt).toFixed(2)}% vs engine ${(100 * c.accEngine).toFixed(2)}%`);
    return c;
  };
  for (const [what, bytes] of [['QDQ int8 opset 13', files['export-qdq']], ['fake-quant opset 13', files['export-fake-quant']]]) {
    const c = check(what, await ortTop1(bytes, names, spec, true));
    assert.ok(c.agree >= 0.995, `${what}: top-1 agreement ${c.agree}`);
    assert.ok(Math.abs(c.accOrt - c.accEngine) <= 0.002 + 1e-9, `${what}: accuracy ${c.accOrt} vs ${c.accEngine}`);
  }
  check('QDQ int8 opset 13, default session (MatMulNBits, for information)', await ortTop1(files['export-qdq'], names, spec, false));

  // int4 weights at opset 21: the button rebuilds, with its own name and a smaller file.
  await page.getByTestId('export-int4').check();
  assert.equal(await page.getByTestId('export-opset').inputValue(), '21');
  await page.waitForFunction(() => /int4-opset21/.test(document.querySelector('[data-testid=export-qdq]')?.dataset.filename ?? ''), null, { timeout: 30_000 });
  const int4 = await save('export-qdq');
  assert.equal(int4.name, 'vit-fmnist-outliers_adfq_w4a4_qdq-int4-opset21.onnx');
  assert.equal(int4.bytes.length, int4.shown.bytes);
  assert.ok(int4.bytes.length < files['export-qdq'].length, 'int4 codes are smaller than int8 ones');
  const c = check('QDQ int4 opset 21', await ortTop1(int4.bytes, names, spec, true));
  assert.ok(c.agree >= 0.995, `int4: top-1 agreement ${c.agree}`);
  assert.ok(Math.abs(c.accOrt - c.accEngine) <= 0.002 + 1e-9);
  assert.deepEqual(pageErrors, []);
});

test('the HTML summary opens on its own: SQNR bars, numbers, no script', async () => {
  const report = JSON.parse(files['export-report'].toString('utf8'));
  const view = await browser.newPage({ viewport: { width: 1100, height: 900 }, javaScriptEnabled: true });
  const dialogs = [];
  view.on('dialog', (d) => { dialogs.push(d.message()); void d.dismiss(); });
  await view.setContent(files['export-summary'].toString('utf8'));
  assert.equal(await view.locator('script').count(), 0);
  const bars = Number(await view.locator('svg[data-chart=sqnr]').getAttribute('data-bars'));
  assert.equal(bars, report.sites.length);
  assert.match(await view.locator('h1').innerText(), /^ADFQ W4A4 — vit-fmnist-outliers\.onnx \(demo\)$/);
  assert.match(await view.locator('table[data-section=accuracy]').innerText(), new RegExp(`${(100 * report.accuracy.quantized.top1).toFixed(2)}%`));
  await view.screenshot({ path: 'test-results/export-summary.png', fullPage: true });
  await view.close();
  assert.deepEqual(dialogs, []);
});
