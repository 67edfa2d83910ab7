// EmbeddingHead: global pooling of a backbone's feature map, then Linear(features -> D, no bias) with
// glorot-uniform initialisation (spec 4.1). No normalisation here: N(.) is applied by losses and metrics.
import type { Tensor } from '../engine/tensor.js';
import { pipe } from '../engine/scope.js';
import { Module, Linear, glorotUniform } from '../engine/nn/index.js';

/** Global pooling before the embedding layer: average, max, or their sum (spec 4.1 'avg+max'). */
export const POOLINGS = ['avg', 'max', 'avg+max'] as const;
export type Pooling = (typeof POOLINGS)[number];

export function checkPooling(p: string, where: string): Pooling {
  if (!(POOLINGS as readonly string[]).includes(p)) throw new Error(`${where}: pooling must be one of ${POOLINGS.map((x) => `'${x}'`).join(', ')}, got '${p}'`);
  return p as Pooling;
}

export interface EmbeddingHeadOptions {
  /** Default 'avg' (the paper's MLRC-style configs); the conventional configs use 'avg+max'. */
  pooling?: Pooling;
}

/**
 * [B, C, H, W] -> pool over H, W -> [B, C] -> Linear(C -> D, no bias) -> [B, D]. A [B, C] input skips the
 * pooling. Parameter: `linear.weight` [D, C].
 */
export class EmbeddingHead extends Module {
  readonly inFeatures: number;
  readonly embeddingDim: number;
  readonly pooling: Pooling;
  readonly linear: Linear;

  constructor(inFeatures: number, embeddingDim: number, options: EmbeddingHeadOptions = {}) {
    super();
    if (!Number.isInteger(embeddingDim) || embeddingDim < 1) throw new Error(`EmbeddingHead: embeddingDim must be a positive integer, got ${embeddingDim}`);
    this.inFeatures = inFeatures;
    this.embeddingDim = embeddingDim;
    this.pooling = checkPooling(options.pooling ?? 'avg', 'EmbeddingHead');
    this.linear = this.registerModule('linear', new Linear(inFeatures, embeddingDim, { bias: false }));
    glorotUniform(this.linear.weight);
  }

  /** Global pooling only: [B, C, H, W] -> [B, C] ([B, C] passes through). */
  pool(x: Tensor): Tensor {
    if (x.rank === 2) return x;
    if (x.rank !== 4) throw new Error(`EmbeddingHead: expected features [B, C, H, W] or [B, C], got shape [${x.shape.join(', ')}]`);
    switch (this.pooling) {
      case 'avg':
        return x.mean([2, 3]);
      case 'max':
        return x.max([2, 3]);
      case 'avg+max':
        return x.mean([2, 3]).add(x.max([2, 3]));
    }
  }

  override forward(x: Tensor): Tensor {
    return pipe(
      x,
      (v) => this.pool(v),
      (v) => this.linear.forward(v),
    );
  }
}
