// Layers and initialisers (torch.nn style).
export { Module } from './module.js';
export { Linear, type LinearOptions } from './linear.js';
export { Conv2d, type Conv2dOptions, type Pair } from './conv.js';
export { BatchNormBase, BatchNorm1d, BatchNorm2d, type BatchNormOptions } from './batchnorm.js';
export { ReLU, Identity, Flatten, Dropout } from './activation.js';
export { MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, type MaxPool2dOptions, type AvgPool2dOptions } from './pooling.js';
export { Sequential } from './sequential.js';
export { convBatchNorm, foldedConvParams, foldsIntoConv } from './conv-batchnorm.js';
export * as init from './init.js';
export {
  calculateFanInAndFanOut,
  calculateGain,
  uniform_,
  normal_,
  truncNormal_,
  constant_,
  zeros_,
  ones_,
  xavierUniform,
  xavierNormal,
  glorotUniform,
  glorotNormal,
  kaimingUniform,
  kaimingNormal,
  heNormal,
  heUniform,
  type KaimingOptions,
  type Nonlinearity,
  type FanMode,
} from './init.js';
