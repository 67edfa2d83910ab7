// Evaluation: chunked exact kNN, retrieval metrics (P@1, Recall@K, R-Precision, MAP@R, MAP@K, MRR, per-class
// averaging), NMI / AMI via k-means,
// ensembles (separated "128D" / concatenated "512D") and repeat statistics.
export { type EmbeddingInput, type LabelInput, type ComputeDType, toEmbeddingTensor, toLabelArray } from './inputs.js';
export { type NormalizationMode, normalizeEmbeddings } from './normalize.js';
export { knn, knnChunkSize, DEFAULT_MEMORY_BUDGET_BYTES, type KnnOptions, type KnnResult } from './knn.js';
export { rankedRelevance, relevantCounts, type RankedRelevance } from './relevance.js';
export { precisionAt1, recallAtK, rPrecision, mapAtR, mapAtK, meanReciprocalRank, averagePrecisionAtR, evaluatedQueries } from './metrics.js';
export { kmeans, type KMeansOptions, type KMeansResult } from './kmeans.js';
export { normalizedMutualInformation, adjustedMutualInformation, expectedMutualInformation, mutualInformation, labelEntropy } from './nmi.js';
export { evaluateRetrieval, DEFAULT_RECALL_KS, DEFAULT_AT_K, type EvaluateRetrievalOptions, type RetrievalResult } from './evaluate.js';
export * from './metric-table.js';
export {
  evaluateEnsemble,
  evaluateEnsembleRepeats,
  type ModelEmbeddings,
  type EnsembleEvaluateOptions,
  type EnsembleResult,
  type EnsembleRepeatsResult,
} from './ensemble.js';
export { flattenMetrics, meanMetrics, describe, summarizeRepeats, type Stat } from './summary.js';
