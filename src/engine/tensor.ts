// Tensor: a TypeScript handle to a libtorch tensor. Methods mirror PyTorch names and semantics
// (broadcasting, type promotion, autograd). Every result is a new Tensor tracked by the current tidy scope.
import { native, type NativeTensor } from '../native/binding.js';
import { track, untrack, type Disposable } from './scope.js';
import type { DType, TypedArray } from './dtype.js';

export type Scalar = number | boolean;
/** How a tensor's elements lie in memory (see Tensor.memoryFormat). */
export type MemoryFormat = 'contiguous' | 'channels_last' | 'strided';
export type TensorLike = Tensor | Scalar;

function raw(x: TensorLike): NativeTensor | Scalar {
  return x instanceof Tensor ? x.native : x;
}

export class Tensor implements Disposable {
  /** The addon's handle; use only inside the engine. */
  readonly native: NativeTensor;
  private cachedShape: number[] | undefined;

  constructor(handle: NativeTensor) {
    this.native = handle;
    // Only tensors no tidy scope will free are reported to V8 (their memory waits for a GC and a finalizer).
    if (!track(this)) native.tensorAdopt(handle);
  }

  /** Leaving scoped disposal (keep, or returned by the outermost tidy): V8 now needs to know the memory. */
  escapeScope(): void {
    if (!native.tensorIsDisposed(this.native)) native.tensorAdopt(this.native);
  }

  /** Wraps an addon result. */
  static wrap(handle: NativeTensor): Tensor {
    return new Tensor(handle);
  }

  // ---- metadata ----
  get shape(): number[] {
    if (!this.cachedShape) this.cachedShape = native.tensorShape(this.native);
    return this.cachedShape.slice();
  }
  get rank(): number {
    return this.shape.length;
  }
  size(dim: number): number {
    const s = this.shape;
    const d = dim < 0 ? dim + s.length : dim;
    if (d < 0 || d >= s.length) throw new RangeError(`size(${dim}): tensor has ${s.length} dimensions`);
    return s[d]!;
  }
  get dtype(): DType {
    return native.tensorDtype(this.native) as DType;
  }
  get device(): string {
    return native.tensorDevice(this.native);
  }
  get numel(): number {
    return native.tensorNumel(this.native);
  }
  get isDisposed(): boolean {
    return native.tensorIsDisposed(this.native);
  }

  // ---- lifecycle ----
  /** Frees the native memory now (idempotent). Other tensors sharing storage keep it alive. */
  dispose(): void {
    if (native.tensorDispose(this.native)) untrack(this);
  }

  // ---- data out ----
  /** Copies the data into a typed array of the tensor's dtype (or `as`). */
  dataSync(as?: DType): TypedArray {
    // float16 / bfloat16 have no JS typed array: they come out as float32.
    return native.tensorToTypedArray(this.native, as ?? (this.isHalf() ? 'float32' : undefined));
  }
  private isHalf(): boolean {
    const d = this.dtype;
    return d === 'float16' || d === 'bfloat16';
  }
  toFloat32Array(): Float32Array {
    return native.tensorToTypedArray(this.native, 'float32') as Float32Array;
  }
  toFloat64Array(): Float64Array {
    return native.tensorToTypedArray(this.native, 'float64') as Float64Array;
  }
  toInt32Array(): Int32Array {
    return native.tensorToTypedArray(this.native, 'int32') as Int32Array;
  }
  /** Plain numbers (int64 values beyond 2^53 lose precision). */
  toArray(): number[] {
    const a = native.tensorToTypedArray(this.native, this.dtype === 'int64' ? 'float64' : this.isHalf() ? 'float32' : undefined);
    return Array.from(a as ArrayLike<number>, Number);
  }
  item(): number {
    return Number(native.tensorItem(this.native));
  }
  toString(): string {
    const n = this.numel;
    const preview =
      n <= 20
        ? `[${this.toArray()
            .map((v) => +v.toPrecision(5))
            .join(', ')}]`
        : `(${n} values)`;
    return `Tensor(shape=[${this.shape.join(', ')}], dtype=${this.dtype}, ${preview})`;
  }

