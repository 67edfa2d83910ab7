// `triplet` (spec §3.3, Schroff et al. 2015): every (anchor row a, positive column p, negative column n)
// triplet, no mining, Euclidean distance:
//
//   tau = d_ap - d_an + margin,   L = mean of tau over the triplets with tau > 0   (eps 1e-16)
//
// Two computations, equal in value and gradient:
//  - dense: builds the [rows x cols x cols] triplet tensor (the code's triplets_from_mat = true). Fast for
//    small matrices, but with CCP on SOP (~34k proxies as columns) it does not fit in memory;
//  - chunked: never builds it. It walks the positives of each row in slot chunks, [rows x s x cols] at a
//    time (bounded by `denseLimit` elements), counting for every matrix entry how many active triplets
//    use it as the positive (+1 each) and as the negative (-1 each). With that count matrix W and N active
//    triplets, the loss is (sum(W * d) + margin * N) / (N + 1e-16): the same value as the mean of the active
//    terms, and the same gradient (the active set is a constant for autograd, as in the code). Memory is
//    O(rows x cols) plus the bounded chunk.
// 'auto' (default) takes the dense path when rows*cols*cols <= denseLimit.
// With a similarity as `distance` the margin flips (PML): tau = s_an - s_ap + margin, i.e. the same paths on
// -s. With a miner's triplets (`mined`; pairs become every (a, p, n) sharing an anchor) only those terms count.
import { type Tensor, noGrad, tidy, zeros } from '../engine/index.js';
import type { MetricLoss, MinedTuples, ReferenceSet } from './types.js';
import { checkNormalization, type EmbeddingNormalization } from './normalization.js';
import { ACTIVE_EPS, checkReduction, reduceTerms, type Reduction } from './reducers.js';
import { gatherPairs, minedTriplets, pairMatrix } from './pairs.js';
import { resolveDistance, type DistanceSpec, type PairDistance } from './distances.js';
import { checkFinite, checkInteger } from './checks.js';
import { getPreset, tripletPresets, type PresetName } from './presets.js';

export type TripletPath = 'auto' | 'dense' | 'chunked';

export interface TripletOptions {
  /** Default 0.05 (code). */
  margin?: number;
  /** Default 'euclidean' (spec). PML's TripletMarginLoss: Euclidean on L2-normalised embeddings. */
  distance?: DistanceSpec;
  embeddingNormalization?: EmbeddingNormalization;
  /** 'active' (default), 'mean' over all rows*cols*cols triplet slots (the code's avg_nonzero_only = false), 'sum'. */
  reduction?: Reduction;
  /** Default 'auto'. */
  path?: TripletPath;
  /** Largest number of triplet-tensor elements built at once (default 2^22 = 4M). */
  denseLimit?: number;
}

export class TripletLoss implements MetricLoss {
  readonly name = 'triplet';
  readonly acceptsReference = true;
  readonly acceptsMined = true;
  readonly distance: PairDistance;
  readonly margin: number;
  readonly embeddingNormalization: EmbeddingNormalization;
  readonly reduction: Reduction;
  readonly path: TripletPath;
  readonly denseLimit: number;

  constructor(options: TripletOptions = {}) {
    this.distance = resolveDistance(options.distance, 'euclidean', this.name);
    this.margin = checkFinite(this.name, 'margin', options.margin ?? 0.05);
    this.embeddingNormalization = checkNormalization(options.embeddingNormalization, 'lipschitz', this.name);
    this.reduction = checkReduction(options.reduction, this.name);
    const p = options.path ?? 'auto';
    if (!['auto', 'dense', 'chunked'].includes(p)) throw new Error(`${this.name}: path must be 'auto', 'dense' or 'chunked', got '${String(p)}'`);
    this.path = p;
    this.denseLimit = checkInteger(this.name, 'denseLimit', options.denseLimit ?? 1 << 22);
  }

  static preset(name: PresetName, overrides: TripletOptions = {}): TripletLoss {
    return new TripletLoss({ ...getPreset(tripletPresets, 'triplet', name), ...overrides });
  }

