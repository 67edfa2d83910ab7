// Lloyd's k-means on the engine with seeded greedy k-means++ initialisation and restarts (the best inertia
// wins), as scikit-learn's KMeans (n_init = 10, 2 + ln k candidates per centre). Used for NMI / AMI. Assignment is chunked like the kNN: per chunk, ||c||^2 - 2<x, c> through one
// fused addmm, then argmin (ties go to the smaller centroid index). Empty clusters are re-seeded with the
// points farthest from their centroid. Convergence: no assignment changed, or the squared centroid shift
// <= tol x (mean per-feature variance of the data), as in scikit-learn.
import { linear, noGrad, tidy, zeros, ones, cat, int64, type Tensor } from '../engine/index.js';
import { toEmbeddingTensor, type ComputeDType, type EmbeddingInput } from './inputs.js';
import { DEFAULT_MEMORY_BUDGET_BYTES } from './knn.js';
import { mulberry32 } from '../engine/random.js';

export interface KMeansOptions {
  /** Seed of the k-means++ sampling (a JS generator; torch's global seed is untouched). Default 0. */
  seed?: number;
  /** Independent k-means++ initialisations; the run with the lowest inertia is returned. Default 10 (scikit-learn). */
  nInit?: number;
  /** Candidates per new centre in the greedy k-means++ (default 2 + floor(ln k), scikit-learn's; 1 = plain). */
  localTrials?: number;
  /** Lloyd iterations per run. Default 100. */
  maxIter?: number;
  /** Relative tolerance on the centroid shift. Default 1e-4. */
  tol?: number;
  /** Working-set budget of one assignment chunk. Default 512 MiB. */
  memoryBudgetBytes?: number;
  dtype?: ComputeDType;
}

export interface KMeansResult {
  /** Cluster of every point, in [0, k). */
  labels: Int32Array;
  /** Row-major [k, dim] centroids. */
  centroids: Float32Array | Float64Array;
  k: number;
  dim: number;
  /** Sum of squared distances of the points to their centroid. */
  inertia: number;
  /** Lloyd iterations of the returned run. */
  iterations: number;
  /** Index of the returned run among the nInit runs. */
  bestRun: number;
}

interface Assignment {
  labels: Tensor; // int64 [N]
  minDist: Tensor; // [N] squared distances
}

function assign(x: Tensor, xSq: Tensor, centroids: Tensor, chunk: number): Assignment {
  return tidy(() => {
    const N = x.shape[0]!;
    const w = centroids.mul(-2);
    const cSq = centroids.square().sum(1);
    const labels: Tensor[] = [];
    const dists: Tensor[] = [];
    for (let s = 0; s < N; s += chunk) {
      const c = Math.min(chunk, N - s);
      const scores = linear(x.narrow(0, s, c), w, cSq);
      const m = scores.minWithIndices(1);
      labels.push(m.indices);
      dists.push(m.values.add(xSq.narrow(0, s, c)).clampMin(0));
    }
    return { labels: labels.length === 1 ? labels[0]! : cat(labels), minDist: dists.length === 1 ? dists[0]! : cat(dists) };
  });
}

/**
 * Greedy k-means++ (scikit-learn's): each new centre is the best of `trials` D^2-sampled candidates, the one
 * that lowers the potential (sum of squared distances to the nearest centre) most. trials = 2 + floor(ln k)
 * as in scikit-learn; 1 is plain k-means++ (Arthur & Vassilvitskii 2007). The k steps are sequential, so
 * each does one engine call (the candidates' distances to every point, one matmul) and keeps the sampling
 * and the running minimum in JS: per-step engine overhead, not arithmetic, is what costs here.
 */
