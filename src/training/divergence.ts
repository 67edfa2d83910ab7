// Divergence and collapse detection. A NaN or infinity in the embeddings, the loss or the gradients stops
// training at the step where it first appears (before the optimiser applies it, so the weights and the last
// checkpoint stay finite), naming the epoch, the step and the learning rate. Checking the embeddings, not
// only the loss, matters: some losses (contrastive with relu'd margins, triplet) return a finite value on
// all-NaN embeddings. A collapse (every validation embedding equal, or a best metric no better than chance)
// does not stop the run but is reported.
import type { Tensor } from '../engine/index.js';

export class DivergenceError extends Error {
  constructor(
    message: string,
    readonly epoch: number,
    readonly step: number,
  ) {
    super(message);
    this.name = 'DivergenceError';
  }
}

export interface StepWhere {
  epoch: number;
  /** Step within the epoch (1-based). */
  step: number;
  /** Optimiser steps before this one, over the whole run. */
  globalStep: number;
  lr: number;
}

function hint(w: StepWhere): string {
  return `the learning rate is ${w.lr} (optimizer.lr): lower it (e.g. --lr ${w.lr / 10}), keep gradient clipping on (optimizer.clipNorm), or check the inputs; the checkpoint of epoch ${w.epoch - 1} is intact`;
}

function where(w: StepWhere): string {
  return `epoch ${w.epoch}, step ${w.step} (step ${w.globalStep + 1} of the run)`;
}

/** Number of non-finite values of a tensor (one device reduction). */
export function countNonFinite(t: Tensor): number {
  return t.isfinite().logicalNot().sum().item();
}

/** Throws when the batch's embeddings hold NaN or infinity. */
export function checkEmbeddings(emb: Tensor, w: StepWhere): void {
  // One reduction on the fast path: a sum is finite unless a value is NaN or infinite (or the sum overflows,
  // which the exact count below tells apart).
  if (Number.isFinite(emb.sum().item())) return;
  const bad = countNonFinite(emb);
  if (bad > 0)
    throw new DivergenceError(`training diverged at ${where(w)}: ${bad} of ${emb.numel} embedding values are NaN or infinite; ${hint(w)}`, w.epoch, w.step);
}

/** Throws when the loss value is not finite. */
export function checkLoss(value: number, w: StepWhere): void {
  if (!Number.isFinite(value)) throw new DivergenceError(`training diverged at ${where(w)}: the loss is ${value}; ${hint(w)}`, w.epoch, w.step);
}

/** Throws when the total gradient norm (clipGradNorm's return) is not finite. */
export function checkGradNorm(norm: number, w: StepWhere): void {
  if (!Number.isFinite(norm))
    throw new DivergenceError(`training diverged at ${where(w)}: the gradient norm is ${norm} (the update was not applied); ${hint(w)}`, w.epoch, w.step);
}

/** Throws when validation embeddings (row-major [N, D]) hold non-finite values. */
export function checkValidationEmbeddings(data: Float32Array, epoch: number, lr: number): void {
  let bad = 0;
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) bad++;
  if (bad > 0) {
    throw new DivergenceError(
      `training diverged at the end of epoch ${epoch}: ${bad} of ${data.length} validation embedding values are NaN or infinite (the learning rate is ${lr}: lower optimizer.lr)`,
      epoch,
      0,
    );
  }
}

/** True when every row of a row-major [N, D] block is the same vector (to float precision), N >= 2. */
export function embeddingsCollapsed(data: Float32Array, dim: number): boolean {
  const n = dim > 0 ? data.length / dim : 0;
  if (n < 2) return false;
  let maxAbs = 0;
  let maxRange = 0;
  for (let d = 0; d < dim; d++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < n; i++) {
      const v = data[i * dim + d]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    maxAbs = Math.max(maxAbs, Math.abs(lo), Math.abs(hi));
    maxRange = Math.max(maxRange, hi - lo);
  }
  return maxRange <= 1e-6 * Math.max(1, maxAbs);
}

/** The warning for a best validation P@1 no better than chance, or null. */
export function chanceWarning(best: { epoch: number; validation: { precisionAt1: number } } | undefined, chanceP1: number): string | null {
  if (!best || best.validation.precisionAt1 > chanceP1) return null;
  return `the best validation P@1 (${best.validation.precisionAt1.toFixed(4)}, epoch ${best.epoch}) is no better than chance (${chanceP1.toFixed(4)}): the model learned nothing usable`;
}

/** Expected P@1 of a retriever that ranks at random: sum_c n_c (n_c - 1) / (N (N - 1)). */
export function chancePrecisionAt1(labels: Int32Array): number {
  const counts = new Map<number, number>();
  for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  const n = labels.length;
  if (n < 2) return 0;
  let s = 0;
  for (const c of counts.values()) s += c * (c - 1);
  return s / (n * (n - 1));
}
