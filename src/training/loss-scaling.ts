// Dynamic loss scaling in a training run (PyTorch's GradScaler, as `scaler.scale(loss).backward();
// scaler.unscale_(opt); clip...; scaler.step(opt); scaler.update()`): fp16's range is too small for raw
// gradients, so the loss is multiplied by a scale before backward; the gradients are divided by it again as the
// first stage of the gradient pipeline, before weight decay, CCP's proximal term and clipping add to or act on
// them (those stages work on true gradients). A step whose gradients hold an inf or NaN is skipped (no optimiser
// update, the scale backs off); growthInterval clean steps in a row grow it. On by default exactly when the
// model runs in fp16; `optimizer.lossScaling.enabled: 'on'` turns it on for any precision (float32 included,
// which is how the control flow is tested on a CPU).
import type { Tensor } from '../engine/index.js';
import { GradScaler, type GradScalerState, type ScalableOptimizer } from '../engine/optim/index.js';
import type { Precision } from '../engine/precision.js';
import type { RunConfig } from './config.js';
import { DivergenceError, type StepWhere } from './divergence.js';

/**
 * A scale below this means every gradient was inf/NaN for ~40 steps in a row (2^16 halved down to 2^-24, fp16's
 * smallest subnormal): no scale makes the gradients finite, the run has diverged.
 */
export const MIN_LOSS_SCALE = 2 ** -24;

export interface LossScalingState {
  scaler: GradScalerState;
  skippedSteps: number;
}

export class LossScaling {
  readonly scaler: GradScaler;
  /** Steps skipped for inf/NaN gradients over the whole run. */
  skippedSteps = 0;
  /** The current step's gradients held an inf or NaN (set by unscale, cleared by finishStep). */
  private skipping = false;

  constructor(o: RunConfig['optimizer']['lossScaling']) {
    this.scaler = new GradScaler({ initScale: o.initScale, growthFactor: o.growthFactor, backoffFactor: o.backoffFactor, growthInterval: o.growthInterval });
  }

  /** The tensor to call backward on: loss * scale. */
  scale(loss: Tensor): Tensor {
    return this.scaler.scale(loss);
  }

  /** Divides the gradients by the scale; returns true when the step must be skipped (an inf or NaN gradient). */
  unscale(optimizer: ScalableOptimizer): boolean {
    this.skipping = this.scaler.unscale(optimizer);
    return this.skipping;
  }

  /** The optimiser step unless skipped, then the scale update; returns whether it stepped. */
  step(optimizer: ScalableOptimizer, at?: StepWhere): boolean {
    const stepped = this.scaler.step(optimizer);
    this.scaler.update();
    if (!stepped) {
      this.skippedSteps++;
      if (at && this.scaler.getScale() < MIN_LOSS_SCALE) {
        throw new DivergenceError(
          `training diverged at epoch ${at.epoch}, step ${at.step} (step ${at.globalStep + 1} of the run): the gradients held inf or NaN at every loss scale down to ${this.scaler.getScale()} (optimizer.lossScaling); lower optimizer.lr or run in 'bf16'/'fp32'; the checkpoint of epoch ${at.epoch - 1} is intact`,
          at.epoch,
          at.step,
        );
      }
    }
    this.skipping = false;
    return stepped;
  }

  get skippingThisStep(): boolean {
    return this.skipping;
  }

  stateDict(): LossScalingState {
    return { scaler: this.scaler.stateDict(), skippedSteps: this.skippedSteps };
  }

  loadStateDict(s: LossScalingState): void {
    this.scaler.loadStateDict(s.scaler);
    if (!Number.isInteger(s.skippedSteps) || s.skippedSteps < 0)
      throw new Error(`loss scaling: state.skippedSteps must be a non-negative integer, got ${s.skippedSteps}`);
    this.skippedSteps = s.skippedSteps;
  }
}

/** The run's loss scaling: 'auto' = on exactly for fp16, 'on' / 'off' as said. Null when off. */
export function buildLossScaling(o: RunConfig['optimizer']['lossScaling'], precision: Precision): LossScaling | null {
  const on = o.enabled === 'on' || (o.enabled === 'auto' && precision === 'fp16');
  return on ? new LossScaling(o) : null;
}
