// `multi_similarity` miner (Wang et al. 2019, the MS paper's pair mining; PML's MultiSimilarityMiner). For an
// anchor a with similarities s (default cosine):
//   keep a negative n  if  s_an + epsilon > min_{p in P_a} s_ap     (closer than the farthest positive, minus eps)
//   keep a positive p  if  s_ap - epsilon < max_{n in N_a} s_an     (farther than the closest negative, plus eps)
// (for a distance the inequalities flip: d_an - eps < max d_ap, d_ap + eps > min d_an). Returns pairs
// (a1, p, a2, n) in row-major order (PML returns them sorted by similarity within a row; the set is the same).
import type { MinedTuples } from '../losses/types.js';
import type { PairMatrix } from '../losses/pairs.js';
import { checkPositive } from '../losses/checks.js';
import { BaseMiner, type MinerOptions } from './base.js';

export interface MultiSimilarityMinerOptions extends MinerOptions {
  /** Default 0.1 (PML and the paper). */
  epsilon?: number;
}

export class MultiSimilarityMiner extends BaseMiner {
  readonly name = 'multi_similarity';
  readonly epsilon: number;

  constructor(options: MultiSimilarityMinerOptions = {}) {
    super('multi_similarity', options, 'cosine');
    this.epsilon = checkPositive(this.name, 'epsilon', options.epsilon ?? 0.1, true);
  }

  protected mineMatrix({ matrix, pos, neg }: PairMatrix): MinedTuples {
    // As a similarity (a distance enters negated): the inequalities are then the similarity ones.
    const s = this.distance.isSimilarity ? matrix : matrix.neg();
    const minPos = s.where(pos, Infinity).min(1, true); // +inf without positives: no negative kept
    const maxNeg = s.where(neg, -Infinity).max(1, true); // -inf without negatives: no positive kept
    const keepNeg = neg.logicalAnd(s.add(this.epsilon).gt(minPos));
    const keepPos = pos.logicalAnd(s.sub(this.epsilon).lt(maxNeg));
    const p = keepPos.nonzero();
    const n = keepNeg.nonzero();
    return { kind: 'pairs', a1: p.select(1, 0), p: p.select(1, 1), a2: n.select(1, 0), n: n.select(1, 1) };
  }
}
