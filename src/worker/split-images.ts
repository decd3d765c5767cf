/**
 * How the studio splits its images into calibration and evaluation sets, shared by the page (to check the
 * form) and the worker (to run it): the engine's round-robin over classes, like `adfq quantize`. Class
 * folders may sit under a dropped root folder, so images are grouped by label where they have one.
 */
import { splitCalibration } from '../engine/data/split.ts';
import type { WorkerImage } from './protocol.ts';

const classKey = (im: Pick<WorkerImage, 'name' | 'label'>) => (im.label !== null ? `label ${im.label}/${im.name}` : im.name);

export function splitImages<T extends Pick<WorkerImage, 'name' | 'label'>>(images: readonly T[], calibSize: number): { calib: T[]; evaluate: T[] } {
  return splitCalibration(images, calibSize, classKey);
}
