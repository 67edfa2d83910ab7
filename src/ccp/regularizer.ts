// The proximal regulariser of CCP (spec §2.2, §8 item 2): the penalty (λ_t/2)‖θ − θ_anchor‖² applied as the
// gradient λ_t·(θ − θ_anchor), on the network weights θ only (never the proxies). λ_0 = 0 in the first problem.
import { type Tensor, tidy, noGrad, keep } from '../engine/index.js';
import { addProximalGrad } from '../engine/optim/index.js';

function sameShape(a: Tensor, b: Tensor): boolean {
  const sa = a.shape;
  const sb = b.shape;
  return sa.length === sb.length && sa.every((s, i) => s === sb[i]);
}

/**
 * Holds θ_anchor and λ_t. Memory: no anchor storage at all until the first `setAnchor`; afterwards one
 * preallocated copy of θ that later anchors are copied into (no reallocation per projection).
 */
export class ProximalRegularizer {
  private lambdaValue = 0;
  private anchorTensors: Tensor[] | null = null;

  /** λ_t; 0 until the first projection. */
  get lambda(): number {
    return this.lambdaValue;
  }
  set lambda(value: number) {
    if (!Number.isFinite(value) || value < 0) throw new Error(`ProximalRegularizer: lambda must be a finite number >= 0, got ${value}`);
    this.lambdaValue = value;
  }

  /** θ_anchor (kept tensors owned by the regulariser), or null before the first projection. */
  get anchors(): readonly Tensor[] | null {
    return this.anchorTensors;
  }

  /** Whether the regulariser changes gradients at all (λ > 0 and an anchor set). */
  get active(): boolean {
    return this.lambdaValue > 0 && this.anchorTensors !== null;
  }

  /** θ_anchor ← values (copied; the first call allocates, later calls reuse the buffers). */
  setAnchor(values: readonly Tensor[]): void {
    const cur = this.anchorTensors;
    if (cur && (cur.length !== values.length || cur.some((a, i) => !sameShape(a, values[i]!)))) {
      for (const a of cur) a.dispose();
      this.anchorTensors = null;
    }
    noGrad(() => {
      if (!this.anchorTensors) {
        this.anchorTensors = values.map((v) => keep(v.detach().clone()));
      } else {
        this.anchorTensors.forEach((a, i) => a.copy_(values[i]!));
      }
    });
  }

  /**
   * grad(θ_i) += λ_t·(θ_i − anchor_i) for every parameter that has a gradient; a no-op while λ_t = 0 or no anchor
   * is set. `params` must be the network weights in the order given to `setAnchor` — not the proxies.
   * Call after backward and before weight decay / clipping / the optimiser step.
   */
  applyToGradients(params: readonly Tensor[]): void {
    if (!this.active) return;
    const anchors = this.anchorTensors!;
    if (params.length !== anchors.length) {
      throw new Error(`ProximalRegularizer.applyToGradients: got ${params.length} parameters, the anchor has ${anchors.length}`);
    }
    for (let i = 0; i < params.length; i++) {
      if (!sameShape(params[i]!, anchors[i]!)) {
        throw new Error(
          `ProximalRegularizer.applyToGradients: parameter ${i} has shape [${params[i]!.shape.join(', ')}], its anchor [${anchors[i]!.shape.join(', ')}]`,
        );
      }
    }
    addProximalGrad([...params], anchors, this.lambdaValue);
  }

  /** The penalty value (λ_t/2)‖θ − θ_anchor‖² (for logging; 0 while inactive). */
  penalty(params: readonly Tensor[]): number {
    if (!this.active) return 0;
    const anchors = this.anchorTensors!;
    if (params.length !== anchors.length) throw new Error(`ProximalRegularizer.penalty: got ${params.length} parameters, the anchor has ${anchors.length}`);
    return tidy(() =>
      noGrad(() => {
        let total = 0;
        params.forEach((p, i) => {
          total += p.sub(anchors[i]!).to('float64').square().sum().item();
        });
        return (this.lambdaValue / 2) * total;
      }),
    );
  }

  /** Frees the anchor copies; λ returns to 0. */
  reset(): void {
    if (this.anchorTensors) for (const a of this.anchorTensors) a.dispose();
    this.anchorTensors = null;
    this.lambdaValue = 0;
  }

  dispose(): void {
    this.reset();
  }
}
