// `supcon` (Supervised Contrastive, Khosla et al. 2020; pytorch-metric-learning's SupConLoss). With logits
// l = s / T (a distance d enters as -d, as in PML), for every anchor a:
//
//   L_a = -(1/|P_a|) sum_{p in P_a} ( l_ap - log sum_{j in P_a u N_a} exp(l_aj) )
//   L   = mean over the anchors with L_a > 0 (PML's AvgNonZeroReducer; anchors without positives give 0)
//
// Defaults as PML: T = 0.1, cosine similarity. A miner's pairs (`mined`) replace the masks.
import type { Tensor } from '../engine/index.js';
import type { MetricLoss, MinedTuples, ReferenceSet } from './types.js';
import { checkNormalization, type EmbeddingNormalization } from './normalization.js';
import { asSimilarity, resolveDistance, type PairDistance } from './distances.js';
import type { TemperaturePairOptions } from './ntxent.js';
import { pairMatrix } from './pairs.js';
import { safeMaskedLogSumExp } from './logsumexp.js';
import { meanOfActive } from './reducers.js';
import { checkPositive } from './checks.js';

/** PML's small_val (torch.finfo(dtype).tiny) in the |P_a| denominator. */
const TINY = { float64: 2.2250738585072014e-308, float32: 1.1754943508222875e-38 } as Record<string, number>;

export type SupConOptions = TemperaturePairOptions;

export class SupConLoss implements MetricLoss {
  readonly name = 'supcon';
  readonly acceptsReference = true;
  readonly acceptsMined = true;
  readonly temperature: number;
  readonly distance: PairDistance;
  readonly embeddingNormalization: EmbeddingNormalization;

  constructor(options: SupConOptions = {}) {
    this.temperature = checkPositive(this.name, 'temperature', options.temperature ?? 0.1);
    this.distance = resolveDistance(options.distance, 'cosine', this.name);
    this.embeddingNormalization = checkNormalization(options.embeddingNormalization, 'l2', this.name);
  }

  forward(embeddings: Tensor, labels: Tensor, ref?: ReferenceSet, mined?: MinedTuples): Tensor {
    const { matrix, pos, neg } = pairMatrix(this.name, embeddings, labels, ref, this.distance, this.embeddingNormalization, mined);
    const l = asSimilarity(this.distance, matrix).div(this.temperature);
    if (!pos.any().item() || !neg.any().item()) return l.sum().mul(0);
    const denom = safeMaskedLogSumExp(l, pos.logicalOr(neg)); // [rows]
    const logProb = l.sub(denom.unsqueeze(1));
    const perAnchor = logProb.where(pos, 0).sum(1).neg().div(pos.sum(1, false, l.dtype).add(TINY[l.dtype] ?? 0));
    return meanOfActive(perAnchor);
  }

  parameters(): Tensor[] {
    return [];
  }
}
