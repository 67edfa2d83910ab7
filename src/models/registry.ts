// createModel(name, options): the models by the names used in configs and on the CLI, each with its metadata.
import { MlpEmbedder, type MlpEmbedderOptions } from './mlp.js';
import { SmallCnn, type SmallCnnOptions } from './small-cnn.js';
import { SmallResNet, type SmallResNetOptions } from './small-resnet.js';
import { ResNet50, type ResNet50Options } from './resnet50.js';
import { BNInception, type BNInceptionOptions } from './bninception.js';
import type { EmbeddingNet } from './embedding-net.js';
import type { BuiltinMapping } from './pretrained.js';
import { MODEL_NAMES, type ModelName } from './model-names.js';

export { MODEL_NAMES, type ModelName } from './model-names.js';

/** Each model's options, by name (one key per name of `MODEL_NAMES`: `ModelEntry` indexes it by every name). */
export interface ModelOptionsByName {
  mlp: MlpEmbedderOptions;
  small_cnn: SmallCnnOptions;
  small_resnet: SmallResNetOptions;
  resnet50: ResNet50Options;
  bninception: BNInceptionOptions;
}

/**
 * What a model expects, beside it (as timm's per-model configs): the input [C, H, W] its architecture or
 * pretrained weights were made for (null: any size), the preprocessing of those weights (per-channel mean
 * and std of RGB in [0, 1], times `scale`, BGR order; the shape of the data layer's explicit normalisation),
 * and how a pretrained file's tensor names map onto ours (`loadPretrained`'s mapping).
 */
export interface ModelInfo {
  inputSize: readonly [number, number, number] | null;
  normalization: { mean: readonly number[]; std?: readonly number[]; scale?: number; bgr?: boolean } | null;
  pretrainedMapping: BuiltinMapping;
}

interface ModelEntry<K extends ModelName> extends ModelInfo {
  create: (o: ModelOptionsByName[K]) => EmbeddingNet;
}

// torchvision's ImageNet weights (resnet50.ts) and Cadene's Caffe port of BN-Inception (bninception.ts, spec 4.2).
const TORCHVISION = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] } as const;
const CAFFE_BGR = { mean: [0.485, 0.456, 0.406], scale: 255, bgr: true } as const;

/** The models: one entry per name of `MODEL_NAMES` (the mapped type makes a missing or extra entry a compile error). */
const MODELS: { [K in ModelName]: ModelEntry<K> } = {
  mlp: { create: (o) => new MlpEmbedder(o), inputSize: null, normalization: null, pretrainedMapping: 'identity' },
  small_cnn: { create: (o) => new SmallCnn(o), inputSize: null, normalization: null, pretrainedMapping: 'identity' },
  small_resnet: { create: (o) => new SmallResNet(o), inputSize: null, normalization: null, pretrainedMapping: 'identity' },
  resnet50: { create: (o) => new ResNet50(o), inputSize: [3, 224, 224], normalization: TORCHVISION, pretrainedMapping: 'torchvision' },
  bninception: { create: (o) => new BNInception(o), inputSize: [3, 227, 227], normalization: CAFFE_BGR, pretrainedMapping: 'bninception-caffe' },
};

/** A model's metadata; unknown names throw, listing the known ones. */
export function modelInfo(name: string): ModelInfo {
  const entry = (MODELS as Record<string, ModelEntry<ModelName> | undefined>)[name];
  if (!entry) throw new Error(`createModel: unknown model '${name}' (known: ${MODEL_NAMES.join(', ')})`);
  const { create: _factory, ...info } = entry;
  return info;
}

/** Builds a model by name ('mlp' needs options.inputDim). Unknown names throw, listing the known ones. */
export function createModel<K extends ModelName>(name: K, options?: ModelOptionsByName[K]): EmbeddingNet;
export function createModel(name: string, options?: Record<string, unknown>): EmbeddingNet;
export function createModel(name: string, options: Record<string, unknown> = {}): EmbeddingNet {
  modelInfo(name); // names the known models when `name` is not one
  const f = (MODELS as Record<string, { create: (o: unknown) => EmbeddingNet }>)[name]!.create;
  if (name === 'mlp' && options.inputDim === undefined)
    throw new Error(`createModel('mlp'): options.inputDim is required (values per sample, e.g. 784 for 28x28x1)`);
  return f(options);
}
