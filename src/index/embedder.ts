// Embeds images with a run's model for the index, the server and calibration: test-mode preprocessing,
// the model in eval mode, the run's normalisation (N(v) by default). Each image goes through the network
// alone (batch 1): convolution and matmul kernels round differently at different batch sizes, and the same
// image must give bit-identical vectors whether it was indexed in a large build or queried later alone
// (an indexed image then comes back at distance exactly 0).
import { tensor, tidy, noGrad, releaseFinalizedWrappers } from '../engine/index.js';
import { normalizeEmbeddings } from '../evaluation/index.js';
import { ImageLoader, preprocess, outputShape, type ImageDataset, type ImageInput, type TransformOptions } from '../data/index.js';
import type { EmbeddingNet } from '../models/index.js';
import type { RunConfig } from '../training/config.js';
import { transformFor } from '../training/data-setup.js';

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

  /** Normalised embedding of one preprocessed CHW image. */
  embedPixels(chw: Float32Array): Float32Array {
    return tidy(() =>
      noGrad(() => {
        const raw = this.model.forward(tensor(chw, [1, ...this.shape]));
        return normalizeEmbeddings(raw, this.config.evaluation.normalization).toFloat32Array();
      }),
    );
  }

  /** Normalised embedding of one image (encoded bytes or raw pixels). Decode errors name `input.where`. */
  async embedImage(input: ImageInput): Promise<Float32Array> {
    const chw = await preprocess(input, 'test', this.transform);
    return this.embedPixels(chw);
  }

  /**
   * Normalised embeddings [N, D] of a dataset's items (default all), one image per forward pass; the next
   * image decodes while the current one runs. `onProgress(done)` after each image.
   */
  async embedDataset(ds: ImageDataset, o: { indices?: readonly number[]; onProgress?: (done: number) => void } = {}): Promise<Float32Array> {
    const indices = o.indices ?? Array.from({ length: ds.size }, (_, i) => i);
    const loader = new ImageLoader(ds, { mode: 'test', transform: this.transform, onBadItem: 'fail' });
    const out = new Float32Array(indices.length * this.dim);
    let pending = indices.length ? loader.loadBatch([indices[0]!], 0) : null;
    for (let i = 0; i < indices.length; i++) {
      const batch = await pending!;
      pending = i + 1 < indices.length ? loader.loadBatch([indices[i + 1]!], i + 1) : null;
      out.set(this.embedPixels(batch.images), i * this.dim);
      if (i % 64 === 63) await releaseFinalizedWrappers();
      o.onProgress?.(i + 1);
    }
    return out;
  }
}
