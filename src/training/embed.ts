// Embedding whole datasets (validation, test, candidate pools) with a model in inference mode. Images of the
// next batch load while the current one runs through the network.
import { tensor, tidy, inferenceMode, releaseFinalizedWrappers, type Tensor } from '../engine/index.js';
import { evaluateRetrieval, DEFAULT_METRICS, type RetrievalResult, type RetrievalMetricName } from '../evaluation/index.js';
import type { Module } from '../engine/nn/index.js';
import type { ImageLoader } from '../data/index.js';
import type { RunConfig } from './config.js';

export interface Embeddings {
  /** Row-major [N, D]. */
  data: Float32Array;
  dim: number;
  labels: Int32Array;
  /** Dataset indices dropped under onBadItem 'skip' (their rows are absent). */
  skipped?: number[];
}

/**
 * Raw model outputs for the dataset items at `indices` (default: all, in order), batched. The model is put in
 * eval mode for the call and returned to its previous mode afterwards.
 */
export async function embedItems(
  model: Module,
  images: ImageLoader,
  options: { indices?: readonly number[]; batchSize?: number; batchIndexOffset?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<Embeddings> {
  const n = options.indices ? options.indices.length : images.dataset.size;
  const indices = options.indices ?? Array.from({ length: n }, (_, i) => i);
  const batchSize = options.batchSize ?? 256;
  // Batch numbers key the loader's augmentation randomness; repeated calls pass distinct offsets.
  const offset0 = options.batchIndexOffset ?? 0;
  const wasTraining = model.training;
  const device = model.device; // batches go where the weights are; the embeddings come back to the CPU
  model.eval();
  let labels = new Int32Array(n);
  let data: Float32Array | null = null;
  let dim = 0;
  let rowsDone = 0;
  const skipped: number[] = [];
  try {
    const batches: number[][] = [];
    for (let s = 0; s < n; s += batchSize) batches.push(indices.slice(s, s + batchSize));
    let pending = batches.length ? images.loadBatch(batches[0]!, offset0) : null;
    for (let b = 0; b < batches.length; b++) {
      const batch = await pending!;
      await releaseFinalizedWrappers();
      pending = b + 1 < batches.length ? images.loadBatch(batches[b + 1]!, offset0 + b + 1) : null;
      // Under onBadItem 'skip' the loader drops what it cannot decode; the rows close up.
      skipped.push(...batch.skipped);
      const rows = batch.labels.length;
      if (rows === 0) continue;
      const out = tidy(() => inferenceMode(() => model.forward(tensor(batch.images, [...batch.shape], { device })).toFloat32Array()));
      if (!data) {
        dim = out.length / rows;
        data = new Float32Array(n * dim);
      }
      data.set(out, rowsDone * dim);
      labels.set(batch.labels, rowsDone);
      rowsDone += rows;
      options.onProgress?.(Math.min(n, rowsDone + skipped.length), n);
    }
    if (rowsDone === 0 && n > 0) throw new Error(`embedding ${images.dataset.name}: none of its ${n} images could be loaded`);
    if (data && rowsDone < n) {
      data = data.slice(0, rowsDone * dim);
      labels = labels.slice(0, rowsDone);
    }
  } finally {
    model.train(wasTraining);
  }
  return { data: data ?? new Float32Array(0), dim, labels, ...(skipped.length ? { skipped } : {}) };
}

/** [N, D] float32 tensor of embeddings (for the engine-side consumers). */
export function embeddingsTensor(e: Embeddings): Tensor {
  return tensor(e.data, [e.labels.length, e.dim]);
}

/** The evaluation layer's view of embeddings. */
export function asEmbeddingInput(e: Embeddings): { data: Float32Array; shape: [number, number] } {
  return { data: e.data, shape: [e.labels.length, e.dim] };
}

/**
 * Retrieval metrics of embedded queries, against themselves (self-retrieval) or a gallery: P@1, Recall@K,
 * R-Precision, MAP@R, and NMI when asked.
 */
export function evaluateEmbeddings(
  query: Embeddings,
  gallery: Embeddings | undefined,
  o: Pick<RunConfig['evaluation'], 'recallAt' | 'normalization' | 'nmi'> &
    Partial<Pick<RunConfig['evaluation'], 'extraMetrics' | 'atK' | 'avgOfAvgs'>> & { seed: number },
): RetrievalResult {
  const metrics: RetrievalMetricName[] = [
    ...new Set<RetrievalMetricName>([...DEFAULT_METRICS, ...(o.nmi ? (['nmi'] as const) : []), ...(o.extraMetrics ?? [])]),
  ];
  return evaluateRetrieval({
    queries: asEmbeddingInput(query),
    queryLabels: query.labels,
    ...(gallery ? { references: asEmbeddingInput(gallery), referenceLabels: gallery.labels } : {}),
    metrics,
    recallAtK: o.recallAt,
    normalize: o.normalization,
    kmeans: { seed: o.seed },
    ...(o.atK !== undefined ? { atK: o.atK } : {}),
    ...(o.avgOfAvgs ? { avgOfAvgs: true } : {}),
  });
}
