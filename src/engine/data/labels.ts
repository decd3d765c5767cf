/**
 * Ground-truth labels from where images sit. One rule is chosen for the whole dataset (mixing rules
 * per file would hide mistakes), every file the rule cannot resolve gets `label: null`, and the
 * reasons are collected in `unknown` so the UI/CLI can show them instead of scoring wrong labels.
 */
import type { ClassList } from './class-list.ts';
import { resolveName, type NameResolver, nameResolver } from './name-match.ts';

export interface FileEntry {
  /** Relative path with `/` (or `\`) separators, e.g. `n01440764/x.JPEG` or `cat/1.png`. */
  path: string;
  bytes?: Uint8Array;
}

export type LabelRule = 'folder-wnid' | 'filename-wnid' | 'folder-index' | 'folder-name' | 'none';

export interface LabelledItem<E extends FileEntry = FileEntry> {
  entry: E;
  /** Class index, or null when the rule gives no valid class for this file. */
  label: number | null;
  /** What the rule read from the path (wnid, folder name), null if nothing. */
  key: string | null;
}

export interface UnknownLabel {
  key: string;
  count: number;
  example: string;
  reason: string;
}

export interface LabelAssignment<E extends FileEntry = FileEntry> {
  items: LabelledItem<E>[];
  rule: LabelRule;
  /** One sentence saying where labels came from, for reports. */
  labelSource: string;
  labelled: number;
  unknown: UnknownLabel[];
  warnings: string[];
}

export interface LabelOptions {
  /** A class list (ImageNet's by default in callers); needed for wnids. */
  classList?: ClassList | null;
  /** The model's own labels (index order), when its file has them. */
  modelLabels?: string[] | null;
  numClasses: number;
}

type Resolution = { label: number } | { reason: string };

interface Rule {
  rule: Exclude<LabelRule, 'none'>;
  key(folder: string | null, file: string): string | null;
  resolve(key: string): Resolution;
  describe: string;
}

const WNID_FOLDER = /^n\d{8}$/;
const WNID_PREFIX = /^(n\d{8})_/;

function splitPath(path: string): { folder: string | null; file: string } {
  const parts = path.split(/[\\/]/).filter((p) => p !== '' && p !== '.');
  return { folder: parts.length >= 2 ? parts[parts.length - 2] : null, file: parts[parts.length - 1] ?? '' };
}

function makeRules(o: LabelOptions): Rule[] {
  const list = o.classList ?? null;
  const wnidIndex = new Map<string, number>();
  for (const c of list?.classes ?? []) if (c.wnid) wnidIndex.set(c.wnid, c.index);
  const inRange = (label: number, what: string): Resolution => label < o.numClasses
    ? { label } : { reason: `${what} is class ${label}, beyond the model's ${o.numClasses} classes` };
  const byWnid = (wnid: string): Resolution => {
    if (!list) return { reason: 'wnids need a class list (index<TAB>wnid<TAB>name), none was given' };
    const label = wnidIndex.get(wnid);
    return label === undefined ? { reason: `not in ${list.source}` } : inRange(label, wnid);
  };
  const names: NameResolver | null = o.modelLabels?.length
    ? nameResolver(o.modelLabels, "the model's labels")
    : list && list.classes.some((c) => c.wnid === null || c.name !== c.wnid)
      ? nameResolver(list.classes.map((c) => c.name), `${list.source} names`) : null;
  const listName = list ? list.source : 'a class list';
  return [
    { rule: 'folder-wnid', key: (folder) => (folder && WNID_FOLDER.test(folder) ? folder : null), resolve: byWnid,
      describe: `ImageNet wnid folders (n01440764/…) mapped through ${listName}` },
    { rule: 'filename-wnid', key: (_f, file) => WNID_PREFIX.exec(file)?.[1] ?? null, resolve: byWnid,
      describe: `wnid prefix of file names (n01440764_….JPEG) mapped through ${listName}` },
    { rule: 'folder-index', key: (folder) => (folder && /^\d+$/.test(folder) ? folder : null),
      resolve: (k) => inRange(Number(k), `folder ${k}`), describe: 'numeric folder names (0/, 1/, …) used as class indices' },
    { rule: 'folder-name', key: (folder) => folder,
      resolve: (k) => (names ? resolveName(names, k, o.numClasses) : { reason: 'no label list to match folder names against' }),
      describe: `class-name folders matched case-insensitively to ${names?.source ?? 'nothing'}` },
  ];
}

export function assignLabels<E extends FileEntry>(entries: E[], options: LabelOptions): LabelAssignment<E> {
  const paths = entries.map((e) => splitPath(e.path));
  const warnings: string[] = [];
  const classCount = options.classList?.classes.length;
  if (classCount !== undefined && classCount !== options.numClasses) {
    warnings.push(`${options.classList!.source} has ${classCount} classes but the model has ${options.numClasses}.`);
  }
  // Evaluate every rule; keep the one that labels the most files (ties: the order above, most specific first).
  let best: { rule: Rule; keys: (string | null)[]; res: (Resolution | null)[]; labelled: number; keyed: number } | null = null;
  for (const rule of makeRules(options)) {
    const keys = paths.map((p) => rule.key(p.folder, p.file));
    const res = keys.map((k) => (k === null ? null : rule.resolve(k)));
    const labelled = res.filter((r) => r && 'label' in r).length;
    const keyed = keys.filter((k) => k !== null).length;
    if (!best || labelled > best.labelled || (labelled === best.labelled && best.labelled === 0 && keyed > best.keyed)) {
      best = { rule, keys, res, labelled, keyed };
    }
  }
  if (!best || best.keyed === 0) {
    return {
      items: entries.map((entry) => ({ entry, label: null, key: null })), rule: 'none', labelled: 0, unknown: [], warnings,
      labelSource: 'no labels: files are neither in class folders nor named with a wnid prefix (n01440764_…)',
    };
  }
  let { res } = best;
  let labelSource = best.rule.describe;
  if (best.rule.rule === 'folder-name' && best.labelled === 0) {
    // Nothing to match names against: fall back to torchvision ImageFolder's convention, and say so.
    const sorted = [...new Set(best.keys.filter((k): k is string => k !== null))].sort();
    res = best.keys.map((k) => (k === null ? null : { label: sorted.indexOf(k) }));
    res = res.map((r) => (r && 'label' in r && r.label >= options.numClasses ? { reason: `sorted position ${r.label} is beyond the model's ${options.numClasses} classes` } : r));
    labelSource = 'class-name folders in sorted order (torchvision ImageFolder convention), as the model has no labels to match';
    warnings.push('Labels assume the model was trained with classes in sorted folder order; check a few predictions.');
  }
  const items = entries.map((entry, i) => {
    const r = res[i];
    return { entry, key: best!.keys[i], label: r && 'label' in r ? r.label : null };
  });
  return { items, rule: best.rule.rule, labelSource, labelled: items.filter((it) => it.label !== null).length, unknown: collectUnknown(entries, best.keys, res), warnings };
}

function collectUnknown(entries: FileEntry[], keys: (string | null)[], res: (Resolution | null)[]): UnknownLabel[] {
  const byKey = new Map<string, UnknownLabel>();
  res.forEach((r, i) => {
    if (r && 'label' in r) return;
    const key = keys[i] ?? '(none)';
    const reason = r ? r.reason : 'the path does not follow the chosen rule';
    const u = byKey.get(key);
    if (u) u.count++;
    else byKey.set(key, { key, count: 1, example: entries[i].path, reason });
  });
  return [...byKey.values()].sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
}
