/**
 * The studio's quantization form checks (src/ui/quantize-actions.ts) and its calibration split
 * (src/worker/split-images.ts): plain functions of the store's state, no browser needed.
 */
import { describe, expect, it } from 'vitest';
import { defaultCalibSize, quantizeInput } from '../src/ui/quantize-actions.ts';
import { initialQuantForm, useStudio, type QuantForm, type StudioState } from '../src/ui/store.ts';
import { splitImages } from '../src/worker/split-images.ts';

const image = (name: string, label: number | null) => ({ name, label, bytes: new Uint8Array() });
/** `perClass` labelled images in each of `classes` class folders under a dropped root folder. */
const dataset = (classes: number, perClass: number) =>
  Array.from({ length: classes * perClass }, (_, i) => image(`root/c${i % classes}/${i}.png`, i % classes));

function state(images: ReturnType<typeof image>[], form: Partial<QuantForm> = {}, model = true) {
  const s = useStudio.getState();
  return {
    model: { ...s.model, loaded: model ? ({} as StudioState['model']['loaded']) : null },
    data: { ...s.data, images },
    quantization: { ...s.quantization, form: { ...initialQuantForm, ...form } },
  };
}

describe('quantizeInput', () => {
  it('defaults to min(32, images − 1) calibration images and the ADFQ settings', () => {
    expect(defaultCalibSize(200)).toBe(32);
    expect(defaultCalibSize(10)).toBe(9);
    const r = quantizeInput(state(dataset(10, 3)));
    expect(r.problem).toBeNull();
    if (r.problem === null) {
      expect(r.calibSize).toBe(29);
      expect(r.settings).toMatchObject({ method: 'adfq', bitsW: 4, bitsA: 4, tauQkv: 5, tauFc1: 10 });
      expect(r.settings.ablation).toEqual({ ppoqQkv: false, ppoqFc1: false, slq: false, logProbs: false });
    }
  });

  it.each([
    ['no model', state(dataset(2, 2), {}, false), /Load a model/],
    ['no images', state([]), /no images/],
    ['one image', state(dataset(1, 1)), /At least two images/],
    ['no labels', state([image('a.png', null), image('b.png', null)]), /None of the images has a label/],
    ['calibration size = images', state(dataset(3, 2), { calibSize: '6' }), /calibration size \(6\) must be smaller than the number of images \(6\)/],
    ['calibration size not a number', state(dataset(3, 2), { calibSize: '2.5' }), /whole number from 1 to 5, not '2\.5'/],
    ['calibration size 0', state(dataset(3, 2), { calibSize: '0' }), /whole number/],
    ['only unlabelled images left to evaluate', state([image('c0/a.png', 0), image('b.png', null)], { calibSize: '1' }), /evaluation images has a label/],
    ['bad τ', state(dataset(3, 2), { tauQkv: '-1' }), /threshold τ for the qkv input must be a positive number/],
  ])('%s is explained', (_, s, message) => {
    expect(quantizeInput(s).problem).toMatch(message);
  });

  it('τ is not checked where PPOQ is off; ablations only for ADFQ', () => {
    expect(quantizeInput(state(dataset(3, 2), { tauQkv: 'x', noPpoq: true })).problem).toBeNull();
    const r = quantizeInput(state(dataset(3, 2), { method: 'minmax', noSlq: true, tauFc1: '' }));
    expect(r.problem === null && r.settings.ablation).toEqual({});
  });
});

describe('splitImages', () => {
  it('takes calibration images round-robin over the classes, also under a dropped root folder', () => {
    const images = dataset(4, 3), { calib, evaluate } = splitImages(images, 6);
    expect(calib.map((im) => im.label)).toEqual([0, 1, 2, 3, 0, 1]);
    expect(evaluate).toHaveLength(6);
    expect(new Set([...calib, ...evaluate])).toEqual(new Set(images));
  });
});