function kmeansPlusPlus(x: Tensor, xSq: Tensor, k: number, rng: () => number, trials: number): Tensor {
  return tidy(() => {
    const N = x.shape[0]!;
    const xm2 = x.mul(-2);
    const sq = xSq.toFloat64Array();
    /** Squared distances from the points `idx` to every point, row-major [idx.length, N]. */
    const distancesTo = (idx: number[]): Float64Array =>
      tidy(() => {
        const d = linear(x.indexSelect(0, int64(idx)), xm2, xSq).toFloat64Array();
        for (let t = 0; t < idx.length; t++) {
          const c = sq[idx[t]!]!;
          for (let j = 0; j < N; j++) d[t * N + j] = Math.max(0, d[t * N + j]! + c);
        }
        return d;
      });
    const chosen: number[] = [Math.min(N - 1, Math.floor(rng() * N))];
    let minD = distancesTo(chosen);
    const cum = new Float64Array(N);
    for (let i = 1; i < k; i++) {
      let total = 0;
      for (let j = 0; j < N; j++) cum[j] = total += minD[j]!;
      let candidates: number[];
      if (!(total > 0)) {
        // Every point coincides with a chosen centre: take an unchosen index uniformly.
        const taken = new Set(chosen);
        const free: number[] = [];
        for (let j = 0; j < N; j++) if (!taken.has(j)) free.push(j);
        candidates = [free[Math.min(free.length - 1, Math.floor(rng() * free.length))]!];
      } else {
        candidates = [];
        for (let t = 0; t < trials; t++) {
          // the number of cumulative weights <= the target (a searchsorted), capped at N - 1
          const target = rng() * total;
          let lo = 0;
          let hi = N;
          while (lo < hi) {
            const mid = (lo + hi) >> 1;
            if (cum[mid]! <= target) lo = mid + 1;
            else hi = mid;
          }
          candidates.push(Math.min(N - 1, lo));
        }
      }
      const d = distancesTo(candidates);
      let best = 0;
      let bestPot = Infinity;
      for (let t = 0; t < candidates.length; t++) {
        let pot = 0;
        for (let j = 0; j < N; j++) pot += Math.min(minD[j]!, d[t * N + j]!);
        if (pot < bestPot) {
          bestPot = pot;
          best = t;
        }
      }
      const next = new Float64Array(N);
      for (let j = 0; j < N; j++) next[j] = Math.min(minD[j]!, d[best * N + j]!);
      minD = next;
      chosen.push(candidates[best]!);
    }
    return x.indexSelect(0, int64(chosen));
  });
}

/**
 * Clusters the rows of `x` into k clusters. Runs under noGrad and tidy; returns plain arrays.
 */
export function kmeans(x: EmbeddingInput, k: number, options: KMeansOptions = {}): KMeansResult {
  const { nInit, maxIter, tol, seed, dtype, trials } = checkOptions(k, options);
  return noGrad(() =>
    tidy(() => {
      const X = toEmbeddingTensor(x, 'kmeans input', dtype);
      const [N, D] = X.shape as [number, number];
      if (!Number.isInteger(k) || k < 1 || k > N) throw new Error(`kmeans: k must be an integer in [1, ${N}] (the number of points), got ${k}`);
      const elt = dtype === 'float64' ? 8 : 4;
      const budget = options.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET_BYTES;
      const run: LloydRun = {
        X,
        xSq: X.square().sum(1),
        k,
        dtype,
        maxIter,
        trials,
        chunk: Math.max(1, Math.min(N, Math.floor(budget / (k * elt * 2 + 64)))),
        threshold: tol * X.variance(0, false).mean().item(),
        onesN: ones([N], { dtype }),
      };
      const rng = mulberry32(seed);

      let best: (Clustering & { run: number }) | null = null;
      for (let r = 0; r < nInit; r++) {
        const result = lloyd(run, rng);
        if (best === null || result.inertia < best.inertia) {
          if (best) {
            best.centroids.dispose();
            best.labels.dispose();
          }
          best = { ...result, run: r };
        } else {
          result.centroids.dispose();
          result.labels.dispose();
        }
      }
      const b = best!;
      return {
        labels: b.labels.toInt32Array(),
        centroids: dtype === 'float64' ? b.centroids.toFloat64Array() : b.centroids.toFloat32Array(),
        k,
        dim: D,
        inertia: b.inertia,
        iterations: b.iterations,
        bestRun: b.run,
      };
    }),
  );
}

