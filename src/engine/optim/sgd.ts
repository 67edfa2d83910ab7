// SGD with momentum, dampening, Nesterov and coupled weight decay (torch.optim.SGD), fused natively.
import type { Tensor } from '../tensor.js';
import { zerosLike } from '../creation.js';
import { native } from '../../native/binding.js';
import { Optimizer, type ParamGroup, type ParamsInput } from './optimizer.js';

export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  weightDecay?: number;
  lrMultiplier?: number;
}

export class SGD extends Optimizer {
  constructor(params: ParamsInput, options: SGDOptions) {
    if (!options || typeof options.lr !== 'number') throw new Error(`SGD: options.lr is required`);
    super(params, {
      lr: options.lr,
      momentum: options.momentum ?? 0,
      dampening: options.dampening ?? 0,
      nesterov: options.nesterov ?? false,
      weightDecay: options.weightDecay ?? 0,
      lrMultiplier: options.lrMultiplier ?? 1,
    });
  }

  get type(): string {
    return 'SGD';
  }

  protected override validateGroup(g: ParamGroup, i: number): void {
    const m = g.momentum,
      d = g.dampening;
    if (typeof m !== 'number' || !(m >= 0)) throw new Error(`SGD: param group ${i}: momentum must be >= 0, got ${String(m)}`);
    if (typeof d !== 'number' || !Number.isFinite(d)) throw new Error(`SGD: param group ${i}: dampening must be a number, got ${String(d)}`);
    if (g.nesterov && (m <= 0 || d !== 0))
      throw new Error(`SGD: param group ${i}: nesterov needs momentum > 0 and dampening 0 (got momentum ${m}, dampening ${d})`);
  }

  override step(): void {
    for (const g of this.paramGroups) {
      const momentum = g.momentum as number;
      const withGrad = g.params.filter((p) => Optimizer.hasGrad(p));
      if (withGrad.length === 0) continue;
      const lr = g.lr * g.lrMultiplier;
      const args = [lr, momentum, g.dampening as number, g.weightDecay, Boolean(g.nesterov)] as const;
      if (momentum === 0) {
        native.sgdStep(
          withGrad.map((p) => p.native),
          [],
          ...args,
          false,
        );
        continue;
      }
      // The first step of a parameter initialises its buffer with the gradient (no dampening).
      const first: Tensor[] = [];
      const later: Tensor[] = [];
      for (const p of withGrad) (this.tensorState.get(p)?.has('momentum_buffer') ? later : first).push(p);
      for (const [ps, isFirst] of [
        [first, true],
        [later, false],
      ] as const) {
        if (ps.length === 0) continue;
        const bufs = ps.map((p) => this.stateTensor(p, 'momentum_buffer', () => zerosLike(p)).native);
        native.sgdStep(
          ps.map((p) => p.native),
          bufs,
          ...args,
          isFirst,
        );
      }
    }
  }
}
