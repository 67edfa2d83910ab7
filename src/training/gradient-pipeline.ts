// What happens to the gradients between backward and the optimiser step, as one ordered list (the reference
// code's order, spec 2.2): coupled L2 weight decay on non-BN weights and proxies (Adam, SGD; AdamW decays inside
// the optimiser instead), CCP's proximal term λ(θ − θ_anchor) on the network weights, clipping by total norm,
// clipping by value; then the optimiser step and zeroGrad. The trainer and the training benchmarks both run it,
// so a benchmark times exactly the trainer's step.
import { addWeightDecayGrad, clipGradNorm, clipGradValue, type Optimizer } from '../engine/optim/index.js';
import { isCcpLoss } from '../ccp/index.js';
import type { MetricLoss } from '../losses/index.js';
import type { OptimizerSetup } from './build.js';
import type { RunConfig } from './config.js';

export interface GradientStage {
  readonly name: 'weight-decay' | 'ccp-regularizer' | 'clip-norm' | 'clip-value';
  /** Transforms the gradients in place; clip-norm returns the total norm before clipping. */
  apply(): number | void;
}

export class GradientPipeline {
  constructor(
    readonly stages: readonly GradientStage[],
    private readonly optimizer: Optimizer,
  ) {}

  /** Runs the stages in order; `onGradNorm` gets clip-norm's total norm (e.g. to stop on a non-finite one). */
  transform(onGradNorm?: (norm: number) => void): void {
    for (const s of this.stages) {
      const r = s.apply();
      if (typeof r === 'number') onGradNorm?.(r);
    }
  }

  /** The optimiser step on the transformed gradients, then zeroGrad. */
  step(): void {
    this.optimizer.step();
    this.optimizer.zeroGrad();
  }

  /** transform() then step(): one update from gradients just computed by backward. */
  apply(onGradNorm?: (norm: number) => void): void {
    this.transform(onGradNorm);
    this.step();
  }
}

/** The pipeline of a run config: stages only for what the config (and the loss) turn on. */
export function buildGradientPipeline(
  optimizer: Pick<RunConfig['optimizer'], 'clipNorm' | 'clipValue'>,
  setup: OptimizerSetup,
  loss: MetricLoss,
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
  return new GradientPipeline(stages, setup.optimizer);
}
