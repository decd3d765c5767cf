// Starts the Vite dev server on 127.0.0.1 (WebGPU needs a secure context: localhost is one), runs every
// e2e/*.e2e.mjs file with Node's test runner, then stops the server.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createServer } from 'vite';

const server = await createServer({ server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: false }, logLevel: 'warn' });
await server.listen();
const address = server.httpServer.address();
const base = `http://127.0.0.1:${address.port}`;
const only = process.argv.slice(2);
const files = (only.length ? only : readdirSync('e2e').filter((f) => f.endsWith('.e2e.mjs')).map((f) => `e2e/${f}`));
const child = spawn(process.execPath, ['--test', '--test-concurrency=1', ...files], {
  stdio: 'inherit', env: { ...process.env, ADFQ_BASE_URL: base },
});
const code = await new Promise((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
await server.close();
process.exit(code);
