// What every miner shares: the distance it ranks pairs by (with its normalisation), argument checks, and
// the [batch x (batch | ref)] matrix and label masks it mines from. Miners run without autograd; what they
// return are int64 index vectors (PML's indices tuples), which pair losses take as `mined`.
import { noGrad, type Tensor } from '../engine/index.js';
import type { MinedTuples, ReferenceSet } from '../losses/types.js';
import { checkNormalization, type EmbeddingNormalization } from '../losses/normalization.js';
import { resolveDistance, type DistanceName, type DistanceSpec, type PairDistance } from '../losses/distances.js';
import { pairMatrix, type PairMatrix } from '../losses/pairs.js';

export interface MinerOptions {
  /** Distance the miner ranks by (default: PML's, per miner). */
  distance?: DistanceSpec;
  /** Used when the distance does not force one (default 'l2', as PML's normalised LpDistance). */
  embeddingNormalization?: EmbeddingNormalization;
}

export interface Miner {
  readonly name: string;
  readonly distance: PairDistance;
  /** Pairs or triplets of the batch (rows) against itself or `ref` (columns). */
  mine(embeddings: Tensor, labels: Tensor, ref?: ReferenceSet): MinedTuples;
}

export abstract class BaseMiner implements Miner {
  abstract readonly name: string;
  readonly distance: PairDistance;
  readonly embeddingNormalization: EmbeddingNormalization;

  protected constructor(name: string, options: MinerOptions, defaultDistance: DistanceName) {
    this.distance = resolveDistance(options.distance, defaultDistance, name);
    this.embeddingNormalization = checkNormalization(options.embeddingNormalization, 'l2', name);
  }

  mine(embeddings: Tensor, labels: Tensor, ref?: ReferenceSet): MinedTuples {
    return noGrad(() => {
      const r = ref === undefined ? undefined : { embeddings: ref.embeddings.detach(), labels: ref.labels };
      const pm = pairMatrix(this.name, embeddings.detach(), labels, r, this.distance, this.embeddingNormalization);
      return this.mineMatrix(pm);
    });
  }

  /** Mines from the matrix (distances or similarities, see `distance.isSimilarity`) and its label masks. */
  protected abstract mineMatrix(pm: PairMatrix): MinedTuples;
}
