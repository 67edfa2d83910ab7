// `supcon` (Supervised Contrastive, Khosla et al. 2020; pytorch-metric-learning's SupConLoss). With logits
// l = s / T (a distance d enters as -d, as in PML), for every anchor a:
//
//   L_a = -(1/|P_a|) sum_{p in P_a} ( l_ap - log sum_{j in P_a u N_a} exp(l_aj) )
//   L   = mean over the anchors with L_a > 0 (PML's AvgNonZeroReducer; anchors without positives give 0)
//
// Defaults as PML: T = 0.1, cosine similarity. A miner's pairs (`mined`) replace the masks.
import type { Tensor } from '../engine/index.js';
import type { MinedTuples, ReferenceSet } from './types.js';
import { safeMaskedLogSumExp } from './logsumexp.js';
import { meanOfActive } from './reducers.js';
import { TemperaturePairLoss, type TemperaturePairOptions } from './temperature_pair_loss.js';

/** PML's small_val (torch.finfo(dtype).tiny) in the |P_a| denominator. */
const TINY = { float64: 2.2250738585072014e-308, float32: 1.1754943508222875e-38 } as Record<string, number>;

export type SupConOptions = TemperaturePairOptions;

export class SupConLoss extends TemperaturePairLoss {
  readonly name = 'supcon';

  constructor(options: SupConOptions = {}) {
    super('supcon', options, 0.1);
  }

  forward(embeddings: Tensor, labels: Tensor, ref?: ReferenceSet, mined?: MinedTuples): Tensor {
    const { logits: l, pos, neg } = this.logits(embeddings, labels, ref, mined);
    if (!pos.any().item() || !neg.any().item()) return l.sum().mul(0);
    const denom = safeMaskedLogSumExp(l, pos.logicalOr(neg)); // [rows]
    const logProb = l.sub(denom.unsqueeze(1));
    const perAnchor = logProb
      .where(pos, 0)
      .sum(1)
      .neg()
      .div(pos.sum(1, false, l.dtype).add(TINY[l.dtype] ?? 0));
    return meanOfActive(perAnchor);
  }
}
