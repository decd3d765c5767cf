/**
 * Activation statistics as the studio shows them: plain numbers computed on the GPU (never whole
 * activation tensors read back). A "site" is one tensor of one block.
 */

/** Tensors we record, in forward order within a block. */
export const SITE_KINDS = ['qkv-in', 'q', 'k', 'v', 'attn-probs', 'proj-in', 'fc1-in', 'fc2-in', 'block-out'] as const;
export type SiteKind = (typeof SITE_KINDS)[number];

export const SITE_LABELS: Record<SiteKind, string> = {
  'qkv-in': 'post-LayerNorm (qkv input)',
  q: 'q', k: 'k', v: 'v',
  'attn-probs': 'post-softmax attention',
  'proj-in': 'proj input (attn·v)',
  'fc1-in': 'post-LayerNorm (fc1 input)',
  'fc2-in': 'post-GELU (fc2 input)',
  'block-out': 'block output',
};

export interface SiteId { block: number; kind: SiteKind }

export interface SiteOverview extends SiteId {
  /** Number of values seen (images × tokens × channels). */
  count: number;
  min: number;
  max: number;
  nans: number;
  /** Counts of |x| > threshold, one per StatsSettings.thresholds entry. */
  above: number[];
  /** Per token position: min and max over images and channels. */
  tokenMin: number[];
  tokenMax: number[];
}

export interface SiteStats extends SiteOverview {
  /** Tokens per image, and channels (keys for attention probabilities: rows are B·H·N). */
  tokens: number;
  channels: number;
  histogram: { lo: number; hi: number; counts: number[]; under: number; over: number };
  /** Read off the histogram: exact to one bin width ((hi − lo) / bins). */
  percentiles: { p: number; value: number }[];
  channelMin: number[];
  channelMax: number[];
  /** tokens × channels, row-major: max |x| over images at each (token, channel). */
  tokenChannelAbsMax: number[];
}

export interface StatsSettings {
  thresholds: number[];
  bins: number;
  percentiles: number[];
}

export const DEFAULT_STATS_SETTINGS: StatsSettings = {
  thresholds: [5, 10],
  bins: 2048,
  percentiles: [0.001, 0.01, 0.5, 0.99, 0.999],
};

export interface StatsSummary {
  settings: StatsSettings;
  images: number;
  depth: number;
  tokens: number;
  /** Every site's overview (small); full SiteStats are fetched one at a time. */
  sites: SiteOverview[];
}
