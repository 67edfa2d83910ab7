// Proxy (re)initialisation by greedy K-center (farthest-first), per class and vectorised over classes
// (spec §2.3), plus the candidate-pool size rule and the random branch for b <= 1.
import { type Tensor, tidy, noGrad, rand, stack } from '../engine/index.js';

function shapeStr(t: Tensor): string {
  return `[${t.shape.join(', ')}]`;
}

/** Candidate pool size b′ per class: b when b >= K, otherwise b·K (spec §2.3). */
export function poolSize(b: number, K: number): number {
  if (!Number.isInteger(b) || b < 1) throw new Error(`poolSize: b (representative pool size) must be an integer >= 1, got ${b}`);
  if (!Number.isInteger(K) || K < 1) throw new Error(`poolSize: K (proxies per class) must be an integer >= 1, got ${K}`);
  return b >= K ? b : b * K;
}

/**
 * Squared Euclidean distance of every pool row to one centre per class: pool [C,b′,D], centre [C,1,D] → [C,b′].
 * Its own scope frees the two [C,b′,D] temporaries at once (with 10k classes each is 36 MB; K-center makes 2K′+2K).
 */
function sqDistToCentre(pool: Tensor, centre: Tensor): Tensor {
  return tidy(() => pool.sub(centre).square().sum(-1));
}

/** [C, K, D] (class-major) → [K·C, D] with row r·C + c = proxy r of class c (the layout of P). */
export function classMajorToRows(t: Tensor): Tensor {
  if (t.rank !== 3) throw new Error(`classMajorToRows: expected [C, K, D], got ${shapeStr(t)}`);
  const [C, K, D] = t.shape as [number, number, number];
  return t
    .transpose(0, 1)
    .contiguous()
    .reshape([K * C, D]);
}

/** [K·C, D] (row r·C + c = proxy r of class c) → [C, K, D]. */
export function rowsToClassMajor(p: Tensor, numClasses: number): Tensor {
  if (p.rank !== 2) throw new Error(`rowsToClassMajor: expected [K*C, D], got ${shapeStr(p)}`);
  const [R, D] = p.shape as [number, number];
  if (R % numClasses !== 0) throw new Error(`rowsToClassMajor: ${R} rows are not a multiple of numClasses=${numClasses}`);
  return p
    .reshape([R / numClasses, numClasses, D])
    .transpose(0, 1)
    .contiguous();
}

/**
 * Greedy K-center (farthest-first) per class, all classes at once (spec §2.3).
 *
 * - `pool` [C, b′, D]: candidate embeddings (raw head outputs), class c in pool[c].
 * - `prev` [C, K′, D]: the previous proxies (P_best), used only as already-covered seeds and then discarded.
 *   All zeros at the very start, so the first pick of a class is its candidate of largest norm.
 * - Distances are squared Euclidean on the raw vectors, computed as Σ(a−b)² (exact 0 for identical rows).
 * - Ties in the argmax pick the first index.
 *
 * Returns the K new proxies laid out as P is: [K·C, D], row r·C + c = r-th pick of class c. Runs without grad.
 */
export function greedyKCenter(pool: Tensor, prev: Tensor, K: number): Tensor {
  if (pool.rank !== 3) throw new Error(`greedyKCenter: pool must be [C, b', D], got ${shapeStr(pool)}`);
  if (prev.rank !== 3) throw new Error(`greedyKCenter: prev must be [C, K, D], got ${shapeStr(prev)}`);
  const [C, B, D] = pool.shape as [number, number, number];
  if (prev.size(0) !== C || prev.size(2) !== D) {
    throw new Error(`greedyKCenter: prev ${shapeStr(prev)} does not match pool ${shapeStr(pool)} in classes or dimension`);
  }
  if (!Number.isInteger(K) || K < 1) throw new Error(`greedyKCenter: K must be an integer >= 1, got ${K}`);
  if (K > B) throw new Error(`greedyKCenter: K=${K} proxies per class cannot be picked from a pool of ${B} candidates per class`);
  return tidy(() =>
    noGrad(() => {
      const src = pool.detach();
      const seeds = prev.detach().to(src.dtype);
      // m[c, j] = min_k ‖pool[c,j] − prev[c,k]‖², one seed at a time so memory stays at [C, b′, D].
      let m: Tensor | null = null;
      for (let k = 0; k < seeds.size(1); k++) {
        const d = sqDistToCentre(src, seeds.narrow(1, k, 1));
        m = m ? m.minimum(d) : d;
      }
      if (!m) m = sqDistToCentre(src, seeds.narrow(1, 0, 0).sum(1, true)); // no seeds: distance to the origin
      const picks: Tensor[] = [];
      for (let r = 0; r < K; r++) {
        const j = m.argmax(1, true); // [C, 1]; first index on ties
        const chosen = src.gather(1, j.unsqueeze(2).expand([C, 1, D])); // [C, 1, D]
        picks.push(chosen.squeeze(1));
        m = m.minimum(sqDistToCentre(src, chosen));
      }
      return classMajorToRows(stack(picks, 1));
    }),
  );
}

/**
 * The b <= 1 branch: K-center is skipped and K distinct random candidates are taken per class.
 * Returns [K·C, D] in P's layout.
 */
export function randomProxies(pool: Tensor, K: number): Tensor {
  if (pool.rank !== 3) throw new Error(`randomProxies: pool must be [C, b', D], got ${shapeStr(pool)}`);
  const [C, B, D] = pool.shape as [number, number, number];
  if (!Number.isInteger(K) || K < 1 || K > B) throw new Error(`randomProxies: K must be an integer in [1, ${B}], got ${K}`);
  return tidy(() =>
    noGrad(() => {
      const order = rand([C, B], { device: pool.device }).argsort(1).narrow(1, 0, K); // a random K-subset per class
      const chosen = pool.detach().gather(1, order.unsqueeze(2).expand([C, K, D]));
      return classMajorToRows(chosen);
    }),
  );
}

/**
 * New proxies from a candidate pool, following the representative-pool size b: greedy K-center seeded with
 * `prev` when b > 1, K random candidates per class when b <= 1.
 */
export function selectProxies(pool: Tensor, prev: Tensor, K: number, b: number): Tensor {
  if (!Number.isInteger(b) || b < 1) throw new Error(`selectProxies: b must be an integer >= 1, got ${b}`);
  return b <= 1 ? randomProxies(pool, K) : greedyKCenter(pool, prev, K);
}
