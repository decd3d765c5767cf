/**
 * Layering rules, checked on the source text. The engine must run unchanged in the page, in a worker
 * and in Node, so it may not import UI libraries or UI code, and only named files may touch Node APIs.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect, it } from 'vitest';

const ENGINE = new URL('../src/engine/', import.meta.url).pathname;
const NODE_ONLY = new Set(['data/node-files.ts']);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const importsOf = (src: string) => [...src.matchAll(/(?:import|export)[^'"]*from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]/g)].map((m) => m[1] ?? m[2]);

it('src/engine imports no React, zustand, echarts or UI module', () => {
  const offenders = files(ENGINE).flatMap((f) => importsOf(readFileSync(f, 'utf8'))
    .filter((spec) => /^(react|react-dom|zustand|echarts)(\/|$)|\/(ui|worker)\//.test(spec))
    .map((spec) => `${relative(ENGINE, f)} imports ${spec}`));
  expect(offenders).toEqual([]);
});

it('only the named Node-only engine files import node: modules', () => {
  const offenders = files(ENGINE).filter((f) => !NODE_ONLY.has(relative(ENGINE, f)))
    .flatMap((f) => importsOf(readFileSync(f, 'utf8')).filter((s) => s.startsWith('node:')).map((s) => `${relative(ENGINE, f)} imports ${s}`));
  expect(offenders).toEqual([]);
});
