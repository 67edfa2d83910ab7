// What happens to the gradients between backward and the optimiser step, as one ordered list (the reference
// code's order, spec 2.2): coupled L2 weight decay on non-BN weights and proxies (Adam, SGD; AdamW decays inside
// the optimiser instead), CCP's proximal term λ(θ − θ_anchor) on the network weights, clipping by total norm,
// clipping by value; then the optimiser step and zeroGrad. The trainer and the training benchmarks both run it,
// so a benchmark times exactly the trainer's step. With loss scaling (fp16), backward runs on the scaled loss,
// unscaling comes before every stage, and a step whose gradients hold an inf or NaN skips the stages and the
// optimiser step (training/loss-scaling.ts).
import type { Tensor } from '../engine/index.js';
import { addWeightDecayGrad, clipGradNorm, clipGradValue, type Optimizer } from '../engine/optim/index.js';
import { isCcpLoss } from '../ccp/index.js';
import type { MetricLoss } from '../losses/index.js';
import type { OptimizerSetup } from './build.js';
import type { RunConfig } from './config.js';
import type { StepWhere } from './divergence.js';
import type { LossScaling } from './loss-scaling.js';

export interface GradientStage {
  readonly name: 'weight-decay' | 'ccp-regularizer' | 'clip-norm' | 'clip-value';
  /** Transforms the gradients in place; clip-norm returns the total norm before clipping. */
  apply(): number | void;
}

export class GradientPipeline {
  constructor(
    readonly stages: readonly GradientStage[],
    private readonly optimizer: Optimizer,
    /** Dynamic loss scaling (fp16), or null. */
    readonly lossScaling: LossScaling | null = null,
  ) {}

  /** backward() on the loss, scaled when loss scaling is on. */
  backward(loss: Tensor): void {
    (this.lossScaling ? this.lossScaling.scale(loss) : loss).backward();
  }

  /**
   * Runs the stages in order; `onGradNorm` gets clip-norm's total norm (e.g. to stop on a non-finite one). With
   * loss scaling the gradients are unscaled first; when they hold an inf or NaN the stages are skipped (the step
   * will be too) and false is returned.
   */
  transform(onGradNorm?: (norm: number) => void): boolean {
    if (this.lossScaling?.unscale(this.optimizer)) return false;
    for (const s of this.stages) {
      const r = s.apply();
      if (typeof r === 'number') onGradNorm?.(r);
    }
    return true;
  }

  /**
   * The optimiser step on the transformed gradients (skipped, with loss scaling, for inf/NaN gradients; then the
   * scale is updated), then zeroGrad. Returns whether the optimiser stepped. `at` names the step in a divergence
   * error (the loss scale collapsed).
   */
  step(at?: StepWhere): boolean {
    const stepped = this.lossScaling ? this.lossScaling.step(this.optimizer, at) : (this.optimizer.step(), true);
    this.optimizer.zeroGrad();
    return stepped;
  }

  /** transform() then step(): one update from gradients just computed by backward; returns whether it stepped. */
  apply(onGradNorm?: (norm: number) => void): boolean {
    this.transform(onGradNorm);
    return this.step();
  }
}

/** The pipeline of a run config: stages only for what the config (and the loss) turn on. */
export function buildGradientPipeline(
  optimizer: Pick<RunConfig['optimizer'], 'clipNorm' | 'clipValue'>,
  setup: OptimizerSetup,
  loss: MetricLoss,
  lossScaling: LossScaling | null = null,
): GradientPipeline {
  const stages: GradientStage[] = [];
  if (setup.gradientWeightDecay > 0) stages.push({ name: 'weight-decay', apply: () => addWeightDecayGrad(setup.decayParams, setup.gradientWeightDecay) });
  if (isCcpLoss(loss)) {
    const controller = loss.controller;
    const theta = setup.networkParams.map(([, p]) => p);
    stages.push({ name: 'ccp-regularizer', apply: () => controller.applyRegularizer(theta) });
  }
  const { clipNorm, clipValue } = optimizer;
  if (clipNorm !== null) stages.push({ name: 'clip-norm', apply: () => clipGradNorm(setup.allParams, clipNorm) });
  if (clipValue !== null) stages.push({ name: 'clip-value', apply: () => clipGradValue(setup.allParams, clipValue) });
  return new GradientPipeline(stages, setup.optimizer, lossScaling);
}
