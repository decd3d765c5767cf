/** Predictions with thumbnails, mistakes first when labels are known (the rows worth looking at). */
import { useMemo } from 'react';
import type { Prediction } from '../../engine/eval/metrics.ts';
import { useStudio } from '../store.ts';
import { thumbnailUrl } from '../thumbnails.ts';

const SHOWN = 50;

export function PredictionsTable({ predictions }: { predictions: Prediction[] }) {
  const labels = useStudio((s) => s.model.loaded?.labels ?? null);
  const images = useStudio((s) => s.data.images);
  const byName = useMemo(() => new Map(images.map((im) => [im.name, im])), [images]);
  const name = (c: number) => labels?.[c] ?? String(c);
  const wrong = (p: Prediction) => p.label !== null && p.label !== p.top5[0];
  // A stable sort keeps dataset order within the mistakes and within the rest.
  const rows = useMemo(() => [...predictions].sort((a, b) => Number(wrong(b)) - Number(wrong(a))).slice(0, SHOWN), [predictions]);
  return (
    <>
      <table className="preds" data-testid="predictions"><thead><tr><th></th><th>image</th><th>label</th><th>prediction</th><th>p</th></tr></thead><tbody>
        {rows.map((p) => {
          const im = byName.get(p.name);
          return (
            <tr key={p.name} className={wrong(p) ? 'wrong' : ''}>
              <td>{im && <img className="thumb" src={thumbnailUrl(im)} alt="" />}</td>
              <td>{p.name}</td><td>{p.label === null ? '—' : name(p.label)}</td><td>{name(p.top5[0])}</td><td>{p.top5Prob[0].toFixed(2)}</td>
            </tr>
          );
        })}
      </tbody></table>
      {predictions.length > SHOWN && <p className="muted">First {SHOWN} of {predictions.length} predictions shown.</p>}
    </>
  );
}
