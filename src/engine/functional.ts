// Free-function ops (torch.nn.functional style) and multi-tensor ops.
import { native } from '../native/binding.js';
import { Tensor, type TensorLike } from './tensor.js';

type Pair = number | [number, number];
function opt(t: Tensor | null | undefined) {
  return t ? t.native : null;
}

export function cat(tensors: Tensor[], dim = 0): Tensor {
  return Tensor.wrap(
    native.cat(
      tensors.map((t) => t.native),
      dim,
    ),
  );
}
export function stack(tensors: Tensor[], dim = 0): Tensor {
  return Tensor.wrap(
    native.stack(
      tensors.map((t) => t.native),
      dim,
    ),
  );
}
/** Elementwise select: condition ? a : b. */
export function where(condition: Tensor, a: TensorLike, b: TensorLike): Tensor {
  return Tensor.wrap(native.where(condition.native, a instanceof Tensor ? a.native : a, b instanceof Tensor ? b.native : b));
}
export function matmul(a: Tensor, b: Tensor): Tensor {
  return a.matmul(b);
}
/** y = x W^T + b */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  return Tensor.wrap(native.linear(x.native, weight.native, opt(bias)));
}
export function oneHot(index: Tensor, numClasses = -1): Tensor {
  return Tensor.wrap(native.oneHot(index.native, numClasses));
}
export function crossEntropy(
  logits: Tensor,
  target: Tensor,
  options: { reduction?: 'mean' | 'sum' | 'none'; labelSmoothing?: number; ignoreIndex?: number } = {},
): Tensor {
  return Tensor.wrap(native.crossEntropy(logits.native, target.native, options.reduction ?? 'mean', options.labelSmoothing ?? 0, options.ignoreIndex ?? -100));
}
export function mseLoss(input: Tensor, target: Tensor, reduction: 'mean' | 'sum' | 'none' = 'mean'): Tensor {
  return Tensor.wrap(native.mseLoss(input.native, target.native, reduction));
}
export function conv2d(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null = null,
  options: { stride?: Pair; padding?: Pair; dilation?: Pair; groups?: number } = {},
): Tensor {
  return Tensor.wrap(native.conv2d(x.native, weight.native, opt(bias), options.stride ?? 1, options.padding ?? 0, options.dilation ?? 1, options.groups ?? 1));
}
/**
 * Batch normalisation. In training mode the batch statistics are used and the running buffers (if given)
 * are updated in place; otherwise the running statistics are used (frozen / inference).
 */
export function batchNorm(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  options: { weight?: Tensor | null; bias?: Tensor | null; training?: boolean; momentum?: number; eps?: number } = {},
): Tensor {
  return Tensor.wrap(
    native.batchNorm(
      x.native,
      opt(options.weight),
      opt(options.bias),
      opt(runningMean),
      opt(runningVar),
      options.training ?? false,
      options.momentum ?? 0.1,
      options.eps ?? 1e-5,
    ),
  );
}
export function layerNorm(x: Tensor, normalizedShape: number[], weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  return Tensor.wrap(native.layerNorm(x.native, normalizedShape, opt(weight), opt(bias), eps));
}
export function maxPool2d(x: Tensor, kernel: Pair, options: { stride?: Pair; padding?: Pair; dilation?: Pair; ceilMode?: boolean } = {}): Tensor {
  return Tensor.wrap(native.maxPool2d(x.native, kernel, options.stride ?? null, options.padding ?? 0, options.dilation ?? 1, options.ceilMode ?? false));
}
export function avgPool2d(x: Tensor, kernel: Pair, options: { stride?: Pair; padding?: Pair; ceilMode?: boolean; countIncludePad?: boolean } = {}): Tensor {
  return Tensor.wrap(
    native.avgPool2d(x.native, kernel, options.stride ?? null, options.padding ?? 0, options.ceilMode ?? false, options.countIncludePad ?? true),
  );
}
export function adaptiveAvgPool2d(x: Tensor, outputSize: Pair): Tensor {
  return Tensor.wrap(native.adaptiveAvgPool2d(x.native, outputSize));
}
export function adaptiveMaxPool2d(x: Tensor, outputSize: Pair): Tensor {
  return Tensor.wrap(native.adaptiveMaxPool2d(x.native, outputSize));
}
/** Inverted dropout: zeroes with probability p and rescales by 1/(1-p) when training. */
export function dropout(x: Tensor, p: number, training = true): Tensor {
  if (!(p >= 0 && p < 1)) throw new Error(`dropout: p must be in [0, 1), got ${p}`);
  return Tensor.wrap(native.dropout(x.native, p, training));
}
/** Plain L_p normalisation along dim: x / max(||x||_p, eps). */
export function normalize(x: Tensor, p = 2, dim = -1, eps = 1e-12): Tensor {
  return Tensor.wrap(native.normalize(x.native, p, dim, eps));
}
/** Same values in channels_last memory layout (faster oneDNN convolutions on CPU). */
export function toChannelsLast(x: Tensor): Tensor {
  return Tensor.wrap(native.toChannelsLast(x.native));
}
export function allclose(a: Tensor, b: Tensor, rtol = 1e-5, atol = 1e-8): boolean {
  return native.allclose(a.native, b.native, rtol, atol) as boolean;
}
export function equal(a: Tensor, b: Tensor): boolean {
  return native.equal(a.native, b.native) as boolean;
}
