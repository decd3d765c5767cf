/**
 * Drag and drop anywhere on the page. Listens on window so the whole page is the target; a counter of
 * enter/leave pairs keeps the overlay from flickering as the pointer crosses child elements.
 */
import { useEffect } from 'react';
import { openFiles } from '../drop-actions.ts';
import { entriesOf, readDropped } from '../drop.ts';
import { patch, useStudio } from '../store.ts';

const hasFiles = (e: DragEvent) => [...(e.dataTransfer?.types ?? [])].includes('Files');

export function DropZone() {
  const dragging = useStudio((s) => s.ui.dragging);
  const notice = useStudio((s) => s.ui.dropNotice);
  useEffect(() => {
    let depth = 0;
    const enter = (e: DragEvent) => { if (!hasFiles(e)) return; e.preventDefault(); depth++; patch('ui', { dragging: true }); };
    const over = (e: DragEvent) => { if (!hasFiles(e)) return; e.preventDefault(); if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy'; };
    const leave = (e: DragEvent) => { if (!hasFiles(e)) return; depth = Math.max(0, depth - 1); if (!depth) patch('ui', { dragging: false }); };
    const drop = (e: DragEvent) => {
      if (!e.dataTransfer) return;
      e.preventDefault();  // otherwise the browser navigates to the dropped file
      depth = 0;
      patch('ui', { dragging: false });
      const entries = entriesOf(e.dataTransfer);  // synchronously: the DataTransfer empties after this handler
      void readDropped(entries).then(openFiles).catch((err) => patch('ui', { dropNotice: `Could not read the dropped files: ${String(err?.message ?? err)}` }));
    };
    window.addEventListener('dragenter', enter);
    window.addEventListener('dragover', over);
    window.addEventListener('dragleave', leave);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragenter', enter);
      window.removeEventListener('dragover', over);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('drop', drop);
    };
  }, []);
  return (
    <>
      {dragging && (
        <div className="drop-overlay" data-testid="drop-overlay">
          <div>Drop an <b>.onnx</b> model, images, or folders of images (one folder per class)</div>
        </div>
      )}
      {notice && <p className="warn notice" data-testid="drop-notice">{notice} <button onClick={() => patch('ui', { dropNotice: null })}>dismiss</button></p>}
    </>
  );
}
