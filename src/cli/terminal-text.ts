/**
 * Model files and image names are untrusted, and the CLI prints their strings (names in error messages,
 * labels, metadata). Control characters in them could drive the terminal (escape sequences that move the
 * cursor, rewrite earlier lines or retitle the window), so on a terminal they are shown as visible escapes.
 * The CLI writes no escape sequences of its own; \n, \r (progress bars) and \t pass.
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g;

export function terminalSafe(text: string): string {
  return text.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Filters everything written to a stream that is a terminal (piped output and files stay byte-exact). */
export function guardTerminal(stream: NodeJS.WriteStream): void {
  if (!stream.isTTY) return;
  const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]) => write(typeof chunk === 'string' ? terminalSafe(chunk) : chunk, ...rest)) as typeof stream.write;
}
