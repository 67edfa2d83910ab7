// The trainer's callback interface: the points of a run where code other than the training step itself acts.
// The trainer's own features (CCP's projection controller, XBM's memory switch, early stopping with the best
// weights, the learning-rate schedule, the metrics log, the progress display, the execution record) are
// callbacks, and users add theirs with train(config, { callbacks }) (as PML's end-of-epoch hook or Keras
// callbacks). Every method is optional; callbacks run in list order, the trainer's own first.
//
// One run, in order of events:
//   onTrainBegin                       after building (and restoring a checkpoint when resuming)
//   per epoch: onEpochBegin
//     per step: forward, loss, backward
//               afterBackward          raw gradients (e.g. all-reduce, loss-scale checks)
//               gradient pipeline      coupled weight decay, CCP's proximal term, clipping by norm and value
//                                      (with loss scaling, fp16: unscaling first; a step with inf/NaN
//                                      gradients skips the stages and the optimiser update)
//               beforeOptimizerStep    the gradients the optimiser will apply
//               optimiser step, zeroGrad
//               onStepEnd              the step's loss value
//   validation; onValidation           decisions on the epoch's metric (CCP projection, best weights, LR
//                                      schedule); may add fields to the epoch record and may stop the run
//   onEpochEnd                         the finished epoch record; may stop the run
//   checkpointState                    each callback's state goes into the epoch's checkpoint
//   onTrainEnd                         after the test evaluation (test absent when the run was interrupted)
//   close                              always, also when training fails
// On resume, restoreState gets back what checkpointState returned, before onTrainBegin.
import type { Tensor } from '../../engine/index.js';
import type { Optimizer } from '../../engine/optim/index.js';
import type { MetricLoss } from '../../losses/index.js';
import type { EmbeddingNet } from '../../models/index.js';
import type { RunConfig } from '../config.js';
import type { RunData } from '../data-setup.js';
import type { EpochRecord, TestEmbeddings, TrainResult, ValidationMetrics } from '../run-types.js';

/** What every event sees: the run, its parts, and where it stands. */
export interface TrainContext {
  readonly config: RunConfig;
  readonly runDir: string;
  /**
   * This process writes the run's files. False on the ranks other than 0 of a distributed run: they write
   * nothing at all (rank 0 writes the run folder), so a callback that writes files returns early there.
   */
  readonly writesFiles: boolean;
  readonly model: EmbeddingNet;
  readonly loss: MetricLoss;
  readonly optimizer: Optimizer;
  readonly data: RunData;
  /** No progress output wanted. */
  readonly quiet: boolean;
  /** This invocation continues a checkpoint. */
  readonly resumed: boolean;
  /** Epochs completed before this event (in onEpochBegin and later: the epoch being trained, 1-based). */
  readonly epoch: number;
  /** Optimiser steps taken over the whole run. */
  readonly step: number;
  /** Records of the epochs finished so far (including before a resume). */
  readonly history: readonly EpochRecord[];
  /** Appends a record to the run's metrics log (metrics.jsonl); `time` is added. Does nothing where !writesFiles. */
  log(record: Record<string, unknown>): void;
  /** Something the run noticed but does not stop for: stderr, the metrics log and result.warnings. */
  warn(message: string): void;
}

export interface StepContext extends TrainContext {
  /** Step within the epoch, 1-based. */
  readonly stepInEpoch: number;
  /** The current learning rate of the first parameter group. */
  readonly lr: number;
}

export interface StepEndContext extends StepContext {
  /** This step's loss value. */
  readonly value: number;
  /** Mean loss of the epoch's steps so far. */
  readonly epochLoss: number;
}

/** Ends training after this epoch's checkpoint (stopReason 'callback', unless the trainer's early stopping asks). */
export type StopFn = (message?: string) => void;

export interface ValidationContext extends TrainContext {
  readonly validation: ValidationMetrics;
  readonly stop: StopFn;
}

export interface EpochEndContext extends TrainContext {
  readonly record: EpochRecord;
  readonly stop: StopFn;
}

export interface TrainEndContext extends TrainContext {
  /** The result train() returns; a callback may add to it (the report callback sets reportPath). */
  readonly result: TrainResult;
  /** Test embeddings of the best weights; absent when the run was interrupted before its end. */
  readonly test?: TestEmbeddings;
}

/** A callback's share of a checkpoint: JSON-able state and named tensors (saved, then restored as given). */
export interface CheckpointPart {
  state?: unknown;
  tensors?: Iterable<[string, Tensor]>;
}

export interface RestoredPart {
  state: unknown;
  /** The part's tensors, by the names it gave them; valid only during the call (copy what you keep). */
  tensors: Map<string, Tensor>;
}

export interface TrainCallback {
  /** Unique within a run: names the callback in errors and keys its checkpoint state. */
  readonly name: string;
  onTrainBegin?(ctx: TrainContext): void | Promise<void>;
  onEpochBegin?(ctx: TrainContext): void | Promise<void>;
  afterBackward?(ctx: StepContext): void;
  beforeOptimizerStep?(ctx: StepContext): void;
  onStepEnd?(ctx: StepEndContext): void;
  /** Returned fields are added to the epoch record (CCP adds `ccp`). */
  onValidation?(ctx: ValidationContext): void | Partial<EpochRecord> | Promise<void | Partial<EpochRecord>>;
  onEpochEnd?(ctx: EpochEndContext): void | Promise<void>;
  checkpointState?(): CheckpointPart;
  restoreState?(saved: RestoredPart): void;
  onTrainEnd?(ctx: TrainEndContext): void | Promise<void>;
  close?(): void;
}
