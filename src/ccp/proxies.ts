// Proxy layout (spec §2.1): K proxies per class in one learnable matrix P [K·C, D]; row r belongs to class
// r mod C and is proxy number floor(r / C) of that class. P_best is a non-trainable snapshot (initially zeros).
import { Tensor, tidy, noGrad, keep, randn, zeros, int64, type DType } from '../engine/index.js';
import { classMajorToRows, rowsToClassMajor, selectProxies } from './kcenter.js';

/** Proxy labels [0..C−1] repeated K times (int64, length K·C). */
export function proxyLabels(numClasses: number, perClass: number, device?: string): Tensor {
  checkCounts('proxyLabels', numClasses, perClass);
  const labels = int64(Array.from({ length: numClasses * perClass }, (_, r) => r % numClasses));
  return device && device !== 'cpu' ? tidy(() => labels.toDevice(device)) : labels;
}

/** Class of proxy row r: r mod C. */
export function proxyClass(row: number, numClasses: number): number {
  return row % numClasses;
}

/** Index of proxy row r within its class: floor(r / C). */
export function proxyIndexInClass(row: number, numClasses: number): number {
  return Math.floor(row / numClasses);
}

/** Row of proxy `index` of class `cls`: index·C + cls. */
export function proxyRow(cls: number, index: number, numClasses: number): number {
  return index * numClasses + cls;
}

/**
 * He-normal initialiser as Keras' `he_normal`: a normal truncated at two standard deviations, with
 * stddev sqrt(2 / fan_in) / 0.8796 (the truncation correction); for a 2-D shape fan_in = shape[0].
 */
export function heNormal(shape: number[], options: { dtype?: DType; device?: string } = {}): Tensor {
  if (shape.length < 1 || shape.some((s) => !Number.isInteger(s) || s < 1)) throw new Error(`heNormal: invalid shape [${shape.join(', ')}]`);
  const fanIn = shape.length === 2 ? shape[0]! : shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const std = Math.sqrt(2 / fanIn) / 0.87962566103423978;
  return tidy(() =>
    noGrad(() => {
      let z = randn(shape, options);
      // Redraw values beyond ±2 a few times, then clamp the (vanishingly rare) leftovers.
      for (let i = 0; i < 8; i++) {
        const out = z.abs().gt(2);
        if (!out.any().item()) break;
        z = randn(shape, options).where(out, z);
      }
      return z.clamp(-2, 2).mul(std);
    }),
  );
}

function checkCounts(where: string, numClasses: number, perClass: number): void {
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new Error(`${where}: numClasses must be an integer >= 1, got ${numClasses}`);
  if (!Number.isInteger(perClass) || perClass < 1) throw new Error(`${where}: perClass (K) must be an integer >= 1, got ${perClass}`);
}

export interface ProxySetOptions {
  dtype?: DType;
  device?: string;
}

/**
 * The learnable proxies P [K·C, D] (kept, requiresGrad, He-normal), their labels, and the best snapshot
 * P_best (kept, zeros at first). Re-initialisation writes into P in place, so optimiser state keyed on the
 * P tensor (Adam moments) survives projections.
 */
export class ProxySet {
  readonly numClasses: number;
  readonly perClass: number;
  readonly dim: number;
  /** P [K·C, D], learnable. */
  readonly proxies: Tensor;
  /** P_best [K·C, D], no grad. */
  readonly best: Tensor;
  /** [K·C] int64: row r has label r mod C. */
  readonly labels: Tensor;

  constructor(numClasses: number, perClass: number, dim: number, options: ProxySetOptions = {}) {
    checkCounts('ProxySet', numClasses, perClass);
    if (!Number.isInteger(dim) || dim < 1) throw new Error(`ProxySet: dim must be an integer >= 1, got ${dim}`);
    this.numClasses = numClasses;
    this.perClass = perClass;
    this.dim = dim;
    const rows = numClasses * perClass;
    this.proxies = keep(heNormal([rows, dim], options)).requireGrad(true);
    this.best = keep(zeros([rows, dim], { dtype: options.dtype, device: options.device }));
    this.labels = keep(proxyLabels(numClasses, perClass, options.device));
  }

  get rows(): number {
    return this.numClasses * this.perClass;
  }

  /** P as [C, K, D] (a new tensor). */
  classMajor(): Tensor {
    return rowsToClassMajor(this.proxies.detach(), this.numClasses);
  }

  /** P_best as [C, K, D] (a new tensor). */
  bestClassMajor(): Tensor {
    return rowsToClassMajor(this.best, this.numClasses);
  }

  /** Writes new proxies [K·C, D] (P layout) or [C, K, D] (class-major) into P in place. */
  assign(values: Tensor): void {
    const v = values.rank === 3 ? null : values;
    noGrad(() =>
      tidy(() => {
        const rowsView = v ?? classMajorToRows(values);
        this.checkShape('assign', rowsView);
        this.proxies.copy_(rowsView.to(this.proxies.dtype));
      }),
    );
  }

  /** P_best ← P. */
  snapshotBest(): void {
    noGrad(() => this.best.copy_(this.proxies));
  }

  /** Writes P_best in place (state restore). */
  setBest(values: Tensor): void {
    this.checkShape('setBest', values);
    noGrad(() => tidy(() => this.best.copy_(values.to(this.best.dtype))));
  }

  /**
   * P ← KCENTER(pool, P_best, K) (or K random candidates per class when b <= 1), in place.
   * `pool` is [C, b′, D]; returns nothing, the pool is not disposed.
   */
  reinitialize(pool: Tensor, b: number): void {
    if (pool.rank !== 3 || pool.size(0) !== this.numClasses || pool.size(2) !== this.dim) {
      throw new Error(`ProxySet.reinitialize: pool must be [${this.numClasses}, b', ${this.dim}], got [${pool.shape.join(', ')}]`);
    }
    tidy(() => {
      const fresh = selectProxies(pool, this.bestClassMajor(), this.perClass, b);
      this.assign(fresh);
    });
  }

  dispose(): void {
    this.proxies.dispose();
    this.best.dispose();
    this.labels.dispose();
  }

  private checkShape(where: string, t: Tensor): void {
    if (t.rank !== 2 || t.size(0) !== this.rows || t.size(1) !== this.dim) {
      throw new Error(`ProxySet.${where}: expected [${this.rows}, ${this.dim}], got [${t.shape.join(', ')}]`);
    }
  }
}
