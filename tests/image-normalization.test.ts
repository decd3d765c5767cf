// Normalisation presets and the `--mean a,b,c --std a,b,c` parser.
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/engine/errors.ts';
import { NORMALIZATION_PRESETS, normalizationPreset, parseMeanStd } from '../src/engine/image/index.ts';

describe('normalisation', () => {
  it('presets', () => {
    expect(normalizationPreset('imagenet')).toEqual({ mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
    expect(normalizationPreset('HALF')).toEqual({ mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
    expect(Object.keys(NORMALIZATION_PRESETS)).toEqual(['imagenet', 'half']);
    expect(() => normalizationPreset('inception')).toThrow(/Unknown normalisation preset 'inception'; use imagenet or half/);
  });

  it('parses explicit values, one value broadcast, and preset names', () => {
    expect(parseMeanStd('0.485, 0.456,0.406', '0.229,0.224,0.225')).toEqual(NORMALIZATION_PRESETS.imagenet);
    expect(parseMeanStd('0.5', '0.25')).toEqual({ mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] });
    expect(parseMeanStd('half', 'half', 1)).toEqual({ mean: [0.5], std: [0.5] });
    expect(parseMeanStd('0.1307', '0.3081', 1)).toEqual({ mean: [0.1307], std: [0.3081] });
    expect(parseMeanStd(undefined, undefined)).toBeNull();
  });

  it('clear errors', () => {
    const cases: Array<[string | undefined, string | undefined, number, RegExp]> = [
      ['0.5,0.5,0.5', undefined, 3, /Give --mean and --std together/],
      ['0.5,x,0.5', '1,1,1', 3, /--mean expects comma-separated numbers.*'x' in '0.5,x,0.5' is not a number/],
      ['0.5,,0.5', '1,1,1', 3, /'' in '0.5,,0.5'/],
      ['0.5,0.5', '1,1,1', 3, /--mean has 2 values but the model takes 3 channel\(s\); give 1 or 3/],
      ['0.5,0.5,0.5', '1,0,1', 3, /--std values must be positive/],
      ['imagenet', 'imagenet', 1, /preset has 3 values but the model takes 1 channel/],
    ];
    for (const [mean, std, channels, pattern] of cases) {
      expect(() => parseMeanStd(mean, std, channels)).toThrow(UsageError);
      expect(() => parseMeanStd(mean, std, channels)).toThrow(pattern);
    }
  });
});
