// A "pretrained backbone" for the Omniglot study, made here: the paper fine-tunes an ImageNet-pretrained
// BN-Inception on CUB / Cars / SOP / In-Shop, i.e. a backbone trained for classification on *other* data. No
// such weights can be downloaded here, so the small CNN's backbone is pretrained the same way on other data we
// have: 10-way softmax classification of all 60k MNIST training digits (never an Omniglot image). The digits are
// inverted (dark strokes on white, as Omniglot's pixel/255 images are) so the stroke filters transfer.
//
// Output: a safetensors file with the backbone's tensors only (`backbone.*`, BN statistics included); the
// embedding head stays fresh (glorot), as the paper's head on top of its ImageNet backbone. Loading it:
// `model.pretrained` in a run config (mapping 'identity': a backbone-only file fills the backbone).
import { existsSync } from 'node:fs';
import { manualSeed, setNumThreads } from '../../src/engine/index.js';
import { saveSafetensors } from '../../src/engine/serialization/index.js';
import { readMnist } from '../../src/data/sources/mnist.js';
import { createModel } from '../../src/models/index.js';
import { pretrainBackbone, type LabelledBatches } from '../../src/training/pretrain.js';

/** Default MNIST pretraining length (passes over the 60k training digits). */
export const DEFAULT_PRETRAIN_EPOCHS = 2;

export interface PretrainOptions {
  out: string;
  channels: number[];
  /** Passes over the 60k digits (fractions allowed: tests use a few steps); default DEFAULT_PRETRAIN_EPOCHS. */
  epochs?: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
  threads?: number;
  log?: (line: string) => void;
}

export interface PretrainResult {
  file: string;
  /** Accuracy on the 10k MNIST test digits (a sanity check of the pretraining). */
  testAccuracy: number;
  seconds: number;
  reused: boolean;
}

/** All MNIST digits of a part, inverted (1 - pixel/255), as batches by index. */
function mnistBatches(part: 'train' | 'test'): LabelledBatches {
  const m = readMnist(part);
  const per = 28 * 28;
  const x = new Float32Array(m.count * per);
  for (let i = 0; i < x.length; i++) x[i] = 1 - m.images[i]! / 255;
  return {
    size: m.count,
    numClasses: 10,
    batch: async (indices) => {
      const xb = new Float32Array(indices.length * per);
      indices.forEach((idx, k) => xb.set(x.subarray(idx * per, (idx + 1) * per), k * per));
      return { x: xb, y: indices.map((idx) => m.labels[idx]!) };
    },
  };
}

/** Pretrains (or reuses, when `out` exists) the small-CNN backbone on MNIST classification (the library's pretrainBackbone). */
export async function pretrainMnistBackbone(o: PretrainOptions): Promise<PretrainResult> {
  const log = o.log ?? (() => {});
  if (existsSync(o.out)) return { file: o.out, testAccuracy: NaN, seconds: 0, reused: true };
  const epochs = o.epochs ?? DEFAULT_PRETRAIN_EPOCHS;
  if (o.threads) setNumThreads(o.threads);
  manualSeed(o.seed ?? 1234);
  const model = createModel('small_cnn', { channels: o.channels, embeddingDim: 8 });
  const r = await pretrainBackbone({
    model,
    inputShape: [1, 28, 28],
    train: mnistBatches('train'),
    test: mnistBatches('test'),
    epochs,
    batchSize: o.batchSize ?? 128,
    lr: o.lr,
    seed: o.seed ?? 1234,
    log,
    label: 'MNIST',
  });
  saveSafetensors(o.out, r.backbone, { source: 'bench/ccp/pretrain-mnist.ts', data: 'MNIST train (60k, inverted), 10-way softmax', epochs: String(epochs) });
  log(`pretrain: MNIST test accuracy ${(100 * r.testAccuracy).toFixed(2)}% (${r.seconds.toFixed(0)} s) -> ${o.out}`);
  return { file: o.out, testAccuracy: r.testAccuracy, seconds: r.seconds, reused: false };
}
