// `proxy_anchor` (spec §3.5, Kim et al. 2020): "cos" similarity, rows = proxies (ProxyAnchor forces it):
//
//   pos_p = log(1 + sum_{x: y_x = label_p} exp(-alpha (s_px - delta)))
//   neg_p = log(1 + sum_{x: y_x != label_p} exp( alpha (s_px + delta)))
//   L = sum_p pos_p / #{proxies with >= 1 positive in the batch} + sum_p neg_p / #{proxies with >= 1 negative}
//
// delta = 0.1, alpha = 32, proxy LR x100. A count of 0 (its sum is then 0 too) is replaced by 1, where
// the code would divide by zero.
import type { Tensor } from '../engine/index.js';
import { normalizeEmbeddings, type EmbeddingNormalization } from './normalization.js';
import { similarityMatrix } from './distances.js';
import { pairMasks } from './masks.js';
import { maskedLog1pSumExp } from './logsumexp.js';
import type { ProxyOptions } from './proxies.js';
import { ProxyLoss } from './proxy_loss.js';
import { checkBatch, checkClassRange, checkFinite, checkPositive } from './checks.js';
import { getPreset, proxyAnchorPresets, type PresetName } from './presets.js';

export interface ProxyAnchorOptions extends ProxyOptions {
  /** Scale alpha (default 32). */
  alpha?: number;
  /** Margin delta (default 0.1). */
  delta?: number;
  embeddingNormalization?: EmbeddingNormalization;
  /** Learning-rate multiplier suggested for the proxies (default 100). */
  proxyLrMultiplier?: number;
}

export class ProxyAnchorLoss extends ProxyLoss {
  readonly name = 'proxy_anchor';
  readonly alpha: number;
  readonly delta: number;

  constructor(options: ProxyAnchorOptions) {
    super('proxy_anchor', options, options, { embeddingNormalization: 'lipschitz', proxyLrMultiplier: 100 });
    this.alpha = checkPositive(this.name, 'alpha', options.alpha ?? 32);
    this.delta = checkFinite(this.name, 'delta', options.delta ?? 0.1);
  }

  static preset(name: PresetName, options: ProxyAnchorOptions): ProxyAnchorLoss {
    return new ProxyAnchorLoss({ ...getPreset(proxyAnchorPresets, 'proxy_anchor', name), ...options });
  }

  /** Ignores `ref`: the loss compares the batch with its own proxies. */
  forward(embeddings: Tensor, labels: Tensor): Tensor {
    const y = checkBatch(this.name, embeddings, labels);
    checkClassRange(this.name, y, this.proxies.numClasses);
    const x = normalizeEmbeddings(embeddings, this.embeddingNormalization);
    const p = normalizeEmbeddings(this.proxies.weights, this.embeddingNormalization);
    const s = similarityMatrix(p, x); // [P, B]
    const { pos, neg } = pairMasks(this.proxies.labels, y);
    const posTerm = maskedLog1pSumExp(s.sub(this.delta).mul(-this.alpha), pos);
    const negTerm = maskedLog1pSumExp(s.add(this.delta).mul(this.alpha), neg);
    const numPos = pos.sum(1).gt(0).sum(null, false, s.dtype).clampMin(1);
    const numNeg = neg.sum(1).gt(0).sum(null, false, s.dtype).clampMin(1);
    return posTerm.sum().div(numPos).add(negTerm.sum().div(numNeg));
  }
}
