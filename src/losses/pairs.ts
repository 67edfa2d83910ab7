// The generic pair engine (spec §3.0, code `GenericPairBasedLoss` with proxy_anchor = false): rows are the
// batch samples (anchors), columns are either the batch itself (self pairs excluded from the positives) or
// the items of a reference set (proxies, XBM memory), both normalised the same way.
import type { Tensor } from '../engine/index.js';
import type { ReferenceSet } from './types.js';
import { normalizeEmbeddings, type EmbeddingNormalization } from './normalization.js';
import { euclideanDistance, similarityMatrix } from './distances.js';
import { pairMasks } from './masks.js';
import { checkBatch, checkReference } from './checks.js';

export type PairMetric = 'euclidean' | 'cosine';

export interface PairMatrix {
  /** [rows, cols]: Euclidean distances or cos similarities. */
  matrix: Tensor;
  /** bool [rows, cols] */
  pos: Tensor;
  /** bool [rows, cols] */
  neg: Tensor;
  /** true when the batch was compared with itself. */
  self: boolean;
}

/** Normalises, builds the [batch x (batch | ref)] matrix and its label masks. */
export function pairMatrix(
  loss: string,
  embeddings: Tensor,
  labels: Tensor,
  ref: ReferenceSet | undefined,
  metric: PairMetric,
  normalization: EmbeddingNormalization,
): PairMatrix {
  const rowLabels = checkBatch(loss, embeddings, labels);
  const x = normalizeEmbeddings(embeddings, normalization);
  if (ref === undefined) {
    const matrix = metric === 'euclidean' ? euclideanDistance(x) : similarityMatrix(x);
    return { matrix, ...pairMasks(rowLabels), self: true };
  }
  const refLabels = checkReference(loss, embeddings, ref);
  const r = normalizeEmbeddings(ref.embeddings, normalization);
  const matrix = metric === 'euclidean' ? euclideanDistance(x, r) : similarityMatrix(x, r);
  return { matrix, ...pairMasks(rowLabels, refLabels), self: false };
}
