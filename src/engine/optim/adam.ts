// Adam (coupled L2 weight decay, torch.optim.Adam) and AdamW (decoupled weight decay, torch.optim.AdamW),
// one fused native call per group and step count.
import type { Tensor } from '../tensor.js';
import { zerosLike } from '../creation.js';
import { native } from '../../native/binding.js';
import { Optimizer, type ParamGroup, type ParamsInput } from './optimizer.js';

export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  /** Multiplies lr in the update (per group; e.g. a group of proxies with lrMultiplier 100). */
  lrMultiplier?: number;
}

abstract class AdamBase extends Optimizer {
  protected abstract readonly decoupled: boolean;

  constructor(params: ParamsInput, o: AdamOptions, defaultWd: number) {
    super(params, {
      lr: o.lr ?? 1e-3,
      betas: o.betas ?? [0.9, 0.999],
      eps: o.eps ?? 1e-8,
      weightDecay: o.weightDecay ?? defaultWd,
      lrMultiplier: o.lrMultiplier ?? 1,
    });
  }

  protected override validateGroup(g: ParamGroup, i: number): void {
    const b = g.betas as unknown;
    if (!Array.isArray(b) || b.length !== 2 || !b.every((x) => typeof x === 'number' && x >= 0 && x < 1)) {
      throw new Error(`${this.constructor.name}: param group ${i}: betas must be two numbers in [0, 1), got ${JSON.stringify(b)}`);
    }
    if (typeof g.eps !== 'number' || !(g.eps >= 0)) throw new Error(`${this.constructor.name}: param group ${i}: eps must be >= 0, got ${String(g.eps)}`);
  }

  override step(): void {
    for (const g of this.paramGroups) {
      // Parameters without a gradient are skipped and keep their step count (as torch does), so bucket by step.
      const buckets = new Map<number, Tensor[]>();
      for (const p of g.params) {
        if (!Optimizer.hasGrad(p)) continue;
        const sc = this.scalars(p);
        sc.step = (sc.step ?? 0) + 1;
        if (!buckets.has(sc.step)) buckets.set(sc.step, []);
        buckets.get(sc.step)!.push(p);
      }
      const [b1, b2] = g.betas as [number, number];
      for (const [step, ps] of buckets) {
        const ms = ps.map((p) => this.stateTensor(p, 'exp_avg', () => zerosLike(p)).native);
        const vs = ps.map((p) => this.stateTensor(p, 'exp_avg_sq', () => zerosLike(p)).native);
        native.adamStep(
          ps.map((p) => p.native),
          ms,
          vs,
          step,
          g.lr * g.lrMultiplier,
          b1,
          b2,
          g.eps as number,
          g.weightDecay,
          this.decoupled,
        );
      }
    }
  }
}

/** torch.optim.Adam: weight decay added to the gradient (g += wd * p). Defaults lr 1e-3, betas (0.9, 0.999), eps 1e-8, wd 0. */
export class Adam extends AdamBase {
  protected readonly decoupled = false;
  constructor(params: ParamsInput, options: AdamOptions = {}) {
    super(params, options, 0);
  }
  get type(): string {
    return 'Adam';
  }
}

/** torch.optim.AdamW: decoupled weight decay (p *= 1 - lr * wd). Default wd 1e-2. */
export class AdamW extends AdamBase {
  protected readonly decoupled = true;
  constructor(params: ParamsInput, options: AdamOptions = {}) {
    super(params, options, 1e-2);
  }
  get type(): string {
    return 'AdamW';
  }
}
