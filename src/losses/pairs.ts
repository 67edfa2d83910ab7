// The generic pair engine (spec §3.0, code `GenericPairBasedLoss` with proxy_anchor = false): rows are the
// batch samples (anchors), columns are either the batch itself (self pairs excluded from the positives) or
// the items of a reference set (proxies, XBM memory), both normalised the same way. The matrix comes from a
// PairDistance (Euclidean, dot / cosine similarity); a miner's pairs or triplets can replace the masks.
import { type Tensor, zeros } from '../engine/index.js';
import type { MinedTuples, ReferenceSet } from './types.js';
import { normalizeEmbeddings, type EmbeddingNormalization } from './normalization.js';
import { DotProductSimilarity, EuclideanDistance, type PairDistance } from './distances.js';
import { pairMasks } from './masks.js';
import { checkBatch, checkReference } from './checks.js';

/** Legacy names: 'euclidean' = Euclidean distance, 'cosine' = inner product after the loss's normalisation. */
export type PairMetric = 'euclidean' | 'cosine';

export interface PairMatrix {
  /** [rows, cols]: distances or similarities (see `distance.isSimilarity`). */
  matrix: Tensor;
  /** bool [rows, cols] */
  pos: Tensor;
  /** bool [rows, cols] */
  neg: Tensor;
  /** true when the batch was compared with itself. */
  self: boolean;
}

function toDistance(metric: PairMetric | PairDistance): PairDistance {
  if (typeof metric !== 'string') return metric;
  return metric === 'euclidean' ? new EuclideanDistance() : new DotProductSimilarity();
}

/**
 * Normalises (the distance's own normalisation if it has one, else `normalization`), builds the
 * [batch x (batch | ref)] matrix and its label masks. With `mined`, the masks hold only the mined pairs.
 */
export function pairMatrix(
  loss: string,
  embeddings: Tensor,
  labels: Tensor,
  ref: ReferenceSet | undefined,
  metric: PairMetric | PairDistance,
  normalization: EmbeddingNormalization,
  mined?: MinedTuples,
): PairMatrix {
  const distance = toDistance(metric);
  const norm = distance.normalization ?? normalization;
  const rowLabels = checkBatch(loss, embeddings, labels);
  const x = normalizeEmbeddings(embeddings, norm);
  let out: PairMatrix;
  if (ref === undefined) {
    out = { matrix: distance.matrix(x), ...pairMasks(rowLabels), self: true };
  } else {
    const refLabels = checkReference(loss, embeddings, ref);
    const r = normalizeEmbeddings(ref.embeddings, norm);
    out = { matrix: distance.matrix(x, r), ...pairMasks(rowLabels, refLabels), self: false };
  }
  if (mined) {
    const [rows, cols] = out.matrix.shape as [number, number];
    const { a1, p, a2, n } = minedPairs(mined);
    out.pos = indexMask(a1, p, rows, cols);
    out.neg = indexMask(a2, n, rows, cols);
  }
  return out;
}

/** A miner's output as pairs (a1, p) and (a2, n); triplets give (a, p) and (a, n), duplicates kept (PML). */
export function minedPairs(mined: MinedTuples): { a1: Tensor; p: Tensor; a2: Tensor; n: Tensor } {
  if (mined.kind === 'pairs') return mined;
  return { a1: mined.a, p: mined.p, a2: mined.a, n: mined.n };
}

/** A miner's output as triplets; pairs give every (a, p, n) with a positive and a negative pair on the same anchor. */
export function minedTriplets(mined: MinedTuples): { a: Tensor; p: Tensor; n: Tensor } {
  if (mined.kind === 'triplets') return mined;
  const match = mined.a1.unsqueeze(1).eq(mined.a2.unsqueeze(0)).nonzero(); // [T, 2]: (pos pair, neg pair)
  const pi = match.select(1, 0);
  const ni = match.select(1, 1);
  return { a: mined.a1.indexSelect(0, pi), p: mined.p.indexSelect(0, pi), n: mined.n.indexSelect(0, ni) };
}

/** bool [rows, cols] with true at (i[t], j[t]). */
export function indexMask(i: Tensor, j: Tensor, rows: number, cols: number): Tensor {
  const m = zeros([rows * cols], { dtype: 'bool', device: i.device });
  if (i.numel === 0) return m.reshape([rows, cols]);
  return m.scatter(0, flatIndex(i, j, cols), 1).reshape([rows, cols]);
}

/** Entries m[i[t], j[t]] as a vector (autograd flows into m). */
export function gatherPairs(m: Tensor, i: Tensor, j: Tensor): Tensor {
  const cols = m.size(1);
  return m.flatten().indexSelect(0, flatIndex(i, j, cols));
}

function flatIndex(i: Tensor, j: Tensor, cols: number): Tensor {
  return i.to('int64').mul(cols).add(j.to('int64'));
}
