// `normalized_softmax` (NormFace, Wang et al. 2017; pytorch-metric-learning's NormalizedSoftmaxLoss):
// cosine logits over learnable class weights, divided by a temperature, then cross-entropy.
//
//   logit_{x,c} = <N(x), N(w_c)> / T,   L = mean_x CE(logit_x, y_x)
//
// Not used by the paper. Its default normalisation is plain 'l2' (what PML users expect: true cosines),
// unlike the paper's losses, which default to the Lipschitz N(v). Class weights are stored [C, D]
// (PML stores [D, C]).
import { crossEntropy, type Tensor } from '../engine/index.js';
import { normalizeEmbeddings, type EmbeddingNormalization } from './normalization.js';
import { similarityMatrix } from './distances.js';
import type { ProxyOptions } from './proxies.js';
import { ProxyLoss } from './proxy_loss.js';
import { checkBatch, checkClassRange, checkPositive } from './checks.js';
import { getPreset, normalizedSoftmaxPresets, type PresetName } from './presets.js';

export interface NormalizedSoftmaxOptions extends Omit<ProxyOptions, 'proxiesPerClass'> {
  /** Temperature T (default 0.05, as PML). */
  temperature?: number;
  /** Default 'l2'. */
  embeddingNormalization?: EmbeddingNormalization;
  /** Learning-rate multiplier suggested for the class weights (default 1). */
  proxyLrMultiplier?: number;
}

export class NormalizedSoftmaxLoss extends ProxyLoss {
  readonly name = 'normalized_softmax';
  readonly temperature: number;

  constructor(options: NormalizedSoftmaxOptions) {
    super('normalized_softmax', { ...options, proxiesPerClass: 1 }, options, { embeddingNormalization: 'l2', proxyLrMultiplier: 1 });
    this.temperature = checkPositive(this.name, 'temperature', options.temperature ?? 0.05);
  }

  /** Only 'pml' exists (the paper does not use this loss). */
  static preset(name: PresetName, options: NormalizedSoftmaxOptions): NormalizedSoftmaxLoss {
    return new NormalizedSoftmaxLoss({ ...getPreset(normalizedSoftmaxPresets, 'normalized_softmax', name), ...options });
  }

  /** [B, C] logits. */
  logits(embeddings: Tensor): Tensor {
    const x = normalizeEmbeddings(embeddings, this.embeddingNormalization);
    const w = normalizeEmbeddings(this.proxies.weights, this.embeddingNormalization);
    return similarityMatrix(x, w).div(this.temperature);
  }

  forward(embeddings: Tensor, labels: Tensor): Tensor {
    const y = checkBatch(this.name, embeddings, labels);
    checkClassRange(this.name, y, this.proxies.numClasses);
    return crossEntropy(this.logits(embeddings), y);
  }
}
