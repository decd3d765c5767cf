/**
 * Sanity limits of the ONNX importer. A file that breaks one is rejected with a typed error before any
 * large allocation, so a corrupt or hostile file cannot crash, hang or exhaust the page.
 * They are far above every published ViT (ViT-G/14: width 1664, depth 48, 16 heads, MLP 8192, 257 tokens).
 */
export const LIMITS = {
  /** Protobuf messages cannot exceed 2 GiB; models above that use external data, which we do not read. */
  maxFileBytes: 2 ** 31 - 1,
  /** Nodes and initializers in the main graph. */
  maxNodes: 200_000,
  /**
   * While protobufjs decodes (decode-guard.ts): message nesting (a ViT needs 7 levels; each subgraph adds
   * 3), messages in all, numbers in typed tensor fields (1 GiB as JS doubles), and int64 values, strings
   * and byte fields, each a JS object (an int64 is a ~40-byte Long).
   */
  maxNesting: 32,
  maxMessages: 1_000_000,
  maxTypedValues: 2 ** 27,
  maxDecodedObjects: 2 ** 22,
  maxTensorRank: 8,
  /** One tensor dimension; also keeps every product of a few dims an exact double. */
  maxDim: 2 ** 31 - 1,
  /** Elements of one decoded tensor: 256 Mi floats = 1 GiB as float32. */
  maxTensorElements: 2 ** 28,
  maxWidth: 8192,
  maxDepth: 256,
  maxHeads: 256,
  maxMlpDim: 65_536,
  maxPatch: 256,
  maxImageSize: 8192,
  maxTokens: 65_536,
  maxInChannels: 64,
  maxClasses: 1_000_000,
  /** Nodes in one elementwise activation subgraph (the tanh GELU has 9). */
  maxActivationNodes: 32,
} as const;
