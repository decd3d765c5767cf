/**
 * Preprocessing and labels from ONNX `metadata_props`. Keys we read (first found wins):
 *   mean:   `adfq.mean`, `mean`, `image_mean`    — per-channel, for pixels scaled to [0, 1]
 *   std:    `adfq.std`, `std`, `image_std`       — (values above 1 are taken as 0–255 scale and divided by 255)
 *   resize: `adfq.resize`, `resize`, `resize_size` — shorter side before the centre crop;
 *           else `crop_pct` gives round(imageSize / crop_pct); else round(imageSize / 0.875), timm's default
 *   labels: `adfq.labels`, `labels` (JSON array of strings), or `id2label` (JSON object {"0": "tench", …} or array)
 * Lists may be JSON arrays or comma/space separated numbers. Values that do not fit the model are ignored
 * with a warning rather than failing the import.
 */
import type { Preprocessing } from '../vit/description';
import type { ModelProto } from './proto';

type Warn = (message: string) => void;

function first(meta: Map<string, string>, keys: string[]): [string, string] | null {
  for (const k of keys) { const v = meta.get(k); if (v !== undefined) return [k, v]; }
  return null;
}

function numberList(text: string): number[] | null {
  let values: unknown;
  try { values = JSON.parse(text); } catch { values = text.split(/[\s,;]+/).filter(Boolean).map(Number); }
  if (typeof values === 'number') values = [values];
  return Array.isArray(values) && values.length > 0 && values.every((v) => typeof v === 'number' && Number.isFinite(v)) ? (values as number[]) : null;
}

function channelValues(meta: Map<string, string>, keys: string[], channels: number, warn: Warn): number[] | null {
  const hit = first(meta, keys);
  if (!hit) return null;
  let v = numberList(hit[1]);
  if (v && v.length === 1) v = new Array<number>(channels).fill(v[0]);
  if (!v || v.length !== channels) { warn(`Metadata '${hit[0]}' is not a list of ${channels} numbers; ignored.`); return null; }
  return v.some((x) => x > 1) ? v.map((x) => x / 255) : v;
}

export function readPreprocessing(model: ModelProto, imageSize: number, channels: number, warn: Warn): Preprocessing | null {
  const meta = metadataMap(model);
  const mean = channelValues(meta, ['adfq.mean', 'mean', 'image_mean'], channels, warn);
  const std = channelValues(meta, ['adfq.std', 'std', 'image_std'], channels, warn);
  if (!mean || !std) return null;
  if (std.some((s) => s <= 0)) { warn('Metadata std has a non-positive value; preprocessing ignored.'); return null; }
  let resize = Math.round(imageSize / 0.875);
  const r = first(meta, ['adfq.resize', 'resize', 'resize_size']);
  const crop = first(meta, ['crop_pct']);
  const rv = r ? numberList(r[1])?.[0] : undefined, cv = crop ? Number(crop[1]) : NaN;
  if (rv !== undefined && Number.isInteger(rv) && rv >= imageSize && rv <= 4 * imageSize) resize = rv;
  else if (r) warn(`Metadata '${r[0]}' is not a size between ${imageSize} and ${4 * imageSize}; using ${resize}.`);
  else if (cv > 0.25 && cv <= 1) resize = Math.round(imageSize / cv);
  return { mean, std, resize, source: 'metadata' };
}

export function readLabels(model: ModelProto, numClasses: number, warn: Warn): string[] | null {
  const hit = first(metadataMap(model), ['adfq.labels', 'labels', 'id2label']);
  if (!hit) return null;
  let parsed: unknown;
  try { parsed = JSON.parse(hit[1]); } catch { warn(`Metadata '${hit[0]}' is not JSON; labels ignored.`); return null; }
  let labels: unknown[] | null = Array.isArray(parsed) ? parsed : null;
  if (!labels && parsed && typeof parsed === 'object') {
    const entries = parsed as Record<string, unknown>;
    labels = Array.from({ length: numClasses }, (_, i) => entries[String(i)]);
  }
  if (!labels || labels.length !== numClasses || !labels.every((l) => typeof l === 'string')) {
    warn(`Metadata '${hit[0]}' does not hold ${numClasses} string labels; labels ignored.`);
    return null;
  }
  return labels as string[];
}

function metadataMap(model: ModelProto): Map<string, string> {
  return new Map((model.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? '']));
}