  forward(embeddings: Tensor, labels: Tensor, ref?: ReferenceSet, mined?: MinedTuples): Tensor {
    const dist = this.distance;
    const { matrix, pos, neg } = pairMatrix(this.name, embeddings, labels, ref, dist, this.embeddingNormalization);
    if (mined) {
      const { a, p, n } = minedTriplets(mined);
      const t = dist.margin(gatherPairs(matrix, a, p), gatherPairs(matrix, a, n)).add(this.margin);
      return reduceTerms(t, this.reduction);
    }
    const d = dist.isSimilarity ? matrix.neg() : matrix;
    const [rows, cols] = d.shape as [number, number];
    const dense = this.path === 'dense' || (this.path === 'auto' && rows * cols * cols <= this.denseLimit);
    return dense ? this.denseLoss(d, pos, neg) : this.chunkedLoss(d, pos, neg);
  }

  /** [rows, n, p] tensor: t[a, n, p] = d[a, p] - d[a, n] + margin over pos[a, p] & neg[a, n]. */
  denseLoss(d: Tensor, pos: Tensor, neg: Tensor): Tensor {
    const t = d.unsqueeze(1).sub(d.unsqueeze(2)).add(this.margin);
    const mask = pos.unsqueeze(1).logicalAnd(neg.unsqueeze(2));
    return reduceTerms(t.where(mask, 0), this.reduction);
  }

  /** The O(rows x cols) path (see the file comment). */
  chunkedLoss(d: Tensor, pos: Tensor, neg: Tensor): Tensor {
    const [rows, cols] = d.shape as [number, number];
    const margin = this.margin;
    const { w, count } = noGrad(() => {
      const dd = d.detach();
      const posCount = pos.sum(1);
      const maxPos = rows === 0 ? 0 : posCount.max().item();
      const weights = zeros([rows, cols], { dtype: dd.dtype, device: dd.device });
      let n = zeros([], { dtype: dd.dtype, device: dd.device });
      if (maxPos > 0) {
        // Column indices of each row's positives first (a stable descending sort of the mask), then padding.
        const order = pos.to(dd.dtype).sort(1, true);
        const slotIdx = order.indices.slice(1, 0, maxPos); // [rows, maxPos]
        const slotValid = order.values.slice(1, 0, maxPos).gt(0); // [rows, maxPos]
        const slotsPerChunk = Math.max(1, Math.floor(this.denseLimit / Math.max(1, rows * cols)));
        const negRow = neg.unsqueeze(1); // [rows, 1, cols]
        for (let j0 = 0; j0 < maxPos; j0 += slotsPerChunk) {
          const j1 = Math.min(maxPos, j0 + slotsPerChunk);
          const prev = n;
          // One chunk of positive slots; its temporaries are freed at once.
          n = tidy(() => {
            const idx = slotIdx.slice(1, j0, j1); // [rows, s]
            const valid = slotValid.slice(1, j0, j1);
            const dap = dd.gather(1, idx); // [rows, s]
            const t = dap.unsqueeze(2).sub(dd.unsqueeze(1)).add(margin); // [rows, s, cols]
            const act = t.gt(0).logicalAnd(negRow).logicalAnd(valid.unsqueeze(2)).to(dd.dtype);
            weights.add_(zeros([rows, cols], { dtype: dd.dtype, device: dd.device }).scatterAdd(1, idx, act.sum(2)));
            weights.add_(act.sum(1), -1);
            return prev.add(act.sum());
          });
          prev.dispose();
        }
      }
      return { w: weights, count: n };
    });
    switch (this.reduction) {
      case 'active': {
        const denom = count.add(ACTIVE_EPS);
        return d.mul(w).sum().add(count.mul(margin)).div(denom);
      }
      case 'mean':
        return d
          .mul(w)
          .sum()
          .add(count.mul(margin))
          .div(rows * cols * cols);
      case 'sum':
        return d.mul(w).sum().add(count.mul(margin));
    }
    throw new Error(`${this.name}: unknown reduction '${String(this.reduction)}'`);
  }

  parameters(): Tensor[] {
    return [];
  }
}