  // ---- autograd ----
  get requiresGrad(): boolean {
    return native.tensorRequiresGrad(this.native);
  }
  set requiresGrad(flag: boolean) {
    native.tensorSetRequiresGrad(this.native, flag);
  }
  /** Sets requiresGrad and returns this (for chaining). */
  requireGrad(flag = true): this {
    native.tensorSetRequiresGrad(this.native, flag);
    return this;
  }
  /** The accumulated gradient, or null. A new handle sharing the gradient's storage. */
  get grad(): Tensor | null {
    const g = native.tensorGrad(this.native);
    return g ? Tensor.wrap(g) : null;
  }
  set grad(g: Tensor | null) {
    native.tensorSetGrad(this.native, g ? g.native : null);
  }
  zeroGrad(): void {
    native.tensorSetGrad(this.native, null);
  }
  get isLeaf(): boolean {
    return native.tensorIsLeaf(this.native);
  }
  get gradFnName(): string | null {
    return native.tensorGradFnName(this.native);
  }
  backward(gradient?: Tensor, options: { retainGraph?: boolean } = {}): void {
    native.backward(this.native, gradient?.native ?? null, options.retainGraph ?? false);
  }
  detach(): Tensor {
    return Tensor.wrap(native.detach(this.native));
  }

  // ---- elementwise ----
  add(o: TensorLike): Tensor {
    return Tensor.wrap(native.add(this.native, raw(o)));
  }
  sub(o: TensorLike): Tensor {
    return Tensor.wrap(native.sub(this.native, raw(o)));
  }
  /** o - this */
  rsub(o: TensorLike): Tensor {
    return Tensor.wrap(native.sub(raw(o), this.native));
  }
  mul(o: TensorLike): Tensor {
    return Tensor.wrap(native.mul(this.native, raw(o)));
  }
  div(o: TensorLike): Tensor {
    return Tensor.wrap(native.div(this.native, raw(o)));
  }
  /** o / this */
  rdiv(o: TensorLike): Tensor {
    return Tensor.wrap(native.div(raw(o), this.native));
  }
  floorDivide(o: TensorLike): Tensor {
    return Tensor.wrap(native.floorDivide(this.native, raw(o)));
  }
  remainder(o: TensorLike): Tensor {
    return Tensor.wrap(native.remainder(this.native, raw(o)));
  }
  pow(o: TensorLike): Tensor {
    return Tensor.wrap(native.pow(this.native, raw(o)));
  }
  maximum(o: TensorLike): Tensor {
    return Tensor.wrap(native.maximum(this.native, raw(o)));
  }
  minimum(o: TensorLike): Tensor {
    return Tensor.wrap(native.minimum(this.native, raw(o)));
  }
  eq(o: TensorLike): Tensor {
    return Tensor.wrap(native.eq(this.native, raw(o)));
  }
  ne(o: TensorLike): Tensor {
    return Tensor.wrap(native.ne(this.native, raw(o)));
  }
  lt(o: TensorLike): Tensor {
    return Tensor.wrap(native.lt(this.native, raw(o)));
  }
  le(o: TensorLike): Tensor {
    return Tensor.wrap(native.le(this.native, raw(o)));
  }
  gt(o: TensorLike): Tensor {
    return Tensor.wrap(native.gt(this.native, raw(o)));
  }
  ge(o: TensorLike): Tensor {
    return Tensor.wrap(native.ge(this.native, raw(o)));
  }
  logicalAnd(o: TensorLike): Tensor {
    return Tensor.wrap(native.logicalAnd(this.native, raw(o)));
  }
  logicalOr(o: TensorLike): Tensor {
    return Tensor.wrap(native.logicalOr(this.native, raw(o)));
  }
  logicalNot(): Tensor {
    return Tensor.wrap(native.logicalNot(this.native));
  }
  neg(): Tensor {
    return Tensor.wrap(native.neg(this.native));
  }
  abs(): Tensor {
    return Tensor.wrap(native.abs(this.native));
  }
  sqrt(): Tensor {
    return Tensor.wrap(native.sqrt(this.native));
  }
  rsqrt(): Tensor {
    return Tensor.wrap(native.rsqrt(this.native));
  }
  exp(): Tensor {
    return Tensor.wrap(native.exp(this.native));
  }
  log(): Tensor {
    return Tensor.wrap(native.log(this.native));
  }
  log1p(): Tensor {
    return Tensor.wrap(native.log1p(this.native));
  }
  expm1(): Tensor {
    return Tensor.wrap(native.expm1(this.native));
  }
  relu(): Tensor {
    return Tensor.wrap(native.relu(this.native));
  }
  sigmoid(): Tensor {
    return Tensor.wrap(native.sigmoid(this.native));
  }
  tanh(): Tensor {
    return Tensor.wrap(native.tanh(this.native));
  }
  gelu(): Tensor {
    return Tensor.wrap(native.gelu(this.native));
  }
  softplus(beta = 1, threshold = 20): Tensor {
    return Tensor.wrap(native.softplus(this.native, beta, threshold));
  }
  leakyRelu(slope = 0.01): Tensor {
    return Tensor.wrap(native.leakyRelu(this.native, slope));
  }
  square(): Tensor {
    return Tensor.wrap(native.square(this.native));
  }
  sign(): Tensor {
    return Tensor.wrap(native.sign(this.native));
  }
  floor(): Tensor {
    return Tensor.wrap(native.floor(this.native));
  }
  ceil(): Tensor {
    return Tensor.wrap(native.ceil(this.native));
  }
  round(): Tensor {
    return Tensor.wrap(native.round(this.native));
  }
  reciprocal(): Tensor {
    return Tensor.wrap(native.reciprocal(this.native));
  }
  sin(): Tensor {
    return Tensor.wrap(native.sin(this.native));
  }
  cos(): Tensor {
    return Tensor.wrap(native.cos(this.native));
  }
  erf(): Tensor {
    return Tensor.wrap(native.erf(this.native));
  }
  isnan(): Tensor {
    return Tensor.wrap(native.isnan(this.native));
  }
  isfinite(): Tensor {
    return Tensor.wrap(native.isfinite(this.native));
  }
  clamp(min: number | null, max: number | null = null): Tensor {
    return Tensor.wrap(native.clamp(this.native, min, max));
  }
  clampMin(min: number): Tensor {
    return this.clamp(min, null);
  }
  clampMax(max: number): Tensor {
    return this.clamp(null, max);
  }
  /** where(condition, this, other) */
  where(condition: Tensor, other: TensorLike): Tensor {
    return Tensor.wrap(native.where(condition.native, this.native, raw(other)));
  }

