// C2 `contrastive` (spec §3.1): contrastive loss with a positive margin (Wu et al. 2017), Euclidean distance.
//
//   L = mean over positive pairs with d > m+ of (d - m+)  +  mean over negative pairs with d < m- of (m- - d)
//
// Each mean is over the active (non-zero) terms with a 1e-16 denominator epsilon, so an empty set gives 0.
// The two means run over the whole [rows x cols] matrix (not per anchor), as in the code.
import type { Tensor } from '../engine/index.js';
import type { MetricLoss, ReferenceSet } from './types.js';
import { checkNormalization, type EmbeddingNormalization } from './normalization.js';
import { checkReduction, reduceTerms, type Reduction } from './reducers.js';
import { pairMatrix } from './pairs.js';
import { checkFinite } from './checks.js';
import { contrastivePresets, getPreset, type PresetName } from './presets.js';

export interface ContrastiveOptions {
  /** m+ (code default 0). */
  posMargin?: number;
  /** m- (code default 0.5). */
  negMargin?: number;
  /** Default 'lipschitz' (the paper's N(v)). */
  embeddingNormalization?: EmbeddingNormalization;
  /** 'active' (default, the code's avg_nonzero_only), 'mean' over all matrix entries, or 'sum'. */
  reduction?: Reduction;
}

export class ContrastiveLoss implements MetricLoss {
  readonly name = 'contrastive';
  readonly acceptsReference = true;
  readonly posMargin: number;
  readonly negMargin: number;
  readonly embeddingNormalization: EmbeddingNormalization;
  readonly reduction: Reduction;

  constructor(options: ContrastiveOptions = {}) {
    this.posMargin = checkFinite(this.name, 'posMargin', options.posMargin ?? 0.0);
    this.negMargin = checkFinite(this.name, 'negMargin', options.negMargin ?? 0.5);
    this.embeddingNormalization = checkNormalization(options.embeddingNormalization, 'lipschitz', this.name);
    this.reduction = checkReduction(options.reduction, this.name);
  }

  /** Paper values per dataset, or 'code' (0, 0.5) / 'conventional' (0, 1.0); `overrides` win. */
  static preset(name: PresetName, overrides: ContrastiveOptions = {}): ContrastiveLoss {
    return new ContrastiveLoss({ ...getPreset(contrastivePresets, 'contrastive', name), ...overrides });
  }

  forward(embeddings: Tensor, labels: Tensor, ref?: ReferenceSet): Tensor {
    const { matrix: d, pos, neg } = pairMatrix(this.name, embeddings, labels, ref, 'euclidean', this.embeddingNormalization);
    const posTerms = d.sub(this.posMargin).where(pos, 0);
    const negTerms = d.rsub(this.negMargin).where(neg, 0);
    return reduceTerms(posTerms, this.reduction).add(reduceTerms(negTerms, this.reduction));
  }

  parameters(): Tensor[] {
    return [];
  }
}
