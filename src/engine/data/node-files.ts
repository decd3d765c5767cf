/**
 * Node-only helpers for the headless CLI and tools: list an image folder into label-ready entries and
 * read class-list files. The only module of the engine that touches node:fs; the browser gets the same
 * entries from a folder picker (webkitRelativePath) and the same class list by fetch().
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors.ts';
import { parseClassList, type ClassList } from './class-list.ts';
import type { FileEntry } from './labels.ts';

export interface NodeFileEntry extends FileEntry {
  absolutePath: string;
  size: number;
}

export interface ListOptions {
  /** Read every file's bytes now (default false: read them later from `absolutePath`). */
  readBytes?: boolean;
  /** Lower-case extensions to keep; default jpg, jpeg, png. Decoding still trusts magic bytes only. */
  extensions?: string[];
}

const DEFAULT_EXTENSIONS = ['jpg', 'jpeg', 'png'];

/**
 * All image files under `root` (recursively, skipping dot-files and dot-folders), sorted by path,
 * with `path` relative to `root` using `/`. A file as `root` gives one entry named by its base name.
 */
export async function listImageFiles(root: string, options: ListOptions = {}): Promise<NodeFileEntry[]> {
  const exts = new Set((options.extensions ?? DEFAULT_EXTENSIONS).map((e) => e.toLowerCase().replace(/^\./, '')));
  let top;
  try {
    top = await stat(root);
  } catch {
    throw new UsageError(`Image folder not found: ${root}`);
  }
  const files: string[] = [];
  if (top.isFile()) files.push(root);
  else await walk(root, files);
  const keep = files.filter((f) => exts.has(f.slice(f.lastIndexOf('.') + 1).toLowerCase())).sort();
  return Promise.all(keep.map(async (absolutePath) => {
    const rel = top.isFile() ? basename(absolutePath) : relative(root, absolutePath).split(sep).join('/');
    const entry: NodeFileEntry = { path: rel, absolutePath, size: (await stat(absolutePath)).size };
    if (options.readBytes) entry.bytes = new Uint8Array(await readFile(absolutePath));
    return entry;
  }));
}

async function walk(dir: string, out: string[]): Promise<void> {
  for (const d of await readdir(dir, { withFileTypes: true })) {
    if (d.name.startsWith('.')) continue;
    const full = join(dir, d.name);
    // Follow symlinks (datasets are often linked in), resolving what they point to.
    const isDir = d.isDirectory() || (d.isSymbolicLink() && (await stat(full).catch(() => null))?.isDirectory());
    if (isDir) await walk(full, out);
    else if (d.isFile() || d.isSymbolicLink()) out.push(full);
  }
}

/** Reads a class-list file (see parseClassList for the accepted forms). */
export async function readClassListFile(path: string): Promise<ClassList> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new UsageError(`Class list not found: ${path}`);
  }
  return parseClassList(text, basename(path));
}

/** The ImageNet-1k list shipped in public/ (found relative to this source file). */
export function imagenetClassListPath(): string {
  return fileURLToPath(new URL('../../../public/imagenet-classes.tsv', import.meta.url));
}

export function readImagenetClassList(): Promise<ClassList> {
  return readClassListFile(imagenetClassListPath());
}
