// Pair matrices (spec §3.0): Euclidean distance with the zero-distance gradient rule, and the "cos"
// similarity <N(a), N(b)> (the inputs are normalised by the loss before they get here).
import { Tensor, eye } from '../engine/index.js';

/**
 * sqrt(x) for x >= 0 whose gradient is 0 where x == 0 (instead of +inf / NaN). Written with two `where`s,
 * so it is a plain autograd formulation that runs on every device: the zero entries take sqrt(1) in the
 * inner branch (finite gradient) and the outer branch drops it.
 */
export function safeSqrt(x: Tensor): Tensor {
  const positive = x.detach().gt(0);
  return x.where(positive, 1).sqrt().where(positive, 0);
}

/**
 * Euclidean distance matrix d[i, j] = ||a_i - b_j|| = sqrt(relu(|a_i|^2 + |b_j|^2 - 2 a_i.b_j)), [n_a, n_b].
 * Not squared. The gradient is 0 wherever d = 0 (the code's custom gradient). Without `b` it is the self
 * matrix of `a`, whose diagonal is forced to 0 (and gets no gradient).
 */
export function euclideanDistance(a: Tensor, b?: Tensor): Tensor {
  const other = b ?? a;
  if (a.rank !== 2 || other.rank !== 2) {
    throw new Error(`euclideanDistance: expected 2-D [n, D] inputs, got [${a.shape.join(', ')}] and [${other.shape.join(', ')}]`);
  }
  if (a.size(1) !== other.size(1)) {
    throw new Error(`euclideanDistance: embedding sizes differ: ${a.size(1)} vs ${other.size(1)}`);
  }
  const a2 = a.square().sum(1, true); // [n_a, 1]
  const b2 = other.square().sum(1, true).t(); // [1, n_b]
  const sq = a2.add(b2).sub(a.matmul(other.t()).mul(2)).relu();
  const d = safeSqrt(sq);
  if (b !== undefined) return d;
  return d.maskedFill(eye(a.size(0), { dtype: 'bool', device: a.device }), 0);
}

/** Inner-product matrix a b^T, [n_a, n_b]; with normalised inputs this is the spec's "cos" similarity. */
export function similarityMatrix(a: Tensor, b?: Tensor): Tensor {
  const other = b ?? a;
  if (a.rank !== 2 || other.rank !== 2 || a.size(1) !== other.size(1)) {
    throw new Error(`similarityMatrix: expected [n, D] and [m, D] inputs, got [${a.shape.join(', ')}] and [${other.shape.join(', ')}]`);
  }
  return a.matmul(other.t());
}
