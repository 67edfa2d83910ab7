// What one request may ask of the server. Defaults suit a small CPU machine; the CLI can change each.

export interface ServeLimits {
  /** Largest request body (default 8 MiB). */
  bodyBytes: number;
  /** Largest decoded image, width x height (default 16 megapixels); checked from the header before decoding. */
  imagePixels: number;
  /** Largest k (default 1000). */
  maxK: number;
  /** Images embedded at once (default 2); the network itself runs one at a time on the torch threads. */
  concurrency: number;
  /** Embeddings waiting for a slot before new ones are refused with 503 (default 64). */
  queue: number;
  /** Whole-request limit in ms (default 30 s): a slower request is answered 503. */
  requestTimeoutMs: number;
}

export const DEFAULT_LIMITS: ServeLimits = { bodyBytes: 8 << 20, imagePixels: 16_000_000, maxK: 1000, concurrency: 2, queue: 64, requestTimeoutMs: 30_000 };
