/**
 * Finds the graph's image input: the one non-initializer input, float, rank 4 [batch, C, H, W].
 */
import { UnsupportedModelError } from '../errors';
import { int64ToNumber, type GraphProto, type Int64 } from './proto';

export interface ImageInput { name: string; batch: number | null; channels: number | null; height: number | null; width: number | null }

export function findImageInput(graph: GraphProto): ImageInput {
  // IR < 4 lists initializers among the inputs too; they are not runtime inputs.
  const inits = new Set((graph.initializer ?? []).map((t) => t.name));
  const inputs = (graph.input ?? []).filter((i) => !inits.has(i.name));
  if (inputs.length !== 1) throw new UnsupportedModelError(`The model has ${inputs.length} inputs; a ViT classifier has one image input.`);
  const input = inputs[0];
  const tensor = input.type?.tensorType;
  const dims = tensor?.shape?.dim ?? [];
  if (!tensor || (tensor.elemType !== 1 && tensor.elemType !== 0) || dims.length !== 4) {
    throw new UnsupportedModelError(`Input '${input.name}' is not a float32 image tensor [batch, channels, height, width].`);
  }
  // A dim_value of 0 or a dim_param means "dynamic".
  const value = (i: number) => {
    const v = dims[i].dimValue !== undefined && dims[i].dimValue !== null ? int64ToNumber(dims[i].dimValue as Int64) : 0;
    return v > 0 && Number.isSafeInteger(v) ? v : null;
  };
  return { name: input.name ?? '', batch: value(0), channels: value(1), height: value(2), width: value(3) };
}
