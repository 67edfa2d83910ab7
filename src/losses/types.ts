// The contract every metric-learning loss implements, so that CCP, XBM and the trainer can wrap any of them.
import type { Tensor } from '../engine/index.js';

/** A reference set that batch embeddings are compared against: proxies, an XBM memory, or the batch itself. */
export interface ReferenceSet {
  embeddings: Tensor; // [M, D], raw (the loss applies its normalisation)
  labels: Tensor; // [M] int64
}

export interface MetricLoss {
  readonly name: string;
  /**
   * Loss of a batch. `embeddings` [B, D] are raw model outputs, `labels` [B] int64.
   * Pair-based losses compare the batch with `ref` when given (sample-vs-proxy, sample-vs-memory), else with
   * itself (self pairs excluded). Proxy-based losses use their own learnable proxies and ignore `ref`.
   * `mined` (pair losses, see `acceptsMined`): the pairs / triplets a miner chose; only those are used.
   */
  forward(embeddings: Tensor, labels: Tensor, ref?: ReferenceSet, mined?: MinedTuples): Tensor;
  /** Learnable tensors owned by the loss (proxies); [] for pair-based losses. */
  parameters(): Tensor[];
  /** Suggested learning-rate multiplier for parameters() (e.g. 100 for ProxyAnchor's proxies). */
  readonly parameterLrMultiplier?: number;
  /**
   * (Additive) true for losses whose forward uses `ref` (pair-based losses: rows = batch samples as
   * anchors, columns = reference items). False / absent for proxy and classifier losses.
   */
  readonly acceptsReference?: boolean;
  /** (Additive) true for losses that use a miner's pairs / triplets (`mined`). */
  readonly acceptsMined?: boolean;
  /** (Additive) the loss's state for checkpoints: proxies, an XBM memory, counters (as tensors). */
  stateDict?(): Record<string, Tensor>;
  /** (Additive) restores what stateDict() returned (values are copied; shapes must match). */
  loadStateDict?(state: Record<string, Tensor>): void;
}

/**
 * What a miner selected in a batch (indices into the batch rows and the columns of the compared set),
 * int64 vectors as in PML: pairs (a1, p) positive and (a2, n) negative, or triplets (a, p, n).
 */
export type MinedTuples = { kind: 'pairs'; a1: Tensor; p: Tensor; a2: Tensor; n: Tensor } | { kind: 'triplets'; a: Tensor; p: Tensor; n: Tensor };
