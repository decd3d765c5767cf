// Class-list files: the shipped ImageNet-1k list and the accepted line forms.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/engine/errors.ts';
import { parseClassList } from '../src/engine/data/class-list.ts';
import { imagenetClassListPath, readImagenetClassList } from '../src/engine/data/node-files.ts';

describe('class lists', () => {
  it('public/imagenet-classes.tsv is the standard ImageNet-1k list', async () => {
    const list = await readImagenetClassList();
    expect(list.source).toBe('imagenet-classes.tsv');
    expect(list.classes).toHaveLength(1000);
    expect(list.classes[0]).toEqual({ index: 0, wnid: 'n01440764', name: 'tench' });
    expect(list.classes[999]).toMatchObject({ wnid: 'n15075141' });
    const wnids = list.classes.map((c) => c.wnid!);
    expect([...wnids].sort()).toEqual(wnids); // ImageNet order is sorted wnids
    const shared = new URL('../../shared/fixtures/imagenet/classes.tsv', import.meta.url);
    if (existsSync(shared)) expect(readFileSync(imagenetClassListPath(), 'utf8')).toBe(readFileSync(shared, 'utf8'));
    else console.warn(`[labels] ${shared.pathname} is absent: the comparison with the fixture's class list is skipped.`);
  });

  it('accepts index/wnid/name, index/name, wnid/name and bare names', () => {
    expect(parseClassList('0\tn01440764\ttench\n1\tn01443537\tgoldfish\n').classes[1]).toEqual({ index: 1, wnid: 'n01443537', name: 'goldfish' });
    expect(parseClassList('1\tdog\n0\tcat\n').classes).toEqual([{ index: 0, wnid: null, name: 'cat' }, { index: 1, wnid: null, name: 'dog' }]);
    expect(parseClassList('n01440764\ttench\r\nn01443537\tgoldfish').classes[1]).toEqual({ index: 1, wnid: 'n01443537', name: 'goldfish' });
    expect(parseClassList('# Fashion-MNIST\nT-shirt/top\nTrouser\n\n').classes.map((c) => c.name)).toEqual(['T-shirt/top', 'Trouser']);
  });

  it('rejects gaps, repeats and malformed lines with the line number', () => {
    expect(() => parseClassList('0\tcat\n2\tdog', 'my.tsv')).toThrow(/my.tsv: class indices must be 0..1 each once; index 1 is missing/);
    expect(() => parseClassList('0\tcat\n0\tdog', 'my.tsv')).toThrow(/index 1 is repeated/);
    expect(() => parseClassList('0\tcat\tfelis', 'my.tsv')).toThrow(/my.tsv line 1: 'cat' is not a wnid/);
    expect(() => parseClassList('n01440764\ta\nn01440764\tb', 'my.tsv')).toThrow(/wnid n01440764 appears twice/);
    expect(() => parseClassList('\n# only a comment\n')).toThrow(UsageError);
  });
});
