// What the trainer does differently on N ranks, so that N ranks with B/N rows each train the model one process
// trains with B rows (PML's DistributedLossWrapper semantics, DDP's gradient averaging):
//   - every rank draws the same seeded global batch and keeps its slice (RankSliceSampler);
//   - the loss sees the global batch: embeddings all-gathered with their gradient path, labels all-gathered;
//   - gradients averaged over the ranks after backward (syncCallback, through the trainer's callbacks);
//   - embedding of whole splits (validation, test, CCP's candidate pool) sharded by batches and gathered;
//   - decisions taken from rank 0's numbers (broadcast), files written by rank 0 only.
import { cat, noGrad, tidy, type Tensor } from '../../engine/index.js';
import type { Module } from '../../engine/nn/index.js';
import { allGatherWithGrad, broadcastNumbers, type ProcessGroup } from '../../distributed/index.js';
import { RankSliceSampler, rankSlice, type BatchSampler, type ImageLoader } from '../../data/index.js';
import { embedItemsSharded, shardBatches, type EmbedFn, type EmbedOptions } from '../sharded-embed.js';
import type { Embeddings } from '../embed.js';
import { syncCallback, type SyncOptions } from './sync-callback.js';
import type { ValidationSharding } from '../validate-epoch.js';

export interface DistributedOptions extends SyncOptions {
  /** The group this rank belongs to (ProcessGroup.fromEnv() under a launcher). */
  group: ProcessGroup;
}

export class DataParallel implements ValidationSharding {
  readonly group: ProcessGroup;
  readonly callback: ReturnType<typeof syncCallback>;

  constructor(options: DistributedOptions) {
    this.group = options.group;
    this.callback = syncCallback(options.group, options);
  }

  get rank(): number {
    return this.group.rank;
  }

  get worldSize(): number {
    return this.group.worldSize;
  }

  /** Rank 0 writes the run's files and talks to the user. */
  get isMain(): boolean {
    return this.group.rank === 0;
  }

  /** This rank's slice of the global batches `inner` draws. */
  sliceSampler(inner: BatchSampler): BatchSampler {
    return new RankSliceSampler(inner, this.rank, this.worldSize);
  }

  /** Where this rank's slice starts in a global batch of `size` (the loader's positionOffset). */
  positionOffset(size: number): number {
    return rankSlice(size, this.rank, this.worldSize).start;
  }

  /**
   * The global batch for the loss: every rank's embeddings (this rank's rows keep their graph) and labels. The
   * labels go first and tell every rank's row count, so the embeddings need no shape exchange of their own (two
   * collectives per step instead of four; with a skipped bad image a rank's slice is shorter, so the counts are
   * gathered, not assumed).
   */
  gatherBatch(embeddings: Tensor, labels: Tensor): { embeddings: Tensor; labels: Tensor } {
    if (this.worldSize === 1) return { embeddings, labels };
    return tidy(() => {
      const parts = this.group.allGather(labels);
      const rows = parts.map((p) => p.size(0));
      return { labels: cat(parts, 0), embeddings: allGatherWithGrad(this.group, embeddings, rows) };
    });
  }

  /** embedItems sharded over the ranks; every rank gets every row, in order. (A bound function: passed around.) */
  readonly embed: EmbedFn = (model: Module, images: ImageLoader, options: EmbedOptions = {}): Promise<Embeddings> =>
    embedItemsSharded(this.group, model, images, options);

  /**
   * forward(start, end) of rows [start, end) of `rows`, sharded in contiguous runs of `chunk` rows, gathered
   * in order (no gradient): for inputs already in memory.
   */
  forwardSharded(rows: number, chunk: number, forward: (start: number, end: number) => Tensor): Tensor {
    const { first, end } = shardBatches(Math.ceil(rows / chunk), this.rank, this.worldSize);
    return noGrad(() => tidy(() => this.group.allGatherCat(forward(Math.min(rows, first * chunk), Math.min(rows, end * chunk)))));
  }

  /** Rank 0's values on every rank (validation metrics, before any decision is taken on them). */
  fromRank0(values: readonly number[]): number[] {
    return broadcastNumbers(this.group, values);
  }
}
