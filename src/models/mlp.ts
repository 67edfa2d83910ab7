// MlpEmbedder: flatten -> [Linear -> (BatchNorm1d) -> ReLU] x hidden -> Linear(-> D, no bias).
// Names: backbone.0 (Flatten), backbone.1.weight (Linear), backbone.2.* (BatchNorm1d) ..., head.linear.weight.
import { type Module, Sequential, Flatten, Linear, BatchNorm1d, ReLU, Dropout } from '../engine/nn/index.js';
import { EmbeddingNet } from './embedding-net.js';
import { EmbeddingHead } from './head.js';

export interface MlpEmbedderOptions {
  /** Number of input values per sample after flattening (e.g. 784 for 28x28x1). */
  inputDim: number;
  /** Hidden layer widths; default [256, 256]. Empty: a linear embedding of the flattened input. */
  hidden?: number[];
  /** D; default 128. */
  embeddingDim?: number;
  /** BatchNorm1d after every hidden Linear; default false. */
  batchNorm?: boolean;
  /** Dropout probability after every hidden ReLU; default 0 (none). */
  dropout?: number;
  /** Freeze the BatchNorm layers (inference mode, not trained); default false. */
  freezeBatchNorm?: boolean;
}

export class MlpEmbedder extends EmbeddingNet<Sequential> {
  constructor(options: MlpEmbedderOptions) {
    const inputDim = options.inputDim;
    if (!Number.isInteger(inputDim) || inputDim < 1) throw new Error(`MlpEmbedder: inputDim must be a positive integer, got ${inputDim}`);
    const hidden = options.hidden ?? [256, 256];
    const layers: Module[] = [new Flatten()];
    let cin = inputDim;
    for (const h of hidden) {
      if (!Number.isInteger(h) || h < 1) throw new Error(`MlpEmbedder: hidden sizes must be positive integers, got ${JSON.stringify(hidden)}`);
      layers.push(new Linear(cin, h));
      if (options.batchNorm) layers.push(new BatchNorm1d(h));
      layers.push(new ReLU());
      if (options.dropout) layers.push(new Dropout(options.dropout));
      cin = h;
    }
    super(new Sequential(...layers), cin, new EmbeddingHead(cin, options.embeddingDim ?? 128));
    if (options.freezeBatchNorm) this.freezeBatchNorm();
  }
}
