/**
 * A comma-separated list of numbers edited as text and committed on blur or Enter, so typing "0." or
 * "0.4," does not get rewritten under the cursor. Invalid text is shown red and not committed.
 */
import { useEffect, useState } from 'react';

interface Props { value: number[]; onCommit(v: number[]): void; testId: string; width?: number }

export function NumberListInput({ value, onCommit, testId }: Props) {
  const [text, setText] = useState(value.join(','));
  useEffect(() => setText(value.join(',')), [value]);
  const parsed = text.split(',').map((t) => (t.trim() === '' ? NaN : Number(t)));
  const valid = parsed.every(Number.isFinite);
  const commit = () => { if (valid && parsed.join(',') !== value.join(',')) onCommit(parsed); };
  return (
    <input value={text} data-testid={testId} className={valid ? '' : 'invalid'} onChange={(e) => setText(e.target.value)}
           onBlur={commit} onKeyDown={(e) => { if (e.key === 'Enter') commit(); }} />
  );
}
