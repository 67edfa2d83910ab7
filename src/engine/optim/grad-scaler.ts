// Dynamic loss scaling for fp16 training (torch.cuda.amp.GradScaler): the loss is multiplied by a scale so that
// small fp16 gradients do not underflow; before the optimizer step the gradients are divided by it again, and a
// step whose gradients hold an inf or NaN (the scale was too large) is skipped and the scale backs off. After
// `growthInterval` clean steps in a row the scale grows again. Works on any device (tests run it on CPU with
// float32 gradients).
import type { Tensor } from '../tensor.js';
import { noGrad } from '../autograd.js';
import { tidy } from '../scope.js';
import { stack } from '../functional.js';

export interface GradScalerOptions {
  /** Starting scale. Default 2^16 (PyTorch's). */
  initScale?: number;
  /** Multiplier after `growthInterval` steps without inf/NaN. Default 2. */
  growthFactor?: number;
  /** Multiplier after a step with inf/NaN gradients. Default 0.5. */
  backoffFactor?: number;
  /** Clean steps in a row before the scale grows. Default 2000. */
  growthInterval?: number;
  /** false: scale() returns the loss as is and step() always steps (fp32 / bf16 runs share the code path). */
  enabled?: boolean;
}

/** What a checkpoint keeps, so that a resumed run continues with the same scale. */
export interface GradScalerState {
  scale: number;
  growthTracker: number;
}

/** The parts of an optimizer the scaler needs (every engine optimizer has them). */
export interface ScalableOptimizer {
  params(): Tensor[];
  step(): void;
}

function positive(name: string, v: number): number {
  if (!(Number.isFinite(v) && v > 0)) throw new Error(`GradScaler: ${name} must be a positive number, got ${v}`);
  return v;
}

export class GradScaler {
  readonly enabled: boolean;
  private scaleValue: number;
  private readonly growthFactor: number;
  private readonly backoffFactor: number;
  private readonly growthInterval: number;
  private growthTracker = 0;
  /** Set by unscale for the current step (null: not unscaled yet). */
  private foundInf: boolean | null = null;

  constructor(o: GradScalerOptions = {}) {
    this.enabled = o.enabled ?? true;
    this.scaleValue = positive('initScale', o.initScale ?? 2 ** 16);
    this.growthFactor = positive('growthFactor', o.growthFactor ?? 2);
    this.backoffFactor = positive('backoffFactor', o.backoffFactor ?? 0.5);
    if (this.growthFactor <= 1) throw new Error(`GradScaler: growthFactor must be > 1, got ${this.growthFactor}`);
    if (this.backoffFactor >= 1) throw new Error(`GradScaler: backoffFactor must be < 1, got ${this.backoffFactor}`);
    const interval = o.growthInterval ?? 2000;
    if (!Number.isInteger(interval) || interval < 1) throw new Error(`GradScaler: growthInterval must be a positive integer, got ${interval}`);
    this.growthInterval = interval;
  }

  /** The current scale. */
  getScale(): number {
    return this.scaleValue;
  }

  /** loss * scale (a new tensor), to call backward on. */
  scale(loss: Tensor): Tensor {
    return this.enabled ? loss.mul(this.scaleValue) : loss;
  }

  /**
   * Divides the optimizer's gradients by the scale in place (once per step; gradient clipping goes after this)
   * and returns whether any of them holds an inf or NaN.
   */
  unscale(optimizer: ScalableOptimizer): boolean {
    if (!this.enabled) return false;
    if (this.foundInf !== null) throw new Error('GradScaler: unscale() was already called since the last update()');
    const inv = 1 / this.scaleValue;
    // One finiteness flag per gradient, read back once (a read per gradient would sync a GPU per parameter).
    const found = noGrad(() =>
      tidy(() => {
        const finite: Tensor[] = [];
        for (const p of optimizer.params()) {
          const g = p.grad;
          if (!g) continue;
          g.mul_(inv);
          finite.push(g.isfinite().all());
        }
        return finite.length > 0 && !stack(finite).all().item();
      }),
    );
    this.foundInf = found;
    return found;
  }

  /** Unscales (unless done already) and runs optimizer.step() when the gradients are finite; returns whether it stepped. */
  step(optimizer: ScalableOptimizer): boolean {
    if (!this.enabled) {
      optimizer.step();
      return true;
    }
    const found = this.foundInf ?? this.unscale(optimizer);
    if (!found) optimizer.step();
    return !found;
  }

  /** Adjusts the scale after a step: back off on inf/NaN, grow after growthInterval clean steps. */
  update(): void {
    if (!this.enabled) return;
    if (this.foundInf === null) throw new Error('GradScaler: update() without unscale() or step() in this step');
    if (this.foundInf) {
      this.scaleValue *= this.backoffFactor;
      this.growthTracker = 0;
    } else if (++this.growthTracker === this.growthInterval) {
      this.scaleValue *= this.growthFactor;
      this.growthTracker = 0;
    }
    this.foundInf = null;
  }

  stateDict(): GradScalerState {
    return { scale: this.scaleValue, growthTracker: this.growthTracker };
  }

  loadStateDict(s: GradScalerState): void {
    positive('state.scale', s.scale);
    if (!Number.isInteger(s.growthTracker) || s.growthTracker < 0)
      throw new Error(`GradScaler: state.growthTracker must be a non-negative integer, got ${s.growthTracker}`);
    this.scaleValue = s.scale;
    this.growthTracker = s.growthTracker;
    this.foundInf = null;
  }
}
