// `normalized_softmax` (NormFace, Wang et al. 2017; pytorch-metric-learning's NormalizedSoftmaxLoss):
// cosine logits over learnable class weights, divided by a temperature, then cross-entropy.
//
//   logit_{x,c} = <N(x), N(w_c)> / T,   L = mean_x CE(logit_x, y_x)
//
// Not used by the paper. Its default normalisation is plain 'l2' (what PML users expect: true cosines),
// unlike the paper's losses, which default to the Lipschitz N(v). Class weights are stored [C, D]
// (PML stores [D, C]).
import { crossEntropy, type Tensor } from '../engine/index.js';
import type { MetricLoss } from './types.js';
import { checkNormalization, normalizeEmbeddings, type EmbeddingNormalization } from './normalization.js';
import { similarityMatrix } from './distances.js';
import { ProxySet, type ProxyOptions } from './proxies.js';
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

export class NormalizedSoftmaxLoss implements MetricLoss {
  readonly name = 'normalized_softmax';
  readonly acceptsReference = false;
  readonly temperature: number;
  readonly embeddingNormalization: EmbeddingNormalization;
  readonly parameterLrMultiplier: number;
  readonly proxies: ProxySet;

  constructor(options: NormalizedSoftmaxOptions) {
    this.proxies = new ProxySet(this.name, { ...options, proxiesPerClass: 1 });
    this.temperature = checkPositive(this.name, 'temperature', options.temperature ?? 0.05);
    this.embeddingNormalization = checkNormalization(options.embeddingNormalization, 'l2', this.name);
    this.parameterLrMultiplier = checkPositive(this.name, 'proxyLrMultiplier', options.proxyLrMultiplier ?? 1);
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

  parameters(): Tensor[] {
    return [this.proxies.weights];
  }

  stateDict(): Record<string, Tensor> {
    return { proxies: this.proxies.weights };
  }

  loadStateDict(state: Record<string, Tensor>): void {
    if (!state.proxies) throw new Error(`${this.name}: loadStateDict: missing 'proxies'`);
    this.proxies.assign(state.proxies, this.name);
  }
}
