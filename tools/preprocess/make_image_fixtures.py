#!/usr/bin/python3
"""Writes the small committed image fixtures of tests/image-*.test.ts with PIL 9.4 (the oracle).

Run: /usr/bin/python3 tools/preprocess/make_image_fixtures.py
- resize cases: a source PNG and PIL's BICUBIC output for sizes given by torchvision's Resize rule;
  tests demand byte equality.
- one full pipeline case (resize, centre crop with a half-pixel offset, normalise) as float32.
- decoding cases: files PIL writes that the tests cannot make themselves (progressive/CMYK JPEG,
  palette, 1-bit, 16-bit gray PNG), each with PIL's own RGB/L decode as `<name>.pil.png`.
"""
import json
import os

import numpy as np
from PIL import Image

OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'tests', 'fixtures', 'images')
rng = np.random.default_rng(20240601)


def resized_size(w, h, size):
    """torchvision _compute_resized_output_size for Resize(int)."""
    if w <= h:
        return size, int(size * h / w)
    return int(size * w / h), size


def smooth(w, h, channels):
    """Photo-like content: gradients, a disc and mild noise, so JPEG coding behaves as on real images."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    planes = []
    for c in range(channels):
        p = 128 + 90 * np.sin(x / (5 + 3 * c)) * np.cos(y / (7 + c)) + 20 * (c - 1)
        p += 60 * (((x - w * 0.6) ** 2 + (y - h * 0.4) ** 2) < (min(w, h) * 0.25) ** 2)
        planes.append(p + rng.normal(0, 6, size=p.shape))
    arr = np.clip(np.stack(planes, -1), 0, 255).round().astype(np.uint8)
    return arr[..., 0] if channels == 1 else arr


def save(img, name, **kw):
    img.save(os.path.join(OUT, name), **kw)
    return name


def resize_cases():
    cases = []
    sources = {
        'resize-src-rgb-37x53.png': Image.fromarray(rng.integers(0, 256, (53, 37, 3), dtype=np.uint8), 'RGB'),
        'resize-src-gray-45x31.png': Image.fromarray(rng.integers(0, 256, (31, 45), dtype=np.uint8), 'L'),
        'resize-src-smooth-160x120.png': Image.fromarray(smooth(160, 120, 3), 'RGB'),
    }
    plans = {
        'resize-src-rgb-37x53.png': [('short', 19), ('short', 64), ('exact', (13, 80)), ('exact', (37, 20))],
        'resize-src-gray-45x31.png': [('short', 11), ('short', 40)],
        'resize-src-smooth-160x120.png': [('short', 24), ('short', 97)],
    }
    for src, img in sources.items():
        save(img, src)
        for kind, arg in plans[src]:
            size = resized_size(*img.size, arg) if kind == 'short' else arg
            out = src.replace('-src-', '-out-').replace('.png', f'-to-{size[0]}x{size[1]}.png')
            save(img.resize(size, Image.BICUBIC), out)
            cases.append({'source': src, 'expected': out, 'width': size[0], 'height': size[1]})
    return cases


def pipeline_case():
    """Resize 32 then crop 28 from 61x47: resized 41x32, so the left offset is round(6.5) = 6 (half to even)."""
    img = Image.fromarray(smooth(61, 47, 3), 'RGB')
    src = save(img, 'pipeline-src-61x47.png')
    r = img.resize(resized_size(61, 47, 32), Image.BICUBIC)
    w, h = r.size
    top, left = int(round((h - 28) / 2.0)), int(round((w - 28) / 2.0))
    crop = r.crop((left, top, left + 28, top + 28))
    save(crop, 'pipeline-61x47-r32-c28.png')
    x = np.asarray(crop).astype(np.float32).transpose(2, 0, 1) / np.float32(255)
    mean = np.array([0.485, 0.456, 0.406], np.float32)[:, None, None]
    std = np.array([0.229, 0.224, 0.225], np.float32)[:, None, None]
    ((x - mean) / std).astype('<f4').tofile(os.path.join(OUT, 'pipeline-61x47-r32-c28.f32'))
    return {'source': src, 'resize': 32, 'imageSize': 28, 'crop': 'pipeline-61x47-r32-c28.png',
            'tensor': 'pipeline-61x47-r32-c28.f32', 'cropLeft': left, 'cropTop': top}


def decode_cases():
    rgb = Image.fromarray(smooth(48, 40, 3), 'RGB')
    gray = Image.fromarray(smooth(48, 40, 1), 'L')
    cases = []

    def add(name, img, kind, mode, **kw):
        save(img, name, **kw)
        ref = Image.open(os.path.join(OUT, name))
        save(ref.convert(mode), name + '.pil.png')
        cases.append({'file': name, 'kind': kind, 'channels': 1 if mode == 'L' else 3})

    add('jpeg-baseline-420.jpg', rgb, 'jpeg', 'RGB', quality=90, subsampling=2)
    add('jpeg-baseline-444.jpg', rgb, 'jpeg', 'RGB', quality=90, subsampling=0)
    add('jpeg-progressive.jpg', rgb, 'jpeg', 'RGB', quality=90, progressive=True)
    add('jpeg-gray.jpg', gray, 'jpeg', 'L', quality=90)
    add('jpeg-cmyk.jpg', rgb.convert('CMYK'), 'jpeg', 'RGB', quality=95)
    pal = rgb.quantize(colors=200)
    pal.info['transparency'] = 3
    add('png-palette-8bit.png', pal, 'png', 'RGB', transparency=3)
    add('png-palette-4bit.png', rgb.quantize(colors=12), 'png', 'RGB', bits=4)
    add('png-1bit.png', gray.convert('1'), 'png', 'L')
    add('png-gray-alpha.png', Image.merge('LA', [gray, gray.point(lambda v: 255 - v)]), 'png', 'L')
    add('png-rgba.png', Image.merge('RGBA', [*rgb.split(), gray]), 'png', 'RGB')
    # 16-bit gray: PIL would clip it to white (mode I → L), so the expectation is the high byte.
    g16 = (np.asarray(gray).astype(np.uint16) * 257 + rng.integers(0, 200, (40, 48))).astype(np.uint16)
    save(Image.fromarray(g16, 'I;16'), 'png-gray16.png')
    save(Image.fromarray((g16 >> 8).astype(np.uint8), 'L'), 'png-gray16.png.pil.png')
    cases.append({'file': 'png-gray16.png', 'kind': 'png', 'channels': 1})
    return cases


if __name__ == '__main__':
    os.makedirs(OUT, exist_ok=True)
    manifest = {'resize': resize_cases(), 'pipeline': pipeline_case(), 'decode': decode_cases()}
    with open(os.path.join(OUT, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=1)
    print(f'wrote {len(os.listdir(OUT))} files to {os.path.normpath(OUT)}')
