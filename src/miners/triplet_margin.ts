// `semihard` / `triplet_margin` (PML's TripletMarginMiner; semi-hard negatives after Schroff et al. 2015):
// every (a, p, n) triplet whose margin  t = d_an - d_ap  (s_ap - s_an for a similarity) satisfies
//   'semihard': 0 < t <= margin     (the negative is farther than the positive, but within the margin)
//   'hard':     t <= 0              (and t <= margin)
//   'all':      t <= margin         (every triplet that violates the margin)
//   'easy':     t > margin
// Returns triplets in (a, p, n) lexicographic order, as PML. Builds the [rows, cols, cols] triplet tensor.
// Default distance: Euclidean on L2-normalised embeddings (PML's), margin 0.2, type 'semihard'.
import type { Tensor } from '../engine/index.js';
import type { MinedTuples } from '../losses/types.js';
import type { PairMatrix } from '../losses/pairs.js';
import { checkFinite } from '../losses/checks.js';
import { BaseMiner, type MinerOptions } from './base.js';

export type TripletType = 'semihard' | 'hard' | 'all' | 'easy';
export const TRIPLET_TYPES: readonly TripletType[] = ['semihard', 'hard', 'all', 'easy'];

export interface TripletMarginMinerOptions extends MinerOptions {
  /** Default 0.2 (PML). */
  margin?: number;
  /** Default 'semihard'. */
  typeOfTriplets?: TripletType;
}

export class TripletMarginMiner extends BaseMiner {
  readonly name: string;
  readonly margin: number;
  readonly typeOfTriplets: TripletType;

  constructor(options: TripletMarginMinerOptions = {}) {
    const type = options.typeOfTriplets ?? 'semihard';
    if (!TRIPLET_TYPES.includes(type))
      throw new Error(`triplet_margin miner: typeOfTriplets must be one of ${TRIPLET_TYPES.join(', ')}, got '${String(type)}'`);
    const name = type === 'semihard' ? 'semihard' : `triplet_margin(${type})`;
    super(name, options, 'euclidean');
    this.name = name;
    this.typeOfTriplets = type;
    this.margin = checkFinite(name, 'margin', options.margin ?? 0.2);
  }

  protected mineMatrix({ matrix, pos, neg }: PairMatrix): MinedTuples {
    const ap = matrix.unsqueeze(2); // [rows, P, 1]
    const an = matrix.unsqueeze(1); // [rows, 1, N]
    const t = this.distance.isSimilarity ? ap.sub(an) : an.sub(ap); // [rows, P, N]
    const valid = pos.unsqueeze(2).logicalAnd(neg.unsqueeze(1));
    let cond: Tensor;
    switch (this.typeOfTriplets) {
      case 'easy':
        cond = t.gt(this.margin);
        break;
      case 'all':
        cond = t.le(this.margin);
        break;
      case 'hard':
        cond = t.le(Math.min(this.margin, 0));
        break;
      case 'semihard':
        cond = t.le(this.margin).logicalAnd(t.gt(0));
        break;
    }
    const idx = cond.logicalAnd(valid).nonzero(); // [T, 3], lexicographic
    return { kind: 'triplets', a: idx.select(1, 0), p: idx.select(1, 1), n: idx.select(1, 2) };
  }
}
