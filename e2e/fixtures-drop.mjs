// Real drag-and-drop events for the studio page: dragenter, dragover and drop on document.body, carrying
// a DataTransfer built inside the page with File objects.
//
// Browsers cannot synthesise directory entries (DataTransferItem.webkitGetAsEntry() of a constructed
// DataTransfer only ever returns file entries), so to drop *folders* we override
// DataTransferItem.prototype.webkitGetAsEntry in the page: each top-level folder travels as a placeholder
// File, and the override returns a fake FileSystemDirectoryEntry for it implementing what the page uses
// (isDirectory/isFile/name/fullPath/createReader().readEntries(cb), file(cb) on file entries).

/** files: [{ path: 'root/Class/x.png' | 'model.onnx', bytes: Uint8Array }]. Paths with a '/' are dropped as folders. */
export async function dropFiles(page, files, { whileOver } = {}) {
  const payload = files.map((f) => ({ path: f.path, b64: Buffer.from(f.bytes).toString('base64') }));
  const dt = await page.evaluateHandle((payload) => {
    const toFile = (p) => new File([Uint8Array.from(atob(p.b64), (c) => c.charCodeAt(0))], p.path.split('/').pop());
    const fake = (window.__fakeEntries ??= new Map());
    const dirEntry = (name, fullPath) => {
      const children = new Map();
      return {
        isDirectory: true, isFile: false, name, fullPath, children,
        createReader() {
          let read = false;
          // Like Chrome: entries in chunks, then an empty list at the end.
          return { readEntries(ok) { setTimeout(() => ok(read ? [] : (read = true, [...children.values()])), 0); } };
        },
      };
    };
    const dt = new DataTransfer();
    for (const p of payload) {
      const parts = p.path.split('/');
      if (parts.length === 1) { dt.items.add(toFile(p)); continue; }
      const placeholder = `__folder__${parts[0]}`;
      if (!fake.has(placeholder)) { fake.set(placeholder, dirEntry(parts[0], `/${parts[0]}`)); dt.items.add(new File([], placeholder)); }
      let dir = fake.get(placeholder);
      for (const name of parts.slice(1, -1)) {
        if (!dir.children.has(name)) dir.children.set(name, dirEntry(name, `${dir.fullPath}/${name}`));
        dir = dir.children.get(name);
      }
      const file = toFile(p), name = parts[parts.length - 1];
      dir.children.set(name, { isDirectory: false, isFile: true, name, fullPath: `${dir.fullPath}/${name}`, file(ok) { setTimeout(() => ok(file), 0); } });
    }
    if (!window.__entryOverride) {
      window.__entryOverride = true;
      const original = DataTransferItem.prototype.webkitGetAsEntry;
      DataTransferItem.prototype.webkitGetAsEntry = function () {
        const f = this.getAsFile();
        return (f && window.__fakeEntries.get(f.name)) || original.call(this);
      };
    }
    return dt;
  }, payload);
  for (const type of ['dragenter', 'dragover', 'drop']) {
    if (type === 'drop') await whileOver?.();  // e.g. look at the overlay while the drag hovers
    await page.dispatchEvent('body', type, { dataTransfer: dt });
  }
  // Fresh placeholders for the next drop.
  await page.evaluate(() => window.__fakeEntries.clear());
}
