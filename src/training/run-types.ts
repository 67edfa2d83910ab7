// What one training run records and returns: the per-epoch record (metrics.jsonl, the checkpoint's history)
// and the result of train(). Shared by the trainer, its callbacks and the checkpoint.
import type { Precision } from '../engine/index.js';
import type { RetrievalResult } from '../evaluation/index.js';
import type { CcpProjectionEvent } from '../ccp/index.js';
import type { Embeddings } from './embed.js';

export interface ValidationMetrics {
  mapAtR: number;
  precisionAt1: number;
  rPrecision: number;
}

export interface EpochRecord {
  epoch: number;
  step: number;
  loss: number;
  validation: ValidationMetrics;
  lr: number;
  seconds: number;
  /** Resident memory of the process at the epoch end (MB). */
  rssMB: number;
  /** Engine tensors alive (created and not disposed) at the epoch end: a leak shows as growth here. */
  liveTensors: number;
  ccp?: { t: number; lambda: number; projected: boolean };
  /** Dynamic loss scaling (fp16): the scale at the epoch end, steps skipped for inf/NaN gradients this epoch and in all. */
  lossScale?: { scale: number; skippedSteps: number; skippedTotal: number };
  bestEpoch: number;
}

export interface TestEmbeddings {
  query: Embeddings;
  gallery?: Embeddings;
}

export type StopReason = 'early-stopping' | 'max-epochs' | 'time-budget' | 'interrupted' | 'callback';

export interface TrainResult {
  runDir: string;
  /** Epochs trained in total (including before a resume). */
  epochs: number;
  steps: number;
  bestEpoch: number;
  bestValidationMapAtR: number;
  /** Why training ended ('callback': a user callback asked to stop, see stoppedBy). */
  stopReason: StopReason;
  /** The callback that stopped the run, and its message (stopReason 'callback' only). */
  stoppedBy?: string;
  /** Test-split retrieval metrics of the best weights (absent when interrupted). */
  test?: RetrievalResult;
  testEmbeddings?: TestEmbeddings;
  history: EpochRecord[];
  ccpProjections: CcpProjectionEvent[];
  wallSeconds: number;
  /**
   * How the network ran: compute precision and memory layout (model.precision / model.memoryFormat resolved),
   * and whether frozen BatchNorm layers ran folded into their convolutions (model.foldBatchNorm, with frozen BN).
   */
  execution: {
    precision: Precision;
    memoryFormat: 'contiguous' | 'channels_last';
    frozenBatchNormFolded: boolean;
    threads: number;
    device: string;
    deviceReason: string;
  };
  /** What the run noticed but did not stop for (stale files cleaned, skipped images, collapse). */
  warnings: string[];
  /** The HTML run report, when a report callback wrote one (report.runReportCallback). */
  reportPath?: string;
}
