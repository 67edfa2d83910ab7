// Gradient clipping and in-place gradient transforms (torch.nn.utils.clip_grad_*), done natively.
import { Tensor } from '../tensor.js';
import { native } from '../../native/binding.js';

function handles(params: Tensor[], who: string) {
  if (!Array.isArray(params)) throw new Error(`${who}: params must be an array of tensors`);
  return params.map((p, i) => {
    if (!(p instanceof Tensor)) throw new Error(`${who}: params[${i}] is not a Tensor`);
    return p.native;
  });
}

/**
 * Scales all gradients together so that their global L2 norm is at most maxNorm (coefficient
 * maxNorm / (norm + 1e-6), as torch). Returns the total norm before clipping (0 when no gradients).
 */
export function clipGradNorm(params: Tensor[], maxNorm: number): number {
  if (!(maxNorm >= 0)) throw new Error(`clipGradNorm: maxNorm must be >= 0, got ${maxNorm}`);
  return native.clipGradNorm(handles(params, 'clipGradNorm'), maxNorm) as number;
}

/** Clamps every gradient element to [-value, value]. */
export function clipGradValue(params: Tensor[], value: number): void {
  if (!(value >= 0)) throw new Error(`clipGradValue: value must be >= 0, got ${value}`);
  native.clipGradValue(handles(params, 'clipGradValue'), value);
}

/** Coupled L2 weight decay on the gradients: g += wd * p (parameters without a gradient are skipped). */
export function addWeightDecayGrad(params: Tensor[], weightDecay: number): void {
  if (!Number.isFinite(weightDecay)) throw new Error(`addWeightDecayGrad: weightDecay must be finite, got ${weightDecay}`);
  native.addWeightDecayGrad(handles(params, 'addWeightDecayGrad'), weightDecay);
}

/** Proximal term gradient: g += lambda * (p - anchor), the gradient of (lambda / 2) * ||p - anchor||^2. */
export function addProximalGrad(params: Tensor[], anchors: Tensor[], lambda: number): void {
  if (params.length !== anchors.length) throw new Error(`addProximalGrad: ${params.length} params but ${anchors.length} anchors`);
  params.forEach((p, i) => {
    if (p.shape.join(',') !== anchors[i]!.shape.join(','))
      throw new Error(`addProximalGrad: params[${i}] has shape [${p.shape}], anchors[${i}] has [${anchors[i]!.shape}]`);
  });
  native.addProximalGrad(handles(params, 'addProximalGrad'), handles(anchors, 'addProximalGrad'), lambda);
}
