// EmbeddingNet: the common shape of every model here, `backbone` (feature extractor) + `head`
// (EmbeddingHead), mapping a batch to embeddings [B, D]. Adds BatchNorm freezing and backbone freezing.
import type { Tensor } from '../engine/tensor.js';
import { pipe } from '../engine/scope.js';
import { autocast, resolvePrecision, type Precision } from '../engine/precision.js';
import { Module, BatchNormBase } from '../engine/nn/index.js';
import type { EmbeddingHead } from './head.js';

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

  private layout: 'contiguous' | 'channels_last' = 'contiguous';
  private computePrecision: Precision = 'fp32';

  override forward(x: Tensor): Tensor {
    const toLayout = (v: Tensor) => (this.layout === 'channels_last' && v.shape.length === 4 ? v.toChannelsLast() : v);
    if (this.computePrecision === 'fp32')
      return pipe(
        x,
        toLayout,
        (v) => this.backbone.forward(v),
        (v) => this.head.forward(v),
      );
    // bf16 for the backbone only (where the time goes); the head (pooling, linear, normalisation) and all
    // that follows (losses, proxies, metrics) stay float32.
    const device = this.device.startsWith('cuda') ? 'cuda' : 'cpu';
    const dtype = this.computePrecision === 'fp16' ? 'float16' : 'bfloat16';
    return pipe(
      x,
      toLayout,
      (v) => autocast(() => this.backbone.forward(v), { device, dtype }),
      (v) => v.to('float32'),
      (v) => this.head.forward(v),
    );
  }

  /** Memory layout of the conv weights and of 4-D inputs in forward. */
  get memoryFormat(): 'contiguous' | 'channels_last' {
    return this.layout;
  }

  /**
   * Puts every 4-D weight in channels_last (NHWC) memory in place and feeds 4-D inputs in that layout: oneDNN
   * picks faster conv kernels and skips layout conversions. Same values, same Tensor objects (set before or
   * after building an optimizer); saved weights are read out in the standard layout. Returns this.
   */
  useChannelsLast(flag = true): this {
    this.toMemoryFormat(flag ? 'channels_last' : 'contiguous');
    this.layout = flag ? 'channels_last' : 'contiguous';
    return this;
  }

  /** Compute precision of the backbone's forward (and so of its backward). */
  get precision(): Precision {
    return this.computePrecision;
  }

  /**
   * 'bf16' / 'fp16': the backbone's forward runs under autocast in that dtype ('fp16' only with the weights on a
   * CUDA device); the embeddings are float32 either way. Returns this.
   */
  setPrecision(p: Precision): this {
    if (p !== 'fp32' && p !== 'bf16' && p !== 'fp16') throw new Error(`precision must be 'fp32', 'bf16' or 'fp16', got ${JSON.stringify(p)}`);
    this.computePrecision = resolvePrecision(p, this.device);
    return this;
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

  /**
   * Whether BatchNorm layers that normalise with running statistics (frozen, or in eval mode) run folded into
   * the convolution before them (engine/nn/conv-batchnorm.ts): same function, less memory traffic. Default
   * true. Returns this.
   */
  setBatchNormFolding(flag: boolean): this {
    for (const bn of batchNormLayers(this)) bn.foldIntoConv = flag;
    return this;
  }

  /** True when the model has BatchNorm layers and folding is on for all of them. */
  get batchNormFolding(): boolean {
    const bns = batchNormLayers(this);
    return bns.length > 0 && bns.every((b) => b.foldIntoConv);
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
  return model
    .namedModules()
    .map(([, m]) => m)
    .filter((m): m is BatchNormBase => m instanceof BatchNormBase);
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
