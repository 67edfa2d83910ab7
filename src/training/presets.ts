// Named starting configurations. 'mnist' is the README's main job; 'omniglot' the real-data study setting;
// 'cub', 'cars', 'sop', 'inshop' the paper's MLRC protocol (spec 2.8, 4.4, 4.5), which need the datasets and
// pretrained BN-Inception weights on disk (dataset.root, model.pretrained).
import type { RunConfigInput } from './config.js';

const paperOptimizer = { name: 'adam', lr: 1e-5, weightDecay: 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-7, clipNorm: 10, clipValue: 10 } as const;
const paperTraining = { classesPerBatch: 8, samplesPerClass: 4, maxEpochs: 10000, earlyStopPatience: 60, minDelta: 1e-5, evalBatchSize: 128 } as const;
const paperImages = { imageSize: 227, resizeTo: 256, channels: 3, normalization: 'caffe', augment: true, validation: 'classes', cacheInMemory: false } as const;
const paperModel = { name: 'bninception', embeddingDim: 128, freezeBatchNorm: true, pooling: 'avg' } as const;

export const presets = {
  mnist: {
    name: 'mnist-ccp',
    dataset: { name: 'mnist', imageSize: 28, channels: 1, normalization: 'unit', validation: 'samples', validationShare: 0.1 },
    model: { name: 'small_cnn', embeddingDim: 64 },
    loss: { name: 'ccp/contrastive', preset: 'code' },
    // Patience 1: MNIST's validation MAP@R stalls for single epochs only, so with a longer patience whether any
    // projection happens in 16 epochs depends on float rounding (thread count, CPU). A step budget, not a time
    // budget, for the same reason: a loaded machine must run the same 16 epochs as an idle one. K and b are
    // explicit (not a preset) so the README's main job stays what it was measured with.
    ccp: { proxiesPerClass: 4, poolSize: 7, patience: 1 },
    optimizer: { name: 'adam', lr: 1e-3 },
    // 800 steps: about half a minute on 2 idle cores, a few minutes on one busy one.
    training: { classesPerBatch: 5, samplesPerClass: 8, stepsPerEpoch: 50, maxEpochs: 16, earlyStopPatience: 5, maxValidationSamples: 1500, logEverySteps: 10 },
  },
  omniglot: {
    name: 'omniglot-ccp',
    dataset: { name: 'omniglot', imageSize: 32, channels: 1, normalization: 'unit', validation: 'classes' },
    model: { name: 'small_cnn', embeddingDim: 64 },
    loss: { name: 'ccp/contrastive', preset: 'code' },
    ccp: { preset: 'large' }, // K 4, b 7: many classes with few images each
    optimizer: { name: 'adam', lr: 1e-3 },
    training: { classesPerBatch: 8, samplesPerClass: 4, stepsPerEpoch: 100, maxEpochs: 60, earlyStopPatience: 10 },
  },
  cub: {
    name: 'cub-ccp',
    dataset: { name: 'cub', ...paperImages },
    model: paperModel,
    loss: { name: 'ccp/contrastive', preset: 'cub' },
    ccp: { preset: 'small' },
    optimizer: paperOptimizer,
    training: { ...paperTraining, stepsPerEpoch: 25 },
  },
  cars: {
    name: 'cars-ccp',
    dataset: { name: 'cars', ...paperImages },
    model: paperModel,
    loss: { name: 'ccp/contrastive', preset: 'cars' },
    ccp: { preset: 'small' },
    optimizer: paperOptimizer,
    training: { ...paperTraining, stepsPerEpoch: 25 },
  },
  sop: {
    name: 'sop-ccp',
    dataset: { name: 'sop', ...paperImages },
    model: paperModel,
    loss: { name: 'ccp/contrastive', preset: 'sop' },
    ccp: { preset: 'large' },
    optimizer: paperOptimizer,
    training: { ...paperTraining, stepsPerEpoch: 250 },
  },
  inshop: {
    name: 'inshop-ccp',
    dataset: { name: 'inshop', ...paperImages },
    model: paperModel,
    loss: { name: 'ccp/contrastive', preset: 'inshop' },
    ccp: { preset: 'large' },
    optimizer: paperOptimizer,
    training: { ...paperTraining, stepsPerEpoch: 250 },
  },
} satisfies Record<string, Omit<RunConfigInput, 'dataset'> & { dataset: RunConfigInput['dataset'] }>;

export type PresetName = keyof typeof presets;
