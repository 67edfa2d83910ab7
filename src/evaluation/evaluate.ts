// The single entry point for retrieval evaluation: normalise (N(v) by default), exact chunked kNN with
// self-exclusion by index, then P@1, Recall@K, R-Precision, MAP@R, and on request MAP@K, MRR (top `atK`
// ranks) and the clustering metrics NMI / AMI (one k-means shared by both). `avgOfAvgs` averages every kNN
// metric per class first (PML's avg_of_avgs).
//
// Modes:
//   - self-retrieval (no `references`): every query searches all the other queries (CUB, Cars, SOP);
//   - query/gallery (`references` + `referenceLabels`): queries search the gallery (In-Shop).
// k retrieved = max(max R_q, max K of Recall@K, atK for MAP@K / MRR), capped at the number of candidates.
import { inferenceMode, tidy, type Tensor } from '../engine/index.js';
import { toEmbeddingTensor, toLabelArray, type ComputeDType, type EmbeddingInput, type LabelInput } from './inputs.js';
import { normalizeEmbeddings, type NormalizationMode } from './normalize.js';
import { knn } from './knn.js';
import { rankedRelevance, relevantCounts } from './relevance.js';
import { evaluatedQueries } from './metrics.js';
import { DEFAULT_METRICS, metricRow, metricsOfKind, type KnnMetricInput, type RetrievalMetricName, type RetrievalMetrics } from './metric-table.js';
import { kmeans, type KMeansOptions } from './kmeans.js';

export { DEFAULT_METRICS, type RetrievalMetricName, type RetrievalMetrics } from './metric-table.js';
export const DEFAULT_RECALL_KS: readonly number[] = [1, 2, 4, 8];
/** Default K of MAP@K and MRR. */
export const DEFAULT_AT_K = 10;

export interface RetrievalResult extends RetrievalMetrics {
  mode: 'self' | 'query-gallery';
  numQueries: number;
  numReferences: number;
  /** Queries with R_q > 0, over which every kNN metric is averaged. */
  numEvaluated: number;
  /** Queries with R_q = 0 (no same-class reference), left out of every kNN metric. */
  numExcluded: number;
  /** Neighbours retrieved per query (0 when no kNN metric was requested). */
  k: number;
  /** Wall-clock milliseconds: kNN search, metrics, clustering (NMI / AMI). */
  timings: { knnMs: number; metricsMs: number; nmiMs: number };
}

export interface EvaluateRetrievalOptions {
  queries: EmbeddingInput;
  queryLabels: LabelInput;
  /** Gallery embeddings; omit for self-retrieval. */
  references?: EmbeddingInput;
  referenceLabels?: LabelInput;
  /** Default: P@1, Recall@K, R-Precision, MAP@R (MAP@K, MRR, NMI and AMI are opt-in; k-means is costly). */
  metrics?: readonly RetrievalMetricName[];
  /** K values of Recall@K. Default [1, 2, 4, 8]. */
  recallAtK?: readonly number[];
  /** K of MAP@K and MRR. Default 10 (PML's default ranks all references: set atK to the gallery size for that). */
  atK?: number;
  /** Average every kNN metric per class first, then over the classes (PML's avg_of_avgs). Default false. */
  avgOfAvgs?: boolean;
  /** Default 'lipschitz' = N(v). */
  normalize?: NormalizationMode;
  memoryBudgetBytes?: number;
  dtype?: ComputeDType;
  /** Options of the k-means behind NMI / AMI (k is the number of distinct query labels). */
  kmeans?: KMeansOptions;
}

export function evaluateRetrieval(options: EvaluateRetrievalOptions): RetrievalResult {
  const { want, ks, atK, selfMode } = checkOptions(options);
  const mode = options.normalize ?? 'lipschitz';
  const dtype = options.dtype ?? 'float32';

  return inferenceMode(() =>
    tidy(() => {
      const q = normalizeEmbeddings(toEmbeddingTensor(options.queries, 'queries', dtype), mode);
      const r = selfMode ? q : normalizeEmbeddings(toEmbeddingTensor(options.references!, 'references', dtype), mode);
      const Q = q.shape[0]!;
      const N = r.shape[0]!;
      if (!selfMode && r.shape[1] !== q.shape[1]) throw new Error(`evaluateRetrieval: queries have dimension ${q.shape[1]} but references have ${r.shape[1]}`);
      const qLabels = toLabelArray(options.queryLabels, 'queryLabels', Q);
      const rLabels = selfMode ? qLabels : toLabelArray(options.referenceLabels!, 'referenceLabels', N);

      const rq = relevantCounts(qLabels, rLabels, selfMode);
      let maxR = 0;
      let numEvaluated = 0;
      for (const v of rq) {
        if (v > maxR) maxR = v;
        if (v > 0) numEvaluated++;
      }
      const result: RetrievalResult = {
        mode: selfMode ? 'self' : 'query-gallery',
        numQueries: Q,
        numReferences: N,
        numEvaluated,
        numExcluded: Q - numEvaluated,
        k: 0,
        timings: { knnMs: 0, metricsMs: 0, nmiMs: 0 },
      };
      const ctx: SearchContext = { options, want, ks, atK, selfMode, dtype, q, r, qLabels, rLabels, maxR };
      addKnnMetrics(result, ctx);
      addClusteringMetrics(result, ctx);
      return result;
    }),
  );
}

