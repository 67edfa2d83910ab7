// `proxy_anchor` (spec §3.5, Kim et al. 2020): "cos" similarity, rows = proxies (ProxyAnchor forces it):
//
//   pos_p = log(1 + sum_{x: y_x = label_p} exp(-alpha (s_px - delta)))
//   neg_p = log(1 + sum_{x: y_x != label_p} exp( alpha (s_px + delta)))
//   L = sum_p pos_p / #{proxies with >= 1 positive in the batch} + sum_p neg_p / #{proxies with >= 1 negative}
//
// delta = 0.1, alpha = 32, proxy LR x100. A count of 0 (its sum is then 0 too) is replaced by 1, where
// the code would divide by zero.
//
// `negativeDivisor`: 'withNegatives' (default, the spec: proxies with >= 1 negative in the batch) or
// 'classes' (PML and the Proxy-Anchor authors' code: all proxies, i.e. the number of classes with one proxy
// per class). They differ when a batch holds a single class. `distance` (PML): the exponents are
// alpha margin(s, delta) and alpha margin(-delta, s), flipping for a distance; default 'dot' after the
// loss's normalisation (= PML's cosine with embeddingNormalization 'l2').
import type { Tensor } from '../engine/index.js';
import { normalizeEmbeddings, type EmbeddingNormalization } from './normalization.js';
import { resolveDistance, type DistanceSpec, type PairDistance } from './distances.js';
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
  /** Divisor of the negative term: 'withNegatives' (default, spec) or 'classes' (PML, authors' code). */
  negativeDivisor?: 'withNegatives' | 'classes';
  /** Default 'dot' (after the loss's normalisation). */
  distance?: DistanceSpec;
}

export class ProxyAnchorLoss extends ProxyLoss {
  readonly name = 'proxy_anchor';
  readonly alpha: number;
  readonly delta: number;
  readonly negativeDivisor: 'withNegatives' | 'classes';
  readonly distance: PairDistance;

  constructor(options: ProxyAnchorOptions) {
    super('proxy_anchor', options, options, { embeddingNormalization: 'lipschitz', proxyLrMultiplier: 100 });
    this.alpha = checkPositive(this.name, 'alpha', options.alpha ?? 32);
    this.delta = checkFinite(this.name, 'delta', options.delta ?? 0.1);
    const nd = options.negativeDivisor ?? 'withNegatives';
    if (nd !== 'withNegatives' && nd !== 'classes') throw new Error(`${this.name}: negativeDivisor must be 'withNegatives' or 'classes', got '${String(nd)}'`);
    this.negativeDivisor = nd;
    this.distance = resolveDistance(options.distance, 'dot', this.name);
  }

  static preset(name: PresetName, options: ProxyAnchorOptions): ProxyAnchorLoss {
    return new ProxyAnchorLoss({ ...getPreset(proxyAnchorPresets, 'proxy_anchor', name), ...options });
  }

  /** Ignores `ref`: the loss compares the batch with its own proxies. */
  forward(embeddings: Tensor, labels: Tensor): Tensor {
    const y = checkBatch(this.name, embeddings, labels);
    checkClassRange(this.name, y, this.proxies.numClasses);
    const dist = this.distance;
    const norm = dist.normalization ?? this.embeddingNormalization;
    const x = normalizeEmbeddings(embeddings, norm);
    const p = normalizeEmbeddings(this.proxies.weights, norm);
    const s = dist.matrix(p, x); // [P, B]
    const { pos, neg } = pairMasks(this.proxies.labels, y);
    const posTerm = maskedLog1pSumExp(dist.margin(s, this.delta).mul(this.alpha), pos);
    const negTerm = maskedLog1pSumExp(dist.margin(-this.delta, s).mul(this.alpha), neg);
    const numPos = pos.sum(1).gt(0).sum(null, false, s.dtype).clampMin(1);
    const numNeg = this.negativeDivisor === 'classes' ? s.size(0) : neg.sum(1).gt(0).sum(null, false, s.dtype).clampMin(1);
    return posTerm.sum().div(numPos).add(negTerm.sum().div(numNeg));
  }
}
