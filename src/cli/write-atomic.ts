/** Files the CLI writes appear whole or not at all: written beside the target, then renamed over it. */
import { rename, rm, writeFile } from 'node:fs/promises';
import { UsageError } from '../engine/errors.ts';

export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.partial-${process.pid}`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new UsageError(`Cannot write ${path}: ${(e as Error).message}`);
  }
}
