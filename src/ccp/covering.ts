// Covering-radius diagnostics (spec §1.6, §1.7): how far a class's samples are from their nearest centre.
//
// Choices (the supplement gives no code): distances are Euclidean (not squared); by default the embeddings are
// first mapped through N(v) (v if ‖v‖ <= 1, else v/‖v‖), the normalisation every loss and the evaluation use,
// so radii are comparable across models. The greedy k-center of a class starts from its minimax sample (the
// sample whose farthest class-mate is nearest, i.e. the best single centre among the samples; first index on
// ties), then adds the farthest sample each step (Gonzalez). The greedy solutions are nested, so one pass gives
// the radius for every k. Computation is float64; reported radii are exact distances between a sample and its
// nearest centre (the searches themselves use the faster ‖a‖² + ‖b‖² − 2a·b expansion).
import { type Tensor, tidy, noGrad, int64, cat, arange, tensor } from '../engine/index.js';

const CHUNK = 1024;

/** N(v) row-wise: v if ‖v‖ <= 1, else v / ‖v‖. */
export function clipNormalize(x: Tensor): Tensor {
  return tidy(() => x.div(x.norm(2, -1, true).clampMin(1)));
}

/** Euclidean distances [N, M] by expansion, clamped at 0 (used to find nearest / farthest, not for radii). */
function euclidean(a: Tensor, b: Tensor): Tensor {
  return tidy(() => {
    const aa = a.square().sum(-1, true);
    const bb = b.square().sum(-1, true).t();
    return aa.add(bb).sub(a.matmul(b.t()).mul(2)).clampMin(0).sqrt();
  });
}

/** Exact row-wise distances ‖a_i − b_i‖ (b broadcast when it has one row). */
function distanceRows(a: Tensor, b: Tensor): Tensor {
  return tidy(() => a.sub(b).square().sum(-1).sqrt());
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
        const p = points
          .detach()
          .narrow(0, s, Math.min(CHUNK, n - s))
          .to('float64');
        // Nearest centre by the fast expansion, then its exact distance Σ(p − c)² (no cancellation error).
        const nearest = euclidean(p, c).argmin(1);
        radius = Math.max(radius, distanceRows(p, c.indexSelect(0, nearest)).max().item());
      }
    }),
  );
  return radius;
}

/** Elements of float64 work tensors per bucket of classes (about 64 MB). */
const BUCKET_BUDGET = 1 << 23;

/**
 * Greedy k-center radii for a bucket of point sets at once. `x` [G, m, D] float64, zero-padded; `counts` the valid
 * rows of each set (padding at the end). Returns, per set g, the radii for k = 1..min(counts[g], kMax).
 *
 * Nearest / farthest searches use the expansion ‖a‖² + ‖b‖² − 2a·b (batched matrix products); each reported radius
 * is recomputed exactly as the distance between the farthest sample and its nearest centre.
 */
function greedyRadiiBatched(x: Tensor, counts: number[], kMax: number): number[][] {
  const [G, m, D] = x.shape as [number, number, number];
  const steps = Math.min(m, kMax);
  return noGrad(() =>
    tidy(() => {
      const valid = tidy(() => {
        const pos = arange(0, m, 1, { device: x.device }).unsqueeze(0); // [1, m]
        return pos.lt(tensor(counts, [G, 1], { dtype: 'int64', device: x.device }));
      }); // [G, m] bool
      const sq = x.square().sum(-1); // [G, m]
      // Minimax start per set: the sample with the smallest distance to its farthest set-mate.
      const chunk = Math.max(1, Math.min(m, Math.floor(BUCKET_BUDGET / Math.max(1, G * m))));
      const farthest: Tensor[] = [];
      for (let s = 0; s < m; s += chunk) {
        const len = Math.min(chunk, m - s);
        farthest.push(
          tidy(() =>
            sq
              .narrow(1, s, len)
              .unsqueeze(2)
              .add(sq.unsqueeze(1))
              .sub(x.narrow(1, s, len).matmul(x.transpose(1, 2)).mul(2))
              .where(valid.unsqueeze(1), -Infinity)
              .max(2),
          ),
        );
      }
      const start = cat(farthest, 1).where(valid, Infinity).argmin(1); // [G]
      const sqDistTo = (idx: Tensor) =>
        tidy(() => {
          const c = x.gather(1, idx.reshape([G, 1, 1]).expand([G, 1, D])); // [G, 1, D]
          const sc = sq.gather(1, idx.reshape([G, 1])); // [G, 1]
          return sq
            .add(sc)
            .sub(x.matmul(c.transpose(1, 2)).squeeze(2).mul(2))
            .clampMin(0);
        });
      // Squared distance to the nearest centre; padding at −∞ so it is never the farthest.
      let d = sqDistTo(start).where(valid, -Infinity);
      let nearest = start.reshape([G, 1]).expand([G, m]).contiguous();
      const far: Tensor[] = [];
      const near: Tensor[] = [];
      for (let k = 1; k <= steps; k++) {
        const j = d.argmax(1, true); // [G, 1], first index on ties
        far.push(j);
        near.push(nearest.gather(1, j));
        if (k === steps) break;
        const dj = sqDistTo(j.reshape([G]));
        nearest = j.expand([G, m]).where(dj.lt(d), nearest);
        d = d.minimum(dj);
      }
      const farIdx = cat(far, 1); // [G, steps]
      const nearIdx = cat(near, 1);
      const pick = (idx: Tensor) => x.gather(1, idx.unsqueeze(2).expand([G, steps, D]));
      const radii = pick(farIdx).sub(pick(nearIdx)).square().sum(-1).sqrt().toFloat64Array(); // [G, steps]
      return counts.map((n, g) => Array.from(radii.subarray(g * steps, g * steps + Math.min(n, steps))));
    }),
  );
}