  // ---- reductions ----
  sum(dims?: number | number[] | null, keepdim = false, dtype?: DType): Tensor {
    return Tensor.wrap(native.sum(this.native, dims ?? null, keepdim, dtype));
  }
  mean(dims?: number | number[] | null, keepdim = false): Tensor {
    return Tensor.wrap(native.mean(this.native, dims ?? null, keepdim));
  }
  prod(dim?: number, keepdim = false): Tensor {
    return Tensor.wrap(native.prod(this.native, dim ?? null, keepdim));
  }
  /** Max over dims (all when omitted). Use maxWithIndices for argmax too. */
  max(dims?: number | number[] | null, keepdim = false): Tensor {
    return Tensor.wrap(native.amax(this.native, dims ?? null, keepdim));
  }
  min(dims?: number | number[] | null, keepdim = false): Tensor {
    return Tensor.wrap(native.amin(this.native, dims ?? null, keepdim));
  }
  maxWithIndices(dim: number, keepdim = false): { values: Tensor; indices: Tensor } {
    const [v, i] = native.maxDim(this.native, dim, keepdim);
    return { values: Tensor.wrap(v), indices: Tensor.wrap(i) };
  }
  minWithIndices(dim: number, keepdim = false): { values: Tensor; indices: Tensor } {
    const [v, i] = native.minDim(this.native, dim, keepdim);
    return { values: Tensor.wrap(v), indices: Tensor.wrap(i) };
  }
  logsumexp(dims: number | number[], keepdim = false): Tensor {
    return Tensor.wrap(native.logsumexp(this.native, dims, keepdim));
  }
  norm(p = 2, dims?: number | number[] | null, keepdim = false): Tensor {
    return Tensor.wrap(native.norm(this.native, p, dims ?? null, keepdim));
  }
  variance(dims?: number | number[] | null, unbiased = true, keepdim = false): Tensor {
    return Tensor.wrap(native.variance(this.native, dims ?? null, unbiased, keepdim));
  }
  std(dims?: number | number[] | null, unbiased = true, keepdim = false): Tensor {
    return this.variance(dims, unbiased, keepdim).sqrt();
  }
  argmax(dim?: number, keepdim = false): Tensor {
    return Tensor.wrap(native.argmax(this.native, dim ?? null, keepdim));
  }
  argmin(dim?: number, keepdim = false): Tensor {
    return Tensor.wrap(native.argmin(this.native, dim ?? null, keepdim));
  }
  all(): Tensor {
    return Tensor.wrap(native.all(this.native));
  }
  any(): Tensor {
    return Tensor.wrap(native.any(this.native));
  }
  cumsum(dim: number, dtype?: DType): Tensor {
    return Tensor.wrap(native.cumsum(this.native, dim, dtype));
  }
  countNonzero(dims?: number | number[]): Tensor {
    return Tensor.wrap(native.countNonzero(this.native, dims ?? null));
  }

