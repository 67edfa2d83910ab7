// `ntxent` (NT-Xent / InfoNCE, Chen et al. 2020 "SimCLR"; pytorch-metric-learning's NTXentLoss): for every
// positive pair (a, p), with logits l = s / T (s the similarity; a distance d enters as -d, as in PML):
//
//   L_ap = -log( exp(l_ap) / (exp(l_ap) + sum_{n in N_a} exp(l_an)) ),   L = mean over positive pairs
//
// Defaults as PML: T = 0.07, cosine similarity. With a miner's pairs (`mined`) the positive pairs and each
// anchor's negatives are the mined ones (a negative mined twice counts twice, as in PML).
import { type Tensor, ones, stack, zeros } from '../engine/index.js';
import type { MetricLoss, MinedTuples, ReferenceSet } from './types.js';
import { checkNormalization, type EmbeddingNormalization } from './normalization.js';
import { asSimilarity, resolveDistance, type DistanceSpec, type PairDistance } from './distances.js';
import { gatherPairs, minedPairs, pairMatrix } from './pairs.js';
import { safeMaskedLogSumExp } from './logsumexp.js';
import { checkPositive } from './checks.js';

/** Options of the temperature-scaled contrastive losses (NTXent, SupCon). */
export interface TemperaturePairOptions {
  /** Temperature T (NTXent default 0.07, SupCon 0.1). */
  temperature?: number;
  /** Default 'cosine'. */
  distance?: DistanceSpec;
  /** Used when the distance does not force one (default 'l2'). */
  embeddingNormalization?: EmbeddingNormalization;
}

export type NTXentOptions = TemperaturePairOptions;

export class NTXentLoss implements MetricLoss {
  readonly name = 'ntxent';
  readonly acceptsReference = true;
  readonly acceptsMined = true;
  readonly temperature: number;
  readonly distance: PairDistance;
  readonly embeddingNormalization: EmbeddingNormalization;

  constructor(options: NTXentOptions = {}) {
    this.temperature = checkPositive(this.name, 'temperature', options.temperature ?? 0.07);
    this.distance = resolveDistance(options.distance, 'cosine', this.name);
    this.embeddingNormalization = checkNormalization(options.embeddingNormalization, 'l2', this.name);
  }

  forward(embeddings: Tensor, labels: Tensor, ref?: ReferenceSet, mined?: MinedTuples): Tensor {
    const { matrix, pos, neg } = pairMatrix(this.name, embeddings, labels, ref, this.distance, this.embeddingNormalization);
    const l = asSimilarity(this.distance, matrix).div(this.temperature);
    const [rows, cols] = l.shape as [number, number];
    let a1: Tensor;
    let p: Tensor;
    let negCount: Tensor;
    if (mined) {
      const m = minedPairs(mined);
      a1 = m.a1;
      p = m.p;
      const flat = m.a2.to('int64').mul(cols).add(m.n.to('int64'));
      negCount = zeros([rows * cols], { dtype: l.dtype, device: l.device })
        .scatterAdd(0, flat, ones([flat.size(0)], { dtype: l.dtype, device: l.device }))
        .reshape([rows, cols]);
    } else {
      const nz = pos.nonzero();
      a1 = nz.select(1, 0);
      p = nz.select(1, 1);
      negCount = neg.to(l.dtype);
    }
    const hasNeg = negCount.gt(0);
    if (a1.numel === 0 || !hasNeg.any().item()) return l.sum().mul(0);
    // log sum_n count_an exp(l_an): duplicates enter as + log(count)
    const negLse = safeMaskedLogSumExp(l.add(negCount.clampMin(1).log()), hasNeg); // [rows]
    const lap = gatherPairs(l, a1, p);
    const perPair = stack([lap, negLse.indexSelect(0, a1)], 1).logsumexp(1).sub(lap);
    return perPair.mean();
  }

  parameters(): Tensor[] {
    return [];
  }
}
