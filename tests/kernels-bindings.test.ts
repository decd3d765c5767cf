// Every .wgsl file's `@group(0) @binding(i)` declarations and `struct Params` must match its wrapper's
// declared binding list and params list, in order; shaders/README.md states the convention.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, basename } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ALL_KERNELS } from '../src/engine/kernels/index.ts';

const root = join(import.meta.dirname, '..');
const shaderFiles = (readdirSync(join(root, 'shaders'), { recursive: true }) as string[])
  .filter((f) => f.endsWith('.wgsl')).map((f) => join(root, 'shaders', f));

function parseBindings(code: string): { index: number; name: string; kind: string }[] {
  const re = /@group\(0\)\s*@binding\((\d+)\)\s*var<([^>]+)>\s*(\w+)/g;
  return [...code.matchAll(re)].map((m) => {
    const space = m[2].replace(/\s/g, '');
    const kind = space === 'uniform' ? 'uniform' : space === 'storage,read_write' ? 'read_write' : space === 'storage,read' || space === 'storage' ? 'read' : space;
    return { index: Number(m[1]), name: m[3], kind };
  });
}

function parseParams(code: string): string[] {
  const body = /struct\s+Params\s*\{([^}]*)\}/.exec(code)?.[1] ?? '';
  return body.replace(/\/\/[^\n]*/g, '').split(',').map((s) => s.trim()).filter(Boolean).map((s) => s.replace(/\s/g, ''));
}

describe('shader bindings match their wrappers', () => {
  test('every kernel has a shader and a wrapper file, and every shader a kernel', () => {
    const names = shaderFiles.map((f) => basename(f, '.wgsl')).sort();
    expect(ALL_KERNELS.map((k) => k.name).sort()).toEqual(names);
    // shaders/vit/<name>.wgsl → src/engine/kernels/<name>.ts; shaders/<area>/<name>.wgsl → kernels/<area>/<name>.ts
    for (const f of shaderFiles) {
      const area = basename(join(f, '..'));
      const wrapper = join(root, 'src/engine/kernels', area === 'vit' ? '' : area, `${basename(f, '.wgsl').replace(/_/g, '-')}.ts`);
      expect(existsSync(wrapper), wrapper).toBe(true);
    }
  });

  for (const file of shaderFiles) {
    test(basename(file), () => {
      const code = readFileSync(file, 'utf8');
      const kernel = ALL_KERNELS.find((k) => k.name === basename(file, '.wgsl'))!;
      expect(code.startsWith('//'), 'header comment first').toBe(true);
      const declared = parseBindings(code);
      expect(declared.map((d) => d.index)).toEqual(declared.map((_, i) => i));
      expect(declared.map((d) => `${d.name}:${d.kind}`)).toEqual(kernel.bindings.map((b) => `${b.name}:${b.kind}`));
      expect(declared.at(-1)).toMatchObject({ name: 'params', kind: 'uniform' });
      expect(parseParams(code)).toEqual(kernel.spec.params.map(([n, t]) => `${n}:${t}`));
    });
  }
});
