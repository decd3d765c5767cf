/** The first images of the dataset as thumbnails, captioned with their label. */
import { useStudio } from '../store.ts';
import { thumbnailUrl } from '../thumbnails.ts';

const SHOWN = 48;

export function ThumbnailGrid() {
  const images = useStudio((s) => s.data.images);
  const labels = useStudio((s) => s.model.loaded?.labels ?? null);
  if (!images.length) return null;
  return (
    <div className="thumbs" data-testid="thumbnails">
      {images.slice(0, SHOWN).map((im) => {
        const label = im.label === null ? '?' : labels?.[im.label] ?? String(im.label);
        return (
          <figure key={im.name} title={`${im.name}\nlabel: ${label}`}>
            <img src={thumbnailUrl(im)} alt={im.name} />
            <figcaption>{label}</figcaption>
          </figure>
        );
      })}
      {images.length > SHOWN && <p className="muted">…and {images.length - SHOWN} more</p>}
    </div>
  );
}
