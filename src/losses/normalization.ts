// The losses' embedding normalisation lives in the engine (one home for losses and evaluation); re-exported here
// so that losses import it beside their other building blocks.
export {
  type EmbeddingNormalization,
  type LipschitzNormalizeOptions,
  EMBEDDING_NORMALIZATIONS,
  lipschitzNormalize,
  l2Normalize,
  normalizeEmbeddings,
  checkNormalization,
} from '../engine/normalization.js';
