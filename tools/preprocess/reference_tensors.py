#!/usr/bin/python3
"""Reference preprocessing with PIL + numpy, rule for rule what timm/torchvision's eval transform does
(torchvision is not installed here): PIL decode → convert('RGB') → Resize(shorter side, BICUBIC,
longer side int(size * long / short)) → CenterCrop (int(round((h - crop) / 2.0))) → ToTensor →
Normalize, all in float32.

Usage: reference_tensors.py <list-of-paths.txt> <out.f32> --resize 256 --crop 224 --mean 0.5,0.5,0.5 --std 0.5,0.5,0.5
Writes float32 little-endian [N, 3, crop, crop] in the order of the list, and <out>.u8 with the
uint8 crops [N, crop, crop, 3] so decode and resize differences can be told apart.
"""
import argparse

import numpy as np
from PIL import Image


def resized_size(w, h, size):
    if w <= h:
        return size, int(size * h / w)
    return int(size * w / h), size


def preprocess(path, resize, crop):
    img = Image.open(path).convert('RGB')
    size = resized_size(*img.size, resize)
    if size != img.size:
        img = img.resize(size, Image.BICUBIC)
    w, h = img.size
    top, left = int(round((h - crop) / 2.0)), int(round((w - crop) / 2.0))
    return np.asarray(img.crop((left, top, left + crop, top + crop)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('list')
    ap.add_argument('out')
    ap.add_argument('--resize', type=int, default=256)
    ap.add_argument('--crop', type=int, default=224)
    ap.add_argument('--mean', default='0.5,0.5,0.5')
    ap.add_argument('--std', default='0.5,0.5,0.5')
    a = ap.parse_args()
    mean = np.array([float(v) for v in a.mean.split(',')], np.float32)[:, None, None]
    std = np.array([float(v) for v in a.std.split(',')], np.float32)[:, None, None]
    paths = [p for p in open(a.list).read().splitlines() if p]
    with open(a.out, 'wb') as f, open(a.out + '.u8', 'wb') as fu:
        for p in paths:
            u8 = preprocess(p, a.resize, a.crop)
            fu.write(u8.tobytes())
            x = u8.astype(np.float32).transpose(2, 0, 1) / np.float32(255)
            f.write(((x - mean) / std).astype('<f4').tobytes())
    print(f'reference: {len(paths)} images → {a.out}')


if __name__ == '__main__':
    main()
