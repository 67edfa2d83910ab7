// Rank 0's values of many tensors in place on every rank, in one collective per dtype instead of one per tensor
// (DDP's broadcast_coalesced): BatchNorm's running statistics after every step are ~2 small tensors per layer, and
// a Gloo round trip each (140 for BN-Inception) costs more than the bytes.
import { cat } from '../engine/functional.js';
import { noGrad } from '../engine/autograd.js';
import { tidy } from '../engine/scope.js';
import type { Tensor } from '../engine/tensor.js';
import type { ProcessGroup } from './process-group.js';

export function broadcastCoalesced(group: ProcessGroup, tensors: readonly Tensor[], root = 0): void {
  if (group.worldSize === 1 || tensors.length === 0) return;
  const byDtype = new Map<string, Tensor[]>();
  for (const t of tensors) byDtype.set(t.dtype, [...(byDtype.get(t.dtype) ?? []), t]);
  noGrad(() =>
    tidy(() => {
      for (const ts of byDtype.values()) {
        if (ts.length === 1) {
          group.broadcast(ts[0]!, root);
          continue;
        }
        const flat = group.broadcast(cat(ts.map((t) => t.reshape([-1]))), root);
        if (group.rank === root) continue;
        let offset = 0;
        for (const t of ts) {
          t.copy_(flat.narrow(0, offset, t.numel).reshape(t.shape));
          offset += t.numel;
        }
      }
    }),
  );
}
