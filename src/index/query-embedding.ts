// The embedding of a query image as an index sees it. An image whose preprocessed pixels are already in the
// index takes that item's stored vector: the index embedded it inside a batch, and an embedding alone differs
// from it by the kernels' rounding (~1e-7), so an indexed image would otherwise come back at a tiny distance
// instead of exactly 0. Other images are embedded alone.
import type { ImageDataset, ImageInput } from '../data/index.js';
import { pixelDigest, type RunEmbedder } from './embedder.js';
import type { VectorIndex } from './vector-index.js';

/** One image: its vector and its pixelDigest (for adding it to an index). */
export async function queryEmbedding(embedder: RunEmbedder, index: VectorIndex, input: ImageInput): Promise<{ vector: Float32Array; digest: string }> {
  const chw = await embedder.preprocessImage(input);
  const digest = pixelDigest(chw);
  return { vector: index.vectorByDigest(digest) ?? embedder.embedPixels(chw), digest };
}

/** A dataset's images (in batches), each replaced by the stored vector of an indexed image with the same pixels. */
export async function queryEmbeddings(embedder: RunEmbedder, index: VectorIndex, ds: ImageDataset): Promise<Float32Array> {
  const digests: string[] = [];
  const vectors = await embedder.embedDataset(ds, { digests });
  digests.forEach((d, i) => {
    const stored = index.vectorByDigest(d);
    if (stored) vectors.set(stored, i * embedder.dim);
  });
  return vectors;
}
