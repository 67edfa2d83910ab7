// Test doubles for the CCP tests: a tiny pair loss honouring the MetricLoss contract, with a JS reference.
import { type Tensor, eye, type Tensor as T } from '../../src/engine/index.js';
import type { MetricLoss, ReferenceSet } from '../../src/losses/types.js';

/**
 * (1/B) Σ_{i,j} s_ij ‖x_i − r_j‖², s = +1 for same label, −1 otherwise; self pairs excluded when no reference.
 */
export class PairDouble implements MetricLoss {
  readonly name = 'pair-double';
  calls: { withRef: boolean }[] = [];
  forward(x: Tensor, y: Tensor, ref?: ReferenceSet): Tensor {
    this.calls.push({ withRef: !!ref });
    const r = ref?.embeddings ?? x;
    const rl = ref?.labels ?? y;
    const B = x.size(0);
    const d = x.unsqueeze(1).sub(r.unsqueeze(0)).square().sum(-1);
    let w = y.unsqueeze(1).eq(rl.unsqueeze(0)).to(x.dtype).mul(2).sub(1);
    if (!ref) w = w.mul(eye(B, { dtype: x.dtype }).rsub(1));
    return d.mul(w).sum().div(B);
  }
  parameters(): T[] {
    return [];
  }
}

export function pairDoubleReference(x: number[][], y: number[], r?: number[][], rl?: number[]): number {
  const refs = r ?? x;
  const refLabels = rl ?? y;
  let total = 0;
  x.forEach((xi, i) =>
    refs.forEach((rj, j) => {
      if (!r && i === j) return;
      const d = xi.reduce((s, v, k) => s + (v - rj[k]!) ** 2, 0);
      total += (y[i] === refLabels[j] ? 1 : -1) * d;
    }),
  );
  return total / x.length;
}

export function rowsOf(t: T): number[][] {
  const [R, D] = t.shape as [number, number];
  const flat = t.toArray();
  return Array.from({ length: R }, (_, i) => flat.slice(i * D, (i + 1) * D));
}
