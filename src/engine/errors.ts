/**
 * Typed errors. Each has a stable `code` (for the UI, the CLI and tests) and a message a user can act on.
 * Anything thrown by the engine for bad input must be one of these, never a bare Error or a TypeError.
 */
export class AdfqError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
    this.name = new.target.name;
  }
}

/** The file is not an ONNX model at all (not protobuf, truncated, wrong magic). */
export class InvalidModelFileError extends AdfqError {
  constructor(message: string) { super('invalid-model-file', message); }
}

/** A valid ONNX model that is not a ViT we recognise; the message names the node or pattern. */
export class UnsupportedModelError extends AdfqError {
  constructor(message: string) { super('unsupported-model', message); }
}

/** A recognised ViT whose weights are missing, mis-shaped or absurdly large. */
export class ModelWeightError extends AdfqError {
  constructor(message: string) { super('model-weight', message); }
}

/** Tensor shapes that do not fit a kernel or a model. */
export class ShapeError extends AdfqError {
  constructor(message: string) { super('shape', message); }
}

/** An image that cannot be decoded. */
export class BadImageError extends AdfqError {
  constructor(message: string) { super('bad-image', message); }
}

/** No WebGPU adapter/device could be obtained. */
export class NoWebGPUError extends AdfqError {
  constructor(message: string) { super('no-webgpu', message); }
}

export class DeviceLostError extends AdfqError {
  constructor(message: string) { super('device-lost', message); }
}

export class OutOfMemoryError extends AdfqError {
  constructor(message: string) { super('out-of-memory', message); }
}

/** Bad command-line or API arguments. */
export class UsageError extends AdfqError {
  constructor(message: string) { super('usage', message); }
}

export class CancelledError extends AdfqError {
  constructor(message = 'Cancelled.') { super('cancelled', message); }
}

/** A bug in the engine itself (a buffer released twice, a kernel used wrongly); not the user's input. */
export class InternalError extends AdfqError {
  constructor(message: string) { super('internal', message); }
}
