// Numerically stable masked log-sum-exp forms used by MS, ProxyAnchor, ProxyNCA and SoftTriple.
import { type Tensor, cat, zeros } from '../engine/index.js';

/** log(sum over mask of exp(z)) along dim 1 of [rows, cols]; -inf for a row with an empty mask. */
export function maskedLogSumExp(z: Tensor, mask: Tensor, dim = 1): Tensor {
  return z.where(mask, -Infinity).logsumexp(dim);
}

/**
 * log(1 + sum over mask of exp(z)) along dim 1 of a [rows, cols] matrix, computed as a logsumexp with an
 * extra 0 logit (no overflow for large scales such as ProxyAnchor's alpha = 32). An empty mask gives 0.
 */
export function maskedLog1pSumExp(z: Tensor, mask: Tensor): Tensor {
  if (z.rank !== 2) throw new Error(`maskedLog1pSumExp: expected a 2-D matrix, got [${z.shape.join(', ')}]`);
  const zero = zeros([z.size(0), 1], { dtype: z.dtype, device: z.device });
  return cat([zero, z.where(mask, -Infinity)], 1).logsumexp(1);
}

/**
 * maskedLogSumExp whose rows with an empty mask give -inf in value AND a zero gradient (a plain logsumexp
 * over a row of -inf has a NaN gradient). Used where such rows are possible (NTXent, SupCon, Circle).
 */
export function safeMaskedLogSumExp(z: Tensor, mask: Tensor, dim = 1): Tensor {
  const hasAny = mask.sum(dim, true).gt(0);
  const full = z.where(mask.logicalOr(hasAny.logicalNot()), -Infinity).logsumexp(dim);
  return full.where(hasAny.squeeze(dim), -Infinity);
}
