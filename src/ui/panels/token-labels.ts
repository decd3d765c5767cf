/** Row labels for token axes: the prefix tokens by name (cls, and dist for distilled DeiT), then patch numbers. */
export function tokenLabels(tokens: number, prefix: number): string[] {
  const names = ['cls', 'dist'];
  return Array.from({ length: tokens }, (_, t) => (t < prefix ? names[t] ?? `prefix ${t}` : `p${t - prefix}`));
}
