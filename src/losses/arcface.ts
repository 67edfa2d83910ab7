// `arcface` (ArcFace, Deng et al. 2019; pytorch-metric-learning's ArcFaceLoss): additive angular margin.
//
//   c_{x,j} = <N(x), N(w_j)>  clamped to [-1 + 1e-7, 1 - 1e-7]
//   logit_{x,j} = s cos(acos(c_{x,j}) + m)  for j = y_x,   s c_{x,j}  otherwise
//   L = mean_x CE(logit_x, y_x)
//
// cos(acos(c) + m) is evaluated as c cos m - sqrt(1 - c^2) sin m (the same function and gradient; the
// engine has no acos). Like PML, no "easy margin" / threshold variant. The margin is in RADIANS
// (PML takes degrees: its default 28.6 degrees = 0.4992 rad, our default 0.5). Default normalisation 'l2'
// (angles need true cosines). Class weights [C, D].
import { crossEntropy, oneHot, type Tensor } from '../engine/index.js';
import { normalizeEmbeddings, type EmbeddingNormalization } from './normalization.js';
import { similarityMatrix } from './distances.js';
import type { ProxyOptions } from './proxies.js';
import { ProxyLoss } from './proxy_loss.js';
import { checkBatch, checkClassRange, checkFinite, checkPositive } from './checks.js';
import { arcFacePresets, getPreset, type PresetName } from './presets.js';

export const ARCFACE_CLAMP_EPS = 1e-7;

export interface ArcFaceOptions extends Omit<ProxyOptions, 'proxiesPerClass'> {
  /** Additive angular margin m in radians (default 0.5). */
  margin?: number;
  /** Scale s (default 64). */
  scale?: number;
  /** Default 'l2'. */
  embeddingNormalization?: EmbeddingNormalization;
  /** Default 1. */
  proxyLrMultiplier?: number;
}

export class ArcFaceLoss extends ProxyLoss {
  readonly name = 'arcface';
  readonly margin: number;
  readonly scale: number;

  constructor(options: ArcFaceOptions) {
    super('arcface', { ...options, proxiesPerClass: 1 }, options, { embeddingNormalization: 'l2', proxyLrMultiplier: 1 });
    this.margin = checkFinite(this.name, 'margin', options.margin ?? 0.5);
    this.scale = checkPositive(this.name, 'scale', options.scale ?? 64);
  }

  /** Only 'pml' exists (margin 28.6 degrees in radians, scale 64). */
  static preset(name: PresetName, options: ArcFaceOptions): ArcFaceLoss {
    return new ArcFaceLoss({ ...getPreset(arcFacePresets, 'arcface', name), ...options });
  }

  /** [B, C] logits with the margin on the target class. */
  logits(embeddings: Tensor, labels: Tensor): Tensor {
    const x = normalizeEmbeddings(embeddings, this.embeddingNormalization);
    const w = normalizeEmbeddings(this.proxies.weights, this.embeddingNormalization);
    const c = similarityMatrix(x, w).clamp(-1 + ARCFACE_CLAMP_EPS, 1 - ARCFACE_CLAMP_EPS);
    const sinTheta = c.square().rsub(1).sqrt();
    const withMargin = c.mul(Math.cos(this.margin)).sub(sinTheta.mul(Math.sin(this.margin)));
    const target = oneHot(labels, this.proxies.numClasses).gt(0);
    return withMargin.where(target, c).mul(this.scale);
  }

  forward(embeddings: Tensor, labels: Tensor): Tensor {
    const y = checkBatch(this.name, embeddings, labels);
    checkClassRange(this.name, y, this.proxies.numClasses);
    return crossEntropy(this.logits(embeddings, y), y);
  }
}
