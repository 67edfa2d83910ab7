// SyncBatchNorm: the model's BatchNorm layers normalise with statistics over the global batch (every rank's
// rows) instead of their own slice, as torch.nn.SyncBatchNorm. The per-channel sums are all-reduced; backward
// all-reduces their gradient (each rank's loss reaches the global statistics through its own rows only).
import { customOp, type Tensor } from '../engine/index.js';
import { BatchNormBase, type Module } from '../engine/nn/index.js';
import type { ProcessGroup } from './process-group.js';

/** Sum over the ranks whose backward is the sum of the gradients over the ranks. */
export function allReduceSumWithGrad(group: ProcessGroup, t: Tensor): Tensor {
  return customOp(
    [t],
    (x) => group.allReduce(x.contiguous().clone(), 'sum'),
    (g) => [group.allReduce(g.contiguous().clone(), 'sum')],
  );
}

/** Makes every BatchNorm layer of `model` synchronised over `group`; returns how many (0 on one rank). */
export function syncBatchNorm(model: Module, group: ProcessGroup): number {
  if (group.worldSize === 1) return 0;
  const layers = model
    .namedModules()
    .map(([, m]) => m)
    .filter((m): m is BatchNormBase => m instanceof BatchNormBase);
  for (const bn of layers) bn.reduceBatchStatsWith((stats) => allReduceSumWithGrad(group, stats));
  return layers.length;
}
