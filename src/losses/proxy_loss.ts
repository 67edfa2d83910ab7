// The part shared by the losses that own learnable proxies / class weights (ProxyAnchor, ProxyNCA++,
// SoftTriple, NormalizedSoftmax, ArcFace): the ProxySet, the embedding normalisation and proxy LR
// multiplier options, and the parameters / checkpoint state (the proxies). Such losses ignore `ref`.
import type { Tensor } from '../engine/index.js';
import type { MetricLoss } from './types.js';
import { checkNormalization, type EmbeddingNormalization } from './normalization.js';
import { ProxySet, type ProxyOptions } from './proxies.js';
import { checkPositive } from './checks.js';

/** The options every proxy loss reads besides its ProxyOptions. */
export interface ProxyLossCommonOptions {
  embeddingNormalization?: EmbeddingNormalization;
  proxyLrMultiplier?: number;
}

/** Each loss's defaults for ProxyLossCommonOptions. */
export interface ProxyLossDefaults {
  embeddingNormalization: EmbeddingNormalization;
  proxyLrMultiplier: number;
}

export abstract class ProxyLoss implements MetricLoss {
  abstract readonly name: string;
  readonly acceptsReference = false;
  readonly embeddingNormalization: EmbeddingNormalization;
  readonly parameterLrMultiplier: number;
  readonly proxies: ProxySet;

  /** `name` is the loss's name (subclass fields are not set yet while this runs). */
  protected constructor(name: string, proxyOptions: ProxyOptions, options: ProxyLossCommonOptions, defaults: ProxyLossDefaults) {
    this.proxies = new ProxySet(name, proxyOptions);
    this.embeddingNormalization = checkNormalization(options.embeddingNormalization, defaults.embeddingNormalization, name);
    this.parameterLrMultiplier = checkPositive(name, 'proxyLrMultiplier', options.proxyLrMultiplier ?? defaults.proxyLrMultiplier);
  }

  abstract forward(embeddings: Tensor, labels: Tensor): Tensor;

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
