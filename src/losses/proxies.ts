// Learnable class proxies owned by a loss (ProxyAnchor, ProxyNCA++, SoftTriple, NormalizedSoftmax, ArcFace), and
// the base of CCP's proxies (ccp/proxies.ts adds P_best and k-center re-initialisation): one layout, one class.
//
// Layout (the code's `makeProxy`): weights [C*K, D]; proxy i belongs to class i mod C, so proxies
// k*C .. k*C + C - 1 are the k-th proxy of classes 0 .. C-1. Initialisation: the code uses Keras he_normal
// on the [C*K, D] weight, i.e. std = sqrt(2 / (C*K)) (Keras' fan_in of a 2-D weight is its first axis); we
// draw a plain (untruncated) normal with that std.
import { type Tensor, arange, keep, moveTo, noGrad, zeros, type DType } from '../engine/index.js';
import { heNormal } from '../engine/nn/index.js';
import { checkInteger } from './checks.js';

export interface ProxyOptions {
  /** C, the number of training classes. */
  numClasses: number;
  /** D, the embedding size. */
  embeddingDim: number;
  /** K proxies per class (default 1). */
  proxiesPerClass?: number;
  /** Initial values [C*K, D] (copied; their dtype and device are used). */
  initialProxies?: Tensor;
  /** dtype of fresh proxies (default float32). */
  dtype?: DType;
  device?: string;
}

export class ProxySet {
  readonly numClasses: number;
  readonly embeddingDim: number;
  readonly proxiesPerClass: number;
  /** [C*K, D], requires grad, kept out of tidy scopes. */
  readonly weights: Tensor;
  /** [C*K] int64: i mod C. */
  readonly labels: Tensor;

  constructor(loss: string, o: ProxyOptions) {
    if (o === undefined || o === null) throw new Error(`${loss}: options with numClasses and embeddingDim are required`);
    this.numClasses = checkInteger(loss, 'numClasses', o.numClasses);
    this.embeddingDim = checkInteger(loss, 'embeddingDim', o.embeddingDim);
    this.proxiesPerClass = checkInteger(loss, 'proxiesPerClass', o.proxiesPerClass ?? 1);
    const n = this.numClasses * this.proxiesPerClass;
    this.weights = keep(
      noGrad(() => {
        if (o.initialProxies) {
          const s = o.initialProxies.shape;
          if (s.length !== 2 || s[0] !== n || s[1] !== this.embeddingDim) {
            throw new Error(
              `${loss}: initialProxies must have shape [${n}, ${this.embeddingDim}] (numClasses*proxiesPerClass, embeddingDim), got [${s.join(', ')}]`,
            );
          }
          return o.initialProxies.detach().clone();
        }
        // Keras' fan_in of the [C*K, D] weight is C*K, torch's fan_out: std = sqrt(2 / (C*K)).
        // Drawn on the CPU and moved: a GPU run starts from the proxies a CPU run with the same seed starts from.
        const drawn = heNormal(zeros([n, this.embeddingDim], { dtype: o.dtype ?? 'float32' }), { mode: 'fanOut' });
        return o.device ? moveTo(drawn, o.device) : drawn;
      }),
    );
    this.weights.requiresGrad = true;
    this.labels = keep(arange(0, n, 1, { device: this.weights.device }).remainder(this.numClasses));
  }

  /** Overwrites the proxies in place (no autograd). */
  assign(values: Tensor, loss: string): void {
    const s = values.shape;
    const w = this.weights.shape;
    if (s.length !== 2 || s[0] !== w[0] || s[1] !== w[1]) {
      throw new Error(`${loss}: proxies must have shape [${w.join(', ')}], got [${s.join(', ')}]`);
    }
    noGrad(() => this.weights.copy_(values));
  }

  dispose(): void {
    this.weights.dispose();
    this.labels.dispose();
  }
}
