// Inputs of the evaluation layer: embeddings as a Tensor or a typed array with a 2-D shape, integer labels
// as a typed array, a plain array or an integer Tensor. Everything is validated here, with errors that name
// the argument at fault.
import { tensor, Tensor } from '../engine/index.js';

/** An [n, d] embedding matrix: an engine Tensor, or row-major data with its shape. */
export type EmbeddingInput = Tensor | { data: Float32Array | Float64Array | ArrayLike<number>; shape: readonly [number, number] | readonly number[] };

/** Integer class labels, one per row. */
export type LabelInput = Int32Array | ArrayLike<number> | Tensor;

/** Floating dtype used for distance computations. */
export type ComputeDType = 'float32' | 'float64';

/**
 * Converts an embedding input to a 2-D floating Tensor of `dtype` (a new tensor in the current tidy scope;
 * the caller's tensor is never modified). Rejects wrong ranks, empty matrices and non-finite values.
 */
export function toEmbeddingTensor(x: EmbeddingInput, name: string, dtype: ComputeDType = 'float32'): Tensor {
  let t: Tensor;
  if (x instanceof Tensor) {
    if (x.isDisposed) throw new Error(`${name}: the tensor has been disposed`);
    if (x.rank !== 2) throw new Error(`${name}: expected a 2-D [n, d] tensor, got shape [${x.shape.join(', ')}]`);
    t = x.detach().to(dtype);
  } else {
    if (!x || typeof x !== 'object' || !('data' in x) || !('shape' in x)) throw new Error(`${name}: expected a Tensor or { data, shape }`);
    const shape = Array.from(x.shape);
    if (shape.length !== 2) throw new Error(`${name}: shape must be [n, d], got [${shape.join(', ')}]`);
    const [n, d] = shape as [number, number];
    if (!Number.isInteger(n) || !Number.isInteger(d) || n < 0 || d < 0) throw new Error(`${name}: invalid shape [${shape.join(', ')}]`);
    if (x.data.length !== n * d) throw new Error(`${name}: shape [${n}, ${d}] needs ${n * d} values, data has ${x.data.length}`);
    const data = x.data instanceof Float32Array || x.data instanceof Float64Array ? x.data : Float64Array.from(x.data);
    t = tensor(data, [n, d], { dtype });
  }
  const [n, d] = t.shape as [number, number];
  if (n === 0 || d === 0) throw new Error(`${name}: empty embedding matrix [${n}, ${d}]`);
  if (!t.isfinite().all().item()) throw new Error(`${name}: embeddings contain NaN or infinite values`);
  return t;
}

/** Converts labels to an Int32Array, checking integrality and (optionally) the length. */
export function toLabelArray(labels: LabelInput, name: string, expectedLength?: number): Int32Array {
  let arr: ArrayLike<number>;
  if (labels instanceof Tensor) {
    if (labels.isDisposed) throw new Error(`${name}: the tensor has been disposed`);
    if (labels.rank !== 1) throw new Error(`${name}: expected a 1-D tensor, got shape [${labels.shape.join(', ')}]`);
    arr = labels.toArray();
  } else if (labels && typeof labels === 'object' && typeof (labels as ArrayLike<number>).length === 'number') {
    arr = labels;
  } else {
    throw new Error(`${name}: expected an Int32Array, an array of integers or a 1-D Tensor`);
  }
  if (expectedLength !== undefined && arr.length !== expectedLength) {
    throw new Error(`${name}: expected ${expectedLength} labels (one per embedding row), got ${arr.length}`);
  }
  if (arr instanceof Int32Array) return arr;
  const out = new Int32Array(arr.length);
  for (let i = 0; i < arr.length; i++) {
    const v = Number(arr[i]);
    if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) throw new Error(`${name}[${i}]: labels must be 32-bit integers, got ${arr[i]}`);
    out[i] = v;
  }
  return out;
}
