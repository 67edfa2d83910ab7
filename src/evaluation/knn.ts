// Exact k-nearest-neighbour search on the engine, chunked over the queries.
//
// Ranking: ascending Euclidean distance. Per chunk of queries the engine computes
//   s(q, r) = ||r||^2 - 2 <q, r>      (one fused addmm: linear(q, -2R, ||R||^2))
// which differs from ||q - r||^2 by the per-row constant ||q||^2, so it ranks identically. The reference
// side (-2R and ||R||^2) is prepared once; it is the "transposed once" operand of the matmul.
//
// Ties are broken deterministically by the smaller reference index:
//   1. topk(k, smallest) selects k candidates;
//   2. they are re-ordered by (value, index): sort by index, then a stable sort by value;
//   3. topk actually fetches k + 1 values: a row whose (k+1)-th value equals its k-th value has a tie
//      straddling the cut-off (topk may have picked arbitrary members of the tied group), and is recomputed
//      with a full stable sort of the row, which orders equal values by index. Rows without such a tie
//      cost nothing extra. (In self-retrieval the excluded self is +Infinity and never ties.)
// The result is therefore exactly "the first k of the references stably sorted by s(q, .)". Ties are
// equalities of the computed float scores: exact duplicates score equally whenever the BLAS computes their
// columns alike (seen here); near-duplicates may be ordered by rounding.
// Chunking does not change the ranking except through such rounding (1-row chunks run through gemv).
//
// Self-retrieval: the query's own INDEX is excluded (its score is set to +Infinity before topk), so a
// duplicate embedding at another index is still a valid neighbour, and the query itself never is.
import { linear, inferenceMode, tidy } from '../engine/index.js';
import { toEmbeddingTensor, type ComputeDType, type EmbeddingInput } from './inputs.js';

export const DEFAULT_MEMORY_BUDGET_BYTES = 512 * 1024 * 1024;

export interface KnnOptions {
  /** Number of neighbours per query (1 <= k <= number of candidate references). */
  k: number;
  /**
   * Query i is reference i and must not be returned as its own neighbour. Defaults to true when
   * `references` is omitted, false otherwise. Needs as many queries as references.
   */
  excludeSelf?: boolean;
  /** Memory budget for one chunk's working set (the [chunk, N] scores); sets the chunk size. Default 512 MiB. */
  memoryBudgetBytes?: number;
  /** Fixed number of queries per chunk (overrides the budget). */
  chunkSize?: number;
  /** Compute dtype. Default 'float32'. */
  dtype?: ComputeDType;
}

export interface KnnResult {
  /** Row-major [numQueries, k] reference indices, nearest first. */
  indices: Int32Array;
  /** Row-major [numQueries, k] Euclidean distances (non-decreasing along each row). */
  distances: Float32Array | Float64Array;
  numQueries: number;
  numReferences: number;
  k: number;
  /** Queries per chunk actually used. */
  chunkSize: number;
  /** Rows whose k-th neighbour was tied with an unselected reference and were fully sorted. */
  tieFallbackRows: number;
}

/** Queries per chunk that keep one chunk's working set (mainly the [chunk, N] scores) within the budget. */
export function knnChunkSize(
  numQueries: number,
  numReferences: number,
  k: number,
  memoryBudgetBytes = DEFAULT_MEMORY_BUDGET_BYTES,
  dtype: ComputeDType = 'float32',
): number {
  if (!(memoryBudgetBytes > 0)) throw new Error(`memoryBudgetBytes must be positive, got ${memoryBudgetBytes}`);
  const elt = dtype === 'float64' ? 8 : 4;
  // scores [c, N] (+ slack for topk's per-row work) + top-(k+1) values/indices and their re-ordering copies.
  const perRow = numReferences * (elt + 1) + (k + 1) * 6 * 8 + 64;
  return Math.max(1, Math.min(numQueries, Math.floor(memoryBudgetBytes / perRow)));
}

/**
 * Exact kNN of `queries` [Q, D] among `references` [N, D] (the queries themselves when omitted, with
 * self-exclusion by index). Runs in inference mode under tidy; no tensor outlives the call.
 */
