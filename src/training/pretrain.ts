// Classification pretraining of a backbone on a labelled set: the README's pretrained-backbone protocol (the
// paper fine-tunes a backbone pretrained for classification on other data, e.g. ImageNet). A linear softmax
// classifier on the pooled backbone features, trained with cross-entropy and Adam over shuffled batches; the
// result is a safetensors file of the backbone's tensors only (BN statistics included) that `model.pretrained`
// loads, the embedding head staying fresh.
import { tensor, int64, tidy, manualSeed, crossEntropy, releaseFinalizedWrappers, setNumThreads, type Tensor } from '../engine/index.js';
import { Linear } from '../engine/nn/index.js';
import { Adam } from '../engine/optim/index.js';
import { saveSafetensors } from '../engine/serialization/index.js';
import { mulberry32 } from '../engine/random.js';
import { ImageLoader, type ImageDataset } from '../data/index.js';
import type { EmbeddingNet } from '../models/index.js';
import { buildModel } from './build.js';
import { prepareData } from './data-setup.js';
import type { RunConfig } from './config.js';
import { TaskProgress } from './task-progress.js';

/** Batches of a labelled set, by item index: pixels [n, C, H, W] (row-major) and class indices. */
export interface LabelledBatches {
  size: number;
  numClasses: number;
  batch(indices: readonly number[]): Promise<{ x: Float32Array; y: ArrayLike<number> }>;
}

export interface PretrainCoreOptions {
  model: EmbeddingNet;
  inputShape: readonly [number, number, number];
  train: LabelledBatches;
  /** Held-out images of the same classes, for the accuracy check. */
  test?: LabelledBatches;
  /** Passes over the training set (fractions allowed). */
  epochs: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
  log?: (line: string) => void;
  /** Names the data in the log lines ('pretrain: <label> epoch ...'). */
  label?: string;
  /** Steps done and total, after each step. */
  onStep?: (done: number, total: number) => void;
}

export interface PretrainCoreResult {
  /** The backbone's tensors (`backbone.*`), owned by the model. */
  backbone: Map<string, Tensor>;
  /** Top-1 accuracy on `test` (NaN without one). */
  testAccuracy: number;
  steps: number;
  seconds: number;
}

/**
 * Trains `model`'s backbone with a softmax classifier (drop-last batches, reshuffled every pass). The caller seeds
 * torch (manualSeed) before creating the model; `seed` drives the shuffling.
 */
