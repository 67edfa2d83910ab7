// `batch_hard` (Hermans et al. 2017; PML's BatchHardMiner): for every anchor row, its hardest positive (the
// farthest same-class column: largest distance / smallest similarity) and its hardest negative (the closest
// other-class column). Anchors without a positive or a negative are dropped. Returns triplets (a, p, n).
// Default distance: Euclidean on L2-normalised embeddings (PML's).
import type { Tensor } from '../engine/index.js';
import type { MinedTuples } from '../losses/types.js';
import type { PairMatrix } from '../losses/pairs.js';
import { BaseMiner, type MinerOptions } from './base.js';

export type BatchHardMinerOptions = MinerOptions;

export class BatchHardMiner extends BaseMiner {
  readonly name = 'batch_hard';

  constructor(options: BatchHardMinerOptions = {}) {
    super('batch_hard', options, 'euclidean');
  }

  protected mineMatrix({ matrix, pos, neg }: PairMatrix): MinedTuples {
    // Hardness as a distance: larger = harder positive, smaller = harder negative.
    const d: Tensor = this.distance.isSimilarity ? matrix.neg() : matrix;
    const hardPos = d.where(pos, -Infinity).maxWithIndices(1);
    const hardNeg = d.where(neg, Infinity).minWithIndices(1);
    const keep = pos.sum(1).gt(0).logicalAnd(neg.sum(1).gt(0)).nonzero().flatten();
    return { kind: 'triplets', a: keep, p: hardPos.indices.indexSelect(0, keep), n: hardNeg.indices.indexSelect(0, keep) };
  }
}
