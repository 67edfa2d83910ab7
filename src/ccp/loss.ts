// `ccp(baseLoss)`: the paper's <loss>-CCP (spec §2.2, §3.9). The per-step objective is
//   batchWeight·L_base(X, X) + proxyWeight·L_base(X vs P)
// with K learnable proxies per class; the proximal term is applied on gradients by the controller's regulariser.
import { type Tensor, tidy, type DType } from '../engine/index.js';
import type { MetricLoss, ReferenceSet } from '../losses/types.js';
import { CcpProxySet } from './proxies.js';
import { CcpController } from './controller.js';
import { resolveCcpOptions, type CcpOptions, type CcpOptionsInput } from './options.js';

/** The two weighted terms of one forward; null where the term's weight is 0 (and not computed). */
export interface CcpTerms {
  /** batchWeight·L_base(X, X). */
  batch: Tensor | null;
  /** proxyWeight·L_base(X, P). */
  proxy: Tensor | null;
}

export interface CcpLossOptions extends CcpOptionsInput {
  /** Number of training classes C (labels must be 0..C−1). */
  numClasses: number;
  /** Embedding dimension D. */
  dim: number;
  dtype?: DType;
  device?: string;
}

export class CcpLoss implements MetricLoss {
  readonly name: string;
  readonly base: MetricLoss;
  readonly options: Readonly<CcpOptions>;
  readonly proxySet: CcpProxySet;
  /** No learning-rate multiplier for the proxies (spec §2.8: proxy_lrm unused). */
  readonly parameterLrMultiplier = 1;
  /** The proxies are the reference set; a `ref` passed to forward is ignored. */
  readonly acceptsReference = false;
  private controllerInstance: CcpController | null = null;
  /**
   * Called by every forward with the weighted terms (still in the autograd graph) before they are summed, e.g. to
   * measure each term's gradient (training's GradientShareCallback). Must not dispose them.
   */
  termsObserver: ((terms: CcpTerms) => void) | null = null;

  constructor(base: MetricLoss, options: CcpLossOptions) {
    if (!base || typeof base.forward !== 'function') throw new Error('ccp: baseLoss must implement MetricLoss');
    if ((base as { acceptsReference?: boolean }).acceptsReference === false || base.parameters().length > 0) {
      throw new Error(`ccp: base loss '${base.name}' has its own learnable parameters; CCP wraps pair-based losses (C1, C2, triplet, MS)`);
    }
    const { numClasses, dim, dtype, device, ...rest } = options;
    this.options = Object.freeze(resolveCcpOptions(rest));
    this.base = base;
    this.name = `ccp/${base.name}`;
    this.proxySet = new CcpProxySet(numClasses, this.options.proxiesPerClass, dim, { dtype, device });
  }

  /** P [K·C, D]. */
  get proxies(): Tensor {
    return this.proxySet.proxies;
  }

  /** [K·C] int64, [0..C−1] repeated K times. */
  get proxyLabels(): Tensor {
    return this.proxySet.labels;
  }

  /**
   * batchWeight·base(X, y) + proxyWeight·base(X, y, {P, proxy labels}). A term whose weight is 0 is not computed.
   * `ref` is ignored: the proxies are the reference set.
   */
  forward(embeddings: Tensor, labels: Tensor, _ref?: ReferenceSet): Tensor {
    const { batchWeight, proxyWeight } = this.options;
    if (embeddings.rank !== 2 || embeddings.size(1) !== this.proxySet.dim) {
      throw new Error(`${this.name}: embeddings must be [B, ${this.proxySet.dim}], got [${embeddings.shape.join(', ')}]`);
    }
    return tidy(() => {
      const batch = batchWeight !== 0 ? this.base.forward(embeddings, labels).mul(batchWeight) : null;
      const proxy =
        proxyWeight !== 0 || batch === null
          ? this.base.forward(embeddings, labels, { embeddings: this.proxySet.proxies, labels: this.proxySet.labels }).mul(proxyWeight)
          : null;
      this.termsObserver?.({ batch, proxy });
      return batch && proxy ? batch.add(proxy) : (batch ?? proxy)!;
    });
  }

  /** [P]. */
  parameters(): Tensor[] {
    return [this.proxySet.proxies];
  }

  /**
   * The loss's tensors for checkpoints: P and P_best (live tensors). The controller's stateDict() holds the
   * complete CCP state (it includes these two as well as θ snapshots and counters).
   */
  stateDict(): Record<string, Tensor> {
    return { proxies: this.proxySet.proxies, proxies_best: this.proxySet.best };
  }

  /** Copies P (and P_best when present) back in; shapes must match. */
  loadStateDict(state: Record<string, Tensor>): void {
    const p = state.proxies;
    if (!p) throw new Error(`${this.name}.loadStateDict: missing 'proxies'`);
    this.proxySet.assign(p);
    if (state.proxies_best) this.proxySet.setBest(state.proxies_best);
  }

  /** The projection controller bound to these proxies and options (one per loss). */
  get controller(): CcpController {
    if (!this.controllerInstance) this.controllerInstance = new CcpController(this.proxySet, this.options);
    return this.controllerInstance;
  }

  /** Frees the proxies and the controller's snapshots. */
  dispose(): void {
    if (this.controllerInstance) this.controllerInstance.dispose();
    else this.proxySet.dispose();
  }
}

/** Wraps a pair-based loss into its CCP version (`ccp/<name>`). */
export function ccp(baseLoss: MetricLoss, options: CcpLossOptions): CcpLoss {
  return new CcpLoss(baseLoss, options);
}

export function isCcpLoss(loss: MetricLoss): loss is CcpLoss {
  return loss instanceof CcpLoss;
}
