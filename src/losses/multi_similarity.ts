// `multi_similarity` (spec §3.4, Wang et al. 2019), "cos" similarity s, rows = sample anchors, no pair mining:
//
//   L_a = (1/alpha) log(1 + sum_{p in P_a} exp(-alpha (s_ap - lambda)))
//       + (1/beta)  log(1 + sum_{n in N_a} exp( beta (s_an - lambda)))
//   L   = mean over all anchor rows a of L_a
//
// The log(1 + sum exp) is computed as a logsumexp with an extra zero logit (same value, no overflow).
import type { Tensor } from '../engine/index.js';
import type { MetricLoss, ReferenceSet } from './types.js';
import { checkNormalization, type EmbeddingNormalization } from './normalization.js';
import { pairMatrix } from './pairs.js';
import { maskedLog1pSumExp } from './logsumexp.js';
import { checkFinite, checkPositive } from './checks.js';
import { getPreset, multiSimilarityPresets, type PresetName } from './presets.js';

export interface MultiSimilarityOptions {
  /** Positive scale (code default 2). */
  alpha?: number;
  /** Negative scale (code default 50). */
  beta?: number;
  /** Similarity threshold lambda (code default 0.5). */
  lambda?: number;
  embeddingNormalization?: EmbeddingNormalization;
}

export class MultiSimilarityLoss implements MetricLoss {
  readonly name = 'multi_similarity';
  readonly acceptsReference = true;
  readonly alpha: number;
  readonly beta: number;
  readonly lambda: number;
  readonly embeddingNormalization: EmbeddingNormalization;

  constructor(options: MultiSimilarityOptions = {}) {
    this.alpha = checkPositive(this.name, 'alpha', options.alpha ?? 2);
    this.beta = checkPositive(this.name, 'beta', options.beta ?? 50);
    this.lambda = checkFinite(this.name, 'lambda', options.lambda ?? 0.5);
    this.embeddingNormalization = checkNormalization(options.embeddingNormalization, 'lipschitz', this.name);
  }

  static preset(name: PresetName, overrides: MultiSimilarityOptions = {}): MultiSimilarityLoss {
    return new MultiSimilarityLoss({ ...getPreset(multiSimilarityPresets, 'multi_similarity', name), ...overrides });
  }

  forward(embeddings: Tensor, labels: Tensor, ref?: ReferenceSet): Tensor {
    const { matrix: s, pos, neg } = pairMatrix(this.name, embeddings, labels, ref, 'cosine', this.embeddingNormalization);
    const shifted = s.sub(this.lambda);
    const posTerm = maskedLog1pSumExp(shifted.mul(-this.alpha), pos).div(this.alpha);
    const negTerm = maskedLog1pSumExp(shifted.mul(this.beta), neg).div(this.beta);
    return posTerm.add(negTerm).mean();
  }

  parameters(): Tensor[] {
    return [];
  }
}
