// The trainer's callbacks: the interface users implement, and the trainer's own features built on it.
export type {
  TrainCallback,
  TrainContext,
  StepContext,
  StepEndContext,
  ValidationContext,
  EpochEndContext,
  TrainEndContext,
  StopFn,
  CheckpointPart,
  RestoredPart,
} from './callback.js';
export { CallbackList, type CallbackSet, type StopRequest } from './callback-list.js';
export { GradientShareCallback, type GradientShareOptions, type GradientShareSample, type TermNorms } from './gradient-share.js';