/** The requested metrics, Recall@K's Ks, MAP@K's K and the mode, checked. */
function checkOptions(options: EvaluateRetrievalOptions): { want: Set<RetrievalMetricName>; ks: number[]; atK: number; selfMode: boolean } {
  const metrics = options.metrics ?? DEFAULT_METRICS;
  for (const m of metrics) metricRow(m, 'evaluateRetrieval');
  const want = new Set(metrics);
  const ks = [...(options.recallAtK ?? DEFAULT_RECALL_KS)];
  for (const K of ks) if (!Number.isInteger(K) || K < 1) throw new Error(`evaluateRetrieval: recallAtK values must be positive integers, got ${K}`);
  const atK = options.atK ?? DEFAULT_AT_K;
  if (!Number.isInteger(atK) || atK < 1) throw new Error(`evaluateRetrieval: atK must be a positive integer, got ${atK}`);
  const selfMode = options.references === undefined;
  if (selfMode && options.referenceLabels !== undefined) throw new Error('evaluateRetrieval: referenceLabels given without references');
  if (!selfMode && options.referenceLabels === undefined) throw new Error('evaluateRetrieval: references given without referenceLabels');
  return { want, ks, atK, selfMode };
}

/** The normalised embeddings, labels and settings the metric steps share. */
interface SearchContext {
  options: EvaluateRetrievalOptions;
  want: Set<RetrievalMetricName>;
  ks: number[];
  atK: number;
  selfMode: boolean;
  dtype: ComputeDType;
  q: Tensor;
  r: Tensor;
  qLabels: Int32Array;
  rLabels: Int32Array;
  /** The largest R_q (same-class references of a query). */
  maxR: number;
}

/** The requested kNN metrics (and Recall@K) over one exact search as deep as the deepest of them needs. */
function addKnnMetrics(result: RetrievalResult, { options, want, ks, atK, selfMode, dtype, q, r, qLabels, rLabels, maxR }: SearchContext): void {
  const knnRows = metricsOfKind('knn').filter(([n]) => want.has(n));
  const recall = want.has('recallAtK') ? metricsOfKind('perK')[0]![1] : null;
  const needKnn = knnRows.length > 0 || recall !== null;
  const available = selfMode ? result.numReferences - 1 : result.numReferences;
  if (needKnn && available >= 1) {
    let k = Math.max(1, ...knnRows.map(([, row]) => row.depth({ maxR, atK })), ...(recall ? ks : []));
    k = Math.min(k, available);
    const t0 = performance.now();
    const nn = knn(q, selfMode ? null : r, { k, excludeSelf: selfMode, memoryBudgetBytes: options.memoryBudgetBytes, dtype });
    const t1 = performance.now();
    const input: KnnMetricInput = {
      rr: rankedRelevance(nn.indices, k, qLabels, rLabels, selfMode),
      k,
      atK,
      perClass: options.avgOfAvgs ? qLabels : undefined,
    };
    for (const [name, row] of knnRows) result[name] = row.compute(input);
    // K beyond the candidate count retrieves everything: recall at the largest available rank.
    if (recall) result.recallAtK = Object.fromEntries(ks.map((K) => [K, recall.compute(input, K)]));
    result.k = k;
    result.numEvaluated = evaluatedQueries(input.rr);
    result.numExcluded = result.numQueries - result.numEvaluated;
    result.timings.knnMs = t1 - t0;
    result.timings.metricsMs = performance.now() - t1;
  } else if (needKnn) {
    // A single reference in self-retrieval: nothing can be retrieved, every query is excluded.
    for (const [name] of knnRows) result[name] = NaN;
    if (recall) result.recallAtK = Object.fromEntries(ks.map((K) => [K, NaN]));
  }
}

/** The requested clustering metrics (NMI, AMI) over one k-means of the queries, k = their number of classes. */
function addClusteringMetrics(result: RetrievalResult, { options, want, dtype, q, qLabels }: SearchContext): void {
  const clusterRows = metricsOfKind('clustering').filter(([n]) => want.has(n));
  if (clusterRows.length === 0) return;
  const t0 = performance.now();
  const numClasses = new Set(qLabels).size;
  const km = kmeans(q, numClasses, { dtype, memoryBudgetBytes: options.memoryBudgetBytes, ...options.kmeans });
  for (const [name, row] of clusterRows) result[name] = row.compute(qLabels, km.labels);
  result.timings.nmiMs = performance.now() - t0;
}
