// Ensemble evaluation (spec 5.4):
//   separated ("128D")   = the mean of the metrics of the models evaluated one by one;
//   concatenated ("512D") = every model's N-normalised embeddings concatenated, re-normalised with N, then
//                           evaluated once.
// And every combination of repeats (one repeat per model), summarised by mean / std / best / worst.
import { cat, noGrad, tidy } from '../engine/index.js';
import { evaluateRetrieval, type EvaluateRetrievalOptions, type RetrievalMetrics, type RetrievalResult } from './evaluate.js';
import { toEmbeddingTensor, type EmbeddingInput } from './inputs.js';
import { normalizeEmbeddings } from './normalize.js';
import { meanMetrics, summarizeRepeats, type Stat } from './summary.js';

/** Embeddings of one model: queries, and the gallery in query/gallery evaluation. */
export interface ModelEmbeddings {
  queries: EmbeddingInput;
  references?: EmbeddingInput;
}

export type EnsembleEvaluateOptions = Omit<EvaluateRetrievalOptions, 'queries' | 'references'>;

export interface EnsembleResult {
  /** Each model on its own embeddings. */
  perModel: RetrievalResult[];
  /** "128D": mean of perModel's metrics. */
  separated: RetrievalMetrics;
  /** "512D": the concatenated, re-normalised embeddings. */
  concatenated: RetrievalResult;
}

function concatenate(models: readonly ModelEmbeddings[], side: 'queries' | 'references', options: EnsembleEvaluateOptions) {
  const mode = options.normalize ?? 'lipschitz';
  const dtype = options.dtype ?? 'float32';
  return noGrad(() =>
    tidy(() => {
      const parts = models.map((m, i) => normalizeEmbeddings(toEmbeddingTensor(m[side]!, `models[${i}].${side}`, dtype), mode));
      const rows = parts[0]!.shape[0]!;
      parts.forEach((p, i) => {
        if (p.shape[0] !== rows) throw new Error(`evaluateEnsemble: models[${i}].${side} has ${p.shape[0]} rows, models[0] has ${rows}`);
      });
      return cat(parts, 1); // evaluateRetrieval re-normalises with the same mode
    }),
  );
}

function checkModels(models: readonly ModelEmbeddings[], options: EnsembleEvaluateOptions): void {
  if (models.length === 0) throw new Error('evaluateEnsemble: no models');
  const gallery = options.referenceLabels !== undefined;
  models.forEach((m, i) => {
    if (gallery && m.references === undefined) throw new Error(`evaluateEnsemble: models[${i}].references is missing (referenceLabels were given)`);
    if (!gallery && m.references !== undefined) throw new Error(`evaluateEnsemble: models[${i}].references given without referenceLabels`);
  });
}

function evaluateConcatenated(models: readonly ModelEmbeddings[], options: EnsembleEvaluateOptions): RetrievalResult {
  return tidy(() => {
    const queries = concatenate(models, 'queries', options);
    const references = options.referenceLabels !== undefined ? concatenate(models, 'references', options) : undefined;
    return evaluateRetrieval({ ...options, queries, references });
  });
}

/** Separated ("128D") and concatenated ("512D") evaluation of several models on the same data. */
export function evaluateEnsemble(models: readonly ModelEmbeddings[], options: EnsembleEvaluateOptions): EnsembleResult {
  checkModels(models, options);
  const concatenated = evaluateConcatenated(models, options); // first: it checks that the row counts match
  const perModel = models.map((m) => evaluateRetrieval({ ...options, queries: m.queries, references: m.references }));
  return { perModel, separated: meanMetrics(perModel), concatenated };
}

export interface EnsembleRepeatsResult {
  /** Number of combinations evaluated (the product of the repeats per model). */
  combinations: number;
  separated: Record<string, Stat>;
  concatenated: Record<string, Stat>;
}

/**
 * Every combination of repeats (one repeat per model; repeats[m][r] = model m, repeat r) evaluated as an
 * ensemble, then summarised. Each single model/repeat is evaluated once and reused across combinations.
 */
export function evaluateEnsembleRepeats(
  repeats: readonly (readonly ModelEmbeddings[])[],
  options: EnsembleEvaluateOptions & { maxCombinations?: number; ddof?: number },
): EnsembleRepeatsResult {
  if (repeats.length === 0) throw new Error('evaluateEnsembleRepeats: no models');
  repeats.forEach((r, m) => {
    if (r.length === 0) throw new Error(`evaluateEnsembleRepeats: model ${m} has no repeats`);
    checkModels(r, options);
  });
  const total = repeats.reduce((a, r) => a * r.length, 1);
  const cap = options.maxCombinations ?? 256;
  if (total > cap) throw new Error(`evaluateEnsembleRepeats: ${total} combinations exceed maxCombinations = ${cap}`);
  const { maxCombinations: _m, ddof, ...evalOptions } = options;
  const single = repeats.map((r) => r.map((e) => evaluateRetrieval({ ...evalOptions, queries: e.queries, references: e.references })));
  const separated: RetrievalMetrics[] = [];
  const concatenated: RetrievalMetrics[] = [];
  const pick = new Array<number>(repeats.length).fill(0);
  for (let c = 0; c < total; c++) {
    let rest = c;
    for (let m = repeats.length - 1; m >= 0; m--) {
      pick[m] = rest % repeats[m]!.length;
      rest = Math.floor(rest / repeats[m]!.length);
    }
    separated.push(meanMetrics(pick.map((r, m) => single[m]![r]!)));
    concatenated.push(
      evaluateConcatenated(
        pick.map((r, m) => repeats[m]![r]!),
        evalOptions,
      ),
    );
  }
  return { combinations: total, separated: summarizeRepeats(separated, ddof ?? 0), concatenated: summarizeRepeats(concatenated, ddof ?? 0) };
}
