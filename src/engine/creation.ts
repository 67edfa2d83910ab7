// Creating tensors: from JS data, constants, ranges and random draws (seeded through runtime.manualSeed).
import { native } from '../native/binding.js';
import { Tensor } from './tensor.js';
import { dtypeOfArray, sizeOf, type DType, type TypedArray } from './dtype.js';

export interface CreateOptions {
  dtype?: DType;
  device?: string;
  requiresGrad?: boolean;
}

type Nested = number | boolean | Nested[];

function inferShape(data: Nested): number[] {
  const shape: number[] = [];
  let cur: Nested = data;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0] as Nested;
  }
  return shape;
}

function flattenChecked(data: Nested, shape: number[], depth: number, out: number[], path: string): void {
  if (depth === shape.length) {
    if (Array.isArray(data)) throw new Error(`tensor(): ragged nested array at ${path || 'top level'}`);
    out.push(typeof data === 'boolean' ? Number(data) : data);
    return;
  }
  if (!Array.isArray(data) || data.length !== shape[depth]) {
    throw new Error(`tensor(): ragged nested array at ${path || 'top level'}: expected ${shape[depth]} elements`);
  }
  data.forEach((d, i) => flattenChecked(d, shape, depth + 1, out, `${path}[${i}]`));
}

function finish(t: Tensor, o: CreateOptions): Tensor {
  if (o.requiresGrad) t.requiresGrad = true;
  return t;
}

/**
 * Creates a tensor by copying `data`: a typed array (with `shape`, default 1-D) or nested JS arrays / a
 * number. Without a dtype, Float32Array gives float32, nested numbers give float32, BigInt64Array int64.
 */
export function tensor(data: TypedArray | Nested, shape?: number[], options: CreateOptions = {}): Tensor {
  if (ArrayBuffer.isView(data)) {
    const arr = data as TypedArray;
    const s = shape ?? [arr.length];
    if (sizeOf(s) !== arr.length) throw new Error(`tensor(): shape [${s.join(', ')}] needs ${sizeOf(s)} elements, the data has ${arr.length}`);
    const dtype = options.dtype ?? dtypeOfArray(arr);
    return finish(Tensor.wrap(native.fromTypedArray(arr, s, dtype, options.device)), options);
  }
  const s = inferShape(data as Nested);
  const flat: number[] = [];
  flattenChecked(data as Nested, s, 0, flat, '');
  if (shape && sizeOf(shape) !== flat.length)
    throw new Error(`tensor(): shape [${shape.join(', ')}] needs ${sizeOf(shape)} elements, the data has ${flat.length}`);
  // flat[] holds numbers already: look at the first leaf of the original data to spot booleans.
  let first: Nested = data as Nested;
  while (Array.isArray(first)) first = first[0] as Nested;
  const dtype = options.dtype ?? (typeof first === 'boolean' ? 'bool' : 'float32');
  const f64 = Float64Array.from(flat);
  return finish(Tensor.wrap(native.fromTypedArray(f64, shape ?? s, dtype, options.device)), options);
}

/** A scalar (0-d) tensor. */
export function scalar(value: number, options: CreateOptions = {}): Tensor {
  return full([], value, options);
}

/** int64 tensor from integer labels / indices. */
export function int64(data: ArrayLike<number> | Int32Array, shape?: number[], options: Omit<CreateOptions, 'dtype'> = {}): Tensor {
  const arr = data instanceof Int32Array ? data : Int32Array.from(data as ArrayLike<number>);
  return tensor(arr, shape, { ...options, dtype: 'int64' });
}

export function zeros(shape: number[], o: CreateOptions = {}): Tensor {
  return finish(Tensor.wrap(native.zeros(shape, o.dtype ?? 'float32', o.device)), o);
}
export function ones(shape: number[], o: CreateOptions = {}): Tensor {
  return finish(Tensor.wrap(native.ones(shape, o.dtype ?? 'float32', o.device)), o);
}
export function full(shape: number[], value: number, o: CreateOptions = {}): Tensor {
  return finish(Tensor.wrap(native.full(shape, value, o.dtype ?? 'float32', o.device)), o);
}
export function zerosLike(t: Tensor, o: CreateOptions = {}): Tensor {
  return zeros(t.shape, { dtype: t.dtype, device: t.device, ...o });
}
export function onesLike(t: Tensor, o: CreateOptions = {}): Tensor {
  return ones(t.shape, { dtype: t.dtype, device: t.device, ...o });
}
/** [start, end) with step; int64 unless a dtype is given. */
export function arange(start: number, end?: number, step = 1, o: CreateOptions = {}): Tensor {
  const [a, b] = end === undefined ? [0, start] : [start, end];
  return finish(Tensor.wrap(native.arange(a, b, step, o.dtype ?? 'int64', o.device)), o);
}
export function linspace(start: number, end: number, steps: number, o: CreateOptions = {}): Tensor {
  return finish(Tensor.wrap(native.linspace(start, end, steps, o.dtype ?? 'float32', o.device)), o);
}
export function eye(n: number, o: CreateOptions = {}): Tensor {
  return finish(Tensor.wrap(native.eye(n, o.dtype ?? 'float32', o.device)), o);
}
/** Uniform [0, 1). */
export function rand(shape: number[], o: CreateOptions = {}): Tensor {
  return finish(Tensor.wrap(native.rand(shape, o.dtype ?? 'float32', o.device)), o);
}
/** Standard normal. */
export function randn(shape: number[], o: CreateOptions = {}): Tensor {
  return finish(Tensor.wrap(native.randn(shape, o.dtype ?? 'float32', o.device)), o);
}
/** Integers in [low, high). */
export function randint(low: number, high: number, shape: number[], o: CreateOptions = {}): Tensor {
  return Tensor.wrap(native.randint(low, high, shape, 'int64', o.device));
}
export function randperm(n: number, o: CreateOptions = {}): Tensor {
  return Tensor.wrap(native.randperm(n, 'int64', o.device));
}
