// The end-of-epoch validation: MAP@R, P@1 and R-Precision of a fixed (seeded) validation subset, with the
// divergence check on its embeddings and a one-time warning when they collapse to one point.
import { Rng, deriveSeed, type ImageLoader } from '../data/index.js';
import { evaluateRetrieval } from '../evaluation/index.js';
import type { EmbeddingNet } from '../models/index.js';
import type { RunConfig } from './config.js';
import { embedItems, asEmbeddingInput } from './embed.js';
import type { EmbedFn } from './sharded-embed.js';
import { checkValidationEmbeddings, embeddingsCollapsed, chancePrecisionAt1 } from './divergence.js';
import type { ValidationMetrics } from './run-types.js';

/** A fixed subset of `n` validation items keeps epochs cheap on large validation folds (undefined: all). */
export function validationSubset(n: number, cap: number | null, seed: number): number[] | undefined {
  if (cap === null || n <= cap) return undefined;
  const idx = Array.from({ length: n }, (_, i) => i);
  new Rng(deriveSeed(seed, 4)).shuffle(idx);
  return idx.slice(0, cap).sort((a, b) => a - b);
}

/** A distributed run's validation: embedding sharded over the ranks, and rank 0's metrics for every rank. */
export interface ValidationSharding {
  embed: EmbedFn;
  fromRank0(values: readonly number[]): number[];
}

export class EpochValidator {
  /** P@1 of a random ranking of the validation labels (for the at-chance warning at the end). */
  chanceP1 = 0;
  private collapseReported = false;
  private readonly indices: number[] | undefined;

  constructor(
    private readonly model: EmbeddingNet,
    readonly images: ImageLoader,
    private readonly cfg: RunConfig,
    private readonly warn: (message: string) => void,
    private readonly sharding?: ValidationSharding,
  ) {
    this.indices = validationSubset(images.dataset.size, cfg.training.maxValidationSamples, cfg.seed);
  }

  async run(epoch: number, lr: number): Promise<ValidationMetrics> {
    const e = await (this.sharding?.embed ?? embedItems)(this.model, this.images, { indices: this.indices, batchSize: this.cfg.training.evalBatchSize });
    checkValidationEmbeddings(e.data, epoch, lr);
    if (!this.collapseReported && embeddingsCollapsed(e.data, e.dim)) {
      this.collapseReported = true;
      this.warn(
        `epoch ${epoch}: the ${e.labels.length} validation embeddings are all equal (the model collapsed to one point); retrieval is at chance. Lower optimizer.lr or change the loss margins`,
      );
    }
    this.chanceP1 = chancePrecisionAt1(e.labels);
    const r = evaluateRetrieval({
      queries: asEmbeddingInput(e),
      queryLabels: e.labels,
      metrics: ['precisionAt1', 'rPrecision', 'mapAtR'],
      normalize: this.cfg.evaluation.normalization,
    });
    const values = [r.mapAtR ?? 0, r.precisionAt1 ?? 0, r.rPrecision ?? 0];
    // Decisions (CCP's projection, early stopping, the schedule) follow rank 0's numbers on every rank.
    const [mapAtR, precisionAt1, rPrecision] = this.sharding ? this.sharding.fromRank0(values) : values;
    return { mapAtR: mapAtR!, precisionAt1: precisionAt1!, rPrecision: rPrecision! };
  }
}
