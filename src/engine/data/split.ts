/**
 * The calibration/evaluation split used by the CLI and the studio: images taken round-robin over their
 * top-level folders (classes), so a calibration set of N images covers every class, and the rest are
 * evaluated.
 */

/** Round-robin over the top-level folders of `entries`' paths, keeping the order within each. */
export function roundRobin<T>(entries: readonly T[], pathOf: (e: T) => string): T[] {
  const groups = new Map<string, T[]>();
  for (const e of entries) {
    const p = pathOf(e), key = p.includes('/') ? p.slice(0, p.indexOf('/')) : '';
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(e);
  }
  const lists = [...groups.values()], out: T[] = [];
  for (let i = 0; out.length < entries.length; i++) for (const l of lists) if (i < l.length) out.push(l[i]);
  return out;
}

/** The first `calibSize` of the round-robin order calibrate; the others evaluate. */
export function splitCalibration<T>(entries: readonly T[], calibSize: number, pathOf: (e: T) => string): { calib: T[]; evaluate: T[] } {
  const order = roundRobin(entries, pathOf), calib = order.slice(0, calibSize), chosen = new Set(calib);
  return { calib, evaluate: entries.filter((e) => !chosen.has(e)) };
}

/** Fisher–Yates with a 32-bit seeded generator (mulberry32); seed 0 keeps the order. */
export function seededShuffle<T>(entries: readonly T[], seed: number): T[] {
  const out = [...entries];
  if (seed === 0) return out;
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
