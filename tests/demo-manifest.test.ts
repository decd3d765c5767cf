// The page fetches the demo through public/demo/manifest.json; it must list exactly what is there.
import { existsSync, readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
// @ts-expect-error plain ESM tool without types
import { DEMO_MODEL_FILE, listDemoImages } from '../tools/write-demo-manifest.mjs';

it('public/demo/manifest.json lists the demo model and every sample image (run tools/write-demo-manifest.mjs)', () => {
  const manifest = JSON.parse(readFileSync(new URL('../public/demo/manifest.json', import.meta.url), 'utf8'));
  expect(manifest.model).toBe(DEMO_MODEL_FILE);
  expect(existsSync(new URL(`../public/demo/${manifest.model}`, import.meta.url))).toBe(true);
  expect(manifest.images).toEqual(listDemoImages());
  expect(manifest.images.length).toBeGreaterThanOrEqual(100);
});
