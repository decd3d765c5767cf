/** Where the embedded demo lives (the same files the studio serves from public/demo). */
import { fileURLToPath } from 'node:url';

const root = (p: string) => fileURLToPath(new URL(`../../public/demo/${p}`, import.meta.url));

export const DEMO_MODEL_PATH = root('vit-fmnist-outliers.onnx');
export const DEMO_IMAGES_PATH = root('images');
