// EmbeddingNet: the common shape of every model here, `backbone` (feature extractor) + `head`
// (EmbeddingHead), mapping a batch to embeddings [B, D]. Adds BatchNorm freezing and backbone freezing.
import { Tensor } from '../engine/tensor.js';
import { pipe } from '../engine/scope.js';
import { Module, BatchNormBase } from '../engine/nn/index.js';
import { EmbeddingHead } from './head.js';

export abstract class EmbeddingNet<B extends Module = Module> extends Module {
  readonly backbone: B;
  readonly head: EmbeddingHead;
  /** Channels (or width) of the backbone output, i.e. the head's input size. */
  readonly featureDim: number;

  protected constructor(backbone: B, featureDim: number, head: EmbeddingHead) {
    super();
    this.backbone = this.registerModule('backbone', backbone);
    this.head = this.registerModule('head', head);
    this.featureDim = featureDim;
  }

  get embeddingDim(): number {
    return this.head.embeddingDim;
  }

  /** Backbone output (feature map [B, C, H, W], or [B, C] for the MLP), before pooling. */
  features(x: Tensor): Tensor {
    return this.backbone.forward(x);
  }

  override forward(x: Tensor): Tensor {
    return pipe(x, (v) => this.backbone.forward(v), (v) => this.head.forward(v));
  }

  /**
   * Freezes (or unfreezes) every BatchNorm layer of the model: running statistics only (inference mode,
   * also after train()), affine parameters not trained. Returns this.
   */
  freezeBatchNorm(flag = true): this {
    for (const bn of batchNormLayers(this)) {
      if (flag) bn.freeze();
      else bn.unfreeze();
    }
    return this;
  }

  /** True when the model has BatchNorm layers and all of them are frozen. */
  get batchNormFrozen(): boolean {
    const bns = batchNormLayers(this);
    return bns.length > 0 && bns.every((b) => b.frozen);
  }

  /**
   * Switches gradients of the backbone's parameters (e.g. a warm-up with the backbone frozen, spec 4.3).
   * Frozen BatchNorm parameters stay untrainable either way. Returns this.
   */
  setBackboneTrainable(flag: boolean): this {
    for (const [, m] of this.backbone.namedModules()) {
      const frozenBn = m instanceof BatchNormBase && m.frozen;
      for (const [name, p] of m.namedParameters()) {
        if (name.includes('.')) continue; // own parameters only; children are visited themselves
        p.requiresGrad = flag && !frozenBn;
      }
    }
    return this;
  }
}

/** Every BatchNorm layer (1-D and 2-D) inside `model`. */
export function batchNormLayers(model: Module): BatchNormBase[] {
  return model.namedModules().map(([, m]) => m).filter((m): m is BatchNormBase => m instanceof BatchNormBase);
}

/**
 * Dotted names of all parameters that belong to BatchNorm layers (torchvision's `downsample.1` included, whose
 * name has no 'bn'), for weight-decay exclusion (spec 4.4).
 */
export function batchNormParameterNames(model: Module): Set<string> {
  const out = new Set<string>();
  for (const [prefix, m] of model.namedModules()) {
    if (m instanceof BatchNormBase) for (const [n] of m.namedParameters(prefix)) out.add(n);
  }
  return out;
}

/** Sum of the element counts of the parameters. */
export function countParameters(model: Module, onlyTrainable = false): number {
  return (onlyTrainable ? model.trainableParameters() : model.parameters()).reduce((a, p) => a + p.numel, 0);
}
