/** Top-k bookkeeping over logits rows. */

/** Indices of the k largest values of one logits row, largest first (ties: lower index first). */
export function topK(logits: Float32Array, offset: number, classes: number, k: number): number[] {
  const best: number[] = [];
  for (let c = 0; c < classes; c++) {
    const v = logits[offset + c];
    let pos = best.length;
    while (pos > 0 && logits[offset + best[pos - 1]] < v) pos--;
    if (pos < k) { best.splice(pos, 0, c); if (best.length > k) best.pop(); }
  }
  return best;
}

export interface Prediction {
  name: string;
  label: number | null;
  top5: number[];
  /** Softmax probability of each top-5 class. */
  top5Prob: number[];
}

export function predictionsFromLogits(logits: Float32Array, names: string[], labels: (number | null)[], classes: number): Prediction[] {
  return names.map((name, i) => {
    const off = i * classes;
    const top5 = topK(logits, off, classes, Math.min(5, classes));
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, logits[off + c]);
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(logits[off + c] - max);
    return { name, label: labels[i], top5, top5Prob: top5.map((c) => Math.exp(logits[off + c] - max) / sum) };
  });
}

export interface Accuracy { top1: number; top5: number; count: number; correct1: number; correct5: number }

/** Accuracy over the predictions that have a label. */
export function accuracy(preds: Prediction[]): Accuracy {
  let count = 0, correct1 = 0, correct5 = 0;
  for (const p of preds) {
    if (p.label === null) continue;
    count++;
    if (p.top5[0] === p.label) correct1++;
    if (p.top5.includes(p.label)) correct5++;
  }
  return { count, correct1, correct5, top1: count ? correct1 / count : 0, top5: count ? correct5 / count : 0 };
}
