// `circle` (Circle loss, Sun et al. 2020; pytorch-metric-learning's CircleLoss), on a similarity s. Per anchor:
//
//   lp_ap = -gamma [1 + m - s_ap]_+ (s_ap - (1 - m))      (the weight [.]_+ is a constant for autograd)
//   ln_an =  gamma [s_an + m]_+     (s_an - m)
//   L_a   = softplus( logsumexp_{p in P_a} lp_ap + logsumexp_{n in N_a} ln_an ),  0 without a positive or negative
//   L     = mean over the anchors with L_a > 0 (PML's AvgNonZeroReducer)
//
// Defaults as PML: m = 0.4, gamma = 80 (the paper's fine-grained retrieval setting), cosine similarity.
// A miner's pairs (`mined`) replace the masks.
import type { Tensor } from '../engine/index.js';
import type { MetricLoss, MinedTuples, ReferenceSet } from './types.js';
import { checkNormalization, type EmbeddingNormalization } from './normalization.js';
import { asSimilarity, resolveDistance, type DistanceSpec, type PairDistance } from './distances.js';
import { pairMatrix } from './pairs.js';
import { safeMaskedLogSumExp } from './logsumexp.js';
import { meanOfActive } from './reducers.js';
import { checkFinite, checkPositive } from './checks.js';

export interface CircleOptions {
  /** Relaxation m (default 0.4). */
  m?: number;
  /** Scale gamma (default 80). */
  gamma?: number;
  /** Default 'cosine' (the loss assumes similarities in [-1, 1]). */
  distance?: DistanceSpec;
  /** Used when the distance does not force one (default 'l2'). */
  embeddingNormalization?: EmbeddingNormalization;
}

export class CircleLoss implements MetricLoss {
  readonly name = 'circle';
  readonly acceptsReference = true;
  readonly acceptsMined = true;
  readonly m: number;
  readonly gamma: number;
  readonly distance: PairDistance;
  readonly embeddingNormalization: EmbeddingNormalization;

  constructor(options: CircleOptions = {}) {
    this.m = checkFinite(this.name, 'm', options.m ?? 0.4);
    this.gamma = checkPositive(this.name, 'gamma', options.gamma ?? 80);
    this.distance = resolveDistance(options.distance, 'cosine', this.name);
    this.embeddingNormalization = checkNormalization(options.embeddingNormalization, 'l2', this.name);
  }

  forward(embeddings: Tensor, labels: Tensor, ref?: ReferenceSet, mined?: MinedTuples): Tensor {
    const { matrix, pos, neg } = pairMatrix(this.name, embeddings, labels, ref, this.distance, this.embeddingNormalization, mined);
    const s = asSimilarity(this.distance, matrix);
    const sd = s.detach();
    const lp = sd
      .rsub(1 + this.m)
      .relu()
      .mul(s.sub(1 - this.m))
      .mul(-this.gamma);
    const ln = sd.add(this.m).relu().mul(s.sub(this.m)).mul(this.gamma);
    const both = pos.sum(1).gt(0).logicalAnd(neg.sum(1).gt(0));
    const z = safeMaskedLogSumExp(lp, pos).add(safeMaskedLogSumExp(ln, neg)).where(both, 0);
    const perAnchor = z.softplus().where(both, 0);
    return meanOfActive(perAnchor);
  }

  parameters(): Tensor[] {
    return [];
  }
}
