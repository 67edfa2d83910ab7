// All-gather that autograd sees through: the global batch of embeddings, in rank order, where this rank's rows
// stay connected to its own graph. Every rank computes its loss over the whole global batch, so the gradient
// of its rows is the sum over ranks of what each rank's loss sends them: backward all-reduces (sums) the
// gradient of the gathered tensor and keeps this rank's slice (torch.distributed.nn.all_gather semantics; a
// reduce-scatter). With the parameter gradients then averaged over ranks, N ranks with B/N rows each take the
// same step as one process with B rows and the mean loss.
import { customOp } from '../engine/autograd.js';
import { cat } from '../engine/functional.js';
import type { Tensor } from '../engine/tensor.js';
import type { ProcessGroup } from './process-group.js';

/**
 * Gathers `t` ([n_r, ...] on rank r) into [sum n_r, ...]; gradients flow back to each rank's own slice. `rows`:
 * the n_r when known (see ProcessGroup.allGather).
 */
export function allGatherWithGrad(group: ProcessGroup, t: Tensor, rows?: readonly number[]): Tensor {
  let offset = 0;
  let ownRows = 0;
  return customOp(
    [t],
    (x) => {
      const parts = group.allGather(x, rows);
      for (let r = 0; r < group.rank; r++) offset += parts[r]!.size(0);
      ownRows = x.size(0);
      return cat(parts, 0);
    },
    (gradOut) => {
      // clone: the all-reduce is in place and autograd may still hold gradOut.
      const summed = group.allReduce(gradOut.contiguous().clone(), 'sum');
      return [summed.narrow(0, offset, ownRows)];
    },
  );
}