/**
 * Greedy k-center radii of one point set [n, D] for k = 1..min(n, maxK): element k−1 is the covering radius of the
 * first k greedy centres (computed in float64).
 */
export function greedyCoveringRadii(points: Tensor, maxK = Infinity): number[] {
  checkMatrix('greedyCoveringRadii', 'points', points);
  const n = points.size(0);
  if (n === 0) return [];
  if (!(maxK >= 1)) throw new Error(`greedyCoveringRadii: maxK must be >= 1, got ${maxK}`);
  return tidy(() => greedyRadiiBatched(points.detach().to('float64').unsqueeze(0), [n], Math.floor(maxK))[0]!);
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
  const order = [...groups.keys()].sort((a, b) => groups.get(a)!.length - groups.get(b)!.length || a - b);
  const D = embeddings.size(1);
  noGrad(() =>
    tidy(() => {
      const e = embeddings.detach().to('float64');
      const x = options.normalize === false ? e : clipNormalize(e);
      // Buckets of classes of similar size (sorted ascending), each padded to its largest class.
      let i = 0;
      while (i < order.length) {
        let j = i + 1;
        while (j < order.length && (j - i + 1) * groups.get(order[j]!)!.length * Math.max(D, 1) <= BUCKET_BUDGET) j++;
        const bucket = order.slice(i, j);
        const m = groups.get(bucket[bucket.length - 1]!)!.length;
        tidy(() => {
          // Row index per padded slot; padding points at row 0 and is masked by the counts.
          const idx = bucket.flatMap((l) => {
            const g = groups.get(l)!;
            return [...g, ...new Array<number>(m - g.length).fill(g[0]!)];
          });
          const counts = bucket.map((l) => groups.get(l)!.length);
          const radii = greedyRadiiBatched(
            x.indexSelect(0, int64(idx, undefined, { device: x.device })).reshape([bucket.length, m, D]),
            counts,
            Math.floor(maxK),
          );
          bucket.forEach((label, g) => {
            const r = radii[g]!;
            perClass.push({ label, count: counts[g]!, radii: r, mean: r.reduce((a, b) => a + b, 0) / r.length });
          });
        });
        i = j;
      }
    }),
  );
  perClass.sort((a, b) => a.label - b.label);
  const mean = perClass.length ? perClass.reduce((a, c) => a + c.mean, 0) / perClass.length : NaN;
  return { mean, perClass };
}

/** What a projection leaves behind, for the run log and report (N(v)-normalised, Euclidean). */
export interface ProxyCoverDiagnostics {
  /** Mean over classes of the covering radius of the class's candidate pool by its new proxies. */
  coveringRadius: number;
  /** Largest per-class covering radius. */
  coveringRadiusMax: number;
  /** Mean over classes of the mean pairwise distance between the class's proxies (0 when K = 1). */
  proxySpread: number;
}

/**
 * Covering radius and proxy spread of one projection: `pool` [C, b′, D] candidates, `proxies` [C, K, D] the proxies
 * picked from them. Distances by the expansion ‖a‖² + ‖b‖² − 2a·b in float64 (batched over classes).
 */
export function proxyCoverDiagnostics(pool: Tensor, proxies: Tensor): ProxyCoverDiagnostics {
  if (pool.rank !== 3 || proxies.rank !== 3 || pool.size(0) !== proxies.size(0) || pool.size(2) !== proxies.size(2)) {
    throw new Error(
      `proxyCoverDiagnostics: pool [C, b', D] and proxies [C, K, D] must agree, got [${pool.shape.join(', ')}] and [${proxies.shape.join(', ')}]`,
    );
  }
  const K = proxies.size(1);
  return noGrad(() =>
    tidy(() => {
      const a = clipNormalize(pool.detach().to('float64'));
      const p = clipNormalize(proxies.detach().to('float64'));
      const dist = (x: Tensor, y: Tensor) =>
        x
          .square()
          .sum(-1)
          .unsqueeze(2)
          .add(y.square().sum(-1).unsqueeze(1))
          .sub(x.matmul(y.transpose(1, 2)).mul(2))
          .clampMin(0)
          .sqrt();
      const radii = dist(a, p).min(2).max(1); // [C]
      const pp = dist(p, p)
        .sum([1, 2])
        .div(Math.max(1, K * (K - 1))); // diagonal is 0
      return { coveringRadius: radii.mean().item(), coveringRadiusMax: radii.max().item(), proxySpread: pp.mean().item() };
    }),
  );
}
