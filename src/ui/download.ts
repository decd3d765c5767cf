/**
 * Saves finished bytes as a file through a Blob and an object URL. Callers pass complete data only (an
 * export is built whole in memory first), so a download is never a partial file. The URL lives only
 * until the browser has taken the file; no object URL is kept anywhere else.
 */
export function saveFile(fileName: string, data: Uint8Array<ArrayBuffer>, type: string): void {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;   // a property, so the name stays a name whatever characters it holds
  a.rel = 'noopener';
  a.style.display = 'none';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
