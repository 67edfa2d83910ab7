// Data parallelism's share of a batch: every rank runs the same sampler with the same seed, so all draw the
// same global batch, and rank r keeps rows [floor(r B / N), floor((r+1) B / N)). Concatenated in rank order
// (an all-gather), the slices are the global batch a single process would train on.
import type { BatchSampler, SamplerState } from './samplers.js';

/** The rows [start, end) of a batch of `size` that rank `rank` of `worldSize` takes. */
export function rankSlice(size: number, rank: number, worldSize: number): { start: number; end: number } {
  return { start: Math.floor((rank * size) / worldSize), end: Math.floor(((rank + 1) * size) / worldSize) };
}

export class RankSliceSampler implements BatchSampler {
  constructor(
    readonly inner: BatchSampler,
    readonly rank: number,
    readonly worldSize: number,
  ) {
    if (!Number.isInteger(worldSize) || worldSize < 1) throw new Error(`RankSliceSampler: worldSize must be an integer >= 1, got ${worldSize}`);
    if (!Number.isInteger(rank) || rank < 0 || rank >= worldSize)
      throw new Error(`RankSliceSampler: rank must be an integer in 0..${worldSize - 1}, got ${rank}`);
  }

  next(): number[] | null {
    const batch = this.inner.next();
    if (batch === null) return null;
    const { start, end } = rankSlice(batch.length, this.rank, this.worldSize);
    return batch.slice(start, end);
  }

  getState(): SamplerState {
    return this.inner.getState();
  }

  setState(state: SamplerState): void {
    this.inner.setState(state);
  }
}
