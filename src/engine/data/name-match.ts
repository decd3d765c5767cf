/**
 * Matching a folder name to a class name. Folder names cannot hold every character a label has
 * ("T-shirt/top"), so after an exact case-insensitive match we try a loose key made of letters and
 * digits only. A name that fits two classes (ImageNet's two "crane"s) is reported, never guessed.
 */

export interface NameResolver {
  source: string;
  exact: Map<string, number[]>;
  loose: Map<string, number[]>;
}

/** Letters and digits only, lower case: "T-shirt/top" and "t_shirt top" both become "tshirttop". */
export function keyOf(name: string): string {
  return name.toLowerCase().normalize('NFKD').replace(/[^\p{L}\p{N}]/gu, '');
}

export function nameResolver(names: string[], source: string): NameResolver {
  const exact = new Map<string, number[]>();
  const loose = new Map<string, number[]>();
  names.forEach((name, i) => {
    for (const [map, key] of [[exact, name.trim().toLowerCase()], [loose, keyOf(name)]] as const) {
      if (key === '') continue;
      const list = map.get(key);
      if (list) list.push(i);
      else map.set(key, [i]);
    }
  });
  return { source, exact, loose };
}

export function resolveName(r: NameResolver, folder: string, numClasses: number): { label: number } | { reason: string } {
  const hits = r.exact.get(folder.trim().toLowerCase()) ?? r.loose.get(keyOf(folder));
  if (!hits) return { reason: `no class named like '${folder}' in ${r.source}` };
  if (hits.length > 1) return { reason: `'${folder}' matches several classes in ${r.source} (${hits.join(', ')}); use wnids or indices` };
  if (hits[0] >= numClasses) return { reason: `'${folder}' is class ${hits[0]}, beyond the model's ${numClasses} classes` };
  return { label: hits[0] };
}
