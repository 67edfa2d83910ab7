// The engine's public surface.
export { Tensor, type TensorLike, type Scalar, type MemoryFormat } from './tensor.js';
export { type DType, type TypedArray, FLOAT_DTYPES, sizeOf } from './dtype.js';
export * from './creation.js';
export * from './functional.js';
export * from './autograd.js';
export * from './runtime.js';
export * from './allocator.js';
export * from './precision.js';
export * from './normalization.js';
export { moveTo } from './move.js';
export { tidy, keep, dispose, pipe, liveTensors, releaseFinalizedWrappers } from './scope.js';
