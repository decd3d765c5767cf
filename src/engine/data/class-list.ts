/**
 * Class lists: the text files that map a class index to an ImageNet wnid and/or a name.
 * The ImageNet-1k list ships as public/imagenet-classes.tsv (`index<TAB>wnid<TAB>name`, wnids sorted).
 * Browser-safe: callers fetch or read the text; this only parses it.
 */
import { UsageError } from '../errors.ts';

export interface ClassInfo {
  index: number;
  wnid: string | null;
  name: string;
}

export interface ClassList {
  classes: ClassInfo[];
  /** Where it came from, for messages ("imagenet-classes.tsv"). */
  source: string;
}

export const WNID_PATTERN = /^n\d{8}$/;

/**
 * Accepted lines (tab-separated; blank lines and `#` comments skipped):
 * `index<TAB>wnid<TAB>name`, `index<TAB>name`, `wnid<TAB>name`, or a bare `name`/`wnid` whose index is
 * its position. Indices must cover 0..n-1 exactly once; wnids must be unique. Names may repeat
 * (ImageNet has two "crane"s), so name matching reports ambiguity instead of guessing.
 */
export function parseClassList(text: string, source = 'class list'): ClassList {
  const classes: ClassInfo[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, lineNo) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const cols = line.split('\t').map((c) => c.trim());
    const where = `${source} line ${lineNo + 1}`;
    let index = classes.length;
    if (cols.length > 1 && /^\d+$/.test(cols[0])) index = Number(cols.shift());
    else if (cols.length > 3) throw new UsageError(`${where}: expected index<TAB>wnid<TAB>name, got ${cols.length} columns.`);
    let wnid: string | null = null;
    if (cols.length >= 2 || WNID_PATTERN.test(cols[0])) {
      if (cols.length >= 2 && !WNID_PATTERN.test(cols[0])) {
        throw new UsageError(`${where}: '${cols[0]}' is not a wnid (like n01440764); expected index<TAB>wnid<TAB>name.`);
      }
      wnid = cols[0];
    }
    const name = cols.length >= 2 ? cols.slice(1).join(' ') : cols[0];
    if (name === '') throw new UsageError(`${where}: empty class name.`);
    classes.push({ index, wnid, name });
  });
  if (classes.length === 0) throw new UsageError(`${source} has no classes.`);
  classes.sort((a, b) => a.index - b.index);
  classes.forEach((c, i) => {
    if (c.index !== i) throw new UsageError(`${source}: class indices must be 0..${classes.length - 1} each once; index ${i} is ${c.index < i ? 'repeated' : 'missing'}.`);
  });
  const seen = new Set<string>();
  for (const c of classes) {
    if (c.wnid === null) continue;
    if (seen.has(c.wnid)) throw new UsageError(`${source}: wnid ${c.wnid} appears twice.`);
    seen.add(c.wnid);
  }
  return { classes, source };
}
