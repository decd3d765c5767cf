// Writes public/demo/manifest.json: the demo model's file name and every sample image (relative to
// public/demo/images), so the page can fetch them. tests/demo-manifest.test.ts keeps it in sync.
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

const root = new URL('../public/demo/', import.meta.url).pathname;
const imagesDir = join(root, 'images');

export function listDemoImages() {
  const out = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (/\.(png|jpe?g)$/i.test(name)) out.push(relative(imagesDir, full).split(sep).join('/'));
    }
  };
  walk(imagesDir);
  return out;
}

export const DEMO_MODEL_FILE = 'vit-fmnist-outliers.onnx';

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  const manifest = { model: DEMO_MODEL_FILE, images: listDemoImages() };
  writeFileSync(join(root, 'manifest.json'), `${JSON.stringify(manifest, null, 1)}\n`);
  console.log(`wrote ${join(root, 'manifest.json')}: ${manifest.images.length} images`);
}
