// Embedding a split over the ranks of a distributed run: rank r embeds a contiguous run of whole batches, the
// same batches a single process would form (so every row is computed exactly as a single process computes
// it), and the rows are all-gathered back into the original order. Metrics computed from the result are
// therefore the single-process metrics.
import { tensor, int64, tidy } from '../engine/index.js';
import type { Module } from '../engine/nn/index.js';
import type { ImageLoader } from '../data/index.js';
import type { ProcessGroup } from '../distributed/index.js';
import { embedItems, type Embeddings } from './embed.js';

/** embedItems' signature: the trainer's embedding of whole splits, single-process or sharded. */
export type EmbedFn = (model: Module, images: ImageLoader, options?: EmbedOptions) => Promise<Embeddings>;

export interface EmbedOptions {
  indices?: readonly number[];
  batchSize?: number;
  batchIndexOffset?: number;
  onProgress?: (done: number, total: number) => void;
}

/** The batches [first, end) rank `rank` of `worldSize` embeds, out of `batches`: contiguous, sizes differ by at most one. */
export function shardBatches(batches: number, rank: number, worldSize: number): { first: number; end: number } {
  return { first: Math.floor((rank * batches) / worldSize), end: Math.floor(((rank + 1) * batches) / worldSize) };
}

/** embedItems over the ranks of `group` (every rank gets every row); without a group, embedItems itself. */
export async function embedItemsSharded(group: ProcessGroup | null, model: Module, images: ImageLoader, options: EmbedOptions = {}): Promise<Embeddings> {
  if (!group || group.worldSize === 1) return embedItems(model, images, options);
  const indices = options.indices ?? Array.from({ length: images.dataset.size }, (_, i) => i);
  const batchSize = options.batchSize ?? 256;
  const { first, end } = shardBatches(Math.ceil(indices.length / batchSize), group.rank, group.worldSize);
  const mine = await embedItems(model, images, {
    indices: indices.slice(first * batchSize, end * batchSize),
    batchSize,
    batchIndexOffset: (options.batchIndexOffset ?? 0) + first,
    onProgress: options.onProgress ? (done) => options.onProgress!(Math.min(indices.length, first * batchSize + done), indices.length) : undefined,
  });
  return gatherEmbeddings(group, mine);
}

/** Every rank's rows, labels and skipped items, concatenated in rank order. */
export function gatherEmbeddings(group: ProcessGroup, mine: Embeddings): Embeddings {
  return tidy(() => {
    // Flat 1-D tensors: a rank with no rows has no dimension to agree on.
    const data = group.allGatherCat(tensor(mine.data, [mine.data.length], { dtype: 'float32' })).toFloat32Array();
    const labels = Int32Array.from(group.allGatherCat(int64(mine.labels)).toArray());
    const skipped = group.allGatherCat(int64(mine.skipped ?? [])).toArray();
    const dim = labels.length ? data.length / labels.length : 0;
    return { data, dim, labels, ...(skipped.length ? { skipped } : {}) };
  });
}
