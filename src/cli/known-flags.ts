/** Every option the CLI accepts (args.ts rejects the others). */
export const KNOWN = new Set(['json', 'debug', 'help', 'images', 'labels', 'preset', 'mean', 'std', 'resize', 'batch',
  'limit', 'input', 'shape', 'out', 'no-progress', 'calib', 'eval', 'bits', 'method', 'no-ppoq', 'no-slq', 'no-log',
  'calib-size', 'report', 'seed', 'iters', 'asmo-batch', 'asmo-modules', 'gradients', 'kl-axis', 'track-accuracy', 'from-report', 'format', 'opset', 'int4',
  'checkpoint', 'resume']);
