// C1 `original_contrastive` (spec §3.2): the contrastive loss of Hu et al. 2014 as in XBM's official code,
// on the "cos" similarity s = <N(a), N(b)>. With n_rows = the number of anchors (batch rows):
//
//   L = (1 / n_rows) [ sum over positive pairs with s < 1 - eps of (1 - s - eps)
//                    + sum over negative pairs with s > m     of (s - m) ]
//
// eps = 1e-5, m = 0.5. Note: XBM's official code adds `s`, not `s - m`, for the active negatives. The
// gradient is the same; only the value differs. `negativeTerm: 's'` reproduces that value.
// Any `distance` (margins flip as in PML: relu(margin(s, 1 - eps)), relu(margin(m, s))); a miner's pairs
// (`mined`) replace the masks.
// `reduction: 'active'` divides each of the two sums by its number of active terms instead (as C2 does): with
// CCP's K·C proxies as columns the negative sum grows with the number of proxies, which the default form keeps.
import type { Tensor } from '../engine/index.js';
import type { MetricLoss, MinedTuples, ReferenceSet } from './types.js';
import { checkNormalization, type EmbeddingNormalization } from './normalization.js';
import { pairMatrix } from './pairs.js';
import { resolveDistance, type DistanceSpec, type PairDistance } from './distances.js';
import { checkFinite, checkPositive } from './checks.js';
import { getPreset, originalContrastivePresets, type PresetName } from './presets.js';

export interface OriginalContrastiveOptions {
  /** m (default 0.5). */
  margin?: number;
  /** eps of the positive term (default 1e-5). */
  eps?: number;
  /** 's-m' (default, this repository's code) or 's' (XBM's official code: same gradient, other value). */
  negativeTerm?: 's-m' | 's';
  embeddingNormalization?: EmbeddingNormalization;
  /** Default 'dot' (after the loss's normalisation: the spec's "cos"). */
  distance?: DistanceSpec;
  /**
   * 'anchors' (default, the reference code): (positive sum + negative sum) / n_rows. 'active': each sum divided by
   * its number of active terms (+1e-16), so the proxy term's scale no longer grows with the number of proxies.
   */
  reduction?: OriginalContrastiveReduction;
}

export type OriginalContrastiveReduction = 'anchors' | 'active';

export class OriginalContrastiveLoss implements MetricLoss {
  readonly name = 'original_contrastive';
  readonly acceptsReference = true;
  readonly acceptsMined = true;
  readonly distance: PairDistance;
  readonly margin: number;
  readonly eps: number;
  readonly negativeTerm: 's-m' | 's';
  readonly embeddingNormalization: EmbeddingNormalization;
  readonly reduction: OriginalContrastiveReduction;

  constructor(options: OriginalContrastiveOptions = {}) {
    this.distance = resolveDistance(options.distance, 'dot', this.name);
    this.margin = checkFinite(this.name, 'margin', options.margin ?? 0.5);
    this.eps = checkPositive(this.name, 'eps', options.eps ?? 1e-5, true);
    const nt = options.negativeTerm ?? 's-m';
    if (nt !== 's-m' && nt !== 's') throw new Error(`${this.name}: negativeTerm must be 's-m' or 's', got '${String(nt)}'`);
    this.negativeTerm = nt;
    this.embeddingNormalization = checkNormalization(options.embeddingNormalization, 'lipschitz', this.name);
    const r = options.reduction ?? 'anchors';
    if (r !== 'anchors' && r !== 'active') throw new Error(`${this.name}: reduction must be 'anchors' or 'active', got '${String(r)}'`);
    this.reduction = r;
  }

  static preset(name: PresetName, overrides: OriginalContrastiveOptions = {}): OriginalContrastiveLoss {
    return new OriginalContrastiveLoss({ ...getPreset(originalContrastivePresets, 'original_contrastive', name), ...overrides });
  }

  forward(embeddings: Tensor, labels: Tensor, ref?: ReferenceSet, mined?: MinedTuples): Tensor {
    const dist = this.distance;
    const { matrix: s, pos, neg } = pairMatrix(this.name, embeddings, labels, ref, dist, this.embeddingNormalization, mined);
    const nRows = s.size(0);
    const posTerms = dist.margin(s, 1 - this.eps).where(pos, 0);
    const negRaw = dist.margin(this.margin, s).where(neg, 0);
    const posActive = posTerms.detach().gt(0);
    const posSum = posTerms.where(posActive, 0).sum();
    const negActive = negRaw.detach().gt(0);
    // Active negatives are those with s > m in both variants; 's' adds s instead of s - m for them.
    const negSum = (this.negativeTerm === 's' ? s : negRaw).where(negActive, 0).sum();
    if (this.reduction === 'anchors') return posSum.add(negSum).div(nRows);
    const count = (active: Tensor) => active.sum().to(s.dtype).add(1e-16);
    return posSum.div(count(posActive)).add(negSum.div(count(negActive)));
  }

  parameters(): Tensor[] {
    return [];
  }
}
