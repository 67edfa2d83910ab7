// Batch normalisation in training mode whose batch statistics come from more rows than this call sees: the
// per-channel [sum, sum of squares, count] go through `reduce` (e.g. an all-reduce over data-parallel ranks,
// which is what makes a SyncBatchNorm), and the input is normalised with the combined mean and biased variance.
// Running statistics take the combined mean and unbiased variance, as torch.nn.SyncBatchNorm. Plain autograd
// ops: the gradient reaches `reduce`'s input through whatever backward `reduce` defines.
import type { Tensor } from '../tensor.js';
import { ones } from '../creation.js';
import { cat } from '../functional.js';
import { noGrad } from '../autograd.js';
import { tidy } from '../scope.js';

/** Combines [3, C] rows (sum, sum of squares, count) of this process with those of the others. */
export type BatchStatsReducer = (stats: Tensor) => Tensor;

export interface ReducedBatchNormState {
  weight: Tensor | null;
  bias: Tensor | null;
  runningMean: Tensor;
  runningVar: Tensor;
  momentum: number;
  eps: number;
}

export function batchNormReduced(x: Tensor, s: ReducedBatchNormState, reduce: BatchStatsReducer): Tensor {
  const C = x.shape[1]!;
  const dims = x.shape.map((_, i) => i).filter((i) => i !== 1);
  const count = ones([1, C], { dtype: x.dtype, device: x.device }).mul(x.numel / C);
  const stats = reduce(cat([x.sum(dims).reshape([1, C]), x.square().sum(dims).reshape([1, C]), count], 0));
  const n = stats.select(0, 2);
  const mean = stats.select(0, 0).div(n);
  const variance = stats.select(0, 1).div(n).sub(mean.square());
  const total = n.max().item();
  if (total <= 1) throw new Error(`SyncBatchNorm: expected more than 1 value per channel over all ranks, got ${total}`);
  noGrad(() =>
    tidy(() => {
      s.runningMean.copy_(s.runningMean.mul(1 - s.momentum).add(mean.detach().mul(s.momentum)));
      s.runningVar.copy_(s.runningVar.mul(1 - s.momentum).add(variance.detach().mul((s.momentum * total) / (total - 1))));
    }),
  );
  const shape = x.shape.map((d, i) => (i === 1 ? d : 1));
  let y = x.sub(mean.reshape(shape)).div(variance.add(s.eps).sqrt().reshape(shape));
  if (s.weight) y = y.mul(s.weight.reshape(shape));
  if (s.bias) y = y.add(s.bias.reshape(shape));
  return y;
}