/** The options with their defaults, checked. */
function checkOptions(k: number, options: KMeansOptions) {
  const nInit = options.nInit ?? 10;
  const maxIter = options.maxIter ?? 100;
  const tol = options.tol ?? 1e-4;
  const seed = options.seed ?? 0;
  const dtype = options.dtype ?? 'float32';
  if (!Number.isInteger(nInit) || nInit < 1) throw new Error(`kmeans: nInit must be a positive integer, got ${nInit}`);
  if (!Number.isInteger(maxIter) || maxIter < 1) throw new Error(`kmeans: maxIter must be a positive integer, got ${maxIter}`);
  if (!(tol >= 0)) throw new Error(`kmeans: tol must be >= 0, got ${tol}`);
  const trials = options.localTrials ?? 2 + Math.floor(Math.log(Math.max(1, k)));
  if (!Number.isInteger(trials) || trials < 1) throw new Error(`kmeans: localTrials must be a positive integer, got ${trials}`);
  return { nInit, maxIter, tol, seed, dtype, trials };
}

/** What every run of Lloyd's algorithm shares: the points, their squared norms and the settings. */
interface LloydRun {
  X: Tensor;
  xSq: Tensor;
  k: number;
  dtype: ComputeDType;
  maxIter: number;
  trials: number;
  /** Points per assignment chunk (the memory budget). */
  chunk: number;
  /** Convergence: total squared centroid shift at most tol × the mean per-feature variance. */
  threshold: number;
  onesN: Tensor;
}

interface Clustering {
  centroids: Tensor;
  labels: Tensor;
  inertia: number;
  iterations: number;
}

/** One run: k-means++ seeding, then Lloyd iterations until the labels or the centroids settle. */
function lloyd(run: LloydRun, rng: () => number): Clustering {
  const { X, xSq, k, maxIter, trials, chunk } = run;
  return tidy(() => {
    let C = kmeansPlusPlus(X, xSq, k, rng, trials);
    let prevLabels: Tensor | null = null;
    let iterations = 0;
    for (let it = 0; it < maxIter; it++) {
      iterations = it + 1;
      const step = tidy(() => lloydStep(run, C, prevLabels));
      C.dispose();
      prevLabels?.dispose();
      C = step.next;
      prevLabels = step.labels;
      if (step.done) break;
    }
    prevLabels?.dispose();
    // Final assignment so that labels and inertia match the returned centroids.
    const fin = assign(X, xSq, C, chunk);
    const inertia = fin.minDist.sum(null, false, 'float64').item();
    return { centroids: C, labels: fin.labels, inertia, iterations };
  });
}

/** Assigns the points to centroids C and moves each centroid to its points' mean (an empty one to the farthest points). */
function lloydStep(
  { X, xSq, k, dtype, chunk, threshold, onesN }: LloydRun,
  C: Tensor,
  prevLabels: Tensor | null,
): { next: Tensor; labels: Tensor; done: boolean } {
  const D = X.shape[1]!;
  const a = assign(X, xSq, C, chunk);
  const unchanged = prevLabels !== null && prevLabels.eq(a.labels).all().item() === 1;
  const sums = zeros([k, D], { dtype }).indexAdd(0, a.labels, X);
  const counts = zeros([k], { dtype }).indexAdd(0, a.labels, onesN);
  let next = sums.div(counts.clampMin(1).unsqueeze(1));
  const empty = counts.eq(0).nonzero().flatten();
  const nEmpty = empty.shape[0]!;
  if (nEmpty > 0) {
    const far = a.minDist.topk(nEmpty, 0, true, true).indices;
    next = next.indexCopy(0, empty, X.indexSelect(0, far));
  }
  const shift = next.sub(C).square().sum().item();
  return { next, labels: a.labels, done: unchanged || (nEmpty === 0 && shift <= threshold) };
}
