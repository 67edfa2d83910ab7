// Embedding normalisation before evaluation (spec 1.5): N(v) = v if ||v|| <= 1 else v / ||v|| ('lipschitz',
// the default and the paper's protocol), plain L2 normalisation ('l2'), or none. The maths has one home,
// engine/normalization.ts (shared with the losses); this entry point adds evaluation's default mode and always
// returns a new tensor, so callers may dispose input and output independently.
import { EMBEDDING_NORMALIZATIONS, normalizeEmbeddings as normalizeRows, type EmbeddingNormalization, type Tensor } from '../engine/index.js';

export type NormalizationMode = EmbeddingNormalization;

/** Row-wise normalisation of a 2-D tensor (returns a new tensor). */
export function normalizeEmbeddings(x: Tensor, mode: NormalizationMode = 'lipschitz'): Tensor {
  if (!(EMBEDDING_NORMALIZATIONS as readonly string[]).includes(mode))
    throw new Error(`normalize: expected one of ${EMBEDDING_NORMALIZATIONS.map((m) => `'${m}'`).join(', ')}, got '${String(mode)}'`);
  return mode === 'none' ? x.clone() : normalizeRows(x, mode);
}
