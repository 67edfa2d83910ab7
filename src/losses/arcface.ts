// `arcface` (ArcFace, Deng et al. 2019; pytorch-metric-learning's ArcFaceLoss): additive angular margin.
//
//   c_{x,j} = <N(x), N(w_j)>,  theta = acos(c_{x,y})
//   target logit  = s cos(theta + m)       if theta <= pi - m
//                 = s (cos theta - m sin m) otherwise
//   other logits  = s c_{x,j}
//   L = mean_x CE(logit_x, y_x)
//
// Past theta = pi - m, cos(theta + m) would rise again as the sample moves away from its class, so the loss
// would fall and push it further away; the linear continuation cos theta - m sin m (the ArcFace authors'
// code and PML) keeps the target logit decreasing. cos(acos(c) + m) is evaluated as
// c cos m - sqrt(1 - c^2) sin m with c clamped to [-1 + 1e-7, 1 - 1e-7] (the same function and gradient; the
// engine has no acos). theta <= pi - m is tested as c >= -cos m. The margin is in RADIANS (PML takes degrees:
// its default 28.6 degrees = 0.4992 rad, our default 0.5). Default normalisation 'l2' (angles need true
// cosines). Class weights [C*K, D].
//
// `subCenters` K > 1 is SubCenter-ArcFace (Deng et al. 2020; PML's SubCenterArcFaceLoss, registry name
// `subcenter_arcface`): K weights per class, c_{x,c} = max over the class's K sub-centres. Our proxy
// layout puts sub-centre k of class c at row k*C + c (PML's column c*K + k).
import { crossEntropy, oneHot, type Tensor } from '../engine/index.js';
import { normalizeEmbeddings, type EmbeddingNormalization } from './normalization.js';
import { similarityMatrix } from './distances.js';
import type { ProxyOptions } from './proxies.js';
import { ProxyLoss } from './proxy_loss.js';
import { checkBatch, checkClassRange, checkFinite, checkInteger, checkPositive } from './checks.js';
import { arcFacePresets, getPreset, type PresetName } from './presets.js';

export const ARCFACE_CLAMP_EPS = 1e-7;

export interface ArcFaceOptions extends Omit<ProxyOptions, 'proxiesPerClass'> {
  /** Additive angular margin m in radians (default 0.5). */
  margin?: number;
  /** Scale s (default 64). */
  scale?: number;
  /** K sub-centres per class (default 1; > 1 is SubCenter-ArcFace). */
  subCenters?: number;
  /** Default 'l2'. */
  embeddingNormalization?: EmbeddingNormalization;
  /** Default 1. */
  proxyLrMultiplier?: number;
}

/** Class cosines [B, C] of the normalised embeddings: the max over each class's sub-centres. */
export function classCosines(loss: ProxyLoss, embeddings: Tensor): Tensor {
  const x = normalizeEmbeddings(embeddings, loss.embeddingNormalization);
  const w = normalizeEmbeddings(loss.proxies.weights, loss.embeddingNormalization);
  const c = similarityMatrix(x, w); // [B, K*C]
  const { numClasses: C, proxiesPerClass: K } = loss.proxies;
  return K === 1 ? c : c.reshape([x.size(0), K, C]).max(1);
}

export class ArcFaceLoss extends ProxyLoss {
  readonly name: string;
  readonly margin: number;
  readonly scale: number;

  constructor(options: ArcFaceOptions, name = 'arcface') {
    const K = checkInteger(name, 'subCenters', options.subCenters ?? 1);
    super(name, { ...options, proxiesPerClass: K }, options, { embeddingNormalization: 'l2', proxyLrMultiplier: 1 });
    this.name = name;
    this.margin = checkFinite(this.name, 'margin', options.margin ?? 0.5);
    this.scale = checkPositive(this.name, 'scale', options.scale ?? 64);
  }

  /** Only 'pml' exists (margin 28.6 degrees in radians, scale 64). */
  static preset(name: PresetName, options: ArcFaceOptions): ArcFaceLoss {
    return new ArcFaceLoss({ ...getPreset(arcFacePresets, 'arcface', name), ...options });
  }

  get subCenters(): number {
    return this.proxies.proxiesPerClass;
  }

  /** [B, C] logits with the margin on the target class. */
  logits(embeddings: Tensor, labels: Tensor): Tensor {
    const c = classCosines(this, embeddings);
    const m = this.margin;
    const cc = c.clamp(-1 + ARCFACE_CLAMP_EPS, 1 - ARCFACE_CLAMP_EPS);
    const sinTheta = cc.square().rsub(1).sqrt();
    const plusMargin = cc.mul(Math.cos(m)).sub(sinTheta.mul(Math.sin(m)));
    // theta <= pi - m  <=>  c >= cos(pi - m) = -cos m; beyond it the linear continuation.
    const withMargin = plusMargin.where(c.detach().ge(-Math.cos(m)), c.sub(m * Math.sin(m)));
    const target = oneHot(labels, this.proxies.numClasses).gt(0);
    return withMargin.where(target, c).mul(this.scale);
  }

  forward(embeddings: Tensor, labels: Tensor): Tensor {
    const y = checkBatch(this.name, embeddings, labels);
    checkClassRange(this.name, y, this.proxies.numClasses);
    return crossEntropy(this.logits(embeddings, y), y);
  }
}

/** `subcenter_arcface`: ArcFace with K sub-centres per class (default 3, as PML). */
export class SubCenterArcFaceLoss extends ArcFaceLoss {
  constructor(options: ArcFaceOptions) {
    super({ ...options, subCenters: options.subCenters ?? 3 }, 'subcenter_arcface');
  }
}
