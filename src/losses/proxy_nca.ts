// `proxy_nca` (spec §3.6): the paper's "ProxyNCA++" (Teh et al. 2020) as the code implements it. "cos"
// similarity, rows = samples, own learnable proxies (one per class by default):
//
//   logit_{x,p} = (s_xp - delta [p is positive]) / T
//   L = mean_x -log sum_{p positive} softmax_p(logit_x)
//
// The softmax runs over ALL proxies, the positive one(s) included (NCA++). T: 0.11 in the code, 0.1 in the
// paper (spec §8.8): both are presets. delta = 0. Proxy LR x100. The code adds 1e-16 inside the log; we use
// the exact log-softmax form (logsumexp over positives - logsumexp over all), which differs only when a
// positive probability underflows.
import type { Tensor } from '../engine/index.js';
import { normalizeEmbeddings, type EmbeddingNormalization } from './normalization.js';
import { asSimilarity, resolveDistance, type DistanceSpec, type PairDistance } from './distances.js';
import { pairMasks } from './masks.js';
import { maskedLogSumExp } from './logsumexp.js';
import type { ProxyOptions } from './proxies.js';
import { ProxyLoss } from './proxy_loss.js';
import { checkBatch, checkClassRange, checkFinite, checkPositive } from './checks.js';
import { getPreset, proxyNCAPresets, type PresetName } from './presets.js';

export interface ProxyNCAOptions extends ProxyOptions {
  /** Softmax temperature T (default 0.11, the code's lambda_softmax; the paper says 0.1). */
  temperature?: number;
  /** Margin subtracted from positive similarities (default 0). */
  delta?: number;
  embeddingNormalization?: EmbeddingNormalization;
  /** Default 100. */
  proxyLrMultiplier?: number;
  /** Default 'dot' (after the loss's normalisation); a distance d enters the logits as -d (PML). */
  distance?: DistanceSpec;
}

export class ProxyNCALoss extends ProxyLoss {
  readonly name = 'proxy_nca';
  readonly temperature: number;
  readonly delta: number;
  readonly distance: PairDistance;

  constructor(options: ProxyNCAOptions) {
    super('proxy_nca', options, options, { embeddingNormalization: 'lipschitz', proxyLrMultiplier: 100 });
    this.temperature = checkPositive(this.name, 'temperature', options.temperature ?? 0.11);
    this.delta = checkFinite(this.name, 'delta', options.delta ?? 0);
    this.distance = resolveDistance(options.distance, 'dot', this.name);
  }

  /** 'code' gives T = 0.11; the dataset presets give the paper's T = 0.1. */
  static preset(name: PresetName, options: ProxyNCAOptions): ProxyNCALoss {
    return new ProxyNCALoss({ ...getPreset(proxyNCAPresets, 'proxy_nca', name), ...options });
  }

  /** [B, P] logits (s - delta*pos) / T. */
  logits(embeddings: Tensor, labels: Tensor): { logits: Tensor; pos: Tensor } {
    const y = checkBatch(this.name, embeddings, labels);
    checkClassRange(this.name, y, this.proxies.numClasses);
    const norm = this.distance.normalization ?? this.embeddingNormalization;
    const x = normalizeEmbeddings(embeddings, norm);
    const p = normalizeEmbeddings(this.proxies.weights, norm);
    const s = asSimilarity(this.distance, this.distance.matrix(x, p));
    const { pos } = pairMasks(y, this.proxies.labels);
    const shifted = this.delta === 0 ? s : s.sub(pos.to(s.dtype).mul(this.delta));
    return { logits: shifted.div(this.temperature), pos };
  }

  forward(embeddings: Tensor, labels: Tensor): Tensor {
    const { logits, pos } = this.logits(embeddings, labels);
    return logits.logsumexp(1).sub(maskedLogSumExp(logits, pos)).mean();
  }
}
