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
import { tensor, int64, tidy, manualSeed, crossEntropy, releaseFinalizedWrappers, setNumThreads, type Tensor } from '../../src/engine/index.js';
import { Linear } from '../../src/engine/nn/index.js';
import { Adam } from '../../src/engine/optim/index.js';
import { saveSafetensors } from '../../src/engine/serialization/index.js';
import { readMnist } from '../../src/data/sources/mnist.js';
import { createModel } from '../../src/models/index.js';
import { mulberry32 } from '../../src/engine/random.js';

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

function mnistBlock(part: 'train' | 'test'): { x: Float32Array; y: Uint8Array; n: number } {
  const m = readMnist(part);
  const x = new Float32Array(m.count * 28 * 28);
  for (let i = 0; i < x.length; i++) x[i] = 1 - m.images[i]! / 255;
  return { x, y: m.labels, n: m.count };
}

/** Pretrains (or reuses, when `out` exists) the small-CNN backbone on MNIST classification. */
export async function pretrainMnistBackbone(o: PretrainOptions): Promise<PretrainResult> {
  const log = o.log ?? (() => {});
  if (existsSync(o.out)) return { file: o.out, testAccuracy: NaN, seconds: 0, reused: true };
  const epochs = o.epochs ?? DEFAULT_PRETRAIN_EPOCHS;
  const bs = o.batchSize ?? 128;
  if (o.threads) setNumThreads(o.threads);
  manualSeed(o.seed ?? 1234);
  const t0 = Date.now();
  const model = createModel('small_cnn', { channels: o.channels, embeddingDim: 8 });
  const classifier = new Linear(model.featureDim, 10);
  const opt = new Adam([...model.backbone.parameters(), ...classifier.parameters()], { lr: o.lr ?? 1e-3, weightDecay: 0 });
  const train = mnistBlock('train');
  const per = 28 * 28;
  const rng = mulberry32(o.seed ?? 1234);
  const logitsOf = (x: Float32Array, n: number): Tensor => classifier.forward(model.head.pool(model.features(tensor(x, [n, 1, 28, 28]))));
  model.train();
  const perEpoch = Math.floor(train.n / bs);
  const totalSteps = Math.max(1, Math.round(epochs * perEpoch));
  for (let e = 0; e * perEpoch < totalSteps; e++) {
    const order = Array.from({ length: train.n }, (_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    let lossSum = 0;
    let batches = 0;
    const steps = Math.min(perEpoch, totalSteps - e * perEpoch);
    for (let s = 0; s < steps * bs; s += bs) {
      const xb = new Float32Array(bs * per);
      const yb: number[] = [];
      for (let k = 0; k < bs; k++) {
        const idx = order[s + k]!;
        xb.set(train.x.subarray(idx * per, (idx + 1) * per), k * per);
        yb.push(train.y[idx]!);
      }
      lossSum += tidy(() => {
        const l = crossEntropy(logitsOf(xb, bs), int64(yb));
        l.backward();
        return l.item();
      });
      batches++;
      opt.step();
      opt.zeroGrad();
      await releaseFinalizedWrappers();
    }
    log(`pretrain: MNIST epoch ${e + 1}/${Math.ceil(totalSteps / perEpoch)} (${batches} steps of ${bs}), mean loss ${(lossSum / batches).toFixed(4)}`);
  }
  model.eval();
  const test = mnistBlock('test');
  let correct = 0;
  for (let s = 0; s < test.n; s += 500) {
    const n = Math.min(500, test.n - s);
    const pred = tidy(() => logitsOf(test.x.subarray(s * per, (s + n) * per), n).argmax(1).toArray());
    for (let k = 0; k < n; k++) if (pred[k] === test.y[s + k]) correct++;
  }
  const backbone = new Map([...model.stateDict()].filter(([k]) => k.startsWith('backbone.')));
  saveSafetensors(o.out, backbone, { source: 'bench/ccp/pretrain-mnist.ts', data: 'MNIST train (60k, inverted), 10-way softmax', epochs: String(epochs) });
  const seconds = (Date.now() - t0) / 1000;
  log(`pretrain: MNIST test accuracy ${(100 * correct / test.n).toFixed(2)}% (${seconds.toFixed(0)} s) -> ${o.out}`);
  return { file: o.out, testAccuracy: correct / test.n, seconds, reused: false };
}
