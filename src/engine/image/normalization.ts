/**
 * Normalisation presets and the parser for the CLI form `--mean a,b,c --std a,b,c`.
 * Values apply to pixels already scaled to [0, 1].
 */
import { UsageError } from '../errors.ts';

export interface Normalization {
  mean: number[];
  std: number[];
}

export const NORMALIZATION_PRESETS = {
  /** torchvision / most timm CNNs and DeiT. */
  imagenet: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
  /** Google's ViT/AugReg checkpoints (maps [0, 1] to [-1, 1]). */
  half: { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
} as const satisfies Record<string, Normalization>;

export type NormalizationPreset = keyof typeof NORMALIZATION_PRESETS;

export function normalizationPreset(name: string): Normalization {
  const preset = (NORMALIZATION_PRESETS as Record<string, Normalization>)[name.trim().toLowerCase()];
  if (!preset) {
    throw new UsageError(`Unknown normalisation preset '${name}'; use ${Object.keys(NORMALIZATION_PRESETS).join(' or ')}, or --mean/--std values.`);
  }
  return { mean: [...preset.mean], std: [...preset.std] };
}

/** Parses `0.485,0.456,0.406` (spaces allowed). `flag` names the option in errors. */
export function parseNumberList(text: string, flag: string, channels: number): number[] {
  const parts = text.split(',').map((p) => p.trim());
  const values = parts.map(Number);
  const bad = parts.findIndex((p, i) => p === '' || !Number.isFinite(values[i]));
  if (bad >= 0) {
    throw new UsageError(`${flag} expects comma-separated numbers like 0.485,0.456,0.406; '${parts[bad]}' in '${text}' is not a number.`);
  }
  if (values.length !== 1 && values.length !== channels) {
    throw new UsageError(`${flag} has ${values.length} values but the model takes ${channels} channel(s); give ${channels === 1 ? '1 value' : `1 or ${channels}`}.`);
  }
  return values.length === 1 ? new Array(channels).fill(values[0]) : values;
}

/**
 * The CLI rule: `--mean` and `--std` are given together, each either numbers or a preset name
 * (`--mean imagenet`). Returns null when neither is given, so the caller keeps the model's own values.
 */
export function parseMeanStd(mean: string | undefined, std: string | undefined, channels = 3): Normalization | null {
  if (mean === undefined && std === undefined) return null;
  if (mean === undefined || std === undefined) {
    throw new UsageError(`Give --mean and --std together (for example --mean 0.5,0.5,0.5 --std 0.5,0.5,0.5), or neither.`);
  }
  const pick = (text: string, flag: string, key: 'mean' | 'std') => {
    if (/^[a-z]/i.test(text.trim())) return fitChannels(normalizationPreset(text)[key], channels, flag);
    return parseNumberList(text, flag, channels);
  };
  const result = { mean: pick(mean, '--mean', 'mean'), std: pick(std, '--std', 'std') };
  if (result.std.some((s) => s <= 0)) throw new UsageError(`--std values must be positive, got ${std}.`);
  return result;
}

/** A preset with equal values (`half`) fits any channel count; others only their own. */
function fitChannels(values: number[], channels: number, flag: string): number[] {
  if (values.length === channels) return values;
  if (values.every((v) => v === values[0])) return new Array(channels).fill(values[0]);
  throw new UsageError(`${flag} preset has ${values.length} values but the model takes ${channels} channel(s); give explicit values.`);
}
