// `multi_similarity` (spec §3.4, Wang et al. 2019), "cos" similarity s, rows = sample anchors, no pair mining:
//
//   L_a = (1/alpha) log(1 + sum_{p in P_a} exp(-alpha (s_ap - lambda)))
//       + (1/beta)  log(1 + sum_{n in N_a} exp( beta (s_an - lambda)))
//   L   = mean over all anchor rows a of L_a
//
// The log(1 + sum exp) is computed as a logsumexp with an extra zero logit (same value, no overflow).
// Any `distance` (PML): the exponents are alpha margin(s, lambda) and beta margin(lambda, s), which flip for
// a distance. Default: the inner product after the loss's normalisation (the spec's "cos"); PML's default is
// 'cosine'. A miner's pairs (`mined`, e.g. the multi-similarity miner) replace the masks.
import type { Tensor } from '../engine/index.js';
import type { MetricLoss, MinedTuples, ReferenceSet } from './types.js';
import { checkNormalization, type EmbeddingNormalization } from './normalization.js';
import { pairMatrix } from './pairs.js';
import { resolveDistance, type DistanceSpec, type PairDistance } from './distances.js';
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
  /** Default 'dot' (after the loss's normalisation). */
  distance?: DistanceSpec;
}

export class MultiSimilarityLoss implements MetricLoss {
  readonly name = 'multi_similarity';
  readonly acceptsReference = true;
  readonly acceptsMined = true;
  readonly distance: PairDistance;
  readonly alpha: number;
  readonly beta: number;
  readonly lambda: number;
  readonly embeddingNormalization: EmbeddingNormalization;

  constructor(options: MultiSimilarityOptions = {}) {
    this.distance = resolveDistance(options.distance, 'dot', this.name);
    this.alpha = checkPositive(this.name, 'alpha', options.alpha ?? 2);
    this.beta = checkPositive(this.name, 'beta', options.beta ?? 50);
    this.lambda = checkFinite(this.name, 'lambda', options.lambda ?? 0.5);
    this.embeddingNormalization = checkNormalization(options.embeddingNormalization, 'lipschitz', this.name);
  }

  static preset(name: PresetName, overrides: MultiSimilarityOptions = {}): MultiSimilarityLoss {
    return new MultiSimilarityLoss({ ...getPreset(multiSimilarityPresets, 'multi_similarity', name), ...overrides });
  }

  forward(embeddings: Tensor, labels: Tensor, ref?: ReferenceSet, mined?: MinedTuples): Tensor {
    const dist = this.distance;
    const { matrix: s, pos, neg } = pairMatrix(this.name, embeddings, labels, ref, dist, this.embeddingNormalization, mined);
    const posTerm = maskedLog1pSumExp(dist.margin(s, this.lambda).mul(this.alpha), pos).div(this.alpha);
    const negTerm = maskedLog1pSumExp(dist.margin(this.lambda, s).mul(this.beta), neg).div(this.beta);
    return posTerm.add(negTerm).mean();
  }

  parameters(): Tensor[] {
    return [];
  }
}