  // ---- linear algebra ----
  matmul(o: Tensor): Tensor {
    return Tensor.wrap(native.matmul(this.native, o.native));
  }
  /** Transpose of a 2-D tensor. */
  t(): Tensor {
    if (this.rank !== 2) throw new Error(`t() expects a 2-D tensor, got shape [${this.shape.join(', ')}]`);
    return this.transpose(0, 1);
  }

  // ---- shape ----
  transpose(d0: number, d1: number): Tensor {
    return Tensor.wrap(native.transpose(this.native, d0, d1));
  }
  permute(dims: number[]): Tensor {
    return Tensor.wrap(native.permute(this.native, dims));
  }
  reshape(shape: number[]): Tensor {
    return Tensor.wrap(native.reshape(this.native, shape));
  }
  expand(shape: number[]): Tensor {
    return Tensor.wrap(native.expand(this.native, shape));
  }
  squeeze(dim?: number): Tensor {
    return Tensor.wrap(native.squeeze(this.native, dim ?? null));
  }
  unsqueeze(dim: number): Tensor {
    return Tensor.wrap(native.unsqueeze(this.native, dim));
  }
  flatten(startDim = 0, endDim = -1): Tensor {
    return Tensor.wrap(native.flatten(this.native, startDim, endDim));
  }
  /** Python-style x[start:end:step] along dim; null means open. */
  slice(dim: number, start: number | null, end: number | null = null, step = 1): Tensor {
    return Tensor.wrap(native.slice(this.native, dim, start, end, step));
  }
  narrow(dim: number, start: number, length: number): Tensor {
    return this.slice(dim, start, start + length);
  }
  select(dim: number, index: number): Tensor {
    return Tensor.wrap(native.select(this.native, dim, index));
  }
  split(size: number, dim = 0): Tensor[] {
    return (native.split(this.native, size, dim) as NativeTensor[]).map(Tensor.wrap);
  }
  repeat(repeats: number[]): Tensor {
    return Tensor.wrap(native.repeat(this.native, repeats));
  }
  repeatInterleave(repeats: number, dim = 0): Tensor {
    return Tensor.wrap(native.repeatInterleave(this.native, repeats, dim));
  }
  flip(dims: number[]): Tensor {
    return Tensor.wrap(native.flip(this.native, dims));
  }
  /** Row-major (NCHW for 4-D) copy, or this tensor's data when already so. */
  contiguous(): Tensor {
    return Tensor.wrap(native.contiguous(this.native));
  }
  /** 4-D tensor in channels_last (NHWC) memory: same shape and values, faster oneDNN convolutions on CPU. */
  toChannelsLast(): Tensor {
    return Tensor.wrap(native.toChannelsLast(this.native));
  }
  /** 'contiguous' (row-major), 'channels_last' (NHWC strides of a 4-D tensor) or 'strided' (a view of other strides). */
  get memoryFormat(): MemoryFormat {
    return native.memoryFormat(this.native) as MemoryFormat;
  }
  clone(): Tensor {
    return Tensor.wrap(native.clone(this.native));
  }
  to(dtype: DType | null, device?: string): Tensor {
    return Tensor.wrap(native.to(this.native, dtype, device));
  }
  toDevice(device: string): Tensor {
    return this.to(null, device);
  }
  float(): Tensor {
    return this.to('float32');
  }
  double(): Tensor {
    return this.to('float64');
  }
  long(): Tensor {
    return this.to('int64');
  }
  bool(): Tensor {
    return this.to('bool');
  }
  tril(diagonal = 0): Tensor {
    return Tensor.wrap(native.tril(this.native, diagonal));
  }
  triu(diagonal = 0): Tensor {
    return Tensor.wrap(native.triu(this.native, diagonal));
  }
  diag(diagonal = 0): Tensor {
    return Tensor.wrap(native.diag(this.native, diagonal));
  }
  diagonal(offset = 0, dim1 = 0, dim2 = 1): Tensor {
    return Tensor.wrap(native.diagonal(this.native, offset, dim1, dim2));
  }

