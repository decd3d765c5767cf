// Labels from wnid folders, wnid file-name prefixes, numeric folders and class-name folders;
// files that cannot be labelled are reported, never given a wrong class.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseClassList } from '../src/engine/data/class-list.ts';
import { assignLabels } from '../src/engine/data/labels.ts';
import { listImageFiles, readImagenetClassList } from '../src/engine/data/node-files.ts';

const imagenet = await readImagenetClassList();
const FASHION = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
const entries = (...paths: string[]) => paths.map((path) => ({ path }));
const labelsOf = (r: ReturnType<typeof assignLabels>) => r.items.map((it) => it.label);

describe('assignLabels', () => {
  it('ImageNet wnid folders through the class list', () => {
    const r = assignLabels(entries('val/n01440764/a.JPEG', 'val/n01443537/b.JPEG', 'val/n99999999/c.JPEG'), { classList: imagenet, numClasses: 1000 });
    expect(r.rule).toBe('folder-wnid');
    expect(labelsOf(r)).toEqual([0, 1, null]);
    expect(r.labelSource).toMatch(/wnid folders .* imagenet-classes.tsv/);
    expect(r.unknown).toEqual([{ key: 'n99999999', count: 1, example: 'val/n99999999/c.JPEG', reason: 'not in imagenet-classes.tsv' }]);
  });

  it('wnid prefix of file names (the fixture naming)', () => {
    const r = assignLabels(entries('n01440764_tench.JPEG', 'images\\n15075141_toilet_tissue.JPEG', 'ILSVRC2012_val_00000001.JPEG'), { classList: imagenet, numClasses: 1000 });
    expect(r.rule).toBe('filename-wnid');
    expect(labelsOf(r)).toEqual([0, 999, null]);
    expect(r.unknown[0]).toMatchObject({ key: '(none)', example: 'ILSVRC2012_val_00000001.JPEG' });
  });

  it('wnids without a class list are reported, not guessed', () => {
    const r = assignLabels(entries('n01440764/a.JPEG'), { numClasses: 1000 });
    expect(r.rule).toBe('folder-wnid');
    expect(labelsOf(r)).toEqual([null]);
    expect(r.unknown[0].reason).toMatch(/wnids need a class list/);
  });

  it('numeric folders are class indices, checked against the class count', () => {
    const r = assignLabels(entries('0/a.png', '9/b.png', '10/c.png'), { numClasses: 10 });
    expect(r.rule).toBe('folder-index');
    expect(labelsOf(r)).toEqual([0, 9, null]);
    expect(r.unknown[0].reason).toMatch(/beyond the model's 10 classes/);
  });

  it("class-name folders match the model's labels case-insensitively, punctuation-insensitively", () => {
    const r = assignLabels(entries('ankle boot/1.png', 'TROUSER/2.png', 't-shirt_top/3.png', 'sneaker/4.png', 'hat/5.png'), { modelLabels: FASHION, numClasses: 10 });
    expect(r.rule).toBe('folder-name');
    expect(labelsOf(r)).toEqual([9, 1, 0, 7, null]);
    expect(r.labelSource).toMatch(/model's labels/);
    expect(r.unknown[0]).toMatchObject({ key: 'hat', reason: "no class named like 'hat' in the model's labels" });
  });

  it('class-name folders against a class list; ambiguous names are reported', () => {
    const r = assignLabels(entries('tench/1.jpg', 'great_white_shark/2.jpg', 'crane/3.jpg'), { classList: imagenet, numClasses: 1000 });
    expect(labelsOf(r)).toEqual([0, 2, null]);
    expect(r.unknown[0].reason).toMatch(/'crane' matches several classes .* \(134, 517\)/);
  });

  it('with nothing to match names against, sorted folders (ImageFolder) are used and flagged', () => {
    const r = assignLabels(entries('dog/1.png', 'cat/2.png', 'cat/3.png'), { numClasses: 2 });
    expect(labelsOf(r)).toEqual([1, 0, 0]);
    expect(r.labelSource).toMatch(/ImageFolder convention/);
    expect(r.warnings[0]).toMatch(/sorted folder order/);
  });

  it('flat folders without wnids have no labels', () => {
    const r = assignLabels(entries('a.png', 'b.jpg'), { classList: imagenet, numClasses: 1000 });
    expect(r.rule).toBe('none');
    expect(labelsOf(r)).toEqual([null, null]);
  });

  it('warns when the class list and the model disagree on the class count', () => {
    const list = parseClassList('cat\ndog', 'pets.txt');
    const r = assignLabels(entries('dog/1.png'), { classList: list, numClasses: 3 });
    expect(labelsOf(r)).toEqual([1]);
    expect(r.warnings).toContain('pets.txt has 2 classes but the model has 3.');
  });
});

describe('listImageFiles (Node)', () => {
  it('lists images recursively with relative / paths, sorted, skipping dot-files and other files', async () => {
    const root = mkdtempSync(join(tmpdir(), 'adfq-labels-'));
    for (const d of ['n01440764', 'n01443537', '.cache']) mkdirSync(join(root, d));
    writeFileSync(join(root, 'n01443537', 'b.PNG'), 'x');
    writeFileSync(join(root, 'n01440764', 'a.JPEG'), 'xy');
    writeFileSync(join(root, 'n01440764', 'notes.txt'), 'x');
    writeFileSync(join(root, '.cache', 'c.jpg'), 'x');
    const files = await listImageFiles(root, { readBytes: true });
    expect(files.map((f) => f.path)).toEqual(['n01440764/a.JPEG', 'n01443537/b.PNG']);
    expect(files[0].size).toBe(2);
    expect(Array.from(files[0].bytes!)).toEqual([120, 121]);
    expect(labelsOf(assignLabels(files, { classList: imagenet, numClasses: 1000 }))).toEqual([0, 1]);
    await expect(listImageFiles(join(root, 'missing'))).rejects.toThrow(/Image folder not found/);
  });
});
