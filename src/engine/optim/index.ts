// Optimisers, gradient clipping / transforms and learning-rate schedules.
export {
  Optimizer,
  type ParamGroup,
  type ParamGroupInput,
  type ParamsInput,
  type OptimizerState,
  type OptimizerScalars,
  type GroupValue,
} from './optimizer.js';
export { Adam, AdamW, type AdamOptions } from './adam.js';
export { SGD, type SGDOptions } from './sgd.js';
export { clipGradNorm, clipGradValue, addWeightDecayGrad, addProximalGrad } from './clip.js';
export {
  LRScheduler,
  ConstantLR,
  StepLR,
  CosineAnnealingLR,
  LambdaLR,
  ReduceLROnPlateau,
  type SchedulerState,
  type CosineOptions,
  type PlateauOptions,
} from './schedules.js';
export { GradScaler, type GradScalerOptions, type GradScalerState, type ScalableOptimizer } from './grad-scaler.js';
