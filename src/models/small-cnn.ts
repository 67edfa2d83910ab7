// SmallCnn: for 28-64 px inputs with 1 or 3 channels (MNIST / Omniglot experiments). One
// conv3x3(no bias)-BN-ReLU block per width, a 2x2 max pool between blocks, then EmbeddingHead
// (global pooling + Linear(last width -> D, no bias)). Backbone names follow nn.Sequential: backbone.0.weight
// (conv), backbone.1.* (BN), backbone.2 (ReLU), backbone.3 (MaxPool), backbone.4.weight, ...
import { type Module, Sequential, Conv2d, BatchNorm2d, ReLU, MaxPool2d, kaimingNormal } from '../engine/nn/index.js';
import { EmbeddingNet } from './embedding-net.js';
import { EmbeddingHead, type Pooling } from './head.js';

export interface SmallCnnOptions {
  /** Input channels; default 1. */
  inChannels?: number;
  /** Block widths; default [32, 64, 128]. */
  channels?: number[];
  /** D; default 128. */
  embeddingDim?: number;
  /** Default 'avg'. */
  pooling?: Pooling;
  /** Default false. */
  freezeBatchNorm?: boolean;
}

export class SmallCnn extends EmbeddingNet<Sequential> {
  constructor(options: SmallCnnOptions = {}) {
    const channels = options.channels ?? [32, 64, 128];
    if (channels.length === 0 || !channels.every((c) => Number.isInteger(c) && c > 0))
      throw new Error(`SmallCnn: channels must be positive integers, got ${JSON.stringify(channels)}`);
    const layers: Module[] = [];
    let cin = options.inChannels ?? 1;
    channels.forEach((w, i) => {
      const conv = new Conv2d(cin, w, 3, { padding: 1, bias: false });
      kaimingNormal(conv.weight, { mode: 'fanOut', nonlinearity: 'relu' });
      layers.push(conv, new BatchNorm2d(w), new ReLU());
      if (i < channels.length - 1) layers.push(new MaxPool2d(2));
      cin = w;
    });
    super(new Sequential(...layers), cin, new EmbeddingHead(cin, options.embeddingDim ?? 128, { pooling: options.pooling }));
    if (options.freezeBatchNorm) this.freezeBatchNorm();
  }
}
