// Batch normalisation with PyTorch's buffers (running_mean, running_var, num_batches_tracked) and a
// `freeze()` switch: a frozen layer always normalises with its running statistics, never updates them, and
// its affine parameters do not train, whatever train()/eval() says (the CCP backbone's frozen BN).
import type { Tensor } from '../tensor.js';
import { ones, zeros } from '../creation.js';
import { batchNorm } from '../functional.js';
import { noGrad } from '../autograd.js';
import { tidy } from '../scope.js';
import { Module } from './module.js';
import { batchNormReduced, type BatchStatsReducer } from './batchnorm-reduced.js';

export interface BatchNormOptions {
  eps?: number;
  /** Running-average factor; null means a cumulative moving average (1 / num_batches_tracked). Default 0.1. */
  momentum?: number | null;
  affine?: boolean;
}

export abstract class BatchNormBase extends Module {
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
  readonly numBatchesTracked: Tensor;
  private frozenFlag = false;
  /**
   * When this layer normalises with running statistics (frozen, or eval mode) right after a Conv2d
   * (convBatchNorm, Sequential), fold it into the convolution's weight and bias: same function, one pass over
   * the activation fewer each way (conv-batchnorm.ts). Default true; false runs the two layers as written.
   */
  foldIntoConv = true;
  private statsReducer: BatchStatsReducer | null = null;

  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super();
    if (!Number.isInteger(numFeatures) || numFeatures < 1) throw new Error(`${new.target.name}: numFeatures must be a positive integer, got ${numFeatures}`);
    this.numFeatures = numFeatures;
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum === undefined ? 0.1 : options.momentum;
    this.affine = options.affine ?? true;
    this.weight = this.affine ? this.registerParameter('weight', ones([numFeatures])) : null;
    this.bias = this.affine ? this.registerParameter('bias', zeros([numFeatures])) : null;
    this.runningMean = this.registerBuffer('running_mean', zeros([numFeatures]));
    this.runningVar = this.registerBuffer('running_var', ones([numFeatures]));
    this.numBatchesTracked = this.registerBuffer('num_batches_tracked', zeros([], { dtype: 'int64' }));
  }

  /** Input ranks this layer accepts. */
  protected abstract checkInput(x: Tensor): void;

  get frozen(): boolean {
    return this.frozenFlag;
  }

  /** Uses running statistics from now on and stops training weight / bias. train() does not undo this. */
  freeze(): this {
    this.frozenFlag = true;
    if (this.weight) this.weight.requiresGrad = false;
    if (this.bias) this.bias.requiresGrad = false;
    return this;
  }

  /** Undoes freeze(): batch statistics in training mode again, weight / bias trainable. */
  unfreeze(): this {
    this.frozenFlag = false;
    if (this.weight) this.weight.requiresGrad = true;
    if (this.bias) this.bias.requiresGrad = true;
    return this;
  }

  /**
   * Batch statistics combined through `reduce` from now on (SyncBatchNorm over data-parallel ranks; see
   * batchnorm-reduced.ts); null goes back to this call's rows only.
   */
  reduceBatchStatsWith(reduce: BatchStatsReducer | null): this {
    this.statsReducer = reduce;
    return this;
  }

  get reducesBatchStats(): boolean {
    return this.statsReducer !== null;
  }

  /** Whether forward normalises with batch statistics (and updates the running ones). */
  get usesBatchStats(): boolean {
    return this.training && !this.frozenFlag;
  }

  override forward(x: Tensor): Tensor {
    this.checkInput(x);
    if (x.shape[1] !== this.numFeatures) {
      throw new Error(`${this.constructor.name}(${this.numFeatures}): input has ${x.shape[1]} channels, shape [${x.shape.join(', ')}]`);
    }
    const training = this.usesBatchStats;
    let momentum = this.momentum ?? 0;
    if (training) {
      const perChannel = x.numel / this.numFeatures;
      if (perChannel <= 1)
        throw new Error(`${this.constructor.name}: expected more than 1 value per channel when training, got input shape [${x.shape.join(', ')}]`);
      // (a JS number is a double scalar for the binding, so add an int64 one to keep the buffer int64)
      noGrad(() => tidy(() => void this.numBatchesTracked.copy_(this.numBatchesTracked.add(ones([], { dtype: 'int64' })))));
      if (this.momentum === null) momentum = 1 / this.numBatchesTracked.item();
    }
    if (training && this.statsReducer) {
      return batchNormReduced(
        x,
        { weight: this.weight, bias: this.bias, runningMean: this.runningMean, runningVar: this.runningVar, momentum, eps: this.eps },
        this.statsReducer,
      );
    }
    return batchNorm(x, this.runningMean, this.runningVar, { weight: this.weight, bias: this.bias, training, momentum, eps: this.eps });
  }
}

/** BatchNorm over [N, C, H, W]. */
export class BatchNorm2d extends BatchNormBase {
  protected override checkInput(x: Tensor): void {
    if (x.rank !== 4) throw new Error(`BatchNorm2d: expected a 4-D input [N, C, H, W], got shape [${x.shape.join(', ')}]`);
  }
}

/** BatchNorm over [N, C] or [N, C, L]. */
export class BatchNorm1d extends BatchNormBase {
  protected override checkInput(x: Tensor): void {
    if (x.rank !== 2 && x.rank !== 3) throw new Error(`BatchNorm1d: expected a 2-D or 3-D input [N, C(, L)], got shape [${x.shape.join(', ')}]`);
  }
}
