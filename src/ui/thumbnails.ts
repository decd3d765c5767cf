/**
 * Object URLs for image thumbnails, made lazily from the dataset's bytes. They live here, not in the
 * store (the store holds plain summaries), and are revoked together when the dataset is replaced so
 * replaced images do not stay pinned in memory.
 */
import type { DataImage } from './store.ts';

const urls = new Map<string, string>();

const mime = (name: string) => (/\.png$/i.test(name) ? 'image/png' : 'image/jpeg');

export function thumbnailUrl(image: DataImage): string {
  let url = urls.get(image.name);
  if (!url) {
    url = URL.createObjectURL(new Blob([image.bytes as Uint8Array<ArrayBuffer>], { type: mime(image.name) }));
    urls.set(image.name, url);
  }
  return url;
}

export function revokeThumbnails(): void {
  for (const url of urls.values()) URL.revokeObjectURL(url);
  urls.clear();
}
