// `ntxent` (NT-Xent / InfoNCE, Chen et al. 2020 "SimCLR"; pytorch-metric-learning's NTXentLoss): for every
// positive pair (a, p), with logits l = s / T (s the similarity; a distance d enters as -d, as in PML):
//
//   L_ap = -log( exp(l_ap) / (exp(l_ap) + sum_{n in N_a} exp(l_an)) ),   L = mean over positive pairs
//
// Defaults as PML: T = 0.07, cosine similarity. With a miner's pairs (`mined`) the positive pairs and each
// anchor's negatives are the mined ones (a negative mined twice counts twice, as in PML).
import { type Tensor, ones, stack, zeros } from '../engine/index.js';
import type { MinedTuples, ReferenceSet } from './types.js';
import { gatherPairs, minedPairs } from './pairs.js';
import { safeMaskedLogSumExp } from './logsumexp.js';
import { TemperaturePairLoss, type TemperaturePairOptions } from './temperature_pair_loss.js';

export type NTXentOptions = TemperaturePairOptions;

export class NTXentLoss extends TemperaturePairLoss {
  readonly name = 'ntxent';

  constructor(options: NTXentOptions = {}) {
    super('ntxent', options, 0.07);
  }

  forward(embeddings: Tensor, labels: Tensor, ref?: ReferenceSet, mined?: MinedTuples): Tensor {
    // masks from labels: the mined pairs are used as lists below (duplicates count)
    const { logits: l, pos, neg } = this.logits(embeddings, labels, ref, undefined);
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
    const perPair = stack([lap, negLse.indexSelect(0, a1)], 1)
      .logsumexp(1)
      .sub(lap);
    return perPair.mean();
  }
}
