import { defineConfig, type Plugin } from 'vitest/config';
import react from '@vitejs/plugin-react';

/**
 * The Content-Security-Policy the studio ships. Everything the page and its engine worker load is its own
 * (bundled scripts, the worker, the demo model and images, the class list); thumbnails and downloads are
 * object URLs (blob:); React and echarts set inline styles (echarts' tooltips as HTML with style
 * attributes), so styles may be inline, scripts may not. No 'unsafe-eval' and no 'wasm-unsafe-eval': the
 * bundles contain no eval, new Function or WebAssembly (our engine is WGSL; onnxruntime-web is only used by
 * tests and the benchmark page, which run on the dev server).
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'", "script-src 'self'", "worker-src 'self'", "connect-src 'self'", "img-src 'self' blob:",
  "style-src 'self' 'unsafe-inline'", "font-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'none'",
].join('; ');
/** As a header it can also forbid framing (frame-ancestors is ignored, with a console warning, in a <meta>). */
const CONTENT_SECURITY_POLICY_HEADER = `${CONTENT_SECURITY_POLICY}; frame-ancestors 'none'`;

/**
 * Puts the policy into the built index.html as a <meta http-equiv>, right after the charset and before any
 * script. Build only: the dev server injects an inline React Refresh preamble (and its own client), which a
 * policy without inline scripts would block, so `npm run dev` runs without one; the e2e tests run on the build.
 */
function contentSecurityPolicy(): Plugin {
  return {
    name: 'adfq-content-security-policy',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(html) {
        const charset = /<meta charset="[^"]*"\s*\/?>/i;
        if (!charset.test(html)) throw new Error('index.html has no <meta charset>: cannot place the Content-Security-Policy after it');
        return html.replace(charset, (m) => `${m}\n    <meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}" />`);
      },
    },
  };
}

/** Headers `vite preview` sends with every response (the document, the worker script, the demo files). */
const PREVIEW_HEADERS = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY_HEADER,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

export default defineConfig({
  plugins: [react(), contentSecurityPolicy()],
  server: { host: '127.0.0.1', port: 5173 },
  preview: { host: '127.0.0.1', port: 4173, headers: PREVIEW_HEADERS },
  worker: { format: 'es' },
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
    setupFiles: ['tests/setup-env.ts'],
  },
});
