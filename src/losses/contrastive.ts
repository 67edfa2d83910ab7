// C2 `contrastive` (spec §3.1): contrastive loss with a positive margin (Wu et al. 2017), Euclidean distance.
//
//   L = mean over positive pairs with d > m+ of (d - m+)  +  mean over negative pairs with d < m- of (m- - d)
//
// With a similarity as `distance` the margins flip (PML): relu(m+ - s) and relu(s - m-); the defaults are
// then m+ = 1, m- = 0 (PML's suggestion for cosine). With a miner's pairs (`mined`) the means run over
// those pairs (duplicates count, as in PML).
// Each mean is over the active (non-zero) terms with a 1e-16 denominator epsilon, so an empty set gives 0.
// The two means run over the whole [rows x cols] matrix (not per anchor), as in the code.
import type { Tensor } from '../engine/index.js';
import type { MetricLoss, MinedTuples, ReferenceSet } from './types.js';
import { checkNormalization, type EmbeddingNormalization } from './normalization.js';
import { checkReduction, reduceTerms, type Reduction } from './reducers.js';
import { gatherPairs, minedPairs, pairMatrix } from './pairs.js';
import { resolveDistance, type DistanceSpec, type PairDistance } from './distances.js';
import { checkFinite } from './checks.js';
import { contrastivePresets, getPreset, type PresetName } from './presets.js';

export interface ContrastiveOptions {
  /** m+ (code default 0; 1 with a similarity). */
  posMargin?: number;
  /** m- (code default 0.5; 0 with a similarity). */
  negMargin?: number;
  /** Default 'euclidean' (spec). PML's ContrastiveLoss: Euclidean on L2-normalised embeddings. */
  distance?: DistanceSpec;
  /** Default 'lipschitz' (the paper's N(v)). */
  embeddingNormalization?: EmbeddingNormalization;
  /** 'active' (default, the code's avg_nonzero_only), 'mean' over all matrix entries, or 'sum'. */
  reduction?: Reduction;
}

export class ContrastiveLoss implements MetricLoss {
  readonly name = 'contrastive';
  readonly acceptsReference = true;
  readonly acceptsMined = true;
  readonly distance: PairDistance;
  readonly posMargin: number;
  readonly negMargin: number;
  readonly embeddingNormalization: EmbeddingNormalization;
  readonly reduction: Reduction;

  constructor(options: ContrastiveOptions = {}) {
    this.distance = resolveDistance(options.distance, 'euclidean', this.name);
    const sim = this.distance.isSimilarity;
    this.posMargin = checkFinite(this.name, 'posMargin', options.posMargin ?? (sim ? 1 : 0.0));
    this.negMargin = checkFinite(this.name, 'negMargin', options.negMargin ?? (sim ? 0 : 0.5));
    this.embeddingNormalization = checkNormalization(options.embeddingNormalization, 'lipschitz', this.name);
    this.reduction = checkReduction(options.reduction, this.name);
  }

  /** Paper values per dataset, or 'code' (0, 0.5) / 'conventional' (0, 1.0); `overrides` win. */
  static preset(name: PresetName, overrides: ContrastiveOptions = {}): ContrastiveLoss {
    return new ContrastiveLoss({ ...getPreset(contrastivePresets, 'contrastive', name), ...overrides });
  }

  forward(embeddings: Tensor, labels: Tensor, ref?: ReferenceSet, mined?: MinedTuples): Tensor {
    const dist = this.distance;
    const { matrix: d, pos, neg } = pairMatrix(this.name, embeddings, labels, ref, dist, this.embeddingNormalization);
    let posTerms: Tensor;
    let negTerms: Tensor;
    if (mined) {
      const { a1, p, a2, n } = minedPairs(mined);
      posTerms = dist.margin(gatherPairs(d, a1, p), this.posMargin);
      negTerms = dist.margin(this.negMargin, gatherPairs(d, a2, n));
    } else {
      posTerms = dist.margin(d, this.posMargin).where(pos, 0);
      negTerms = dist.margin(this.negMargin, d).where(neg, 0);
    }
    return reduceTerms(posTerms, this.reduction).add(reduceTerms(negTerms, this.reduction));
  }

  parameters(): Tensor[] {
    return [];
  }
}
