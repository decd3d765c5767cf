/**
 * Reads what was dropped on the page: files and whole folders, walked recursively through
 * `webkitGetAsEntry()` so each file keeps its relative path (`n01440764/x.JPEG`) and labels can come
 * from folder names. Entries must be taken synchronously inside the drop event: the DataTransfer is
 * emptied as soon as the handler returns, so `entriesOf` runs first and the reading happens after.
 */
export interface DroppedFile { path: string; file: File }

/** Call synchronously in the drop handler. */
export function entriesOf(dt: DataTransfer): (FileSystemEntry | File)[] {
  const out: (FileSystemEntry | File)[] = [];
  const items = [...(dt.items ?? [])].filter((it) => it.kind === 'file');
  if (!items.length) return [...dt.files];
  for (const it of items) {
    const entry = it.webkitGetAsEntry?.();
    const file = entry ? null : it.getAsFile();
    if (entry) out.push(entry);
    else if (file) out.push(file);
  }
  return out;
}

const fileOf = (e: FileSystemFileEntry) => new Promise<File>((resolve, reject) => e.file(resolve, reject));

/** readEntries returns at most ~100 entries per call: call until it returns none. */
async function children(dir: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = dir.createReader();
  const all: FileSystemEntry[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (!batch.length) return all;
    all.push(...batch);
  }
}

async function walk(entry: FileSystemEntry, prefix: string, out: DroppedFile[]): Promise<void> {
  if (entry.isFile) {
    out.push({ path: prefix + entry.name, file: await fileOf(entry as FileSystemFileEntry) });
  } else if (entry.isDirectory) {
    for (const child of await children(entry as FileSystemDirectoryEntry)) await walk(child, `${prefix}${entry.name}/`, out);
  }
}

/**
 * Files with paths relative to what was dropped. A dropped folder's own name stays as the first path
 * component (`fmnist/Coat/1.png`); label rules look at the file's parent folder, so that is harmless.
 */
export async function readDropped(entries: (FileSystemEntry | File)[]): Promise<DroppedFile[]> {
  const out: DroppedFile[] = [];
  for (const e of entries) {
    if (e instanceof File) out.push({ path: e.name, file: e });
    else await walk(e, '', out);
  }
  return out;
}

export const isModelFile = (path: string) => /\.onnx$/i.test(path);
export const isImageFile = (path: string) => /\.(jpe?g|png)$/i.test(path);