export async function pretrainBackbone(o: PretrainCoreOptions): Promise<PretrainCoreResult> {
  const log = o.log ?? (() => {});
  const bs = o.batchSize ?? 128;
  const seed = o.seed ?? 1234;
  if (o.train.size < bs) throw new Error(`pretrain: the training set has ${o.train.size} images, fewer than one batch (${bs}); lower the batch size`);
  const t0 = Date.now();
  const { model } = o;
  const classifier = new Linear(model.featureDim, o.train.numClasses);
  const opt = new Adam([...model.backbone.parameters(), ...classifier.parameters()], { lr: o.lr ?? 1e-3, weightDecay: 0 });
  const rng = mulberry32(seed);
  const shape = (n: number) => [n, ...o.inputShape];
  const logitsOf = (x: Float32Array, n: number): Tensor => classifier.forward(model.head.pool(model.features(tensor(x, shape(n)))));
  model.train();
  const perEpoch = Math.floor(o.train.size / bs);
  const totalSteps = Math.max(1, Math.round(o.epochs * perEpoch));
  let done = 0;
  for (let e = 0; e * perEpoch < totalSteps; e++) {
    const order = Array.from({ length: o.train.size }, (_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    let lossSum = 0;
    let batches = 0;
    const steps = Math.min(perEpoch, totalSteps - e * perEpoch);
    for (let s = 0; s < steps * bs; s += bs) {
      const { x, y } = await o.train.batch(order.slice(s, s + bs));
      lossSum += tidy(() => {
        const l = crossEntropy(logitsOf(x, bs), int64(Array.from(y)));
        l.backward();
        return l.item();
      });
      batches++;
      opt.step();
      opt.zeroGrad();
      await releaseFinalizedWrappers();
      o.onStep?.(++done, totalSteps);
    }
    log(
      `pretrain: ${o.label ? `${o.label} ` : ''}epoch ${e + 1}/${Math.ceil(totalSteps / perEpoch)} (${batches} steps of ${bs}), mean loss ${(lossSum / batches).toFixed(4)}`,
    );
  }
  model.eval();
  let testAccuracy = NaN;
  if (o.test && o.test.size > 0) {
    let correct = 0;
    for (let s = 0; s < o.test.size; s += 500) {
      const idx = Array.from({ length: Math.min(500, o.test.size - s) }, (_, k) => s + k);
      const { x, y } = await o.test.batch(idx);
      const pred = tidy(() => logitsOf(x, idx.length).argmax(1).toArray());
      for (let k = 0; k < idx.length; k++) if (pred[k] === y[k]) correct++;
    }
    testAccuracy = correct / o.test.size;
  }
  classifier.parameters().forEach((p) => p.dispose());
  const backbone = new Map([...model.stateDict()].filter(([k]) => k.startsWith('backbone.')));
  return { backbone, testAccuracy, steps: done, seconds: (Date.now() - t0) / 1000 };
}

/** A dataset's images through the loader (test-mode preprocessing); `invert` maps v to 1 - v ('unit' pixels). */
function loaderBatches(ds: ImageDataset, loader: ImageLoader, invert: boolean): LabelledBatches {
  return {
    size: ds.size,
    numClasses: ds.numClasses,
    async batch(indices) {
      const b = await loader.loadBatch(indices);
      if (b.skipped.length) throw new Error(`pretrain: ${b.skipped.length} images of ${ds.name} could not be loaded`);
      const x = invert ? b.images.map((v) => 1 - v) : b.images;
      return { x, y: b.labels };
    },
  };
}

export interface PretrainCommandOptions {
  out: string;
  epochs: number;
  batchSize?: number;
  lr?: number;
  /** Dark strokes on white: pixels v -> 1 - v (MNIST digits for Omniglot-like data). */
  invert?: boolean;
  quiet?: boolean;
}

/**
 * `ccp-dml pretrain`: classification pretraining of the config's model backbone on the training split of the
 * config's dataset (all its training classes); accuracy on the validation images when they are held-out images
 * of the same classes (validation: samples, or a CSV's 'val' rows of those classes).
 */
export async function pretrainCommand(
  cfg: RunConfig,
  o: PretrainCommandOptions,
): Promise<{ file: string; testAccuracy: number; steps: number; seconds: number; classes: number; images: number }> {
  if (o.invert && cfg.dataset.normalization !== 'unit')
    throw new Error(`--invert needs dataset.normalization 'unit' (pixels in [0, 1]), got '${cfg.dataset.normalization}'`);
  if (cfg.threads) setNumThreads(cfg.threads);
  const data = await prepareData(cfg.dataset, cfg.seed, { progress: !o.quiet });
  const loader = (ds: ImageDataset) =>
    new ImageLoader(ds, { mode: 'test', transform: data.transform, onBadItem: cfg.dataset.onBadItem, cache: cfg.dataset.cacheInMemory ? 'output' : 'none' });
  const trainLoader = loader(data.train);
  const inputShape = trainLoader.shape;
  manualSeed(cfg.seed);
  const model = buildModel({ ...cfg, model: { ...cfg.model, pretrained: undefined } }, inputShape);
  const sameClasses = data.validation.classNames.every((n) => data.train.classNames.includes(n));
  // Validation labels renumbered into the training classes' indices.
  const test: LabelledBatches | undefined = sameClasses
    ? (() => {
        const inner = loaderBatches(data.validation, loader(data.validation), Boolean(o.invert));
        return {
          ...inner,
          numClasses: data.train.numClasses,
          batch: async (idx) => {
            const b = await inner.batch(idx);
            return { x: b.x, y: Array.from(b.y, (l) => data.train.labelOf(data.validation.classNames[l]!)) };
          },
        };
      })()
    : undefined;
  const bs = o.batchSize ?? 128;
  const total = Math.max(1, Math.round(o.epochs * Math.floor(data.train.size / bs)));
  const progress = new TaskProgress('pretraining', total, 'steps', !o.quiet);
  const r = await pretrainBackbone({
    model,
    inputShape,
    train: loaderBatches(data.train, trainLoader, Boolean(o.invert)),
    test,
    epochs: o.epochs,
    batchSize: bs,
    lr: o.lr,
    seed: cfg.seed,
    log: o.quiet ? undefined : (l) => process.stderr.write(l + '\n'),
    onStep: (d) => progress.update(d),
  });
  progress.done();
  saveSafetensors(o.out, r.backbone, {
    source: 'ccp-dml pretrain',
    model: cfg.model.name,
    options: JSON.stringify(cfg.model.options),
    data: `${cfg.dataset.name}: ${data.train.size} images of ${data.train.numClasses} classes${o.invert ? ' (inverted)' : ''}, softmax classification`,
    epochs: String(o.epochs),
  });
  return { file: o.out, testAccuracy: r.testAccuracy, steps: r.steps, seconds: r.seconds, classes: data.train.numClasses, images: data.train.size };
}
