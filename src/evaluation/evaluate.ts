// The single entry point for retrieval evaluation: normalise (N(v) by default), exact chunked kNN with
// self-exclusion by index, then P@1, Recall@K, R-Precision, MAP@R, and on request MAP@K, MRR (top `atK`
// ranks) and the clustering metrics NMI / AMI (one k-means shared by both). `avgOfAvgs` averages every kNN
// metric per class first (PML's avg_of_avgs).
//
// Modes:
//   - self-retrieval (no `references`): every query searches all the other queries (CUB, Cars, SOP);
//   - query/gallery (`references` + `referenceLabels`): queries search the gallery (In-Shop).
// k retrieved = max(max R_q, max K of Recall@K, atK for MAP@K / MRR), capped at the number of candidates.
import { inferenceMode, tidy } from '../engine/index.js';
import { toEmbeddingTensor, toLabelArray, type ComputeDType, type EmbeddingInput, type LabelInput } from './inputs.js';
import { normalizeEmbeddings, type NormalizationMode } from './normalize.js';
import { knn } from './knn.js';
import { rankedRelevance, relevantCounts } from './relevance.js';
import { evaluatedQueries, mapAtK, mapAtR, meanReciprocalRank, precisionAt1, recallAtK, rPrecision } from './metrics.js';
import { kmeans, type KMeansOptions } from './kmeans.js';
import { adjustedMutualInformation, normalizedMutualInformation } from './nmi.js';

export type RetrievalMetricName = 'precisionAt1' | 'recallAtK' | 'rPrecision' | 'mapAtR' | 'mapAtK' | 'mrr' | 'nmi' | 'ami';

export const DEFAULT_METRICS: readonly RetrievalMetricName[] = ['precisionAt1', 'recallAtK', 'rPrecision', 'mapAtR'];
export const DEFAULT_RECALL_KS: readonly number[] = [1, 2, 4, 8];
/** Default K of MAP@K and MRR. */
export const DEFAULT_AT_K = 10;

/** Metric values (fractions in [0, 1], not percentages). Absent when not requested. */
export interface RetrievalMetrics {
  precisionAt1?: number;
  /** Recall@K keyed by K. */
  recallAtK?: Record<number, number>;
  rPrecision?: number;
  mapAtR?: number;
  /** MAP@K with K = atK (PML's mean_average_precision). */
  mapAtK?: number;
  /** Mean reciprocal rank within the top atK. */
  mrr?: number;
  nmi?: number;
  ami?: number;
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

const KNOWN: ReadonlySet<string> = new Set(['precisionAt1', 'recallAtK', 'rPrecision', 'mapAtR', 'mapAtK', 'mrr', 'nmi', 'ami']);

export function evaluateRetrieval(options: EvaluateRetrievalOptions): RetrievalResult {
  const metrics = options.metrics ?? DEFAULT_METRICS;
  for (const m of metrics) if (!KNOWN.has(m)) throw new Error(`evaluateRetrieval: unknown metric '${m}' (known: ${[...KNOWN].join(', ')})`);
  const want = new Set(metrics);
  const ks = [...(options.recallAtK ?? DEFAULT_RECALL_KS)];
  for (const K of ks) if (!Number.isInteger(K) || K < 1) throw new Error(`evaluateRetrieval: recallAtK values must be positive integers, got ${K}`);
  const atK = options.atK ?? DEFAULT_AT_K;
  if (!Number.isInteger(atK) || atK < 1) throw new Error(`evaluateRetrieval: atK must be a positive integer, got ${atK}`);
  const selfMode = options.references === undefined;
  if (selfMode && options.referenceLabels !== undefined) throw new Error('evaluateRetrieval: referenceLabels given without references');
  if (!selfMode && options.referenceLabels === undefined) throw new Error('evaluateRetrieval: references given without referenceLabels');
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

      const needKnn = ['precisionAt1', 'recallAtK', 'rPrecision', 'mapAtR', 'mapAtK', 'mrr'].some((m) => want.has(m as RetrievalMetricName));
      const perClass = options.avgOfAvgs ? qLabels : undefined;
      const available = selfMode ? N - 1 : N;
      if (needKnn && available >= 1) {
        let k = 1;
        if (want.has('rPrecision') || want.has('mapAtR')) k = Math.max(k, maxR);
        if (want.has('recallAtK')) for (const K of ks) k = Math.max(k, K);
        if (want.has('mapAtK') || want.has('mrr')) k = Math.max(k, atK);
        k = Math.min(k, available);
        const t0 = performance.now();
        const nn = knn(q, selfMode ? null : r, { k, excludeSelf: selfMode, memoryBudgetBytes: options.memoryBudgetBytes, dtype });
        const t1 = performance.now();
        const rr = rankedRelevance(nn.indices, k, qLabels, rLabels, selfMode);
        if (want.has('precisionAt1')) result.precisionAt1 = precisionAt1(rr, perClass);
        if (want.has('recallAtK')) {
          result.recallAtK = {};
          // K beyond the candidate count retrieves everything: recall at the largest available rank.
          for (const K of ks) result.recallAtK[K] = recallAtK(rr, Math.min(K, k), perClass);
        }
        if (want.has('rPrecision')) result.rPrecision = rPrecision(rr, perClass);
        if (want.has('mapAtR')) result.mapAtR = mapAtR(rr, perClass);
        if (want.has('mapAtK')) result.mapAtK = mapAtK(rr, Math.min(atK, k), perClass);
        if (want.has('mrr')) result.mrr = meanReciprocalRank(rr, Math.min(atK, k), perClass);
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
        if (want.has('mapAtK')) result.mapAtK = NaN;
        if (want.has('mrr')) result.mrr = NaN;
      }

      if (want.has('nmi') || want.has('ami')) {
        const t0 = performance.now();
        const numClasses = new Set(qLabels).size;
        const km = kmeans(q, numClasses, { dtype, memoryBudgetBytes: options.memoryBudgetBytes, ...options.kmeans });
        if (want.has('nmi')) result.nmi = normalizedMutualInformation(qLabels, km.labels);
        if (want.has('ami')) result.ami = adjustedMutualInformation(qLabels, km.labels);
        result.timings.nmiMs = performance.now() - t0;
      }
      return result;
    }),
  );
}
