// How much of a CCP step's gradient each term of the objective contributes (spec §2.2): the in-batch term
// batchWeight·L(X, X), the proxy term proxyWeight·L(X, P), the proximal regulariser λ_t(θ − θ_anchor) and the
// coupled weight decay, each as an L2 norm on the network weights θ and on the proxies P. Measured every
// `everySteps` steps only: the two loss terms' gradients come from separate autograd.grad calls on the terms
// (graph retained for the step's own backward), the regulariser's and weight decay's from their formulas.
// The gradient the optimiser then applies (after clipping) is recorded too, since clipping by total norm rescales
// every term at once.
import { grad, keep, noGrad, stack, tidy, type Tensor } from '../../engine/index.js';
import { isCcpLoss, type CcpLoss, type CcpTerms } from '../../ccp/index.js';
import { batchNormParameterNames } from '../../models/index.js';
import type { StepContext, TrainCallback, TrainContext } from './callback.js';

/** Gradient norms of each term on one group of parameters. */
export interface TermNorms {
  batch: number;
  proxy: number;
  regularizer: number;
  weightDecay: number;
  /** The loss gradient backward produced (batch + proxy terms together). */
  loss: number;
}

/** One measurement step. */
export interface GradientShareSample {
  /** Optimiser steps before this one (0-based step index). */
  step: number;
  epoch: number;
  /** CCP problem index t (0 before the first projection) and λ_t. */
  t: number;
  lambda: number;
  network: TermNorms;
  proxies: TermNorms;
  /** Cosine between the batch and proxy terms' gradients on θ (NaN when either is zero). */
  cosineBatchProxy: number;
  /** Norm of everything the clipping stage sees (loss + weight decay + regulariser), all parameters. */
  normBeforeClip: number;
  /** Norm of the gradient the optimiser applies (after clipping), all parameters. */
  normApplied: number;
}

export interface GradientShareOptions {
  /** Measure every n-th step (default 10; step indices 0, n, 2n, ...). */
  everySteps?: number;
  /** Called with each finished sample. */
  onSample?: (sample: GradientShareSample) => void;
  /** Also write each sample to the run's metrics log as kind 'gradient-share' (default true). */
  log?: boolean;
}

const sumSquares = (ts: readonly (Tensor | null)[]): number =>
  tidy(() => {
    const parts = ts.filter((t): t is Tensor => t !== null).map((t) => t.square().sum());
    return parts.length ? stack(parts).sum().item() : 0;
  });
const dot = (a: readonly (Tensor | null)[], b: readonly (Tensor | null)[]): number =>
  tidy(() => {
    const parts = a.flatMap((x, i) => (x && b[i] ? [x.mul(b[i]!).sum()] : []));
    return parts.length ? stack(parts).sum().item() : 0;
  });

export class GradientShareCallback implements TrainCallback {
  readonly name = 'gradient-share';
  readonly samples: GradientShareSample[] = [];
  private readonly every: number;
  private loss: CcpLoss | null = null;
  private theta: Tensor[] = [];
  private decayed: Tensor[] = [];
  private weightDecay = 0;
  private nextStep = 0;
  private pending: { terms: { batch: (Tensor | null)[]; proxy: (Tensor | null)[] } } | null = null;
  private partial: Omit<GradientShareSample, 'normApplied'> | null = null;

  constructor(private readonly options: GradientShareOptions = {}) {
    const n = options.everySteps ?? 10;
    if (!Number.isInteger(n) || n < 1) throw new Error(`GradientShareCallback: everySteps must be a positive integer, got ${n}`);
    this.every = n;
  }

  onTrainBegin(ctx: TrainContext): void {
    const loss = ctx.loss;
    if (!isCcpLoss(loss)) throw new Error(`GradientShareCallback: the run's loss '${loss.name}' is not a CCP loss (ccp/<base>)`);
    const named = ctx.model.namedParameters().filter(([, p]) => p.requiresGrad);
    const bn = batchNormParameterNames(ctx.model);
    this.loss = loss;
    this.theta = named.map(([, p]) => p);
    // The trainer's coupled decay (build.ts): non-BN network weights and the proxies; AdamW decays inside the optimiser.
    this.decayed = named.filter(([n]) => !bn.has(n)).map(([, p]) => p);
    this.weightDecay = ctx.config.optimizer.name === 'adamw' ? 0 : ctx.config.optimizer.weightDecay;
    this.nextStep = ctx.step;
    loss.termsObserver = (terms) => this.observe(terms);
  }

