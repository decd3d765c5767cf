// Drives bench.html (src/bench/bench-page.ts) in headless Chromium on SwiftShader, served by Vite.
import { dirname } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';
import { launchBrowser } from '../../e2e/browser.mjs';
import type { MeasureOptions } from '../../src/bench/measure.ts';
import type { PageRuntime } from '../../src/bench/bench-page.ts';
import type { PixelSpec } from '../../src/bench/pixels.ts';

export interface PageResult { medianMs: number; timesMs: number[]; warmupMs: number; output: number[] }

export interface BrowserBench {
  /** Opens a fresh page with one runtime loaded; a fresh page per runtime keeps their GPU memory apart. */
  open(runtime: PageRuntime, modelPath: string): Promise<{ info: string; run(spec: PixelSpec, opts: MeasureOptions): Promise<PageResult>; close(): Promise<void> }>;
  close(): Promise<void>;
}

type BenchWindow = { adfqBench: { load(r: PageRuntime, url: string): Promise<string>; run(s: PixelSpec, o: MeasureOptions): Promise<PageResult> } };

export async function startBrowserBench(modelPaths: string[], log: (m: string) => void): Promise<BrowserBench> {
  let server: ViteDevServer | null = null;
  let browser: Browser | null = null;
  try {
    server = await createServer({
      logLevel: 'warn',
      // Scan bench.html up front so Vite does not discover ort mid-run and reload the page.
      optimizeDeps: { entries: ['bench.html'] },
      server: {
        host: '127.0.0.1', port: 0, strictPort: false,
        fs: { allow: [process.cwd(), ...modelPaths.map((p) => dirname(p))] },
        // Cross-origin isolation gives the page SharedArrayBuffer, which ort's multi-threaded WASM needs.
        headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' },
      },
    });
    await server.listen();
    const port = (server.httpServer!.address() as { port: number }).port;
    const base = `http://127.0.0.1:${port}`;
    browser = await launchBrowser();
    log(`vite at ${base}, chromium ${browser.version()}`);
    const b = browser;
    const s = server;
    return {
      async open(runtime, modelPath) {
        const page: Page = await b.newPage();
        // ort logs its warnings as console errors; they are not failures.
        page.on('console', (m) => { if (m.type() === 'error' && !/\[W:onnxruntime/.test(m.text())) log(`  [page ${runtime}] ${m.text().slice(0, 300)}`); });
        page.on('pageerror', (e) => log(`  [page ${runtime}] ${e.message.slice(0, 300)}`));
        try {
          await page.goto(`${base}/bench.html`);
          await page.waitForFunction(() => (window as unknown as { adfqBench?: unknown }).adfqBench !== undefined, null, { timeout: 180_000 });
          const info = await page.evaluate(([r, u]) => (window as unknown as BenchWindow).adfqBench.load(r, u), [runtime, `/@fs${modelPath}`] as const);
          return {
            info,
            run: (spec, opts) => page.evaluate(([sp, o]) => (window as unknown as BenchWindow).adfqBench.run(sp, o), [spec, opts] as const),
            close: () => page.close(),
          };
        } catch (e) {
          await page.close().catch(() => {});
          throw e;
        }
      },
      async close() {
        await b.close().catch(() => {});
        await s.close().catch(() => {});
      },
    };
  } catch (e) {
    await browser?.close().catch(() => {});
    await server?.close().catch(() => {});
    throw e;
  }
}
