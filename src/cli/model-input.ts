/** What every command needs from the command line: a model (or the demo), preprocessing, images. */
import { readFile } from 'node:fs/promises';
import { UsageError } from '../engine/errors.ts';
import type { ImageSource } from '../engine/eval/evaluate.ts';
import { normalizationPreset, parseMeanStd } from '../engine/image/normalization.ts';
import { assignLabels, type LabelAssignment } from '../engine/data/labels.ts';
import { listImageFiles, readClassListFile, readImagenetClassList, type NodeFileEntry } from '../engine/data/node-files.ts';
import type { ClassList } from '../engine/data/class-list.ts';
import type { ViTConfig } from '../engine/vit/description.ts';
import { resolvePreprocessing, type ResolvedPreprocessing } from '../engine/vit/preprocessing.ts';
import { intFlag, stringFlag, type ParsedArgs } from './args.ts';
import { DEMO_IMAGES_PATH, DEMO_MODEL_PATH } from './demo.ts';

export interface ModelFile { path: string; bytes: Uint8Array; isDemo: boolean }

export async function readModelArg(args: ParsedArgs, allowDemo: boolean): Promise<ModelFile> {
  const given = args.positional[0];
  if (!given && !allowDemo) throw new UsageError('Give a model: npx adfq <command> model.onnx ...');
  const path = given ?? DEMO_MODEL_PATH;
  try {
    return { path, bytes: new Uint8Array(await readFile(path)), isDemo: !given };
  } catch {
    throw new UsageError(`Model file not found or unreadable: ${path}`);
  }
}

export function preprocessingFromArgs(args: ParsedArgs, config: ViTConfig): ResolvedPreprocessing {
  const preset = stringFlag(args, 'preset');
  const channels = config.inChannels === 1 ? 1 : 3;
  let normalization = parseMeanStd(stringFlag(args, 'mean'), stringFlag(args, 'std'), channels);
  if (preset && normalization) throw new UsageError('Give either --preset or --mean/--std, not both.');
  if (preset) normalization = normalizationPreset(preset);
  const resize = intFlag(args, 'resize', config.imageSize, 8 * config.imageSize);
  return resolvePreprocessing(config, { normalization, resize });
}

async function classListFor(args: ParsedArgs, config: ViTConfig): Promise<ClassList | null> {
  const file = stringFlag(args, 'labels');
  if (file) return readClassListFile(file);
  return config.numClasses === 1000 ? readImagenetClassList() : null;
}

export interface ImageSet { sources: ImageSource[]; labels: LabelAssignment<NodeFileEntry>; root: string }

export async function imagesFromArgs(args: ParsedArgs, config: ViTConfig, isDemo: boolean): Promise<ImageSet> {
  const root = stringFlag(args, 'images') ?? (isDemo ? DEMO_IMAGES_PATH : undefined);
  if (!root) throw new UsageError('Give the images to evaluate: --images <folder>.');
  let entries = await listImageFiles(root);
  if (entries.length === 0) throw new UsageError(`No JPEG or PNG files under ${root}.`);
  const limit = intFlag(args, 'limit', 1, 10_000_000);
  if (limit !== undefined) entries = entries.slice(0, limit);
  const labels = assignLabels(entries, { classList: await classListFor(args, config), modelLabels: config.labels, numClasses: config.numClasses });
  const sources = labels.items.map((it) => ({
    name: it.entry.path, label: it.label,
    load: async () => new Uint8Array(await readFile(it.entry.absolutePath)),
  }));
  return { sources, labels, root };
}
