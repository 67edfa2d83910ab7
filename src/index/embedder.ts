// Embeds images with a run's model for the index, the server and calibration: test-mode preprocessing,
// the model in eval mode, the run's normalisation (N(v) by default). Datasets go through the network in
// batches (DEFAULT_EMBED_BATCH); a query image goes alone. Convolution and matmul kernels round differently at
// different batch sizes (~1e-7), so the same image embedded in a batch and alone gives slightly different
// vectors: pixelDigest() names an image's preprocessed pixels, the index keeps it per item, and a query whose
// pixels are already indexed takes that item's stored vector (an indexed image then comes back at distance
// exactly 0; see queryEmbedding()).
import { createHash } from 'node:crypto';
import { DEFAULT_EMBED_BATCH } from './embed-batch.js';
import { tensor, tidy, inferenceMode, releaseFinalizedWrappers } from '../engine/index.js';
import { normalizeEmbeddings } from '../evaluation/index.js';
import { ImageLoader, preprocess, outputShape, type ImageDataset, type ImageInput, type TransformOptions } from '../data/index.js';
import type { EmbeddingNet } from '../models/index.js';
import type { RunConfig } from '../training/config.js';
import { transformFor } from '../training/data-setup.js';

export { DEFAULT_EMBED_BATCH };

/** Content key of a preprocessed image: identical pixels give identical keys (sha256 of the float32 bytes). */
export function pixelDigest(chw: Float32Array): string {
  return createHash('sha256')
    .update(new Uint8Array(chw.buffer, chw.byteOffset, chw.byteLength))
    .digest('base64url');
}

export class RunEmbedder {
  readonly transform: TransformOptions;
  readonly shape: [number, number, number];
  readonly dim: number;

  constructor(
    readonly config: RunConfig,
    readonly model: EmbeddingNet,
  ) {
    this.transform = transformFor(config.dataset);
    this.shape = outputShape(this.transform);
    this.dim = model.embeddingDim;
    model.eval();
  }

  /**
   * Normalised embeddings [n, D] of n preprocessed CHW images (row-major, one forward pass on the model's
   * device; the vectors come back to the CPU).
   */
  embedPixels(chw: Float32Array, n = 1): Float32Array {
    return tidy(() =>
      inferenceMode(() => {
        const raw = this.model.forward(tensor(chw, [n, ...this.shape], { device: this.model.device }));
        return normalizeEmbeddings(raw, this.config.evaluation.normalization).toFloat32Array();
      }),
    );
  }

  /** Test-mode preprocessing of one image (encoded bytes or raw pixels). Decode errors name `input.where`. */
  preprocessImage(input: ImageInput): Promise<Float32Array> {
    return preprocess(input, 'test', this.transform);
  }

  /** Normalised embedding of one image, alone in its forward pass. */
  async embedImage(input: ImageInput): Promise<Float32Array> {
    return this.embedPixels(await this.preprocessImage(input));
  }

  /**
   * Normalised embeddings [N, D] of a dataset's items (default all), `batchSize` images per forward pass
   * (default DEFAULT_EMBED_BATCH); the next batch decodes while the current one runs. `digests`, when given,
   * receives each item's pixelDigest(). `onProgress(done)` after each batch.
   */
  async embedDataset(
    ds: ImageDataset,
    o: { indices?: readonly number[]; batchSize?: number; digests?: string[]; onProgress?: (done: number) => void } = {},
  ): Promise<Float32Array> {
    const indices = o.indices ?? Array.from({ length: ds.size }, (_, i) => i);
    const bs = o.batchSize ?? DEFAULT_EMBED_BATCH;
    if (!Number.isInteger(bs) || bs < 1) throw new Error(`embed: batch size must be a positive integer, got ${bs}`);
    const loader = new ImageLoader(ds, { mode: 'test', transform: this.transform, onBadItem: 'fail' });
    const px = this.shape[0] * this.shape[1] * this.shape[2];
    const out = new Float32Array(indices.length * this.dim);
    const batches = Math.ceil(indices.length / bs);
    const load = (b: number) => loader.loadBatch(indices.slice(b * bs, (b + 1) * bs), b);
    let pending = batches ? load(0) : null;
    for (let b = 0; b < batches; b++) {
      const batch = await pending!;
      pending = b + 1 < batches ? load(b + 1) : null;
      const from = b * bs;
      const n = Math.min(indices.length, from + bs) - from;
      out.set(this.embedPixels(batch.images, n), from * this.dim);
      if (o.digests) for (let i = 0; i < n; i++) o.digests[from + i] = pixelDigest(batch.images.subarray(i * px, (i + 1) * px));
      if (b % 4 === 3) await releaseFinalizedWrappers();
      o.onProgress?.(from + n);
    }
    return out;
  }
}
