// Proxy layout (spec §2.1): K proxies per class in one learnable matrix P [K·C, D]; row r belongs to class
// r mod C and is proxy number floor(r / C) of that class. P_best is a non-trainable snapshot (initially zeros).
import { type Tensor, tidy, noGrad, keep, zeros, int64, moveTo, type DType } from '../engine/index.js';
import { heNormal } from '../engine/nn/index.js';
import { ProxySet } from '../losses/proxies.js';
import { classMajorToRows, rowsToClassMajor, selectProxies } from './kcenter.js';

/** Proxy labels [0..C−1] repeated K times (int64, length K·C). */
export function proxyLabels(numClasses: number, proxiesPerClass: number, device?: string): Tensor {
  checkCounts('proxyLabels', numClasses, proxiesPerClass);
  return int64(
    Array.from({ length: numClasses * proxiesPerClass }, (_, r) => r % numClasses),
    undefined,
    { device },
  );
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

function checkCounts(where: string, numClasses: number, proxiesPerClass: number): void {
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new Error(`${where}: numClasses must be an integer >= 1, got ${numClasses}`);
  if (!Number.isInteger(proxiesPerClass) || proxiesPerClass < 1)
    throw new Error(`${where}: proxiesPerClass (K) must be an integer >= 1, got ${proxiesPerClass}`);
}

export interface ProxySetOptions {
  dtype?: DType;
  device?: string;
}

/**
 * CCP's initial proxies [rows, dim]: Keras' `he_normal`, a normal truncated at two standard deviations with
 * stddev sqrt(2 / rows) / 0.8796. Keras' fan_in of a 2-D weight is its first axis, which is torch's (and the
 * engine's) fan_out, hence mode 'fanOut'.
 */
export function initialProxies(rows: number, dim: number, options: ProxySetOptions = {}): Tensor {
  if (!Number.isInteger(rows) || rows < 1 || !Number.isInteger(dim) || dim < 1) throw new Error(`initialProxies: invalid shape [${rows}, ${dim}]`);
  // Drawn on the CPU and moved: a GPU run starts from the proxies a CPU run with the same seed starts from.
  const { device, ...cpu } = options;
  const drawn = heNormal(zeros([rows, dim], cpu), { mode: 'fanOut', truncated: true });
  return device ? moveTo(drawn, device) : drawn;
}

/**
 * CCP's proxies: the losses' ProxySet (P [K·C, D], kept, requiresGrad, row r of class r mod C) with CCP's
 * He-normal start, plus the best snapshot P_best (kept, zeros at first) and re-initialisation by k-center.
 * Re-initialisation writes into P in place, so optimiser state keyed on the P tensor (Adam moments) survives
 * projections.
 */
export class CcpProxySet extends ProxySet {
  /** P_best [K·C, D], no grad. */
  readonly best: Tensor;

  constructor(numClasses: number, proxiesPerClass: number, dim: number, options: ProxySetOptions = {}) {
    checkCounts('ProxySet', numClasses, proxiesPerClass);
    if (!Number.isInteger(dim) || dim < 1) throw new Error(`ProxySet: dim must be an integer >= 1, got ${dim}`);
    const start = initialProxies(numClasses * proxiesPerClass, dim, options);
    try {
      super('ProxySet', { numClasses, embeddingDim: dim, proxiesPerClass, initialProxies: start });
    } finally {
      start.dispose();
    }
    this.best = keep(zeros([this.rows, dim], { dtype: options.dtype, device: options.device }));
  }

  /** P [K·C, D], learnable (the base class's `weights`). */
  get proxies(): Tensor {
    return this.weights;
  }
  /** D. */
  get dim(): number {
    return this.embeddingDim;
  }
  get rows(): number {
    return this.numClasses * this.proxiesPerClass;
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
  override assign(values: Tensor): void {
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
    this.checkPool(pool);
    tidy(() => {
      const fresh = selectProxies(pool, this.bestClassMajor(), this.proxiesPerClass, b);
      this.assign(fresh);
    });
  }

  /** Throws unless `pool` is a candidate pool for these proxies, [C, b′, D]. */
  checkPool(pool: Tensor): void {
    if (pool.rank !== 3 || pool.size(0) !== this.numClasses || pool.size(2) !== this.dim) {
      throw new Error(`ProxySet.reinitialize: pool must be [${this.numClasses}, b', ${this.dim}], got [${pool.shape.join(', ')}]`);
    }
  }

  override dispose(): void {
    super.dispose();
    this.best.dispose();
  }

  private checkShape(where: string, t: Tensor): void {
    if (t.rank !== 2 || t.size(0) !== this.rows || t.size(1) !== this.dim) {
      throw new Error(`ProxySet.${where}: expected [${this.rows}, ${this.dim}], got [${t.shape.join(', ')}]`);
    }
  }
}
