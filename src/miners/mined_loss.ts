// A pair loss fed by a miner (PML's `loss(embeddings, labels, miner(embeddings, labels))`): every forward
// mines the batch (against `ref` when one is given: CCP proxies, an XBM memory) and passes the pairs or
// triplets to the loss. It is itself a MetricLoss, so XBM and CCP can wrap it.
import type { Tensor } from '../engine/index.js';
import type { MetricLoss, MinedTuples, ReferenceSet } from '../losses/types.js';
import type { Miner } from './base.js';

export class MinedLoss implements MetricLoss {
  readonly name: string;
  readonly acceptsReference: boolean;
  readonly acceptsMined = true;
  readonly loss: MetricLoss;
  readonly miner: Miner;

  constructor(loss: MetricLoss, miner: Miner) {
    if (!loss || typeof loss.forward !== 'function') throw new Error('MinedLoss: the first argument must be a MetricLoss');
    if (!miner || typeof miner.mine !== 'function') throw new Error('MinedLoss: the second argument must be a Miner');
    if (!loss.acceptsMined) {
      throw new Error(`miner '${miner.name}': loss '${loss.name}' does not take mined pairs (proxy / classifier loss); miners go with pair losses`);
    }
    this.loss = loss;
    this.miner = miner;
    this.name = `${loss.name}+${miner.name}`;
    this.acceptsReference = loss.acceptsReference ?? false;
  }

  /** The loss on the miner's pairs / triplets; an explicit `mined` skips the miner. */
  forward(embeddings: Tensor, labels: Tensor, ref?: ReferenceSet, mined?: MinedTuples): Tensor {
    return this.loss.forward(embeddings, labels, ref, mined ?? this.miner.mine(embeddings, labels, ref));
  }

  parameters(): Tensor[] {
    return this.loss.parameters();
  }
}

/** `loss` with `miner` in front of it. */
export function withMiner(loss: MetricLoss, miner: Miner): MinedLoss {
  return new MinedLoss(loss, miner);
}
