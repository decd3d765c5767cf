/** A small, strict argument parser: unknown flags are errors, not silently ignored. */
import { UsageError } from '../engine/errors';

export interface ParsedArgs {
  command: string | null;
  positional: string[];
  flags: Map<string, string | true>;
}

/** Flags that take no value; every other `--flag` consumes the next argument (or `--flag=value`). */
const BOOLEAN_FLAGS = new Set(['json', 'debug', 'help', 'cpu', 'no-progress', 'no-ppoq', 'no-slq', 'no-log', 'int4']);

export function parseArgs(argv: string[], known: ReadonlySet<string>): ParsedArgs {
  const flags = new Map<string, string | true>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) { positional.push(a); continue; }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    if (!known.has(name)) throw new UsageError(`Unknown option --${name}. Run 'npx adfq --help' for the list.`);
    if (BOOLEAN_FLAGS.has(name)) { flags.set(name, true); continue; }
    const value = eq >= 0 ? a.slice(eq + 1) : argv[++i];
    if (value === undefined || (eq < 0 && value.startsWith('--'))) throw new UsageError(`Option --${name} needs a value.`);
    flags.set(name, value);
  }
  return { command: positional.shift() ?? null, positional, flags };
}

export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

export function intFlag(args: ParsedArgs, name: string, min: number, max: number): number | undefined {
  const v = stringFlag(args, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got '${v}'.`);
  return n;
}

/** `--shape 1,3,224,224` → [1, 3, 224, 224]. */
export function shapeFlag(args: ParsedArgs, name: string): number[] | undefined {
  const v = stringFlag(args, name);
  if (v === undefined) return undefined;
  const dims = v.split(',').map(Number);
  if (dims.length !== 4 || dims.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new UsageError(`--${name} must be four positive integers b,c,h,w, got '${v}'.`);
  }
  return dims;
}
