// The run config of bench:dist's step comparison (the Python side, bench/python/dist_step.py, builds the same):
// plain contrastive C2 (m+ 0, m- 0.5, N(v)) over the gathered global batch, Adam (lr 1e-4, weight decay 1e-4 added
// to the gradients, clip-norm 10, clip-value 10); SmallCnn [32, 64, 128] or BN-Inception (BN frozen), D 128.
import type { RunConfigInput } from '../../src/training/config.js';

export function stepRunConfig(model: string, image: [number, number, number]): RunConfigInput {
  return {
    dataset: { name: 'omniglot', channels: image[0] as 1 | 3, imageSize: image[1] },
    model:
      model === 'bninception'
        ? { name: 'bninception', embeddingDim: 128, freezeBatchNorm: true, pooling: 'avg' }
        : { name: 'small_cnn', embeddingDim: 128, options: { channels: [32, 64, 128] } },
    loss: { name: 'contrastive', options: { posMargin: 0, negMargin: 0.5, embeddingNormalization: 'lipschitz' } },
    optimizer: { name: 'adam', lr: 1e-4, weightDecay: 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-7, clipNorm: 10, clipValue: 10 },
  };
}
