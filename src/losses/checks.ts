// Argument validation shared by the losses: errors name the loss, the argument and the value at fault.
import type { Tensor } from '../engine/index.js';
import { labelVector } from './masks.js';
import type { ReferenceSet } from './types.js';

/** Checks embeddings [B, D] and labels [B] (or [B, 1]); returns the labels as a vector. */
export function checkBatch(loss: string, embeddings: Tensor, labels: Tensor): Tensor {
  if (embeddings.rank !== 2) throw new Error(`${loss}: embeddings must be 2-D [B, D], got [${embeddings.shape.join(', ')}]`);
  if (!['float32', 'float64', 'float16', 'bfloat16'].includes(embeddings.dtype)) {
    throw new Error(`${loss}: embeddings must be floating point, got ${embeddings.dtype}`);
  }
  const l = labelVector(labels, `${loss}: labels`);
  if (l.dtype !== 'int64' && l.dtype !== 'int32') throw new Error(`${loss}: labels must be int64 (use int64([...])), got ${l.dtype}`);
  if (l.size(0) !== embeddings.size(0)) {
    throw new Error(`${loss}: ${embeddings.size(0)} embeddings but ${l.size(0)} labels`);
  }
  return l;
}

/** Checks a reference set against the batch's embedding size; returns its labels as a vector. */
export function checkReference(loss: string, embeddings: Tensor, ref: ReferenceSet): Tensor {
  const e = ref.embeddings;
  if (e.rank !== 2) throw new Error(`${loss}: ref.embeddings must be 2-D [M, D], got [${e.shape.join(', ')}]`);
  if (e.size(1) !== embeddings.size(1)) {
    throw new Error(`${loss}: ref.embeddings have dimension ${e.size(1)}, the batch has ${embeddings.size(1)}`);
  }
  const l = labelVector(ref.labels, `${loss}: ref.labels`);
  if (l.size(0) !== e.size(0)) throw new Error(`${loss}: ${e.size(0)} reference embeddings but ${l.size(0)} reference labels`);
  return l;
}

/** Checks that every label is a class index in [0, numClasses) (proxy and classifier losses). */
export function checkClassRange(loss: string, labels: Tensor, numClasses: number): void {
  if (labels.numel === 0) return;
  const lo = labels.min().item();
  const hi = labels.max().item();
  if (lo < 0 || hi >= numClasses) {
    throw new Error(`${loss}: labels must be class indices in [0, ${numClasses}) (numClasses = ${numClasses}), got values in [${lo}, ${hi}]`);
  }
}

export function checkPositive(loss: string, name: string, v: unknown, allowZero = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) {
    throw new Error(`${loss}: ${name} must be a ${allowZero ? 'non-negative' : 'positive'} finite number, got ${String(v)}`);
  }
  return v;
}

export function checkFinite(loss: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${loss}: ${name} must be a finite number, got ${String(v)}`);
  return v;
}

export function checkInteger(loss: string, name: string, v: unknown, min = 1): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new Error(`${loss}: ${name} must be an integer >= ${min}, got ${String(v)}`);
  return v;
}
