// The part of data parallelism that fits the trainer's callbacks (DDP's share of the work): every rank starts
// from rank 0's weights, gradients are averaged over the ranks right after backward (before weight decay,
// CCP's proximal term and clipping, which are then the same on every rank), BatchNorm's running statistics
// follow rank 0's (DDP's broadcast_buffers; the batch statistics stay per rank), and the checkpoint records
// the world size it was written with.
import type { Tensor } from '../../engine/index.js';
import { GradientReducer, broadcastCoalesced, type ProcessGroup } from '../../distributed/index.js';
import type { TrainCallback, TrainContext, RestoredPart } from '../hooks/index.js';

export interface SyncOptions {
  /** Gradient bucket cap in bytes (default 25 MB, DDP's). */
  bucketBytes?: number;
  /** All-reduce gradient buckets during backward (default true; see GradientReducer). */
  overlap?: boolean;
}

export function syncCallback(group: ProcessGroup, options: SyncOptions = {}): TrainCallback & { restoredWorldSize: number | null } {
  let reducer: GradientReducer | null = null;
  let buffers: Tensor[] = [];
  const broadcastAll = (ts: readonly Tensor[]) => broadcastCoalesced(group, ts, 0);
  return {
    name: 'distributed',
    restoredWorldSize: null,
    onTrainBegin(ctx: TrainContext) {
      const params = ctx.optimizer.params();
      reducer = new GradientReducer(group, params, { bucketBytes: options.bucketBytes, overlap: options.overlap });
      buffers = ctx.model
        .namedBuffers()
        .map(([, b]) => b)
        .filter((b) => b.dtype.startsWith('float'));
      broadcastAll([...ctx.model.stateDict().values(), ...ctx.loss.parameters()]);
      // A checkpoint without this part was written by a single process.
      const before = this.restoredWorldSize ?? 1;
      if (ctx.resumed && before !== group.worldSize) {
        ctx.warn(
          `resumed a checkpoint written by ${before} process(es) with ${group.worldSize}: the global batch is the same, ` +
            'per-rank BatchNorm statistics (if any) now come from smaller or larger slices',
        );
      }
    },
    afterBackward() {
      reducer!.reduce();
      if (buffers.length) broadcastAll(buffers);
    },
    close() {
      reducer?.dispose();
    },
    checkpointState() {
      return { state: { worldSize: group.worldSize } };
    },
    restoreState(saved: RestoredPart) {
      const ws = (saved.state as { worldSize?: unknown } | null)?.worldSize;
      this.restoredWorldSize = typeof ws === 'number' ? ws : null;
    },
  };
}
