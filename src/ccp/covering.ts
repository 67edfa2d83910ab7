// Covering-radius diagnostics (spec §1.6, §1.7): how far a class's samples are from their nearest centre.
//
// Choices (the supplement gives no code): distances are Euclidean (not squared); by default the embeddings are
// first mapped through N(v) (v if ‖v‖ <= 1, else v/‖v‖), the normalisation every loss and the evaluation use,
// so radii are comparable across models. The greedy k-center of a class starts from its minimax sample (the
// sample whose farthest class-mate is nearest, i.e. the best single centre among the samples; first index on
// ties), then adds the farthest sample each step (Gonzalez). The greedy solutions are nested, so one pass gives
// the radius for every k. Computation is float64.
import { Tensor, tidy, noGrad, int64, cat } from '../engine/index.js';

const CHUNK = 1024;

/** N(v) row-wise: v if ‖v‖ <= 1, else v / ‖v‖. */
export function clipNormalize(x: Tensor): Tensor {
  return tidy(() => x.div(x.norm(2, -1, true).clampMin(1)));
}

/** Euclidean distances [N, M] (float64, computed by expansion and clamped at 0). */
function euclidean(a: Tensor, b: Tensor): Tensor {
  return tidy(() => {
    const aa = a.square().sum(-1, true);
    const bb = b.square().sum(-1, true).t();
    return aa.add(bb).sub(a.matmul(b.t()).mul(2)).clampMin(0).sqrt();
  });
}

function checkMatrix(where: string, name: string, t: Tensor): void {
  if (t.rank !== 2) throw new Error(`${where}: ${name} must be [N, D], got [${t.shape.join(', ')}]`);
}

/**
 * Covering radius of `points` [N, D] by `centres` [M, D]: max over points of the Euclidean distance to the nearest
 * centre (the smallest δ for which the centres are a δ-cover of the points). 0 for no points.
 */
export function coveringRadius(points: Tensor, centres: Tensor): number {
  checkMatrix('coveringRadius', 'points', points);
  checkMatrix('coveringRadius', 'centres', centres);
  if (points.size(1) !== centres.size(1)) throw new Error(`coveringRadius: points have D=${points.size(1)}, centres D=${centres.size(1)}`);
  if (centres.size(0) === 0) throw new Error('coveringRadius: at least one centre is needed');
  const n = points.size(0);
  let radius = 0;
  noGrad(() =>
    tidy(() => {
      const c = centres.detach().to('float64');
      for (let s = 0; s < n; s += CHUNK) {
        const p = points.detach().narrow(0, s, Math.min(CHUNK, n - s)).to('float64');
        radius = Math.max(radius, euclidean(p, c).min(1).max().item());
      }
    }),
  );
  return radius;
}

/**
 * Greedy k-center radii of one point set [n, D] (float64) for k = 1..min(n, maxK): element k−1 is the covering
 * radius of the first k greedy centres.
 */
export function greedyCoveringRadii(points: Tensor, maxK = Infinity): number[] {
  checkMatrix('greedyCoveringRadii', 'points', points);
  const n = points.size(0);
  if (n === 0) return [];
  const kMax = Math.min(n, Math.floor(maxK));
  if (!(kMax >= 1)) throw new Error(`greedyCoveringRadii: maxK must be >= 1, got ${maxK}`);
  return noGrad(() =>
    tidy(() => {
      const x = points.detach().to('float64');
      // Minimax start: the sample with the smallest distance to its farthest class-mate.
      const farthest: Tensor[] = [];
      for (let s = 0; s < n; s += CHUNK) farthest.push(euclidean(x.narrow(0, s, Math.min(CHUNK, n - s)), x).max(1));
      const start = cat(farthest).argmin().item();
      let d = euclidean(x, x.narrow(0, start, 1)).squeeze(1); // [n] distance to the nearest centre
      const radii: Tensor[] = [d.max()];
      for (let k = 2; k <= kMax; k++) {
        const j = d.argmax().item(); // farthest sample (first on ties)
        d = d.minimum(euclidean(x, x.narrow(0, j, 1)).squeeze(1));
        radii.push(d.max());
      }
      return Array.from(cat(radii.map((r) => r.reshape([1]))).toFloat64Array());
    }),
  );
}

export interface CoveringRadiusOptions {
  /** Largest k per class (default: all k in [n]). */
  maxK?: number;
  /** Apply N(v) first (default true). */
  normalize?: boolean;
}

export interface ClassCovering {
  label: number;
  count: number;
  /** Radius with k = 1..min(count, maxK) greedy centres. */
  radii: number[];
  /** Mean of radii. */
  mean: number;
}

export interface AverageCoveringRadius {
  /** Mean over classes of the per-class mean over k. */
  mean: number;
  perClass: ClassCovering[];
}

/**
 * The "average covering radius" diagnostic of spec §1.7: for each class with n samples and each k in [n] (or
 * [min(n, maxK)]), the greedy k-center radius with k centres; averaged over k, then over classes (unweighted).
 */
export function averageCoveringRadius(embeddings: Tensor, labels: Tensor, options: CoveringRadiusOptions = {}): AverageCoveringRadius {
  checkMatrix('averageCoveringRadius', 'embeddings', embeddings);
  if (labels.rank !== 1 || labels.size(0) !== embeddings.size(0)) {
    throw new Error(`averageCoveringRadius: labels must be [${embeddings.size(0)}], got [${labels.shape.join(', ')}]`);
  }
  const maxK = options.maxK ?? Infinity;
  if (!(maxK >= 1)) throw new Error(`averageCoveringRadius: maxK must be >= 1, got ${maxK}`);
  const lab = labels.toArray();
  const groups = new Map<number, number[]>();
  lab.forEach((l, i) => {
    const g = groups.get(l);
    if (g) g.push(i);
    else groups.set(l, [i]);
  });
  const perClass: ClassCovering[] = [];
  noGrad(() =>
    tidy(() => {
      const x = options.normalize === false ? embeddings.detach() : clipNormalize(embeddings.detach().to('float64'));
      for (const label of [...groups.keys()].sort((a, b) => a - b)) {
        const idx = groups.get(label)!;
        const radii = tidy(() => greedyCoveringRadii(x.indexSelect(0, int64(idx)), maxK));
        perClass.push({ label, count: idx.length, radii, mean: radii.reduce((a, b) => a + b, 0) / radii.length });
      }
    }),
  );
  const mean = perClass.length ? perClass.reduce((a, c) => a + c.mean, 0) / perClass.length : NaN;
  return { mean, perClass };
}
