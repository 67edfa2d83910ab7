// The single entry point for retrieval evaluation: normalise (N(v) by default), exact chunked kNN with
// self-exclusion by index, then P@1, Recall@K, R-Precision, MAP@R and optionally NMI (k-means).
//
// Modes:
//   - self-retrieval (no `references`): every query searches all the other queries (CUB, Cars, SOP);
//   - query/gallery (`references` + `referenceLabels`): queries search the gallery (In-Shop).
// k retrieved = max(max R_q, max K of Recall@K), capped at the number of candidate references.
import { noGrad, tidy } from '../engine/index.js';
import { toEmbeddingTensor, toLabelArray, type ComputeDType, type EmbeddingInput, type LabelInput } from './inputs.js';
import { normalizeEmbeddings, type NormalizationMode } from './normalize.js';
import { knn } from './knn.js';
import { rankedRelevance, relevantCounts } from './relevance.js';
import { evaluatedQueries, mapAtR, precisionAt1, recallAtK, rPrecision } from './metrics.js';
import { kmeans, type KMeansOptions } from './kmeans.js';
import { normalizedMutualInformation } from './nmi.js';

export type RetrievalMetricName = 'precisionAt1' | 'recallAtK' | 'rPrecision' | 'mapAtR' | 'nmi';

export const DEFAULT_METRICS: readonly RetrievalMetricName[] = ['precisionAt1', 'recallAtK', 'rPrecision', 'mapAtR'];
export const DEFAULT_RECALL_KS: readonly number[] = [1, 2, 4, 8];

/** Metric values (fractions in [0, 1], not percentages). Absent when not requested. */
export interface RetrievalMetrics {
  precisionAt1?: number;
  /** Recall@K keyed by K. */
  recallAtK?: Record<number, number>;
  rPrecision?: number;
  mapAtR?: number;
  nmi?: number;
}

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
  /** Wall-clock milliseconds: kNN search, metrics, clustering (NMI). */
  timings: { knnMs: number; metricsMs: number; nmiMs: number };
}

export interface EvaluateRetrievalOptions {
  queries: EmbeddingInput;
  queryLabels: LabelInput;
  /** Gallery embeddings; omit for self-retrieval. */
  references?: EmbeddingInput;
  referenceLabels?: LabelInput;
  /** Default: P@1, Recall@K, R-Precision, MAP@R (NMI is opt-in: k-means is costly). */
  metrics?: readonly RetrievalMetricName[];
  /** K values of Recall@K. Default [1, 2, 4, 8]. */
  recallAtK?: readonly number[];
  /** Default 'lipschitz' = N(v). */
  normalize?: NormalizationMode;
  memoryBudgetBytes?: number;
  dtype?: ComputeDType;
  /** Options of the k-means behind NMI (k is the number of distinct query labels). */
  kmeans?: KMeansOptions;
}

const KNOWN: ReadonlySet<string> = new Set(['precisionAt1', 'recallAtK', 'rPrecision', 'mapAtR', 'nmi']);

export function evaluateRetrieval(options: EvaluateRetrievalOptions): RetrievalResult {
  const metrics = options.metrics ?? DEFAULT_METRICS;
  for (const m of metrics) if (!KNOWN.has(m)) throw new Error(`evaluateRetrieval: unknown metric '${m}' (known: ${[...KNOWN].join(', ')})`);
  const want = new Set(metrics);
  const ks = [...(options.recallAtK ?? DEFAULT_RECALL_KS)];
  for (const K of ks) if (!Number.isInteger(K) || K < 1) throw new Error(`evaluateRetrieval: recallAtK values must be positive integers, got ${K}`);
  const selfMode = options.references === undefined;
  if (selfMode && options.referenceLabels !== undefined) throw new Error('evaluateRetrieval: referenceLabels given without references');
  if (!selfMode && options.referenceLabels === undefined) throw new Error('evaluateRetrieval: references given without referenceLabels');
  const mode = options.normalize ?? 'lipschitz';
  const dtype = options.dtype ?? 'float32';

  return noGrad(() =>
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

      const needKnn = want.has('precisionAt1') || want.has('recallAtK') || want.has('rPrecision') || want.has('mapAtR');
      const available = selfMode ? N - 1 : N;
      if (needKnn && available >= 1) {
        let k = 1;
        if (want.has('rPrecision') || want.has('mapAtR')) k = Math.max(k, maxR);
        if (want.has('recallAtK')) for (const K of ks) k = Math.max(k, K);
        k = Math.min(k, available);
        const t0 = performance.now();
        const nn = knn(q, selfMode ? null : r, { k, excludeSelf: selfMode, memoryBudgetBytes: options.memoryBudgetBytes, dtype });
        const t1 = performance.now();
        const rr = rankedRelevance(nn.indices, k, qLabels, rLabels, selfMode);
        if (want.has('precisionAt1')) result.precisionAt1 = precisionAt1(rr);
        if (want.has('recallAtK')) {
          result.recallAtK = {};
          // K beyond the candidate count retrieves everything: recall at the largest available rank.
          for (const K of ks) result.recallAtK[K] = recallAtK(rr, Math.min(K, k));
        }
        if (want.has('rPrecision')) result.rPrecision = rPrecision(rr);
        if (want.has('mapAtR')) result.mapAtR = mapAtR(rr);
        result.k = k;
        result.numEvaluated = evaluatedQueries(rr);
        result.numExcluded = Q - result.numEvaluated;
        result.timings.knnMs = t1 - t0;
        result.timings.metricsMs = performance.now() - t1;
      } else if (needKnn) {
        // A single reference in self-retrieval: nothing can be retrieved, every query is excluded.
        if (want.has('precisionAt1')) result.precisionAt1 = NaN;
        if (want.has('recallAtK')) result.recallAtK = Object.fromEntries(ks.map((K) => [K, NaN]));
        if (want.has('rPrecision')) result.rPrecision = NaN;
        if (want.has('mapAtR')) result.mapAtR = NaN;
      }

      if (want.has('nmi')) {
        const t0 = performance.now();
        const numClasses = new Set(qLabels).size;
        const km = kmeans(q, numClasses, { dtype, memoryBudgetBytes: options.memoryBudgetBytes, ...options.kmeans });
        result.nmi = normalizedMutualInformation(qLabels, km.labels);
        result.timings.nmiMs = performance.now() - t0;
      }
      return result;
    }),
  );
}
