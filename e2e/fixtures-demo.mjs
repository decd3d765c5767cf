// The model and images the e2e tests drop on the page: a few classes of the embedded demo (public/demo).
import { readFileSync } from 'node:fs';

const DEMO = new URL('../public/demo/', import.meta.url);

/** { modelName, modelBytes, images: [{ path: 'Class/x.png', bytes }] } with `perClass` images of `classes` classes. */
export function demoSet({ classes = 3, perClass = 2 } = {}) {
  const manifest = JSON.parse(readFileSync(new URL('manifest.json', DEMO), 'utf8'));
  const byClass = new Map();
  for (const p of manifest.images) {
    const c = p.split('/')[0];
    if (!byClass.has(c)) byClass.set(c, []);
    byClass.get(c).push(p);
  }
  const paths = [...byClass.values()].slice(0, classes).flatMap((l) => l.slice(0, perClass));
  return {
    modelName: manifest.model, modelBytes: readFileSync(new URL(manifest.model, DEMO)),
    images: paths.map((path) => ({ path, bytes: readFileSync(new URL(`images/${path}`, DEMO)) })),
  };
}