  afterBackward(ctx: StepContext): void {
    if (!this.pending || !this.loss) return;
    const { batch, proxy } = this.pending.terms;
    this.pending = null;
    const P = this.loss.proxies;
    const n = this.theta.length;
    const reg = this.loss.controller.regularizer;
    const regGrads = noGrad(() =>
      reg.anchors && reg.lambda > 0 ? this.theta.map((p, i) => p.detach().sub(reg.anchors![i]!).mul(reg.lambda)) : this.theta.map(() => null),
    );
    const wd = this.weightDecay;
    const network: TermNorms = {
      batch: Math.sqrt(sumSquares(batch.slice(0, n))),
      proxy: Math.sqrt(sumSquares(proxy.slice(0, n))),
      regularizer: Math.sqrt(sumSquares(regGrads)),
      weightDecay: wd * Math.sqrt(sumSquares(this.decayed.map((p) => p.detach()))),
      loss: Math.sqrt(sumSquares(this.theta.map((p) => p.grad))),
    };
    const proxies: TermNorms = {
      batch: Math.sqrt(sumSquares([batch[n] ?? null])),
      proxy: Math.sqrt(sumSquares([proxy[n] ?? null])),
      regularizer: 0,
      weightDecay: wd * Math.sqrt(sumSquares([P.detach()])),
      loss: Math.sqrt(sumSquares([P.grad])),
    };
    const before = noGrad(() =>
      tidy(() => {
        const all = [...this.theta, P].map((p, i) => {
          let g = p.grad ?? p.detach().mul(0);
          if (wd > 0 && (p === P || this.decayed.includes(p))) g = g.add(p.detach().mul(wd));
          const r = regGrads[i];
          return r ? g.add(r) : g;
        });
        return Math.sqrt(sumSquares(all));
      }),
    );
    const cos = dot(batch.slice(0, n), proxy.slice(0, n)) / (network.batch * network.proxy);
    for (const g of [...batch, ...proxy, ...regGrads]) g?.dispose();
    this.partial = {
      step: this.nextStep,
      epoch: ctx.epoch,
      t: this.loss.controller.t,
      lambda: reg.lambda,
      network,
      proxies,
      cosineBatchProxy: Number.isFinite(cos) ? cos : NaN,
      normBeforeClip: before,
    };
  }

  beforeOptimizerStep(ctx: StepContext): void {
    if (!this.partial || !this.loss) return;
    const sample: GradientShareSample = { ...this.partial, normApplied: Math.sqrt(sumSquares([...this.theta, this.loss.proxies].map((p) => p.grad))) };
    this.partial = null;
    this.samples.push(sample);
    if (this.options.log ?? true) ctx.log({ kind: 'gradient-share', ...sample });
    this.options.onSample?.(sample);
  }

  onStepEnd(ctx: StepContext): void {
    this.nextStep = ctx.step;
  }

  close(): void {
    if (this.loss) this.loss.termsObserver = null;
    this.pending = null;
  }

  /** During the loss forward of a measurement step: each term's gradient on [θ..., P], graph kept for backward. */
  private observe(terms: CcpTerms): void {
    this.pending = null;
    if (this.nextStep % this.every !== 0 || !this.loss) return;
    const inputs = [...this.theta, this.loss.proxies];
    const of = (term: Tensor | null) => (term ? grad([term], inputs, { retainGraph: true }) : inputs.map(() => null));
    // The gradients outlive the forward's scope: they are freed in afterBackward.
    this.pending = { terms: { batch: keepAll(of(terms.batch)), proxy: keepAll(of(terms.proxy)) } };
  }
}

function keepAll(ts: (Tensor | null)[]): (Tensor | null)[] {
  return ts.map((t) => (t ? keep(t) : null));
}