  // ---- indexing ----
  indexSelect(dim: number, index: Tensor): Tensor {
    return Tensor.wrap(native.indexSelect(this.native, dim, index.native));
  }
  gather(dim: number, index: Tensor): Tensor {
    return Tensor.wrap(native.gather(this.native, dim, index.native));
  }
  scatter(dim: number, index: Tensor, src: Tensor | number): Tensor {
    return Tensor.wrap(native.scatter(this.native, dim, index.native, typeof src === 'number' ? src : src.native));
  }
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor {
    return Tensor.wrap(native.scatterAdd(this.native, dim, index.native, src.native));
  }
  indexAdd(dim: number, index: Tensor, src: Tensor): Tensor {
    return Tensor.wrap(native.indexAdd(this.native, dim, index.native, src.native));
  }
  indexCopy(dim: number, index: Tensor, src: Tensor): Tensor {
    return Tensor.wrap(native.indexCopy(this.native, dim, index.native, src.native));
  }
  maskedFill(mask: Tensor, value: number): Tensor {
    return Tensor.wrap(native.maskedFill(this.native, mask.native, value));
  }
  maskedSelect(mask: Tensor): Tensor {
    return Tensor.wrap(native.maskedSelect(this.native, mask.native));
  }
  nonzero(): Tensor {
    return Tensor.wrap(native.nonzero(this.native));
  }
  /** Sorted unique values, the inverse index of every element, and counts. */
  unique(): { values: Tensor; inverse: Tensor; counts: Tensor } {
    const [v, i, c] = native.unique(this.native);
    return { values: Tensor.wrap(v), inverse: Tensor.wrap(i), counts: Tensor.wrap(c) };
  }

  // ---- sorting ----
  topk(k: number, dim = -1, largest = true, sorted = true): { values: Tensor; indices: Tensor } {
    const [v, i] = native.topk(this.native, k, dim, largest, sorted);
    return { values: Tensor.wrap(v), indices: Tensor.wrap(i) };
  }
  /** Stable sort. */
  sort(dim = -1, descending = false): { values: Tensor; indices: Tensor } {
    const [v, i] = native.sort(this.native, dim, descending, true);
    return { values: Tensor.wrap(v), indices: Tensor.wrap(i) };
  }
  argsort(dim = -1, descending = false): Tensor {
    const { values, indices } = this.sort(dim, descending);
    values.dispose();
    return indices;
  }

  // ---- softmax family ----
  softmax(dim: number): Tensor {
    return Tensor.wrap(native.softmax(this.native, dim));
  }
  logSoftmax(dim: number): Tensor {
    return Tensor.wrap(native.logSoftmax(this.native, dim));
  }

  // ---- in place (no autograd; for optimisers, proxy re-initialisation, running statistics) ----
  copy_(src: Tensor): this {
    native.copyInPlace(this.native, src.native);
    return this;
  }
  fill_(value: number): this {
    native.fillInPlace(this.native, value);
    return this;
  }
  add_(other: TensorLike, alpha = 1): this {
    native.addInPlace(this.native, raw(other), alpha);
    return this;
  }
  mul_(other: TensorLike): this {
    native.mulInPlace(this.native, raw(other));
    return this;
  }
  indexCopy_(dim: number, index: Tensor, src: Tensor): this {
    native.indexCopyInPlace(this.native, dim, index.native, src.native);
    return this;
  }
}
