/** The images a run could not read, each with its reason (they also go into the run's report). */
import type { SkippedImage } from '../../engine/eval/evaluate.ts';

/** Reasons often start with the file name already. */
const reasonOf = (s: SkippedImage) => (s.reason.startsWith(`${s.name}: `) ? s.reason.slice(s.name.length + 2) : s.reason);

export function SkippedImages({ skipped, testId = 'skipped' }: { skipped: SkippedImage[]; testId?: string }) {
  if (!skipped.length) return null;
  const list = <ul className="warn">{skipped.map((s, i) => <li key={i}>skipped <code>{s.name}</code>: {reasonOf(s)}</li>)}</ul>;
  return skipped.length <= 5
    ? <div data-testid={testId}>{list}</div>
    : (
      <details className="warn" data-testid={testId}>
        <summary>{skipped.length} images could not be read and were skipped (the run went on without them)</summary>
        {list}
      </details>
    );
}
