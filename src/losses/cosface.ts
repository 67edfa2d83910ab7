// `cosface` (CosFace / LMCL, Wang et al. 2018; pytorch-metric-learning's CosFaceLoss): additive cosine margin.
//
//   c_{x,j} = <N(x), N(w_j)>,  logit_{x,j} = s (c_{x,j} - m [j = y_x]),  L = mean_x CE(logit_x, y_x)
//
// Defaults as PML: m = 0.35, s = 64, normalisation 'l2' (true cosines). Class weights [C, D].
import { crossEntropy, oneHot, type Tensor } from '../engine/index.js';
import type { EmbeddingNormalization } from './normalization.js';
import type { ProxyOptions } from './proxies.js';
import { ProxyLoss } from './proxy_loss.js';
import { classCosines } from './arcface.js';
import { checkBatch, checkClassRange, checkFinite, checkPositive } from './checks.js';

export interface CosFaceOptions extends Omit<ProxyOptions, 'proxiesPerClass'> {
  /** Cosine margin m (default 0.35). */
  margin?: number;
  /** Scale s (default 64). */
  scale?: number;
  /** Default 'l2'. */
  embeddingNormalization?: EmbeddingNormalization;
  /** Default 1. */
  proxyLrMultiplier?: number;
}

export class CosFaceLoss extends ProxyLoss {
  readonly name = 'cosface';
  readonly margin: number;
  readonly scale: number;

  constructor(options: CosFaceOptions) {
    super('cosface', { ...options, proxiesPerClass: 1 }, options, { embeddingNormalization: 'l2', proxyLrMultiplier: 1 });
    this.margin = checkFinite(this.name, 'margin', options.margin ?? 0.35);
    this.scale = checkPositive(this.name, 'scale', options.scale ?? 64);
  }

  /** [B, C] logits with the margin on the target class. */
  logits(embeddings: Tensor, labels: Tensor): Tensor {
    const c = classCosines(this, embeddings);
    const target = oneHot(labels, this.proxies.numClasses).to(c.dtype);
    return c.sub(target.mul(this.margin)).mul(this.scale);
  }

  forward(embeddings: Tensor, labels: Tensor): Tensor {
    const y = checkBatch(this.name, embeddings, labels);
    checkClassRange(this.name, y, this.proxies.numClasses);
    return crossEntropy(this.logits(embeddings, y), y);
  }
}
