/**
 * `quantize --iters N --checkpoint f.json` and `--resume f.json`: ASMO's state after every finished module,
 * written whole (write-atomic.ts), so a crash, a lost device or Ctrl-C loses at most the running module;
 * `--resume` continues from it and ends with what the uninterrupted run gives (engine/asmo/checkpoint.ts).
 */
import { readFile } from 'node:fs/promises';
import { checkAsmoCheckpoint } from '../engine/asmo/checkpoint.ts';
import { AsmoResumeError, type AsmoCheckpoint, type AsmoEvent, type AsmoSettings } from '../engine/asmo/settings.ts';
import { CancelledError, UsageError } from '../engine/errors.ts';
import { stringFlag, type ParsedArgs } from './args.ts';
import { writeFileAtomic } from './write-atomic.ts';

export interface CheckpointOptions {
  /** --checkpoint: where each module's checkpoint goes. */
  save: string | null;
  /** --resume: the file and the checkpoint read from it. */
  resumePath: string | null;
  resume: AsmoCheckpoint | null;
}

/**
 * The flags, and the --resume file read and checked against the settings, before anything is loaded:
 * a checkpoint of other settings is refused at once, not after a calibration (the model, images and
 * calibration are checked when the optimisation starts).
 */
export async function checkpointFromArgs(args: ParsedArgs, asmo: AsmoSettings | null, optimisationRuns: number): Promise<CheckpointOptions> {
  const save = stringFlag(args, 'checkpoint') ?? null, resumePath = stringFlag(args, 'resume') ?? null;
  if (!asmo || (!save && !resumePath)) return { save: null, resumePath: null, resume: null };
  if (optimisationRuns !== 1) throw new UsageError('--checkpoint and --resume apply to one optimisation run: give one --bits width.');
  if (!resumePath) return { save, resumePath, resume: null };
  let text: string;
  try {
    text = await readFile(resumePath, 'utf8');
  } catch (e) {
    throw new UsageError(`Cannot read the checkpoint ${resumePath}: ${(e as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new AsmoResumeError(`${resumePath} is not a checkpoint written by 'adfq quantize --checkpoint' (not JSON).`);
  }
  try {
    checkAsmoCheckpoint(data, { settings: asmo });
  } catch (e) {
    throw e instanceof AsmoResumeError ? new AsmoResumeError(`${resumePath}: ${e.message}`) : e;
  }
  return { save, resumePath, resume: data };
}

export interface CheckpointHooks {
  onEvent(e: AsmoEvent): void;
  signal: AbortSignal;
}

/**
 * Runs the optimisation `body` with its checkpoints written to --checkpoint one after another (never two
 * writes of one file at once) and, while it runs, Ctrl-C cancelling it between steps, so the command ends
 * by saying which module it can resume after. A checkpoint that cannot be written stops the run: carrying
 * on would lose the work the flag asked to keep.
 */
export async function withCheckpoints<T>(o: CheckpointOptions, log: (m: string) => void, body: (hooks: CheckpointHooks) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  let writing = Promise.resolve(), failed: unknown = null, last = o.resume;
  const onEvent = (e: AsmoEvent) => {
    if (e.type !== 'module-done' || !o.save) return;
    const path = o.save, text = JSON.stringify(e.checkpoint);
    last = e.checkpoint;
    writing = writing.then(() => writeFileAtomic(path, text)).catch((err: unknown) => { failed ??= err; ac.abort(); });
  };
  const interrupt = () => ac.abort();
  if (o.save) {
    log(`checkpoints: ${o.save}, after every module (Ctrl-C stops with the last one kept)`);
    process.once('SIGINT', interrupt);
  }
  let result: T;
  try {
    result = await body({ onEvent, signal: ac.signal });
  } catch (e) {
    await writing;
    if (failed) throw failed;
    if (e instanceof CancelledError && o.save) {
      throw new CancelledError(last
        ? `Module-wise optimisation stopped after module ${last.finished} of ${last.total}, saved in ${o.save}: continue with the same command and --resume ${o.save}.`
        : 'Module-wise optimisation stopped before its first module finished: nothing to resume from.');
    }
    if (e instanceof AsmoResumeError && o.resumePath) throw new AsmoResumeError(`${o.resumePath}: ${e.message}`);
    throw e;
  } finally {
    process.off('SIGINT', interrupt);
  }
  await writing;  // the last checkpoint is on disk before the command goes on
  if (failed) throw failed;
  return result;
}
