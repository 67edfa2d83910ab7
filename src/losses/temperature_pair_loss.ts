// What NTXent and SupCon share: a temperature, a distance (cosine by default, as PML) and the pair-loss
// contract (reference sets, mined pairs, no parameters). Their logits are l = s / T, a distance entering as -d.
import type { Tensor } from '../engine/index.js';
import type { MetricLoss, MinedTuples, ReferenceSet } from './types.js';
import { checkNormalization, type EmbeddingNormalization } from './normalization.js';
import { asSimilarity, resolveDistance, type DistanceSpec, type PairDistance } from './distances.js';
import { pairMatrix, type PairMatrix } from './pairs.js';
import { checkPositive } from './checks.js';

export interface TemperaturePairOptions {
  /** Temperature T (NTXent default 0.07, SupCon 0.1). */
  temperature?: number;
  /** Default 'cosine'. */
  distance?: DistanceSpec;
  /** Used when the distance does not force one (default 'l2'). */
  embeddingNormalization?: EmbeddingNormalization;
}

export abstract class TemperaturePairLoss implements MetricLoss {
  abstract readonly name: string;
  readonly acceptsReference = true;
  readonly acceptsMined = true;
  readonly temperature: number;
  readonly distance: PairDistance;
  readonly embeddingNormalization: EmbeddingNormalization;

  protected constructor(name: string, options: TemperaturePairOptions, defaultTemperature: number) {
    this.temperature = checkPositive(name, 'temperature', options.temperature ?? defaultTemperature);
    this.distance = resolveDistance(options.distance, 'cosine', name);
    this.embeddingNormalization = checkNormalization(options.embeddingNormalization, 'l2', name);
  }

  /** The pair matrix (masks from `mined` when given) and the logits s / T. */
  protected logits(embeddings: Tensor, labels: Tensor, ref: ReferenceSet | undefined, mined: MinedTuples | undefined): PairMatrix & { logits: Tensor } {
    const pm = pairMatrix(this.name, embeddings, labels, ref, this.distance, this.embeddingNormalization, mined);
    return { ...pm, logits: asSimilarity(this.distance, pm.matrix).div(this.temperature) };
  }

  abstract forward(embeddings: Tensor, labels: Tensor, ref?: ReferenceSet, mined?: MinedTuples): Tensor;

  parameters(): Tensor[] {
    return [];
  }
}
