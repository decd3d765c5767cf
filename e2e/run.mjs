// Runs the e2e/*.e2e.mjs files (or those named) with Node's test runner against the studio served on 127.0.0.1
// at a free port (WebGPU needs a secure context: localhost is one), then stops the server.
//
// By default the studio is the production build (`vite build` into a temporary folder, about 1-2 s here)
// served by `vite preview`, so the tests run what ships, its Content-Security-Policy included. A file that
// imports the app's source or node_modules into the page (`import('/src/...')`, `import('/node_modules/...')`:
// modules only the dev server serves, e.g. export.e2e.mjs running onnxruntime-web beside the studio) runs
// against the Vite dev server instead. ADFQ_E2E_SERVER=dev or =build puts every file on one of them.
// Each file learns its server from ADFQ_BASE_URL and ADFQ_SERVED ('build' | 'dev').
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { serveBuild, serveDev } from './browser.mjs';

const only = process.argv.slice(2);
const files = only.length ? only : readdirSync('e2e').filter((f) => f.endsWith('.e2e.mjs')).sort().map((f) => `e2e/${f}`);
const forced = process.env.ADFQ_E2E_SERVER;
if (forced && forced !== 'dev' && forced !== 'build') throw new Error(`ADFQ_E2E_SERVER is 'dev' or 'build', not '${forced}'`);
const needsDev = (file) => /\bimport\(\s*['"`]\/(src|node_modules)\//.test(readFileSync(file, 'utf8'));
const groups = { build: [], dev: [] };
for (const f of files) groups[forced ?? (needsDev(f) ? 'dev' : 'build')].push(f);

let code = 0;
for (const kind of ['build', 'dev']) {
  if (!groups[kind].length) continue;
  const server = kind === 'build' ? await serveBuild() : await serveDev();
  console.log(kind === 'build'
    ? `[e2e] production build (vite build ${server.buildSeconds.toFixed(1)} s) served by vite preview at ${server.url}: ${groups[kind].join(' ')}`
    : `[e2e] Vite dev server at ${server.url}: ${groups[kind].join(' ')}`);
  try {
    const child = spawn(process.execPath, ['--test', '--test-concurrency=1', ...groups[kind]], {
      stdio: 'inherit', env: { ...process.env, ADFQ_BASE_URL: server.url, ADFQ_SERVED: kind },
    });
    const c = await new Promise((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
    if (c !== 0) code = c;
  } finally {
    await server.close();
  }
}
process.exit(code);
