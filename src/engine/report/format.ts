/** Text for the run report and the studio's export buttons: HTML escaping, byte sizes, percentages. */

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Any string as HTML text or a quoted attribute value: file names and model names are user input. */
export function escapeHtml(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

/** 512 B, 3.40 KiB, 1.25 MiB, 2.00 GiB. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024, u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${v.toFixed(2)} ${units[u]}`;
}

export const percent = (v: number, digits = 2) => `${(100 * v).toFixed(digits)}%`;

/** A short number: 4 significant digits, exponent form for very large or small magnitudes. */
export function shortNumber(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? '∞' : '−∞';
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e5 || a < 1e-3 ? v.toExponential(2) : String(Number(v.toPrecision(4)));
}

/** A file-name part from a user string: letters, digits, '.', '-', '_' only (everything else '_'). */
export function fileNamePart(s: string, max = 60): string {
  const t = s.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+|_+$/g, '');
  return (t || 'model').slice(0, max);
}
