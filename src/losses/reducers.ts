// Reducers: turn a tensor of loss terms into a scalar.
import type { Tensor } from '../engine/index.js';

/** Denominator epsilon of the "mean over active terms" reduction (the code's 1e-16). */
export const ACTIVE_EPS = 1e-16;

export type Reduction = 'active' | 'mean' | 'sum';
export const REDUCTIONS: readonly Reduction[] = ['active', 'mean', 'sum'];

/**
 * Mean over the active (> 0) terms: sum(t[t > 0]) / (#{t > 0} + 1e-16). An empty set gives 0. The count is
 * a constant for autograd (the code stops its gradient). Terms outside a pair mask must already be 0.
 */
export function meanOfActive(terms: Tensor): Tensor {
  const active = terms.detach().gt(0);
  const count = active.sum(null, false, terms.dtype);
  return terms.where(active, 0).sum().div(count.add(ACTIVE_EPS));
}

/** Plain mean over all elements (of the already masked / clipped terms). */
export function meanReducer(terms: Tensor): Tensor {
  return terms.mean();
}

/** Sum of all elements. */
export function sumReducer(terms: Tensor): Tensor {
  return terms.sum();
}

/**
 * Reduces clipped terms: 'active' = meanOfActive, 'mean' = mean over every element of the matrix (the
 * code's avg_nonzero_only = false: inactive and masked entries count as zeros), 'sum'. Negative terms are
 * clipped to 0 first (hinge).
 */
export function reduceTerms(terms: Tensor, reduction: Reduction): Tensor {
  switch (reduction) {
    case 'active':
      return meanOfActive(terms);
    case 'mean':
      return meanReducer(terms.relu());
    case 'sum':
      return sumReducer(terms.relu());
    default:
      throw new Error(`reduction must be one of ${REDUCTIONS.join(', ')}, got '${String(reduction)}'`);
  }
}

export function checkReduction(r: unknown, where: string): Reduction {
  if (r === undefined) return 'active';
  if (!REDUCTIONS.includes(r as Reduction)) throw new Error(`${where}: reduction must be one of ${REDUCTIONS.join(', ')}, got '${String(r)}'`);
  return r as Reduction;
}
