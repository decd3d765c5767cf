// Every kernel .wgsl file's `@group(0) @binding(i)` declarations and `struct Params` must match its
// wrapper's declared binding list and params list, in order; shaders/README.md states the convention.
// The function libraries of shaders/common must be functions only, and listed wherever they are called.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, basename, relative, sep } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ALL_KERNELS } from '../src/engine/kernels/index.ts';

const root = join(import.meta.dirname, '..');
const wgslFiles = (readdirSync(join(root, 'shaders'), { recursive: true }) as string[])
  .filter((f) => f.endsWith('.wgsl')).map((f) => join(root, 'shaders', f));
// shaders/common/ holds function libraries: no bindings, no entry point, no wrapper of their own (a
// kernel's wrapper lists the ones it calls in `libs`), so they get their own checks below instead.
const isLib = (f: string) => relative(join(root, 'shaders'), f).split(sep)[0] === 'common';
const shaderFiles = wgslFiles.filter((f) => !isLib(f));
const libFiles = wgslFiles.filter(isLib);
const stripComments = (code: string) => code.replace(/\/\/[^\n]*/g, '');
const definedFns = (code: string) => [...stripComments(code).matchAll(/\bfn\s+(\w+)\s*\(/g)].map((m) => m[1]);

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

describe('shared function libraries (shaders/common) and the kernels that list them', () => {
  const libText = new Map(libFiles.map((f) => [f, readFileSync(f, 'utf8')]));
  const libOfFn = new Map(libFiles.flatMap((f) => definedFns(libText.get(f)!).map((n) => [n, f] as const)));

  for (const file of libFiles) {
    test(`common/${basename(file)}: header, functions only, listed by some kernel`, () => {
      const code = libText.get(file)!;
      expect(code.startsWith('//'), 'header comment first').toBe(true);
      expect(/@(group|binding)\s*\(/.test(stripComments(code)), 'no bindings').toBe(false);
      expect(/@(compute|vertex|fragment)\b/.test(stripComments(code)), 'no entry point').toBe(false);
      expect(ALL_KERNELS.some((k) => k.spec.libs?.includes(code)), 'listed in some wrapper\'s libs').toBe(true);
    });
  }

  test('every library function a kernel calls comes from a library its wrapper lists', () => {
    for (const k of ALL_KERNELS) {
      const listed = (k.spec.libs ?? []).map((text) => libFiles.find((f) => libText.get(f) === text));
      expect(listed, `${k.name}: libs are shaders/common files`).not.toContain(undefined);
      const all = definedFns(k.code), own = new Set(definedFns(k.spec.code));
      expect(all.filter((n, i) => all.indexOf(n) !== i), `${k.name}: functions defined twice`).toEqual([]);
      const calls = [...stripComments(k.code).matchAll(/\b(\w+)\s*\(/g)].map((m) => m[1]);
      for (const name of new Set(calls)) {
        const lib = libOfFn.get(name);
        if (!lib || own.has(name)) continue;
        expect(listed, `${k.name} calls ${name} of common/${basename(lib)}`).toContain(lib);
      }
    }
  });
});
