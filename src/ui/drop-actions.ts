/**
 * What happens to dropped or picked files: an .onnx file becomes the model, images replace the dataset,
 * anything else is named in a notice. A lone file of another kind is offered to the importer, whose typed
 * error then says what is wrong with it. Nothing here clears the model or results before a load succeeds.
 */
import { loadModel, markUserOpened, setImages } from './actions.ts';
import { isImageFile, isModelFile, type DroppedFile } from './drop.ts';
import { patch } from './store.ts';

const bytesOf = async (f: File) => new Uint8Array(await f.arrayBuffer());

export async function openFiles(files: DroppedFile[]): Promise<void> {
  patch('ui', { dropNotice: null });
  if (files.length) markUserOpened();
  const models = files.filter((f) => isModelFile(f.path));
  const images = files.filter((f) => isImageFile(f.path));
  const other = files.filter((f) => !isModelFile(f.path) && !isImageFile(f.path));
  const notices: string[] = [];
  let model = models[0];
  if (!model && !images.length && other.length === 1) model = other[0];
  else if (other.length) notices.push(`Ignored ${other.length} file(s) that are neither .onnx nor JPEG/PNG: ${other.slice(0, 5).map((f) => f.path).join(', ')}${other.length > 5 ? ', …' : ''}.`);
  if (models.length > 1) notices.push(`Several .onnx files were dropped; loaded ${model.path}.`);
  if (!files.length) notices.push('Nothing to open: the drop held no files.');
  patch('ui', { dropNotice: notices.join(' ') || null });
  // The model first: labels of the new images may come from its class names.
  if (model) await loadModel(model.path.split('/').pop()!, await bytesOf(model.file));
  if (images.length) {
    await setImages(await Promise.all(images.map(async (f) => ({ path: f.path, bytes: await bytesOf(f.file) }))));
  }
}
