// `soft_triple` (spec §3.7, Qian et al. 2019): K centres per class, in the INTENDED orientation
// rows = class proxies (the code as shipped transposes the matrix and then splits the batch axis into K
// parts, which breaks; spec §3.7). With the code's negative-Euclidean similarity on normalised vectors:
//
//   sim_ck = -||N(x) - N(w_ck)||
//   q_ck   = softmax_k(sim_ck / gamma)
//   S_c    = sum_k q_ck sim_ck
//   L_x    = -log softmax_c(la (S_c - delta [c = y]))_y
//   reg    = sum_c sum_{k<k'} sqrt(relu(2 - 2 <w_ck, w_ck'>)) / (C K (K-1))      (on the RAW proxies w)
//   loss   = mean_x L_x + tau reg           (reg only when K > 1)
//
// The regulariser's sqrt has gradient 0 where its argument is 0 (the zero-distance rule; plain sqrt would
// give NaN through the relu there). Centre layout (the code's makeProxy): proxy k*C + c is centre k of
// class c. Proxy LR x100.
//
// `distance` sets sim: default 'euclidean' (the code's -||N(x) - N(w)||); PML's SoftTripleLoss uses
// 'cosine' (sim = cos) and has no centre regulariser (set tau = 0 to match it). PML's own defaults are
// la 20, gamma 0.1, delta 0.01, K 10 (the 'pml' preset); PML's gamma multiplies by 1/gamma like ours.
import { type Tensor, ones, arange } from '../engine/index.js';
import { normalizeEmbeddings, type EmbeddingNormalization } from './normalization.js';
import { asSimilarity, resolveDistance, safeSqrt, type DistanceSpec, type PairDistance } from './distances.js';
import { pairMasks } from './masks.js';
import { maskedLogSumExp } from './logsumexp.js';
import type { ProxyOptions } from './proxies.js';
import { ProxyLoss } from './proxy_loss.js';
import { checkBatch, checkClassRange, checkFinite, checkPositive } from './checks.js';
import { getPreset, softTriplePresets, type PresetName } from './presets.js';

export interface SoftTripleOptions extends ProxyOptions {
  /** lambda, the logit scale (code 78.02). */
  la?: number;
  /** gamma, the entropy temperature of the centre softmax: q = softmax(sim / gamma) (code 58.95). */
  gamma?: number;
  /** tau, the weight of the centre regulariser (code 0.3754). */
  tau?: number;
  /** delta, the margin on the true class (code 0.4307). */
  delta?: number;
  /** K centres per class (code 10); same as proxiesPerClass. */
  centersPerClass?: number;
  embeddingNormalization?: EmbeddingNormalization;
  /** Default 100. */
  proxyLrMultiplier?: number;
  /** Default 'euclidean' (sim = -distance, the code); 'cosine' is PML's. */
  distance?: DistanceSpec;
}

export class SoftTripleLoss extends ProxyLoss {
  readonly name = 'soft_triple';
  readonly la: number;
  readonly gamma: number;
  readonly tau: number;
  readonly delta: number;
  readonly distance: PairDistance;

  constructor(options: SoftTripleOptions) {
    super('soft_triple', { ...options, proxiesPerClass: options.centersPerClass ?? options.proxiesPerClass ?? 10 }, options, {
      embeddingNormalization: 'lipschitz',
      proxyLrMultiplier: 100,
    });
    this.la = checkPositive(this.name, 'la', options.la ?? 78.02);
    this.gamma = checkPositive(this.name, 'gamma', options.gamma ?? 58.95);
    this.tau = checkPositive(this.name, 'tau', options.tau ?? 0.3754, true);
    this.delta = checkFinite(this.name, 'delta', options.delta ?? 0.4307);
    this.distance = resolveDistance(options.distance, 'euclidean', this.name);
  }

  static preset(name: PresetName, options: SoftTripleOptions): SoftTripleLoss {
    return new SoftTripleLoss({ ...getPreset(softTriplePresets, 'soft_triple', name), ...options });
  }

  get centersPerClass(): number {
    return this.proxies.proxiesPerClass;
  }

  /** Class similarities S [C, B] (rows = classes). */
  classSimilarities(embeddings: Tensor): Tensor {
    const { numClasses: C, proxiesPerClass: K } = this.proxies;
    const norm = this.distance.normalization ?? this.embeddingNormalization;
    const x = normalizeEmbeddings(embeddings, norm);
    const w = normalizeEmbeddings(this.proxies.weights, norm);
    const sim = asSimilarity(this.distance, this.distance.matrix(w, x)); // [K*C, B]
    const perClass = sim.reshape([K, C, x.size(0)]).permute([1, 0, 2]); // [C, K, B]
    const q = perClass.div(this.gamma).softmax(1);
    return q.mul(perClass).sum(1);
  }

  /** The centre regulariser on the raw proxies (0 when K = 1). */
  regularizer(): Tensor {
    const { numClasses: C, proxiesPerClass: K } = this.proxies;
    const w = this.proxies.weights;
    if (K < 2) return w.sum().mul(0);
    const centers = w.reshape([K, C, w.size(1)]).permute([1, 0, 2]); // [C, K, D]
    const gram = centers.matmul(centers.transpose(1, 2)); // [C, K, K]
    const dist = safeSqrt(gram.mul(-2).add(2).relu());
    const upper = ones([K, K], { dtype: w.dtype, device: w.device }).triu(1).gt(0);
    return dist
      .where(upper, 0)
      .sum()
      .div(C * K * (K - 1));
  }

  forward(embeddings: Tensor, labels: Tensor): Tensor {
    const y = checkBatch(this.name, embeddings, labels);
    checkClassRange(this.name, y, this.proxies.numClasses);
    const S = this.classSimilarities(embeddings); // [C, B]
    const classes = arange(0, this.proxies.numClasses, 1, { device: S.device });
    const { pos } = pairMasks(classes, y); // [C, B]
    const logits = S.sub(pos.to(S.dtype).mul(this.delta)).mul(this.la);
    const nll = logits
      .logsumexp(0)
      .sub(maskedLogSumExp(logits, pos, 0))
      .mean();
    return this.tau === 0 ? nll : nll.add(this.regularizer().mul(this.tau));
  }
}
