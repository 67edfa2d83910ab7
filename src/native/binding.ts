// Loads the compiled libtorch addon and configures threads. Everything numeric goes through here.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';

/**
 * Opaque handle to a torch::Tensor owned by the addon (an External naming a slot of its handle table; see
 * native/common.h). Read only through the addon's tensor* functions; freed by tensorDispose, or by a GC once
 * tensorAdopt has attached a finalizer.
 */
export interface NativeTensor {
  readonly __nativeTensor: unique symbol;
}

export type NativeTypedArray = Float32Array | Float64Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array | Uint8ClampedArray;
export type Reduction = 'mean' | 'sum' | 'none';

/**
 * Every function the addon exports (native/*.cc, registered with DEF / UNARY / BINARY), so the compiler checks
 * each call. Parameter names are the ones the C++ uses in its error messages. Optional parameters take
 * null or undefined for "not given"; dtype and device are strings (engine/dtype.ts). Add an entry here with
 * every new DEF.
 */
/** An opaque c10d object owned by the addon (a store, a process group or a pending collective). */
export type DistHandle = object;

export interface NativeBinding {
  readonly torchVersion: string;
  abs(x: NativeTensor): NativeTensor;
  adamStep(
    params: NativeTensor[],
    expAvg: NativeTensor[],
    expAvgSq: NativeTensor[],
    step: number,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    weightDecay: number,
    decoupled?: boolean | null,
  ): void;
  adaptiveAvgPool2d(x: NativeTensor, outputSize?: number | [number, number]): NativeTensor;
  adaptiveMaxPool2d(x: NativeTensor, outputSize?: number | [number, number]): NativeTensor;
  add(a: NativeTensor | number | boolean, b: NativeTensor | number | boolean): NativeTensor;
  addInPlace(x: NativeTensor, other: NativeTensor | number | boolean, alpha?: number | null): void;
  addProximalGrad(params: NativeTensor[], anchors: NativeTensor[], lambda: number): void;
  addWeightDecayGrad(params: NativeTensor[], weightDecay: number): void;
  all(x: NativeTensor): NativeTensor;
  allclose(a: NativeTensor, b: NativeTensor, rtol?: number | null, atol?: number | null): boolean;
  /** { backend, notes, liveBytes, peakBytes, allocations, foreignFrees, cachedBytes, cacheLimitBytes }; engine/allocator.ts gives it its type. */
  allocatorInfo(): unknown;
  amax(x: NativeTensor, dims?: number | number[] | null, keepdim?: boolean | null): NativeTensor;
  amin(x: NativeTensor, dims?: number | number[] | null, keepdim?: boolean | null): NativeTensor;
  any(x: NativeTensor): NativeTensor;
  arange(start: number, end: number, step: number, dtype?: string | null, device?: string | null): NativeTensor;
  argmax(x: NativeTensor, dim?: number | null, keepdim?: boolean | null): NativeTensor;
  argmin(x: NativeTensor, dim?: number | null, keepdim?: boolean | null): NativeTensor;
  avgPool2d(
    x: NativeTensor,
    kernel: number | [number, number],
    stride?: number | [number, number] | null,
    padding?: number | [number, number] | null,
    ceilMode?: boolean | null,
    countIncludePad?: boolean | null,
  ): NativeTensor;
  backward(x: NativeTensor, gradient?: NativeTensor | null, retainGraph?: boolean | null): void;
  batchNorm(
    x: NativeTensor,
    weight?: NativeTensor | null,
    bias?: NativeTensor | null,
    runningMean?: NativeTensor | null,
    runningVar?: NativeTensor | null,
    training?: boolean | null,
    momentum?: number | null,
    eps?: number | null,
  ): NativeTensor;
  cat(tensors: NativeTensor[], dim?: number | null): NativeTensor;
  ceil(x: NativeTensor): NativeTensor;
  clamp(x: NativeTensor, min?: number | null, max?: number | null): NativeTensor;
  clipGradNorm(params: NativeTensor[], maxNorm: number): number;
  clipGradValue(params: NativeTensor[], value: number): void;
  clone(x: NativeTensor): NativeTensor;
  contiguous(x: NativeTensor): NativeTensor;
  conv2d(
    x: NativeTensor,
    weight: NativeTensor,
    bias?: NativeTensor | null,
    stride?: number | [number, number],
    padding?: number | [number, number],
    dilation?: number | [number, number],
    groups?: number | null,
  ): NativeTensor;
  copyInPlace(dst: NativeTensor, src: NativeTensor): void;
  cos(x: NativeTensor): NativeTensor;
  countNonzero(x: NativeTensor, dims?: number | number[] | null): NativeTensor;
  crossEntropy(logits: NativeTensor, target: NativeTensor, reduction?: Reduction, labelSmoothing?: number | null, ignoreIndex?: number | null): NativeTensor;
  cudaDeviceCount(): number;
  cudaIsAvailable(): boolean;
  cumsum(x: NativeTensor, dim: number, dtype?: string | null): NativeTensor;
  /** Attaches `output` (computed without grad) to the graph of `inputs`; `backward(gradOutput)` returns one gradient (or null) per input. */
  customOp(inputs: NativeTensor[], output: NativeTensor, backward: (gradOutput: NativeTensor) => (NativeTensor | null)[]): NativeTensor;
  detach(x: NativeTensor): NativeTensor;
  diag(x: NativeTensor, diagonal?: number | null): NativeTensor;
  diagonal(x: NativeTensor, offset?: number | null, dim1?: number | null, dim2?: number | null): NativeTensor;
  div(a: NativeTensor | number | boolean, b: NativeTensor | number | boolean): NativeTensor;
  // c10d (native/distributed.cc): stores, process groups and work items are opaque handles; timeouts in ms.
  distAllGather(group: DistHandle, tensor: NativeTensor, timeoutMs?: number | null): NativeTensor[];
  distAllReduce(group: DistHandle, tensor: NativeTensor, op: string, timeoutMs?: number | null): void;
  distAllReduceStart(group: DistHandle, tensor: NativeTensor, op: string, timeoutMs?: number | null): DistHandle;
  distBackends(): string[];
  distBarrier(group: DistHandle, timeoutMs?: number | null): void;
  distBroadcast(group: DistHandle, tensor: NativeTensor, root: number, timeoutMs?: number | null): void;
  distDestroy(group: DistHandle): void;
  distFileStore(path: string, worldSize: number, timeoutMs?: number | null): DistHandle;
  // native/grad_buckets.cc: gradient buckets all-reduced from autograd hooks while backward runs.
  distGradBucketsAttach(group: DistHandle, params: NativeTensor[], buckets: number[][], timeoutMs?: number | null): DistHandle;
  distGradBucketsDetach(buckets: DistHandle): void;
  distGradBucketsFinish(buckets: DistHandle): { buffers: NativeTensor[]; startedDuringBackward: number };
  distProcessGroup(store: DistHandle, backend: string, rank: number, worldSize: number, timeoutMs?: number | null): DistHandle;
  distStoreAdd(store: DistHandle, key: string, amount: number): number;
  distStoreGet(store: DistHandle, key: string): string;
  distStoreSet(store: DistHandle, key: string, value: string): void;
  distTcpStore(host: string, port: number, worldSize: number, isServer?: boolean | null, timeoutMs?: number | null): DistHandle;
  distTcpStorePort(store: DistHandle): number;
  distWorkWait(work: DistHandle, timeoutMs?: number | null): void;
  dropout(x: NativeTensor, p: number, training?: boolean | null): NativeTensor;
  eq(a: NativeTensor | number | boolean, b: NativeTensor | number | boolean): NativeTensor;
  enterInferenceMode(): void;
  exitInferenceMode(): void;
  equal(a: NativeTensor, b: NativeTensor): boolean;
  erf(x: NativeTensor): NativeTensor;
  exp(x: NativeTensor): NativeTensor;
  expand(x: NativeTensor, shape: number | number[]): NativeTensor;
  expm1(x: NativeTensor): NativeTensor;
  eye(n: number, dtype?: string | null, device?: string | null): NativeTensor;
  fillInPlace(x: NativeTensor, value: number): void;
  flatten(x: NativeTensor, startDim?: number | null, endDim?: number | null): NativeTensor;
  flip(x: NativeTensor, dims: number | number[]): NativeTensor;
  floor(x: NativeTensor): NativeTensor;
  floorDivide(a: NativeTensor | number | boolean, b: NativeTensor | number | boolean): NativeTensor;
  fromTypedArray(data: NativeTypedArray, shape: number | number[], dtype?: string | null, device?: string | null): NativeTensor;
  full(shape: number | number[], value: number, dtype?: string | null, device?: string | null): NativeTensor;
  gather(x: NativeTensor, dim: number, index: NativeTensor): NativeTensor;
  ge(a: NativeTensor | number | boolean, b: NativeTensor | number | boolean): NativeTensor;
  gelu(x: NativeTensor): NativeTensor;
  /** OpenBLAS's own thread count (setNumThreads sets it too); 0 where the BLAS is not OpenBLAS. */
  getBlasThreads(): number;
  getNumThreads(): number;
  grad(
    outputs: NativeTensor[],
    inputs: NativeTensor[],
    gradOutputs?: NativeTensor[] | null,
    retainGraph?: boolean | null,
    createGraph?: boolean | null,
    allowUnused?: boolean | null,
  ): (NativeTensor | null)[];
  gt(a: NativeTensor | number | boolean, b: NativeTensor | number | boolean): NativeTensor;
  indexAdd(x: NativeTensor, dim: number, index: NativeTensor, src: NativeTensor): NativeTensor;
  indexCopy(x: NativeTensor, dim: number, index: NativeTensor, src: NativeTensor): NativeTensor;
  indexCopyInPlace(x: NativeTensor, dim: number, index: NativeTensor, src: NativeTensor): void;
  indexSelect(x: NativeTensor, dim: number, index: NativeTensor): NativeTensor;
  isAutocastEnabled(device: string): boolean;
  isContiguous(x: NativeTensor): boolean;
  isGradEnabled(): boolean;
  isInferenceModeEnabled(): boolean;
  isInferenceTensor(x: NativeTensor): boolean;
  tensorStamp(x: NativeTensor): string | null;
  isfinite(x: NativeTensor): NativeTensor;
  isnan(x: NativeTensor): NativeTensor;
  /** Tensor handles not yet freed (leak checks). */
  liveTensorHandles(): number;
  layerNorm(x: NativeTensor, shape: number | number[], weight?: NativeTensor | null, bias?: NativeTensor | null, eps?: number | null): NativeTensor;
  le(a: NativeTensor | number | boolean, b: NativeTensor | number | boolean): NativeTensor;
  leakyRelu(x: NativeTensor, slope?: number | null): NativeTensor;
  linear(x: NativeTensor, weight: NativeTensor, bias?: NativeTensor | null): NativeTensor;
  linspace(start: number, end: number, steps: number, dtype?: string | null, device?: string | null): NativeTensor;
  log(x: NativeTensor): NativeTensor;
  log1p(x: NativeTensor): NativeTensor;
  logSoftmax(x: NativeTensor, dim: number): NativeTensor;
  logicalAnd(a: NativeTensor | number | boolean, b: NativeTensor | number | boolean): NativeTensor;
  logicalNot(x: NativeTensor): NativeTensor;
  logicalOr(a: NativeTensor | number | boolean, b: NativeTensor | number | boolean): NativeTensor;
  logsumexp(x: NativeTensor, dims: number | number[], keepdim?: boolean | null): NativeTensor;
  lt(a: NativeTensor | number | boolean, b: NativeTensor | number | boolean): NativeTensor;
  manualSeed(seed: number): void;
  maskedFill(x: NativeTensor, mask: NativeTensor, value: number): NativeTensor;
  maskedSelect(x: NativeTensor, mask: NativeTensor): NativeTensor;
  matmul(a: NativeTensor, b: NativeTensor): NativeTensor;
  maxDim(x: NativeTensor, dim: number, keepdim?: boolean | null): [values: NativeTensor, indices: NativeTensor];
  maxPool2d(
    x: NativeTensor,
    kernel: number | [number, number],
    stride?: number | [number, number] | null,
    padding?: number | [number, number] | null,
    dilation?: number | [number, number] | null,
    ceilMode?: boolean | null,
  ): NativeTensor;
  maximum(a: NativeTensor | number | boolean, b: NativeTensor | number | boolean): NativeTensor;
  mean(x: NativeTensor, dims?: number | number[] | null, keepdim?: boolean | null): NativeTensor;
  memoryFormat(x: NativeTensor): string;
  minDim(x: NativeTensor, dim: number, keepdim?: boolean | null): [values: NativeTensor, indices: NativeTensor];
  minimum(a: NativeTensor | number | boolean, b: NativeTensor | number | boolean): NativeTensor;
  mseLoss(input: NativeTensor, target: NativeTensor, reduction?: Reduction): NativeTensor;
  mul(a: NativeTensor | number | boolean, b: NativeTensor | number | boolean): NativeTensor;
  mulInPlace(x: NativeTensor, other: NativeTensor | number | boolean): void;
  multinomial(probs: NativeTensor, n: number, replacement?: boolean | null): NativeTensor;
  ne(a: NativeTensor | number | boolean, b: NativeTensor | number | boolean): NativeTensor;
  neg(x: NativeTensor): NativeTensor;
  nonzero(x: NativeTensor): NativeTensor;
  norm(x: NativeTensor, p?: number | null, dims?: number | number[] | null, keepdim?: boolean | null): NativeTensor;
  normalize(x: NativeTensor, p?: number | null, dim?: number | null, eps?: number | null): NativeTensor;
  oneHot(index: NativeTensor, numClasses?: number | null): NativeTensor;
  ones(shape: number | number[], dtype?: string | null, device?: string | null): NativeTensor;
  permute(x: NativeTensor, dims: number | number[]): NativeTensor;
  pow(a: NativeTensor | number | boolean, b: NativeTensor | number | boolean): NativeTensor;
  prod(x: NativeTensor, dim?: number | null, keepdim?: boolean | null): NativeTensor;
  rand(shape: number | number[], dtype?: string | null, device?: string | null): NativeTensor;
  randint(low: number, high: number, shape: number | number[], dtype?: string | null, device?: string | null): NativeTensor;
  randn(shape: number | number[], dtype?: string | null, device?: string | null): NativeTensor;
  randperm(n: number, dtype?: string | null, device?: string | null): NativeTensor;
  reciprocal(x: NativeTensor): NativeTensor;
  releaseCachedMemory(): number;
  relu(x: NativeTensor): NativeTensor;
  remainder(a: NativeTensor | number | boolean, b: NativeTensor | number | boolean): NativeTensor;
  repeat(x: NativeTensor, repeats: number | number[]): NativeTensor;
  repeatInterleave(x: NativeTensor, repeats: number, dim?: number | null): NativeTensor;
  reshape(x: NativeTensor, shape: number | number[]): NativeTensor;
  round(x: NativeTensor): NativeTensor;
  rsqrt(x: NativeTensor): NativeTensor;
  scatter(x: NativeTensor, dim: number, index: NativeTensor, src: NativeTensor | number): NativeTensor;
  scatterAdd(x: NativeTensor, dim: number, index: NativeTensor, src: NativeTensor): NativeTensor;
  select(x: NativeTensor, dim: number, index: number): NativeTensor;
  setAllocatorCacheLimit(bytes?: number | null): boolean;
  /** `dtype` is read only when `enabled`. */
  setAutocast(device: string, enabled: boolean, dtype?: string): void;
  setData(param: NativeTensor, source: NativeTensor): void;
  setGradEnabled(enabled?: boolean | null): boolean;
  setNumThreads(threads: number): void;
  sgdStep(
    params: NativeTensor[],
    momentumBuffers: NativeTensor[],
    lr: number,
    momentum: number,
    dampening: number,
    weightDecay: number,
    nesterov?: boolean | null,
    firstStep?: boolean | null,
  ): void;
  sigmoid(x: NativeTensor): NativeTensor;
  sign(x: NativeTensor): NativeTensor;
  sin(x: NativeTensor): NativeTensor;
  slice(x: NativeTensor, dim: number, start?: number | null, end?: number | null, step?: number | null): NativeTensor;
  softmax(x: NativeTensor, dim: number): NativeTensor;
  softplus(x: NativeTensor, beta?: number | null, threshold?: number | null): NativeTensor;
  sort(x: NativeTensor, dim?: number | null, descending?: boolean | null, stable?: boolean | null): [values: NativeTensor, indices: NativeTensor];
  split(x: NativeTensor, size: number, dim?: number | null): NativeTensor[];
  sqrt(x: NativeTensor): NativeTensor;
  square(x: NativeTensor): NativeTensor;
  squeeze(x: NativeTensor, dim?: number | null): NativeTensor;
  stack(tensors: NativeTensor[], dim?: number | null): NativeTensor;
  sub(a: NativeTensor | number | boolean, b: NativeTensor | number | boolean): NativeTensor;
  sum(x: NativeTensor, dims?: number | number[] | null, keepdim?: boolean | null, dtype?: string | null): NativeTensor;
  tanh(x: NativeTensor): NativeTensor;
  /** GC owns the tensor from now on: attaches its finalizer and reports its storage to V8 (idempotent). */
  tensorAdopt(x: NativeTensor): void;
  tensorDevice(x: NativeTensor): string;
  /** Frees the tensor now; true when this call freed it, false when it was already disposed. */
  tensorDispose(x: NativeTensor): boolean;
  tensorDtype(x: NativeTensor): string;
  tensorGrad(x: NativeTensor): NativeTensor | null;
  tensorGradFnName(x: NativeTensor): string | null;
  tensorIsDisposed(x: NativeTensor): boolean;
  tensorIsLeaf(x: NativeTensor): boolean;
  tensorItem(x: NativeTensor): number | boolean;
  tensorNbytes(x: NativeTensor): number;
  tensorNumel(x: NativeTensor): number;
  tensorRequiresGrad(x: NativeTensor): boolean;
  tensorSetGrad(x: NativeTensor, grad: NativeTensor | null): void;
  tensorSetRequiresGrad(x: NativeTensor, flag: boolean): void;
  tensorShape(x: NativeTensor): number[];
  tensorToTypedArray(x: NativeTensor, dtype?: string): Float32Array | Float64Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array;
  to(x: NativeTensor, dtype?: string | null, device?: string | null): NativeTensor;
  toChannelsLast(x: NativeTensor): NativeTensor;
  topk(x: NativeTensor, k: number, dim?: number | null, largest?: boolean | null, sorted?: boolean | null): [values: NativeTensor, indices: NativeTensor];
  transpose(x: NativeTensor, dim0: number, dim1: number): NativeTensor;
  tril(x: NativeTensor, diagonal?: number | null): NativeTensor;
  triu(x: NativeTensor, diagonal?: number | null): NativeTensor;
  unique(x: NativeTensor): [values: NativeTensor, inverse: NativeTensor, counts: NativeTensor];
  unsqueeze(x: NativeTensor, dim: number): NativeTensor;
  variance(x: NativeTensor, dims?: number | number[] | null, unbiased?: boolean | null, keepdim?: boolean | null): NativeTensor;
  where(condition: NativeTensor, a: NativeTensor | number | boolean, b: NativeTensor | number | boolean): NativeTensor;
  zeroGrads(params: NativeTensor[]): void;
  zeros(shape: number | number[], dtype?: string | null, device?: string | null): NativeTensor;
}

const ADDON = 'build/Release/ccp_dml_native.node';

function findAddon(): string {
  if (process.env.CCP_DML_ADDON) return process.env.CCP_DML_ADDON;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, ADDON);
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error(`ccp-dml native addon not found (${ADDON}). Build it with 'npm run build:native' (needs libtorch-dev, see README).`);
}

function load(): NativeBinding {
  const require = createRequire(import.meta.url);
  const binding = require(findAddon()) as NativeBinding;
  const fromEnv = process.env.CCP_DML_THREADS ? Number(process.env.CCP_DML_THREADS) : NaN;
  // torch defaults to 1 thread on this kind of machine; use every available core unless told otherwise.
  binding.setNumThreads(Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : availableParallelism());
  return binding;
}

export const native: NativeBinding = load();
