/**
 * jpeg-js and fast-png report what they detect with plain Errors, whose text we pass on. A TypeError
 * or RangeError instead means damaged data crashed the library (the header checks exist to prevent
 * that); we say so, since its text ("Cannot read properties of undefined") means nothing to a user.
 * tools/fuzz/image-fuzz.ts counts messages with "crashed the decoder" as bugs.
 */
export function libraryError(e: unknown): string {
  if (e instanceof Error && e.constructor === Error) return e.message;
  return `damaged data crashed the decoder: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
}
