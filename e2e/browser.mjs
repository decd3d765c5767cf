// Launches the system Chromium (never a downloaded one) with WebGPU on SwiftShader, as the README says;
// serves the studio (the production build through `vite preview`, or the dev server) for the e2e tests;
// opens the studio page with the demo loaded.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const CHROMIUM_ARGS = [
  '--headless=new', '--no-sandbox', '--enable-unsafe-webgpu', '--enable-features=Vulkan',
  '--use-vulkan=swiftshader', '--use-webgpu-adapter=swiftshader', '--use-angle=swiftshader',
  '--disable-vulkan-surface', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-quic',
];

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export async function launchBrowser() {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true });
}

/** Base URL of the server started by e2e/run.mjs (or one the caller started). */
export function baseUrl() {
  return process.env.ADFQ_BASE_URL ?? 'http://127.0.0.1:5173';
}

/** What e2e/run.mjs serves at baseUrl(): 'build' (the production build via `vite preview`) or 'dev' (the Vite dev server). */
export function servedKind() {
  return process.env.ADFQ_SERVED === 'build' ? 'build' : 'dev';
}

/**
 * Builds the studio (`vite build` with the project's vite.config.ts, into a fresh temporary folder) and serves
 * it with `vite preview` on 127.0.0.1 at a free port: what ships, Content-Security-Policy header and <meta>
 * included. Returns { url, outDir, buildSeconds, close() }; close() stops the server and deletes the build.
 */
export async function serveBuild() {
  const { build, preview } = await import('vite');
  const outDir = mkdtempSync(join(tmpdir(), 'adfq-e2e-build-'));
  const remove = () => rmSync(outDir, { recursive: true, force: true });
  process.once('exit', remove);   // also when the run is cut short
  let server;
  try {
    const t0 = performance.now();
    // Quiet: no chunk-size advice, no plugin-timing report (a busy machine makes the build slow, not wrong).
    await build({ root: ROOT, logLevel: 'warn', build: { outDir, emptyOutDir: true, chunkSizeWarningLimit: 4096, rolldownOptions: { checks: { bundlerTimings: false } } } });
    const buildSeconds = (performance.now() - t0) / 1000;
    server = await preview({ root: ROOT, logLevel: 'warn', build: { outDir }, preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false } });
    const { port } = server.httpServer.address();
    return {
      url: `http://127.0.0.1:${port}`, outDir, buildSeconds,
      async close() { await server.close(); remove(); },
    };
  } catch (e) {
    await server?.close();
    remove();
    throw e;
  }
}

/** The Vite dev server on 127.0.0.1 at a free port (no HMR). Returns { url, close() }. */
export async function serveDev() {
  const { createServer } = await import('vite');
  const server = await createServer({ root: ROOT, server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: false }, logLevel: 'warn' });
  await server.listen();
  return { url: `http://127.0.0.1:${server.httpServer.address().port}`, close: () => server.close() };
}

/**
 * The production build to test against: baseUrl() when e2e/run.mjs serves the build there, else one built and
 * served here (serveBuild). Returns { url, close() }; close() only stops what this call started.
 */
export async function productionServer() {
  if (servedKind() === 'build') return { url: baseUrl(), close: async () => {} };
  return serveBuild();
}

/**
 * Launches Chromium, opens the studio at `url` (baseUrl() unless given) and waits for the demo model's name and
 * for the data panel's count: `dataCount` is the exact text ('200 images, 200 labelled') or a RegExp (by
 * default any non-zero count). `contextOptions` go to browser.newContext (e.g. { acceptDownloads: true });
 * `beforeGoto(page)` runs before navigation (listeners that must see the first request). Page errors are
 * collected in the returned `pageErrors`. Returns { browser, context, page, pageErrors, response } (the
 * document's response).
 */
export async function openStudio({
  url = baseUrl(), viewport = { width: 1200, height: 900 }, contextOptions = {}, beforeGoto,
  dataCount = /^[1-9]\d* images/, timeout = 60_000,
} = {}) {
  const browser = await launchBrowser();
  try {
    const context = await browser.newContext({ viewport, ...contextOptions });
    const page = await context.newPage();
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    await beforeGoto?.(page);
    const response = await page.goto(url);
    await page.getByTestId('model-name').waitFor({ timeout });
    const want = dataCount instanceof RegExp ? { source: dataCount.source, flags: dataCount.flags } : { text: String(dataCount) };
    await page.waitForFunction((w) => {
      const t = document.querySelector('[data-testid=data-count]')?.textContent ?? '';
      return w.text !== undefined ? t === w.text : new RegExp(w.source, w.flags).test(t);
    }, want, { timeout });
    return { browser, context, page, pageErrors, response };
  } catch (e) {
    await browser.close();
    throw e;
  }
}