export function knn(queries: EmbeddingInput, references: EmbeddingInput | null | undefined, options: KnnOptions): KnnResult {
  const dtype = options.dtype ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'float64') throw new Error(`knn: dtype must be 'float32' or 'float64', got '${String(dtype)}'`);
  const selfRef = references === null || references === undefined;
  const excludeSelf = options.excludeSelf ?? selfRef;
  const k = options.k;
  return inferenceMode(() =>
    tidy(() => {
      const q = toEmbeddingTensor(queries, 'queries', dtype);
      const r = selfRef ? q : toEmbeddingTensor(references, 'references', dtype);
      const [Q, D] = q.shape as [number, number];
      const [N, Dr] = r.shape as [number, number];
      if (Dr !== D) throw new Error(`knn: queries have dimension ${D} but references have ${Dr}`);
      if (excludeSelf && N !== Q)
        throw new Error(`knn: excludeSelf needs as many queries as references (query i is reference i), got ${Q} queries and ${N} references`);
      const available = excludeSelf ? N - 1 : N;
      if (!Number.isInteger(k) || k < 1 || k > available) {
        throw new Error(`knn: k must be an integer in [1, ${available}] (${N} references${excludeSelf ? ', self excluded' : ''}), got ${k}`);
      }
      const budget = options.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET_BYTES;
      const elt = dtype === 'float64' ? 8 : 4;
      const chunk = options.chunkSize !== undefined ? options.chunkSize : knnChunkSize(Q, N, k, budget, dtype);
      if (!Number.isInteger(chunk) || chunk < 1) throw new Error(`knn: chunkSize must be a positive integer, got ${chunk}`);

      const refW = r.mul(-2).contiguous(); // [N, D]: the matmul's weight, i.e. (-2R)^T applied once per chunk
      const refSq = r.square().sum(1); // [N]
      const qSq = q.square().sum(1); // [Q]

      const indices = new Int32Array(Q * k);
      const distances = dtype === 'float64' ? new Float64Array(Q * k) : new Float32Array(Q * k);
      let tieFallbackRows = 0;

      for (let start = 0; start < Q; start += chunk) {
        const c = Math.min(chunk, Q - start);
        tidy(() => {
          const scores = linear(q.narrow(0, start, c), refW, refSq); // [c, N]
          if (excludeSelf) scores.diagonal(start, 0, 1).fill_(Infinity);
          // k + 1 values when an unselected candidate exists, to detect ties across the cut-off.
          const fetch = k < N ? k + 1 : k;
          const topAll = scores.topk(fetch, 1, false, true);
          const topValues = topAll.values.narrow(1, 0, k);
          const topIndices = topAll.indices.narrow(1, 0, k);
          // Order the k candidates by (score, index): sort by index, then stable sort by score.
          const byIndex = topIndices.sort(1);
          const byScore = topValues.gather(1, byIndex.indices).sort(1);
          let idx = byIndex.values.gather(1, byScore.indices);
          let val = byScore.values;
          // Rows where the (k+1)-th value equals the k-th: recompute with a full stable sort.
          const tieRows =
            fetch > k
              ? topAll.values
                  .select(1, k)
                  .eq(topAll.values.select(1, k - 1))
                  .nonzero()
                  .flatten()
              : null;
          const nTie = tieRows ? tieRows.shape[0]! : 0;
          if (nTie > 0) {
            tieFallbackRows += nTie;
            // Sorting a row needs its values and int64 indices: keep sub-batches within the budget.
            const sub = Math.max(1, Math.floor(budget / (N * (elt + 8) * 2)));
            for (let s = 0; s < nTie; s += sub) {
              const rows = tieRows!.narrow(0, s, Math.min(sub, nTie - s));
              const full = scores.indexSelect(0, rows).sort(1);
              idx = idx.indexCopy(0, rows, full.indices.narrow(1, 0, k));
              val = val.indexCopy(0, rows, full.values.narrow(1, 0, k));
            }
          }
          const dist = val
            .add(qSq.narrow(0, start, c).unsqueeze(1))
            .clampMin(0)
            .sqrt();
          indices.set(idx.toInt32Array(), start * k);
          distances.set(dtype === 'float64' ? dist.toFloat64Array() : dist.toFloat32Array(), start * k);
        });
      }
      return { indices, distances, numQueries: Q, numReferences: N, k, chunkSize: chunk, tieFallbackRows };
    }),
  );
}
