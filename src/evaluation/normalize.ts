// Embedding normalisation before evaluation (spec 1.5): N(v) = v if ||v|| <= 1 else v / ||v|| ('lipschitz',
// the default and the paper's protocol), plain L2 normalisation ('l2'), or none.
import type { Tensor } from '../engine/index.js';

export type NormalizationMode = 'lipschitz' | 'l2' | 'none';

/** Row-wise normalisation of a 2-D tensor (returns a new tensor; no autograd is needed at evaluation). */
export function normalizeEmbeddings(x: Tensor, mode: NormalizationMode = 'lipschitz'): Tensor {
  switch (mode) {
    case 'lipschitz':
      // Rows with norm <= 1 are divided by exactly 1, so they stay bit-identical.
      return x.div(x.norm(2, 1, true).clampMin(1));
    case 'l2':
      return x.div(x.norm(2, 1, true).clampMin(1e-12));
    case 'none':
      return x.clone();
    default:
      throw new Error(`normalize: expected 'lipschitz', 'l2' or 'none', got '${String(mode)}'`);
  }
}
