// Pair matrices (spec §3.0): Euclidean distance with the zero-distance gradient rule, and the "cos"
// similarity <N(a), N(b)> (the inputs are normalised by the loss before they get here).
import { type Tensor, eye } from '../engine/index.js';
import { checkNormalization, type EmbeddingNormalization } from './normalization.js';

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

// ------------------------------------------------------------------------------------------------------
// Distances as objects (PML's `distance=` argument). A pair or proxy loss takes one as `distance`; the
// loss works on its matrix and writes its margins through `margin(x, y)`, which flips for similarities:
//   distance (smaller = closer):  margin(x, y) = x - y
//   similarity (larger = closer): margin(x, y) = y - x
// so that e.g. the contrastive positive term relu(margin(m_pos... , d)) reads the same for both (PML's
// BaseDistance.margin). Normalisation: a distance may force one (cosine: 'l2'); otherwise the loss's
// `embeddingNormalization` applies (Lipschitz N(v) by default for the paper's losses).

export type DistanceName = 'euclidean' | 'cosine' | 'dot';
export const DISTANCE_NAMES: readonly DistanceName[] = ['euclidean', 'cosine', 'dot'];

export interface PairDistance {
  readonly name: DistanceName;
  /** true for similarities (larger = closer): margins flip and "hardest" means smallest. */
  readonly isSimilarity: boolean;
  /** The normalisation this distance forces (cosine: 'l2'); undefined = the loss's embeddingNormalization. */
  readonly normalization?: EmbeddingNormalization;
  /** [n_a, n_b] matrix of the (already normalised) rows; without `b` the self matrix of `a`. */
  matrix(a: Tensor, b?: Tensor): Tensor;
  /** x - y for a distance, y - x for a similarity (at least one of x, y is a tensor). */
  margin(x: Tensor | number, y: Tensor | number): Tensor;
}

function flipMargin(isSimilarity: boolean, x: Tensor | number, y: Tensor | number): Tensor {
  const [a, b] = isSimilarity ? [y, x] : [x, y];
  if (typeof a === 'number') {
    if (typeof b === 'number') throw new Error('distance.margin: one of the two arguments must be a tensor');
    return b.rsub(a);
  }
  return a.sub(b);
}

/** What the distances share: the optional normalisation they force and PML's margin flip. */
abstract class BaseDistance implements PairDistance {
  abstract readonly name: DistanceName;
  abstract readonly isSimilarity: boolean;
  readonly normalization?: EmbeddingNormalization;
  protected constructor(where: string, normalization: EmbeddingNormalization | undefined) {
    this.normalization = normalization === undefined ? undefined : checkNormalization(normalization, 'l2', where);
  }
  abstract matrix(a: Tensor, b?: Tensor): Tensor;
  margin(x: Tensor | number, y: Tensor | number): Tensor {
    return flipMargin(this.isSimilarity, x, y);
  }
}

/** Euclidean (L2) distance, not squared, with the zero-distance gradient rule. "L2-normalised Euclidean"
 *  is this with normalization 'l2' (PML's default LpDistance). */
export class EuclideanDistance extends BaseDistance {
  readonly name = 'euclidean' as const;
  readonly isSimilarity = false;
  constructor(options: { normalization?: EmbeddingNormalization } = {}) {
    super('EuclideanDistance', options.normalization);
  }
  matrix(a: Tensor, b?: Tensor): Tensor {
    return euclideanDistance(a, b);
  }
}

/** Inner product <a, b> (a similarity). With the loss's normalisation: the spec's "cos" <N(a), N(b)>. */
export class DotProductSimilarity extends BaseDistance {
  readonly name: DistanceName = 'dot';
  readonly isSimilarity = true;
  constructor(options: { normalization?: EmbeddingNormalization } = {}) {
    super('DotProductSimilarity', options.normalization);
  }
  matrix(a: Tensor, b?: Tensor): Tensor {
    return similarityMatrix(a, b);
  }
}

/** Cosine similarity: the inner product of L2-normalised rows, whatever the loss's normalisation. */
export class CosineSimilarity extends DotProductSimilarity {
  override readonly name: DistanceName = 'cosine';
  constructor() {
    super({ normalization: 'l2' });
  }
}

/** A distance given by name ('euclidean', 'cosine', 'dot') or as an object. */
export type DistanceSpec = PairDistance | DistanceName;

/** Resolves a `distance` option: an object is used as is, a name builds the default object of that kind. */
export function resolveDistance(spec: DistanceSpec | undefined, fallback: DistanceName, where: string): PairDistance {
  const s = spec ?? fallback;
  if (typeof s === 'object' && s !== null && typeof s.matrix === 'function' && typeof s.margin === 'function') return s;
  switch (s) {
    case 'euclidean':
      return new EuclideanDistance();
    case 'cosine':
      return new CosineSimilarity();
    case 'dot':
      return new DotProductSimilarity();
    default:
      throw new Error(`${where}: distance must be one of ${DISTANCE_NAMES.join(', ')} or a distance object, got '${String(s)}'`);
  }
}

/** The matrix of `distance` as a similarity (larger = closer): itself, or minus a distance. */
export function asSimilarity(distance: PairDistance, m: Tensor): Tensor {
  return distance.isSimilarity ? m : m.neg();
}
